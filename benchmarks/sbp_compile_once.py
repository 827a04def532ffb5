"""Compile once, run in chunks: sBP 400-400-10 on mnist-10k, cpp_standalone, against the numpy reference.

    python benchmarks/sbp_compile_once.py --out benchmarks/results/sbp_compile_once_2core.json

In one run, with an empty program cache: (1) a first training run (the cache is empty: the training and
the inference programs compile), (2) a second, fresh run directory with another seed (the cache is warm:
nothing compiles), each for ``--epochs`` epochs; the time from starting the command to its first
checkpoint (the first trained chunk); every epoch's training samples per second and wall seconds; (3) the
numpy reference on the same samples; and the ratios. Both circuit runs must end with the reference's
weights.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist-10k"


def timed_run(args, out: Path, env: dict) -> dict:
    """Run ``spikingbp train`` and note when its first checkpoint appears."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "spikingbp.cli", "train", *args, "--out", str(out), "--quiet"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_chunk = None
    while process.poll() is None:
        if first_chunk is None and (out / "checkpoint.npz").exists():
            first_chunk = time.perf_counter() - started
        time.sleep(0.01)
    stdout, stderr = process.communicate()
    if process.returncode:
        raise SystemExit(f"training failed: {stderr}")
    metrics = pd.read_csv(out / "metrics.csv")
    return {"wall_seconds": round(time.perf_counter() - started, 1),
            "seconds_to_first_chunk": None if first_chunk is None else round(first_chunk, 2),
            "programs_compiled": stderr.count("compiling the "),
            "epochs": [{"epoch": int(r.epoch), "train_samples_per_second": round(r.samples_per_second),
                        "epoch_seconds": round(r.epoch_seconds, 1), "test_accuracy": round(r.test_accuracy, 4)}
                       for r in metrics.itertuples()]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "sbp_compile_once_2core.json"))
    args = parser.parse_args()
    from spikingbp.io import write_json
    from spikingbp.training import TrainConfig, train

    work = Path(tempfile.mkdtemp(prefix="spikingbp-bench-"))
    env = {**os.environ, "SPIKINGBP_CACHE": str(work / "cache")}
    common = ["--dataset", "mnist", "--data-dir", args.data_dir, "--epochs", str(args.epochs), "--hidden", "400",
              "--device", "cpp_standalone", "--chunk", str(args.chunk)]
    runs = {"first run (cache empty)": timed_run(common + ["--seed", "1"], work / "first", env),
            "second fresh run (cache warm)": timed_run(common + ["--seed", "2"], work / "second", env)}
    reference = {}
    for seed, name in ((1, "first"), (2, "second")):
        started = time.perf_counter()
        result = train(TrainConfig(out=work / f"reference-{seed}", dataset="mnist", data_dir=args.data_dir,
                                   epochs=args.epochs, hidden=400, seed=seed, progress=False))
        reference[name] = {"wall_seconds": round(time.perf_counter() - started, 1),
                           "train_samples_per_second": [round(v) for v in result.metrics.samples_per_second]}
        with np.load(work / name / "weights_final.npz") as final:
            runs[[k for k in runs if k.startswith(name)][0]]["identical_to_reference"] = bool(
                all(np.array_equal(final[k], result.params[k]) for k in ("W0", "W1")))
    # warm epochs: every epoch that compiled nothing (the first run's first epoch compiled both programs)
    later = [e["train_samples_per_second"] for run in runs.values()
             for e in run["epochs"][1 if run["programs_compiled"] else 0:]]
    reference_rate = np.mean([v for r in reference.values() for v in r["train_samples_per_second"]])
    summary = {"command": "python benchmarks/sbp_compile_once.py " + f"--epochs {args.epochs} --chunk {args.chunk}",
               "network": "400-400-10", "dataset": "mnist-10k (8,004 training samples)", "runs": runs,
               "reference": reference,
               "ratios": {"reference / circuit, warm epochs": round(reference_rate / np.mean(later), 1),
                          "first run / second run, wall": round(runs["first run (cache empty)"]["wall_seconds"]
                                                                / runs["second fresh run (cache warm)"]["wall_seconds"], 2)}}
    print(json.dumps(summary, indent=1))
    write_json(args.out, summary, indent=1)


if __name__ == "__main__":
    main()
