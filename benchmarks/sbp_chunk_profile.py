"""Where one compiled sBP training chunk spends its time: Brian2's ``profile=True`` per code object.

    python benchmarks/sbp_chunk_profile.py --out benchmarks/results/sbp_chunk_profile_2core.json

Builds the 400-400-10 training circuit of one ``--chunk`` of mnist-10k samples on cpp_standalone with
profiling, runs it, and reports the share of each code object, the synaptic events of the W1 copies (x
spikes x 3 x n_hidden) and the time per event; then times the same binary without data (one sample, the
rest padding) to separate the per-step cost, and a one-sample program for the start-up cost (load the
static arrays, write the results). Every run's weights are checked against the numpy reference.
"""
import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "mnist-10k"


def build(training, steps, directory, profile):
    """Build and run ``training`` for ``steps`` in ``directory``; returns (result, profile rows)."""
    from brian2 import defaultclock

    from spikingbp.circuits import sbp
    from spikingbp.devices import use_device

    with use_device("cpp_standalone", str(directory)):
        defaultclock.dt = training.dt
        built = training.build([], {}, sbp.PLASTIC_PROJECTIONS)
        built.network.run(steps * training.dt, profile=profile)
        rows = [(name, float(seconds)) for name, seconds in built.network.profiling_info] if profile else []
        return built.result(steps), rows


def binary_seconds(directory, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(["./main"], cwd=directory, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return round(min(times), 3), round(float(np.median(times)), 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA))
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "sbp_chunk_profile_2core.json"))
    args = parser.parse_args()
    from spikingbp.algorithms import create
    from spikingbp.circuits import sbp
    from spikingbp.io import write_json
    from spikingbp.reference import sbp as reference
    from spikingbp.training import load_data

    data = load_data(create("sbp"), "mnist", args.data_dir, crop=4)
    W1, W2 = reference.init_weights(data.n_in, 400, data.n_out, rng=1)
    X, T = data.X_train[:args.chunk], data.T_train[:args.chunk]
    steps = sbp.training_steps(args.chunk)
    work = Path(tempfile.mkdtemp(prefix="spikingbp-profile-"))
    summary = {"command": f"python benchmarks/sbp_chunk_profile.py --chunk {args.chunk}", "network": "400-400-10",
               "samples": args.chunk, "steps": steps}
    runs = {"profiled chunk": (X, T, steps, True), "one sample, same steps": (X[:1], T[:1], steps, False),
            "one sample, its own steps": (X[:1], T[:1], sbp.training_steps(1), False)}
    for label, (x, t, run_steps, profile) in runs.items():
        result, rows = build(sbp.training_circuit(W1, W2, x, t), run_steps, work / label.replace(" ", "_"), profile)
        learned = sbp.learned_weights(result, data.n_in, 400, data.n_out)
        expected = reference.train_epoch(x, t, W1, W2, order=np.arange(len(x)))
        entry = {"identical_to_reference": all(np.array_equal(a, b) for a, b in zip(learned, expected)),
                 "binary_seconds_min_median": binary_seconds(work / label.replace(" ", "_"), args.repeats)}
        if profile:
            total = sum(seconds for _, seconds in rows)
            entry["code_objects"] = {name: {"seconds": round(seconds, 3), "share": round(seconds / total, 3)}
                                     for name, seconds in sorted(rows, key=lambda r: -r[1])[:8]}
            x_spikes = 3 * int(x.sum())  # x fires in phases 1, 7 and 11
            events = x_spikes * 3 * 400
            w1 = next(s for name, s in rows if name.endswith("loihicuba__sbp_loihicubamodulated_d0_pre_codeobject"))
            entry["w1_synaptic_events_per_sample"] = events // len(x)
            entry["ns_per_w1_event"] = round(w1 / events * 1e9, 2)
            entry["profiled_seconds"] = round(total, 3)
        summary[label] = entry
    reference_started = time.perf_counter()
    reference.train_epoch(X, T, W1, W2, order=np.arange(len(X)))
    summary["reference_seconds"] = round(time.perf_counter() - reference_started, 3)
    print(json.dumps(summary, indent=1))
    write_json(args.out, summary, indent=1)


if __name__ == "__main__":
    main()
