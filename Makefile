# The README's two commands: `make run` (set up, then the main job) and `make test` (set up, then the tests).
#
# Two environments (docs/guide/install.md): .venv on the newest Python 3.11+ found (the core: Brian2 2.9-2.11,
# numpy 2), and .venv-backends on Python 3.10 with the lava and genn extras (lava-nc 0.10 and brian2genn 1.7
# run only there), which `make test` uses for the tests of those back ends.
VENV ?= .venv
BACKENDS_VENV ?= .venv-backends
RUN_DIR ?= runs/digits-sbp
# pytest-xdist workers; each test file runs on one of them (its module fixtures built once)
TEST_WORKERS ?= 2
PYTEST = -m pytest -rs -q -n $(TEST_WORKERS) --dist loadfile --durations=15
find_python = $(shell for p in $(1); do $$p -c 'import sys; assert $(2)' 2>/dev/null && { echo $$p; break; }; done)
PYENV := $(wildcard $(HOME)/.pyenv/versions/*/bin)
# the newest of Python 3.13, 3.12, 3.11 on PATH or in pyenv
PYTHON ?= $(call find_python,$(foreach v,13 12 11,python3.$(v) $(wildcard $(addsuffix /python3.$(v),$(PYENV)))) python3,sys.version_info[:2] >= (3, 11))
PYTHON310 ?= $(call find_python,python3.10 $(wildcard $(addsuffix /python3.10,$(PYENV))) /usr/bin/python3.10 /usr/local/bin/python3.10,sys.version_info[:2] == (3, 10))
# what was given or found, if it runs and is the right version (empty otherwise)
CORE_PYTHON := $(call find_python,$(PYTHON),sys.version_info[:2] >= (3, 11))
BACKENDS_PYTHON := $(call find_python,$(PYTHON310),sys.version_info[:2] == (3, 10))

.PHONY: setup setup-backends run test test-core test-backends docs

# $(1): the venv, $(2): its Python, $(3): the extras, $(4): what it is for
define make_venv
	@test -n "$(2)" || { echo "error: $(5) (for $(4)) was not found; install it (e.g. 'pyenv install $(6)') or pass $(7)=/path/to/python"; exit 1; }
	@echo "setting up $(1) with $$($(2) -c 'import sys; print("Python %d.%d" % sys.version_info[:2])') for $(4) (pip's output goes to $(1)/install.log)"
	@$(2) -m venv $(1)
	@{ $(1)/bin/python -m pip install --upgrade pip && $(1)/bin/python -m pip install -e '.[$(3)]'; } \
		> $(1)/install.log 2>&1 || { tail -n 30 $(1)/install.log; echo "error: installing failed; the whole log is $(1)/install.log"; exit 1; }
	@touch $@
endef

$(VENV)/.installed: pyproject.toml
	$(call make_venv,$(VENV),$(CORE_PYTHON),test$(comma)docs,spikingbp,Python 3.11 or newer,3.13,PYTHON)

$(BACKENDS_VENV)/.installed: pyproject.toml
	$(call make_venv,$(BACKENDS_VENV),$(BACKENDS_PYTHON),test$(comma)lava$(comma)genn,the Lava and GeNN back ends,Python 3.10,3.10,PYTHON310)

comma := ,

setup: $(VENV)/.installed

setup-backends: $(BACKENDS_VENV)/.installed

run: setup
	$(VENV)/bin/spikingbp train --algorithm sbp --dataset digits --epochs 5 --hidden 100 --seed 0 --device cpp_standalone --out $(RUN_DIR)

# the whole suite on the current stack, then on Python 3.10 the Lava and GeNN tests and the exactness tests of the
# compiled-rerun path (marked stacks), then the documentation
test: test-core test-backends docs

test-core: setup
	$(VENV)/bin/python $(PYTEST)

# Without Python 3.10 the back-end tests are skipped, saying why; under CI (CI=true) that is a failure.
test-backends:
	@if [ -z "$(BACKENDS_PYTHON)" ] && [ "$$CI" != "true" ]; then \
		echo "skipped: the Lava and GeNN tests need Python 3.10 ($(or $(PYTHON310),none found) is not one; pass PYTHON310=/path/to/python3.10)"; \
	else $(MAKE) --no-print-directory setup-backends && \
		SPIKINGBP_NEW_STACK_PYTHON=$(abspath $(VENV))/bin/python $(BACKENDS_VENV)/bin/python $(PYTEST) -m "lava or genn or stacks"; fi

# the documentation site, warnings as errors (a broken reference or a results table whose source is gone fails)
docs: setup
	$(VENV)/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"
