"""sBP on full Fashion-MNIST epochs: the spiking circuit (cpp_standalone) against the numpy reference.

    python benchmarks/sbp_fashion_exactness.py --epochs 2 --out benchmarks/results/sbp_fashion_exactness.json

784-400-10, seed 0, the presentation order of ``spikingbp.training.epoch_order``: each epoch is one
compiled circuit run over all 60,000 training samples, started from the circuit's own weights after the
previous epoch, and compared entry by entry with the reference's weights after the same samples. Also
reports the largest summed input a1 and a2 of the reference's forward passes (what the silencing gi of
the circuit must hold back), seconds per epoch and the peak resident memory of this process and of the
simulation binary.
"""
import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="first N training samples (default: all)")
    parser.add_argument("--build", default="build/fashion-exactness")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "sbp_fashion_exactness.json"))
    args = parser.parse_args()

    from spikingbp.circuits import sbp
    from spikingbp.data import binarize, load_dataset, one_hot
    from spikingbp.io import atomic_open
    from spikingbp.reference import sbp as reference
    from spikingbp.training import epoch_order

    data = load_dataset("fashion-mnist", args.data_dir, limit_train=args.limit)
    X = binarize(data.x_train)
    T = one_hot(data.y_train, 10).astype(bool)
    W1, W2 = reference.init_weights(X.shape[1], args.hidden, 10, rng=args.seed)
    C1, C2, R1, R2 = W1, W2, W1, W2
    rows = []
    for epoch in range(1, args.epochs + 1):
        order = epoch_order(args.seed, epoch, len(X))
        started = time.perf_counter()
        C1, C2 = sbp.train(C1, C2, X[order], T[order], "cpp_standalone", args.build, check_copies=True)
        circuit_seconds = time.perf_counter() - started
        largest = [0, 0]
        R1, R2 = R1.astype(np.int32), R2.astype(np.int32)
        started = time.perf_counter()
        for index in order:
            trace = reference._step_inplace(np.flatnonzero(X[index]), T[index], R1, R2)
            largest = [max(largest[0], int(trace.a1.max())), max(largest[1], int(trace.a2.max()))]
        reference_seconds = time.perf_counter() - started
        row = dict(epoch=epoch, samples=len(order), circuit_seconds=round(circuit_seconds, 1),
                   reference_seconds=round(reference_seconds, 1),
                   W1_entries_differing=int((C1 != R1).sum()), W2_entries_differing=int((C2 != R2).sum()),
                   identical=bool(np.array_equal(C1, R1) and np.array_equal(C2, R2)),
                   largest_a1=largest[0], largest_a2=largest[1])
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = dict(command="python benchmarks/sbp_fashion_exactness.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if v is not None and k not in ("out", "build", "data_dir")),
        network=f"{X.shape[1]}-{args.hidden}-10", device="cpp_standalone", epochs=rows,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        peak_child_rss_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
    with atomic_open(args.out, "w") as stream:
        json.dump(result, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main()
