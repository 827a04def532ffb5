"""SSNN-BP training and inference speed, before and after, in one run: the circuit on cpp_standalone and the numpy
reference.

    python benchmarks/ssnnbp_speed.py --baseline 06b5c6b --out benchmarks/results/ssnnbp_speed_2core.json

784-1280-10 at Ts = 100 (the paper's network) on the first ``--samples`` Fashion-MNIST training samples. Each
version (the ``--baseline`` commit and this tree, ``benchmarks/versions.py``) is measured in a process of its
own: the circuit's first chunk (compiling its program, on other samples), the chunk again with the program
cached, and the reference on the first ``--reference-samples`` of them; the circuit must end with the
reference's weights (stochastic form: bit for bit) and every version with the same weights. Inference likewise:
the circuit's output counts on the first ``--samples`` test samples (a first chunk compiles, on other samples),
which every version must give alike. The ratios after / before of the samples per second are the speed-ups.
"""
import argparse
import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "fashion-mnist"


def measure(args) -> dict:
    """Run in the measured version's process: its spikingbp is the one on sys.path first."""
    import numpy as np

    import spikingbp
    from spikingbp.algorithms import RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.training import load_data

    algorithm = create("ssnnbp", {"Ts": args.Ts, **dict(item.split("=", 1) for item in args.option)})
    data = load_data(algorithm, "fashion-mnist", args.data_dir, limit_train=2 * args.samples,
                     limit_test=2 * args.samples)
    params = algorithm.init_params(data.sizes((args.hidden,)), 0)
    cache = ProgramCache(tempfile.mkdtemp(prefix="spikingbp-ssnn-speed-"))
    circuit = RunContext("cpp_standalone", seed=0, epoch=1, chunk=args.samples, programs=cache)
    order, few = np.arange(args.samples), np.arange(args.reference_samples)
    seconds = {}
    started = time.perf_counter()
    algorithm.train_epoch(params, data.X_train, data.T_train, order + args.samples, circuit)   # compiles
    seconds["circuit, first chunk (compiles)"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    learned = algorithm.train_epoch(params, data.X_train, data.T_train, order, circuit)
    seconds["circuit, program cached"] = round(time.perf_counter() - started, 2)
    reference = RunContext("reference", seed=0, epoch=1, chunk=args.samples)
    started = time.perf_counter()
    expected = algorithm.train_epoch(params, data.X_train, data.T_train, few, reference)
    seconds["numpy reference"] = round(time.perf_counter() - started, 2)
    check = algorithm.train_epoch(params, data.X_train, data.T_train, few,
                                  RunContext("cpp_standalone", seed=0, epoch=1, chunk=args.samples, programs=cache))
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(learned[k]).tobytes() for k in sorted(learned)))
    algorithm.output_counts(learned, data.X_test[args.samples:], circuit)   # compiles the inference program
    started = time.perf_counter()
    counts = algorithm.output_counts(learned, data.X_test[:args.samples], circuit)
    seconds["inference circuit, program cached"] = round(time.perf_counter() - started, 2)
    return {"spikingbp": str(Path(spikingbp.__file__).parent), "options": algorithm.values, "seconds": seconds,
            "circuit_samples_per_second": round(args.samples / seconds["circuit, program cached"], 2),
            "reference_samples_per_second": round(args.reference_samples / seconds["numpy reference"], 3),
            "circuit_equals_reference": bool(all(np.array_equal(check[k], expected[k]) for k in expected)),
            "changed_weights": int(sum((learned[k] != params[k]).sum() for k in params)),
            "weights_sha256": digest.hexdigest()[:16],
            "inference_samples_per_second": round(args.samples / seconds["inference circuit, program cached"], 2),
            "output_counts_sha256": hashlib.sha256(np.ascontiguousarray(counts, np.int64).tobytes()).hexdigest()[:16]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--samples", type=int, default=100, help="training samples timed on the circuit")
    parser.add_argument("--reference-samples", type=int, default=10, help="of those, timed on the reference too")
    parser.add_argument("--hidden", type=int, default=1280)
    parser.add_argument("--Ts", type=int, default=100)
    parser.add_argument("--baseline", default=None, help="the commit measured as 'before' (none: only this tree)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "ssnnbp_speed_2core.json"))
    parser.add_argument("--conditions", default="", help="what else the machine was doing, recorded with the result")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)   # the tree whose spikingbp to measure
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(measure(args)))
        return
    from versions import measure_versions

    from spikingbp.io import write_json

    versions = measure_versions(__file__, ["--samples", str(args.samples), "--reference-samples",
                                           str(args.reference_samples), "--hidden", str(args.hidden), "--Ts",
                                           str(args.Ts), "--data-dir", args.data_dir]
                                + [f"--option={o}" for o in args.option], args.baseline)
    summary = {"command": "python benchmarks/ssnnbp_speed.py" + (f" --baseline {args.baseline}" if args.baseline else "")
                          + f" --samples {args.samples} --reference-samples {args.reference_samples}"
                          + "".join(f" --option {o}" for o in args.option)
                          + (f" --conditions '{args.conditions}'" if args.conditions else ""),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "conditions": args.conditions, "network": f"784-{args.hidden}-10",
               "Ts": args.Ts, "samples": args.samples, "versions": versions,
               "same_weights_in_every_version": len({v["weights_sha256"] for v in versions.values()}) == 1,
               "same_output_counts_in_every_version": len({v["output_counts_sha256"] for v in versions.values()}) == 1}
    if len(versions) == 2:
        before, after = versions.values()
        for kind in ("circuit", "reference", "inference"):
            summary[f"{kind}_speedup"] = round(after[f"{kind}_samples_per_second"]
                                               / before[f"{kind}_samples_per_second"], 2)
    write_json(args.out, summary, indent=1)
    print(json.dumps({k: summary[k] for k in summary if k != "versions"}, indent=1))


if __name__ == "__main__":
    main()
