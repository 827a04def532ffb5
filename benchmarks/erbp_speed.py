"""eRBP training speed: the event-driven circuit on cpp_standalone against the numpy reference, per network.

    python benchmarks/erbp_speed.py --out benchmarks/results/erbp_speed_2core.json

784-100-10 and 784-500-10 (``--hidden``) on the first ``--samples`` mnist-10k training samples (250 ms each, the
noise variant), in one run per network: the circuit's first run (compiling its program), the same samples
again (program cached), and the reference on the same samples and streams; both must end with the same
weights, bit for bit. Drawing the streams (data and label units, noise) is part of every timing. Also the
synaptic events per training sample, counted from the circuit's spikes (forward path, error path).
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist-10k"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "erbp_speed_2core.json"))
    args = parser.parse_args()
    from spikingbp.algorithms import RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.io import write_json
    from spikingbp.training import load_data

    algorithm = create("erbp")
    data = load_data(algorithm, "mnist", args.data_dir, limit_train=args.samples, limit_test=1)
    order = np.arange(args.samples)
    cache = ProgramCache(tempfile.mkdtemp(prefix="spikingbp-erbp-speed-"))
    networks = {}
    for hidden in args.hidden:
        params = algorithm.init_params(data.sizes((hidden,)), 0)
        circuit = RunContext("cpp_standalone", seed=0, epoch=1, chunk=args.samples, programs=cache)
        runs = {}
        for label in ("circuit, first run (compiles)", "circuit, program cached"):
            started = time.perf_counter()
            learned = algorithm.train_epoch(params, data.X_train, data.T_train, order, circuit)
            seconds = time.perf_counter() - started
            runs[label] = {"seconds": round(seconds, 2), "samples_per_second": round(args.samples / seconds, 3)}
        started = time.perf_counter()
        expected = algorithm.train_epoch(params, data.X_train, data.T_train, order,
                                         RunContext("reference", seed=0, epoch=1, chunk=args.samples))
        seconds = time.perf_counter() - started
        runs["numpy reference"] = {"seconds": round(seconds, 2), "samples_per_second": round(args.samples / seconds, 3)}
        networks[f"784-{hidden}-10"] = {
            "runs": runs,
            "circuit / reference, samples per second": round(runs["circuit, program cached"]["samples_per_second"]
                                                             / runs["numpy reference"]["samples_per_second"], 1),
            "identical_weights": bool(all(np.array_equal(learned[k], expected[k]) for k in expected)),
            "changed_weights": int(sum((learned[k] != params[k]).sum() for k in params)),
            "training_synops_per_sample": algorithm.training_synops(params, data.X_train, data.T_train, order,
                                                                    RunContext("cpp_standalone", seed=0, epoch=1))}
        print(json.dumps({f"784-{hidden}-10": networks[f"784-{hidden}-10"]}, indent=1), flush=True)
    summary = {"command": f"python benchmarks/erbp_speed.py --samples {args.samples} --hidden "
                          + " ".join(map(str, args.hidden)),
               "samples": args.samples, "sample_ms": 250, "networks": networks}
    write_json(args.out, summary, indent=1)


if __name__ == "__main__":
    main()
