"""What the newer stack costs or gains: sBP, SSNN-BP and eRBP training samples per second on each Python stack.

    python benchmarks/stacks.py --python .venv/bin/python .venv-backends/bin/python [--out FILE]

Each interpreter (an environment with spikingbp installed: the core stack, Python 3.11+ with Brian2 2.9+ and
numpy 2, and the back ends' stack, Python 3.10 with Brian2 2.5.4 and numpy 1.26) trains each algorithm for one
epoch on ``cpp_standalone`` in a process of its own, with a program cache of its own; the speed is the run's
``samples_per_second`` (training runs only, compilation excluded). The final weights of the two stacks are
compared too: the circuits are the same integer or IEEE float arithmetic on both.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "mnist-10k"

#: algorithm -> training flags: the papers' networks on the first samples of mnist-10k
CASES = {
    "sbp": ["--algorithm", "sbp", "--hidden", "400", "--limit", "2000"],
    "ssnnbp": ["--algorithm", "ssnnbp", "--hidden", "1280", "--limit", "200"],
    "erbp": ["--algorithm", "erbp", "--hidden", "100", "--limit", "200"],
}


def stack(python: str) -> dict:
    """The interpreter's Python, Brian2 and numpy versions."""
    code = "import sys, brian2, numpy; print(sys.version.split()[0], brian2.__version__, numpy.__version__)"
    versions = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return dict(zip(("python", "brian2", "numpy"), versions))


def measure(python: str, algorithm: str, scratch: Path, repeat: int) -> dict:
    out = scratch / f"{Path(python).parent.parent.name}-{algorithm}-{repeat}"
    command = [python, "-m", "spikingbp.cli", "train", *CASES[algorithm], "--dataset", "mnist", "--data-dir",
               str(DATA), "--limit-test", "100", "--eval-train", "100", "--epochs", "1", "--seed", "0",
               "--device", "cpp_standalone", "--cache", str(scratch / f"cache-{Path(python).parent.parent.name}"),
               "--quiet", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        sys.exit(f"{python} {algorithm} failed:\n{done.stderr[-3000:]}")
    metrics = pd.read_csv(out / "metrics.csv").iloc[-1]
    with np.load(out / "weights_final.npz") as weights:
        final = {name: weights[name] for name in weights.files}
    return {"samples_per_second": round(float(metrics["samples_per_second"]), 1),
            "test_accuracy": float(metrics["test_accuracy"]), "weights": final}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", nargs="+", required=True, help="interpreters of the stacks to compare")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "stacks_2core.json"))
    parser.add_argument("--repeats", type=int, default=3, help="measurements per stack and algorithm, the stacks "
                        "taking turns in alternating order (the programs compile once per stack)")
    parser.add_argument("--conditions", default="", help="what else the machine was doing, recorded with the result")
    args = parser.parse_args(argv)
    rows, finals = [], {}
    with tempfile.TemporaryDirectory(prefix="spikingbp-stacks-") as scratch:
        for algorithm in CASES:
            for repeat in range(args.repeats):
                for python in args.python if repeat % 2 == 0 else args.python[::-1]:
                    result = measure(python, algorithm, Path(scratch), repeat)
                    finals.setdefault(algorithm, []).append(result.pop("weights"))
                    rows.append({"algorithm": algorithm, "repeat": repeat, **stack(python), **result})
                    print(json.dumps(rows[-1]), flush=True)
    summary = pd.DataFrame(rows).groupby(["algorithm", "python", "brian2", "numpy"])["samples_per_second"].median()
    same = {algorithm: all(np.array_equal(first[name], other[name]) for other in weights[1:] for name in first)
            for algorithm, weights in finals.items() for first in weights[:1]}
    record = {"command": "python benchmarks/stacks.py --python " + " ".join(args.python) +
                         f" --repeats {args.repeats}" + (f" --conditions '{args.conditions}'" if args.conditions else ""),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "conditions": args.conditions, "rows": rows,
              "median_samples_per_second": [dict(zip(("algorithm", "python", "brian2", "numpy"), key),
                                                 samples_per_second=value) for key, value in summary.items()],
              "same_final_weights_on_every_stack": same,
              "cases": {algorithm: " ".join(flags) + " (mnist-10k, 1 epoch, cpp_standalone)"
                        for algorithm, flags in CASES.items()}}
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
