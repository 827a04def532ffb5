"""SSNN-BP's runaway hidden units, snapshot by snapshot: how many hidden units' input weights have grown far past
the others'?

    python benchmarks/ssnnbp_runaway_units.py RUN_DIR [RUN_DIR ...] [--out JSON]

A hidden unit that fires at one spike per step keeps receiving gradient that no longer changes its output (the
rule's derivative gate [count > 0] has no upper kink; ``--option saturation_steps`` holds it back), and its column
of W0 grows. For each snapshot of each run (``spikingbp.analysis.alignment.snapshots``: the initial weights,
``epochs/weights_epoch_<e>.npz`` where kept, the final weights or a run under way's checkpoint): the median and
largest W0 column norm, the number of columns above three times the median, and the ten largest norms. It reads
weights only: seconds.

Results: ``benchmarks/results/ssnnbp_runaway_units.json`` (or ``--out``).
"""
import argparse
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RUNAWAY = 3.0   # a column this many times the median norm counts as runaway


def runaway(W0) -> dict:
    """The column norms of ``W0`` (inputs x hidden units), summarised."""
    norms = np.linalg.norm(np.asarray(W0, float), axis=0)
    median = float(np.median(norms))
    return {"median_norm": round(median, 2), "max_norm": round(float(norms.max()), 1),
            "runaway_units": int(np.sum(norms > RUNAWAY * median)),
            "largest_norms": [round(float(n), 1) for n in np.sort(norms)[::-1][:10]]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="SSNN-BP run directories")
    parser.add_argument("--out", help="the JSON written (default: benchmarks/results/ssnnbp_runaway_units.json)")
    args = parser.parse_args()

    from spikingbp.analysis.alignment import snapshots
    from spikingbp.rundir import load_run

    runs = []
    for run_dir in map(Path, args.run_dirs):
        run = load_run(run_dir, under_way=True)
        if run.config.algorithm != "ssnnbp":
            parser.error(f"{run_dir} is a {run.config.algorithm} run; give ssnnbp run directories")
        rows = [{"snapshot": label, "epoch": epoch, **runaway(params["W0"])} for label, epoch, params in snapshots(run)]
        for row in rows:
            print(run_dir.name, row, flush=True)
        runs.append({"run": str(run_dir), "options": run.config.options, "snapshots": rows})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / "ssnnbp_runaway_units.json"
    summary = {"command": "python benchmarks/ssnnbp_runaway_units.py " + " ".join(args.run_dirs)
                          + (f" --out {args.out}" if args.out else ""),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "commit": commit.strip(),
               "runaway": f"W0 column norm above {RUNAWAY:g} x the median", "runs": runs}
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
