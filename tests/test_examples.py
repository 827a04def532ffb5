"""Every script in examples/ runs to its end (exit 0) from a fresh working directory, writing into the
directory it is given; the documentation's examples page shows every one."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_examples_of_every_capability():
    names = {path.stem for path in EXAMPLES}
    assert {"custom_circuit", "sgsc_graded_transfer", "train_sbp", "train_ssnnbp", "train_erbp", "sweep_hidden",
            "lava_export", "energy", "nir_export"} <= names


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    environment = dict(os.environ, MPLBACKEND="Agg")   # SPIKINGBP_CACHE: the session's program cache
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "out")], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), f"{script.name} printed nothing"


def test_the_examples_page_shows_every_example():
    page = (ROOT / "docs" / "examples.md").read_text()
    missing = [path.name for path in EXAMPLES if f"{{literalinclude}} ../examples/{path.name}" not in page]
    assert not missing, f"docs/examples.md does not show {missing}"
