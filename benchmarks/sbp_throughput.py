"""sBP training throughput and peak memory: the spiking circuit on cpp_standalone against the numpy reference.

    python benchmarks/sbp_throughput.py                       # the README table (about 20 minutes on 2 cores)
    python benchmarks/sbp_throughput.py --samples 1000 --hidden 400 --threads 1

For every (threads, hidden, samples) it builds the project once (warm-up run, same build directory) and
then times a second run in a fresh process, so the numbers are the simulation plus Brian2's Python-side
set-up, without compilation. Peak memory is the maximum resident set of that process and of the
simulation binary it starts. Inputs are the binarised 20x20 MNIST digits of ../shared/data/mnist-10k
(repeated when more samples than its 8,004 are asked for).
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

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist-10k"

WORKER = r"""
import json, resource, sys, time
import numpy as np
from spikingbp.circuits import sbp
from spikingbp.data import binarize, load_dataset, one_hot
from spikingbp.reference import sbp as reference
data_dir, n, hidden, threads, directory = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
data = load_dataset("mnist", data_dir)
index = np.arange(n) % len(data.x_train)
X = binarize(data.x_train[index], crop=4)
T = one_hot(data.y_train[index], 10).astype(bool)
W1, W2 = reference.init_weights(400, hidden, 10, rng=0)
started = time.perf_counter()
C1, C2 = sbp.train(W1, W2, X, T, device="cpp_standalone", directory=directory, threads=threads)
seconds = time.perf_counter() - started
R1, R2 = reference.train_epoch(X, T, W1, W2)
print(json.dumps(dict(seconds=seconds, identical=bool(np.array_equal(C1, R1) and np.array_equal(C2, R2)),
                      rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      child_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)))
"""


def run_worker(data_dir, n, hidden, threads, directory):
    out = subprocess.run([sys.executable, "-c", WORKER, str(data_dir), str(n), str(hidden), str(threads), directory],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def reference_rate(data_dir, n, hidden):
    from spikingbp.data import binarize, load_dataset, one_hot
    from spikingbp.reference import sbp as reference

    data = load_dataset("mnist", data_dir)
    index = np.arange(n) % len(data.x_train)
    X, T = binarize(data.x_train[index], crop=4), one_hot(data.y_train[index], 10).astype(bool)
    W1, W2 = reference.init_weights(400, hidden, 10, rng=0)
    started = time.perf_counter()
    reference.train_epoch(X, T, W1, W2)
    return n / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("SPIKINGBP_DATA", DEFAULT_DATA))
    parser.add_argument("--samples", type=int, nargs="+", default=[1000, 4000, 10000])
    parser.add_argument("--hidden", type=int, nargs="+", default=[400])
    parser.add_argument("--hidden-sweep", type=int, nargs="*", default=[100, 400, 1600],
                        help="hidden sizes timed at the first --samples value, one thread")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()

    configs = [(t, h, n) for t in args.threads for h in args.hidden for n in args.samples]
    configs += [(1, h, args.samples[0]) for h in args.hidden_sweep if (1, h, args.samples[0]) not in configs]
    rows = []
    build_root = tempfile.mkdtemp(prefix="sbp_throughput_")
    for threads, hidden, n in configs:
        directory = os.path.join(build_root, f"h{hidden}_t{threads}")
        run_worker(args.data_dir, 12, hidden, threads, directory)  # compile once per structure
        result = run_worker(args.data_dir, n, hidden, threads, directory)
        rows.append(dict(device=f"cpp_standalone, {threads} thread{'s' if threads > 1 else ''}", hidden=hidden,
                         samples=n, seconds=round(result["seconds"], 2),
                         samples_per_s=round(n / result["seconds"], 1),
                         reference_samples_per_s=round(reference_rate(args.data_dir, n, hidden), 1),
                         peak_rss_mb=round(max(result["rss_mb"], result["child_rss_mb"]), 1),
                         identical=result["identical"]))
        row = rows[-1]
        row["reference_ratio"] = round(row["reference_samples_per_s"] / row["samples_per_s"], 1)
        print(json.dumps(row), flush=True)
    print("\n| device | hidden | samples | seconds | samples/s | numpy reference samples/s | reference / circuit | "
          "peak RSS MB | identical |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['device']} | {r['hidden']} | {r['samples']} | {r['seconds']} | {r['samples_per_s']} | "
              f"{r['reference_samples_per_s']} | {r['reference_ratio']} | {r['peak_rss_mb']} | {r['identical']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
