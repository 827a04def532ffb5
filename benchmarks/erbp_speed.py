"""eRBP training speed, before and after, in one run: the circuit on cpp_standalone and the numpy reference.

    python benchmarks/erbp_speed.py --baseline 2d022bc --out benchmarks/results/erbp_speed_2core.json

Each version of spikingbp (the ``--baseline`` commit, unpacked into a scratch directory, and this working
tree) is measured in a process of its own on the same samples: the first ``--samples`` training samples of
full MNIST (784-100-10 by default, ``--hidden``), 250 ms each with noise, the authors' options (``--option``
adds or changes some; both versions take them). Per version: the circuit's first run (compiling its program),
the same samples again with the program cached, and the reference; all must end with the same weights, and
the two versions with the same weights as each other, bit for bit. The ratio of the cached circuit's samples per
second (after / before) is the speed-up. Both versions run one after the other on the same machine, so what
else the machine does weighs on both; the JSON says which machine and how many cores.
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
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist"


def measure(args) -> dict:
    """Run in the measured version's process: its spikingbp is the one on sys.path first."""
    import numpy as np

    import spikingbp
    from spikingbp.algorithms import RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.training import load_data

    options = dict(item.split("=", 1) for item in args.option)
    algorithm = create("erbp", options)
    data = load_data(algorithm, "mnist", args.data_dir, limit_train=2 * args.samples, limit_test=1)
    params = algorithm.init_params(data.sizes((args.hidden,)), 0)
    cache = ProgramCache(tempfile.mkdtemp(prefix="spikingbp-erbp-speed-"))
    circuit = RunContext("cpp_standalone", seed=0, epoch=1, chunk=args.samples, programs=cache)
    warm, order = np.arange(args.samples, 2 * args.samples), np.arange(args.samples)
    runs = {}
    started = time.perf_counter()
    algorithm.train_epoch(params, data.X_train, data.T_train, warm, circuit)   # compiles, on other samples
    runs["circuit, first run (compiles)"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    learned = algorithm.train_epoch(params, data.X_train, data.T_train, order, circuit)
    runs["circuit, program cached"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    expected = algorithm.train_epoch(params, data.X_train, data.T_train, order[:args.reference_samples],
                                     RunContext("reference", seed=0, epoch=1, chunk=args.samples))
    runs["numpy reference"] = round(time.perf_counter() - started, 2)
    check = algorithm.train_epoch(params, data.X_train, data.T_train, order[:args.reference_samples], circuit)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(learned[k]).tobytes() for k in sorted(learned)))
    return {"spikingbp": str(Path(spikingbp.__file__).parent), "options": algorithm.values, "seconds": runs,
            "circuit_samples_per_second": round(args.samples / runs["circuit, program cached"], 2),
            "reference_samples_per_second": round(args.reference_samples / runs["numpy reference"], 3),
            "circuit_equals_reference": bool(all(np.array_equal(check[k], expected[k]) for k in expected)),
            "weights_sha256": digest.hexdigest()[:16]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--samples", type=int, default=300, help="training samples timed on the circuit")
    parser.add_argument("--reference-samples", type=int, default=10, help="of those, timed on the reference too")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--baseline", default=None, help="the commit measured as 'before' (none: only this tree)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "erbp_speed_2core.json"))
    parser.add_argument("--conditions", default="", help="what else the machine was doing, recorded with the result")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)   # the tree whose spikingbp to measure
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(measure(args)))
        return
    from spikingbp.io import write_json

    from versions import measure_versions

    versions = measure_versions(__file__, ["--samples", str(args.samples), "--reference-samples",
                                           str(args.reference_samples), "--hidden", str(args.hidden), "--data-dir",
                                           args.data_dir] + [f"--option={o}" for o in args.option], args.baseline)
    speeds = [v["circuit_samples_per_second"] for v in versions.values()]
    summary = {"command": "python benchmarks/erbp_speed.py" + (f" --baseline {args.baseline}" if args.baseline else "")
                          + f" --samples {args.samples} --reference-samples {args.reference_samples} --hidden {args.hidden}"
                          + "".join(f" --option {o}" for o in args.option)
                          + (f" --conditions '{args.conditions}'" if args.conditions else ""),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "conditions": args.conditions,
               "network": f"784-{args.hidden}-10",
               "samples": args.samples, "sample_ms": 250, "versions": versions,
               "same_weights_in_every_version": len({v["weights_sha256"] for v in versions.values()}) == 1}
    if len(speeds) == 2:
        summary["circuit_speedup"] = round(speeds[1] / speeds[0], 2)
    write_json(args.out, summary, indent=1)
    print(json.dumps({k: summary[k] for k in summary if k != "versions"}, indent=1))


if __name__ == "__main__":
    main()
