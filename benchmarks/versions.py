"""Measure this tree and an earlier commit of spikingbp in one run, each in a process of its own.

A speed benchmark calls ``measure_versions(script, worker_args, baseline)``: the script is rerun with
``--worker TREE`` and ``PYTHONPATH=TREE`` for the ``baseline`` commit's package (unpacked from git into a scratch
directory) and for this tree; the worker prints its result as one JSON line, which comes back per version.
"""
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def unpack(revision: str, into: Path) -> Path:
    """The spikingbp package of ``revision`` of this repository, unpacked under ``into``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", revision, "spikingbp"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into)
    return into


def measure_versions(script: str, worker_args: list, baseline: str | None) -> dict:
    """{label: the worker's JSON result} for ``baseline`` (if given, labelled 'before (<commit>)') and this tree
    ('after (this tree)'), measured one after the other."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="spikingbp-baseline-") as scratch:
        trees = ([(f"before ({baseline})", unpack(baseline, Path(scratch)))] if baseline else []) \
            + [("after (this tree)", REPO)]
        for label, tree in trees:
            done = subprocess.run([sys.executable, str(Path(script).resolve()), "--worker", str(tree), *worker_args],
                                  env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"{label} failed:\n{done.stderr[-3000:]}")
            results[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(label, json.dumps(results[label]), flush=True)
    return results
