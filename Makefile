# The README's two commands: `make run` (set up, then the main job) and `make test` (set up, then the tests).
VENV ?= .venv
RUN_DIR ?= runs/digits-sbp
# Python 3.10 is required (lava-nc 0.10); find it on PATH or in pyenv.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: setup run test docs

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found; install it (e.g. 'pyenv install 3.10') or pass PYTHON310=/path/to/python3.10"; exit 1; }
	@echo "setting up $(VENV) (Python 3.10, spikingbp and its stack; pip's output goes to $(VENV)/install.log)"
	@$(PYTHON310) -m venv $(VENV)
	@{ $(VENV)/bin/python -m pip install --upgrade pip && $(VENV)/bin/python -m pip install -e '.[test,docs]'; } \
		> $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; echo "error: installing failed; the whole log is $(VENV)/install.log"; exit 1; }
	@touch $@

setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/spikingbp train --algorithm sbp --dataset digits --epochs 5 --hidden 100 --seed 0 --device cpp_standalone --out $(RUN_DIR)

test: setup
	$(VENV)/bin/python -m pytest -rs -q
	@$(MAKE) --no-print-directory docs

# the documentation site, warnings as errors (a broken reference or a results table whose source is gone fails)
docs: setup
	$(VENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"
