"""sBP training on several Brian2 devices against the numpy reference: identical weights, and time.

    python benchmarks/sbp_devices.py --devices cpp_standalone cuda --samples 1000 --hidden 100

Prints one row per device: build+run wall time, the run time of the simulation alone (second run in
the same build directory, no recompilation), samples per second, and whether W1, W2 equal the reference.
Used for the GPU numbers in the README (device: brian2cuda on an NVIDIA H100).
"""
import argparse
import json
import os
import platform
import tempfile
import time

import numpy as np

from spikingbp.circuits import sbp
from spikingbp.data import binarize, load_dataset, one_hot
from spikingbp.reference import sbp as reference


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", nargs="+", default=["cpp_standalone"])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--crop", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args()

    data = load_dataset(args.dataset, args.data_dir)
    n = min(args.samples, len(data.x_train))
    order = np.random.default_rng(args.seed).permutation(len(data.x_train))[:n]
    X = binarize(data.x_train[order], crop=args.crop)
    T = one_hot(data.y_train[order], data.n_classes).astype(bool)
    W1, W2 = reference.init_weights(X.shape[1], args.hidden, T.shape[1], rng=args.seed)
    started = time.perf_counter()
    R1, R2 = reference.train_epoch(X, T, W1, W2)
    reference_seconds = time.perf_counter() - started
    rows = [dict(device="reference (numpy)", samples=n, first_run_s=reference_seconds,
                 rerun_s=reference_seconds, samples_per_s=n / reference_seconds, identical=True)]
    for device in args.devices:
        directory = tempfile.mkdtemp(prefix=f"sbp_{device}_")
        times = []
        for _ in range(2):  # the second run reuses the compiled project
            started = time.perf_counter()
            C1, C2 = sbp.train(W1, W2, X, T, device=device, directory=directory)
            times.append(time.perf_counter() - started)
        rows.append(dict(device=device, samples=n, first_run_s=times[0], rerun_s=times[1],
                         samples_per_s=n / times[1],
                         identical=bool(np.array_equal(C1, R1) and np.array_equal(C2, R2))))
    print(f"sBP {X.shape[1]}-{args.hidden}-{T.shape[1]}, {n} samples of {args.dataset}, "
          f"{platform.node()} ({os.cpu_count()} cores)")
    print(f"{'device':<20} {'first run s':>12} {'rerun s':>9} {'samples/s':>10}  identical to reference")
    for row in rows:
        print(f"{row['device']:<20} {row['first_run_s']:>12.1f} {row['rerun_s']:>9.2f} "
              f"{row['samples_per_s']:>10.0f}  {row['identical']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
