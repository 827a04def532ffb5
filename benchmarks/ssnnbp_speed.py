"""SSNN-BP training speed: the event-driven circuit on cpp_standalone against the dense numpy reference.

    python benchmarks/ssnnbp_speed.py --out benchmarks/results/ssnnbp_speed_2core.json

784-1280-10 at Ts = 100 (the paper's network) on the first ``--samples`` Fashion-MNIST training samples, in one
run: the circuit's first chunk (compiling its program), the same chunk again (program cached), and the numpy
reference on the same samples and trains; both must end with the same weights (stochastic form: bit for bit).
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=1280)
    parser.add_argument("--Ts", type=int, default=100)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ssnnbp_speed_2core.json"))
    args = parser.parse_args()
    from spikingbp.algorithms import RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.io import write_json
    from spikingbp.training import load_data

    algorithm = create("ssnnbp", {"Ts": args.Ts})
    data = load_data(algorithm, "fashion-mnist", args.data_dir, limit_train=args.samples, limit_test=1)
    params = algorithm.init_params(data.sizes((args.hidden,)), 0)
    order = np.arange(args.samples)
    cache = ProgramCache(tempfile.mkdtemp(prefix="spikingbp-ssnn-speed-"))
    circuit = RunContext("cpp_standalone", seed=0, epoch=1, chunk=args.samples, programs=cache)
    runs = {}
    for label in ("circuit, first chunk (compiles)", "circuit, program cached"):
        started = time.perf_counter()
        learned = algorithm.train_epoch(params, data.X_train, data.T_train, order, circuit)
        seconds = time.perf_counter() - started
        runs[label] = {"seconds": round(seconds, 2), "samples_per_second": round(args.samples / seconds, 2)}
    started = time.perf_counter()
    expected = algorithm.train_epoch(params, data.X_train, data.T_train, order, RunContext("reference", seed=0, epoch=1,
                                                                                             chunk=args.samples))
    seconds = time.perf_counter() - started
    runs["numpy reference"] = {"seconds": round(seconds, 2), "samples_per_second": round(args.samples / seconds, 2)}
    summary = {"command": f"python benchmarks/ssnnbp_speed.py --samples {args.samples}",
               "network": f"784-{args.hidden}-10", "Ts": args.Ts, "samples": args.samples, "runs": runs,
               "circuit / reference, samples per second": round(
                   runs["circuit, program cached"]["samples_per_second"] / runs["numpy reference"]["samples_per_second"], 1),
               "identical_weights": bool(all(np.array_equal(learned[k], expected[k]) for k in expected)),
               "changed_weights": int(sum((learned[k] != params[k]).sum() for k in params))}
    print(json.dumps(summary, indent=1))
    write_json(args.out, summary, indent=1)


if __name__ == "__main__":
    main()
