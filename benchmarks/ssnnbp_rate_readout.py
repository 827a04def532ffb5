"""SSNN-BP's weights read out as a rate network, epoch by epoch: does it give the spiking test accuracy, and what
moves from epoch to epoch (which classes the network predicts)?

    python benchmarks/ssnnbp_rate_readout.py RUN_DIR [--out JSON]

The rate network of the forward pass (docs/methods/ssnnbp.md): input counts at their expectation, Ts x mean_rate
x pixel/255 (the front-loaded trains' mean); hidden counts clip(W0^T n_in / theta, 0, Ts - 1) (a hidden unit cannot
fire in a sample's first step, ``reference.spike_ceiling``); the class the output drive W1^T h is largest for (the
winner-take-all output fires first where its drive is largest). Each snapshot's weights are the test network's
(``test_weights``). It takes seconds where the spiking test of 10,000 images takes minutes, and it needs no
trains, so it has no sampling noise of its own.

For the run's initial weights and each ``epochs/weights_epoch_<e>.npz`` (kept beside a run on the machine that
trained it, not committed): the rate network's test accuracy beside the spiking one of ``metrics.csv``, the
recall of each class, and the share of the test set predicted as each class.

Results: ``benchmarks/results/ssnnbp_rate_readout_<run name>.json``.
"""
import argparse
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rate_readout(algorithm, params, X) -> np.ndarray:
    """The classes the rate network of ``params`` gives the encoded samples ``X`` (N, n_in), intensities in [0, 1]."""
    from spikingbp.reference import ssnnbp as reference

    v = algorithm.values
    weights = [np.asarray(W, float) for W in algorithm.test_weights(params)]
    counts = v["Ts"] * v["mean_rate"] * np.asarray(X, float)
    theta = algorithm.settings().theta
    for depth, W in enumerate(weights[:-1], start=1):
        counts = np.clip(counts @ W / theta, 0.0, reference.spike_ceiling(v["Ts"], depth))
    return np.argmax(counts @ weights[-1], axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="an SSNN-BP run directory (finished or under way) that kept its epochs/")
    parser.add_argument("--out", help="the JSON written (default: benchmarks/results/ssnnbp_rate_readout_<run>.json)")
    args = parser.parse_args()

    import pandas as pd

    from spikingbp.analysis.alignment import snapshots
    from spikingbp.rundir import load_run
    from spikingbp.training import METRICS_FILE

    run_dir = Path(args.run_dir)
    run = load_run(run_dir, under_way=True)
    if run.config.algorithm != "ssnnbp":
        parser.error(f"{run_dir} is a {run.config.algorithm} run; give an ssnnbp run directory")
    data = run.data()
    y = np.argmax(data.T_test, axis=1)
    metrics = pd.read_csv(run_dir / METRICS_FILE).set_index("epoch")
    rows = []
    # whole epochs only: a run under way's checkpoint is part of an epoch that metrics.csv has no test for yet
    for _, epoch, params in (snapshot for snapshot in snapshots(run) if float(snapshot[1]).is_integer()):
        epoch = int(epoch)
        predicted = rate_readout(run.algorithm, params, data.X_test)
        rows.append({"epoch": epoch,
                     "rate_test_accuracy": round(float(np.mean(predicted == y)), 4),
                     "spiking_test_accuracy": (float(metrics.loc[epoch, "test_accuracy"])
                                               if epoch in metrics.index else None),
                     "recall": [round(float(np.mean(predicted[y == c] == c)), 3) for c in range(data.n_out)],
                     "predicted_share": [round(float(np.mean(predicted == c)), 3) for c in range(data.n_out)]})
        print(rows[-1], flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / f"ssnnbp_rate_readout_{run_dir.name}.json"
    summary = {"command": f"python benchmarks/ssnnbp_rate_readout.py {args.run_dir}"
                          + (f" --out {args.out}" if args.out else ""),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "commit": commit.strip(),
               "run": str(run_dir), "dataset": run.config.dataset, "test": int(len(y)), "epochs": rows}
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
