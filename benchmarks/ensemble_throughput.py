"""sBP ensembles: aggregate training throughput of K copies in one compiled program against K single runs.

    python benchmarks/ensemble_throughput.py --out benchmarks/results/ensemble_throughput_2core.json

For each network (64-100-10 on the embedded digits; 400-400-10 on mnist-10k, 20x20) and each K in ``--copies``
(default 1 4 16 64), in one run: K copies (seeds 0 .. K-1: own initial weights, own presentation orders) train
``--samples`` samples each, as one ensemble program (``SBP.train_ensemble_epoch``) and as K single runs one after
the other (``SBP.train_epoch``, the single program); both must end with the same weights, copy by copy. Each
timing is the median of ``--repeats`` calls after a first one that compiles (reported apart). Aggregate
throughput = K x samples / seconds.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist-10k"
NETWORKS = {"64-100-10": ("digits", None, 100), "400-400-10": ("mnist", DEFAULT_MNIST, 400)}


def timed(function, repeats: int = 1):
    """The last value of ``function()`` and the median of ``repeats`` timings."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        seconds.append(time.perf_counter() - started)
    return value, float(np.median(seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--samples", type=int, default=400, help="training samples per copy")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement (median)")
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--mnist-dir", default=str(DEFAULT_MNIST))
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ensemble_throughput_2core.json"))
    args = parser.parse_args()
    from spikingbp.algorithms import RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.io import write_json
    from spikingbp.training import epoch_order, load_data

    command = (f"python benchmarks/ensemble_throughput.py --samples {args.samples} --repeats {args.repeats} "
               f"--copies {' '.join(map(str, args.copies))} --networks {' '.join(args.networks)}")
    algorithm = create("sbp")
    cache = ProgramCache(tempfile.mkdtemp(prefix="spikingbp-ensemble-"))
    rows = []
    for network in args.networks:
        dataset, data_dir, hidden = NETWORKS[network]
        data = load_data(algorithm, dataset, args.mnist_dir if data_dir else None, crop=4 if dataset == "mnist" else 0,
                         limit_train=args.samples, limit_test=1)
        n = len(data.X_train)
        for K in args.copies:
            params = [algorithm.init_params(data.sizes((hidden,)), seed) for seed in range(K)]
            orders = [epoch_order(seed, 1, n) for seed in range(K)]
            context = RunContext("cpp_standalone", seed=0, epoch=1, chunk=n, programs=cache)

            def ensemble():
                return algorithm.train_ensemble_epoch(params, data.X_train, data.T_train, orders, [context] * K)

            def singles():
                return [algorithm.train_epoch(p, data.X_train, data.T_train, o, context) for p, o in zip(params, orders)]

            _, ensemble_compile = timed(ensemble)
            together, ensemble_seconds = timed(ensemble, args.repeats)
            _, single_compile = timed(lambda: algorithm.train_epoch(params[0], data.X_train, data.T_train, orders[0],
                                                                    context))
            alone, singles_seconds = timed(singles, args.repeats)
            row = {"network": network, "copies": K, "samples_per_copy": n,
                   "ensemble_seconds": round(ensemble_seconds, 3), "singles_seconds": round(singles_seconds, 3),
                   "ensemble_samples_per_second": round(K * n / ensemble_seconds, 1),
                   "singles_samples_per_second": round(K * n / singles_seconds, 1),
                   "speedup": round(singles_seconds / ensemble_seconds, 2),
                   "first_ensemble_call_seconds": round(ensemble_compile, 1),
                   "first_single_call_seconds": round(single_compile, 1),
                   "identical_weights": bool(all(np.array_equal(a[k], b[k]) for a, b in zip(together, alone)
                                                 for k in a))}
            rows.append(row)
            print(json.dumps(row), flush=True)
            write_json(args.out, {"command": command, "rows": rows}, indent=1)   # after every row: a stopped run keeps them


if __name__ == "__main__":
    main()
