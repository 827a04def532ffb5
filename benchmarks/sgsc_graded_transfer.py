"""Graded transfer in the spiking synfire-gated synfire chain, full size: calibration and stage gains.

    python benchmarks/sgsc_graded_transfer.py [--stages 10] [--repeats 6] [--seed 0] [--json out.json]

Steps (Brian2 runtime device, numpy target; 100 units per population):

1. the f-I curve of a graded population (noisy LIF), and the threshold-linear fit above 50 Hz;
2. ``calibrate_offset``: the gate amplitude g0 at which the stage transfer A_{j+1} = a A_j + b has b = 0;
3. ``calibrate_strength`` at that g0: the S whose mean stage gain is 1 (mean over 3 transfers,
   5 amplitudes x repeats, at three S values, interpolated);
4. the long run at that S: ``--stages`` stages, amplitudes 5 ... 40 pA, each carried by ``--repeats``
   independent copies; prints amplitudes per stage, the mean stage gain per stage (over the copies that
   start in 10 ... 30 pA), the largest deviation from 1 over the first 8 stages, the mean gain per stage
   of each amplitude, (A_8 / A_0) ** (1 / 8), and the spikes fired outside gates;
5. the calibrated S for other seeds (``--seeds``), the spread that finite populations leave.

Prints the wall time of every step.
"""
import argparse
import json
import time

import numpy as np
from brian2 import pA

from spikingbp.circuits.graded import (SpikingConfig, calibrate_offset, calibrate_strength, population_rates,
                                       run_graded, spiking_sgsc, stage_gains)

PA = 1e-12
RUN = dict(device="runtime", target="numpy")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=2, help="extra seeds for the spread of the calibrated S")
    parser.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args()
    report, started = {}, time.perf_counter()
    config = SpikingConfig()
    print(f"config: {config.record()}")

    t0 = time.perf_counter()
    currents = np.arange(0, 101, 10) * PA
    rates = population_rates(currents, config, seed=args.seed, **RUN)
    fit = rates >= 50
    slope, intercept = np.polyfit(currents[fit], rates[fit], 1)
    print("\n1. f-I curve (I in pA: rate in Hz): " +
          ", ".join(f"{c / PA:.0f}: {r:.0f}" for c, r in zip(currents, rates)))
    print(f"   threshold-linear fit above 50 Hz: onset {-intercept / slope / PA:.1f} pA, slope {slope * PA:.2f} Hz/pA "
          f"(1 / (C_m v_th) = {float(config.beta) * PA:.2f} Hz/pA)  [{time.perf_counter() - t0:.1f} s]")
    report["fI"] = dict(currents_pA=(currents / PA).tolist(), rates_Hz=rates.tolist(),
                        onset_pA=-intercept / slope / PA, slope_Hz_per_pA=slope * PA)

    t0 = time.perf_counter()
    offset = calibrate_offset(config, offsets=np.array([49, 51, 53, 55]) * PA, S=2.9, stages=3, repeats=3,
                              seed=args.seed, **RUN)
    shown = offset.table.assign(g0=offset.table.g0 / PA, intercept=offset.table.intercept / PA)
    print(f"\n2. calibrate_offset (S = 2.9; g0 and intercept in pA):\n{shown.round(4).to_string(index=False)}")
    print(f"   g0 = {offset.value / PA:.2f} pA (config default {float(config.g0) / PA:.2f} pA)  "
          f"[{time.perf_counter() - t0:.1f} s]")
    report["g0_pA"] = offset.value / PA
    config = config.replace(g0=offset.value / PA * pA)

    t0 = time.perf_counter()
    strength = calibrate_strength(config, (2.6, 2.9, 3.2), stages=3, repeats=3, seed=args.seed + 1, **RUN)
    S = strength.value
    print(f"\n3. calibrate_strength:\n{strength.table.round(4).to_string(index=False)}")
    print(f"   S = {S:.3f}  [{time.perf_counter() - t0:.1f} s]")
    report["S"] = S
    report["calibration"] = strength.table.to_dict("records")

    t0 = time.perf_counter()
    amplitudes = np.array([5, 10, 15, 20, 25, 30, 35, 40]) * PA
    chain = spiking_sgsc(args.stages, S, amplitudes, repeats=args.repeats, config=config)
    result = run_graded(chain, seed=args.seed + 2, **RUN)
    A = chain.layout.amplitudes_of(result)
    seconds = time.perf_counter() - t0
    per_amplitude = A.reshape(len(amplitudes), args.repeats, -1)
    gains = stage_gains(A)
    in_range = (chain.layout.amplitudes >= 10 * PA - 1e-15) & (chain.layout.amplitudes <= 30 * PA + 1e-15)
    stage_mean = np.nanmean(gains[in_range], axis=0)
    stage_sd = np.nanstd(gains[in_range], axis=0)
    eight = min(8, args.stages)
    overall = ((A[:, eight] / A[:, 0]) ** (1 / eight)).reshape(len(amplitudes), args.repeats)
    outside = [int(chain.layout.spike_counts(result, s)[:, 1].sum()) for s in chain.layout.stages["main"]]
    inside = [int(chain.layout.spike_counts(result, s)[:, 0].sum()) for s in chain.layout.stages["main"]]
    neurons = sum(p.size for p in chain.populations.values())
    print(f"\n4. long run: {args.stages} stages, {len(amplitudes)} amplitudes x {args.repeats} copies, "
          f"{neurons} neurons, {chain.layout.steps_needed()} steps  [{seconds:.1f} s]")
    print("   amplitude per stage (pA, mean over copies):")
    for a, row in zip(amplitudes, per_amplitude.mean(axis=1)):
        print(f"     {a / PA:4.0f}: " + " ".join(f"{v:5.1f}" for v in row / PA))
    print("   stage gain per stage, copies starting in 10..30 pA (mean +- sd over copies):")
    print("     " + " ".join(f"{m:.3f}+-{s:.3f}" for m, s in zip(stage_mean, stage_sd)))
    print(f"   max |mean stage gain - 1| over the first {eight} stages: "
          f"{np.max(np.abs(stage_mean[:eight] - 1)):.3f}")
    print(f"   mean gain per stage over {eight} stages, (A_{eight}/A_0)^(1/{eight}), per amplitude "
          f"(mean +- sd over copies):")
    print("     " + ", ".join(f"{a / PA:.0f} pA: {m:.3f}+-{s:.3f}" for a, m, s in
                              zip(amplitudes, overall.mean(axis=1), overall.std(axis=1))))
    print(f"   spikes in gates per stage: {inside}")
    print(f"   spikes outside gates per stage: {outside}")
    report["long_run"] = dict(stages=args.stages, repeats=args.repeats, seconds=seconds, neurons=neurons,
                              amplitudes_pA=(per_amplitude.mean(axis=1) / PA).round(3).tolist(),
                              stage_gain_mean=stage_mean.tolist(), stage_gain_sd=stage_sd.tolist(),
                              max_deviation_8=float(np.max(np.abs(stage_mean[:eight] - 1))),
                              gain_per_amplitude={f"{a / PA:.0f}": float(m) for a, m in
                                                  zip(amplitudes, overall.mean(axis=1))},
                              spikes_outside=outside)

    t0 = time.perf_counter()
    others = [calibrate_strength(config, (2.6, 2.9, 3.2), stages=3, repeats=3, seed=args.seed + 10 + k, **RUN).value
              for k in range(args.seeds)]
    if others:
        print(f"\n5. calibrated S for other seeds: {np.round(others, 3).tolist()}  [{time.perf_counter() - t0:.1f} s]")
    report["S_other_seeds"] = others
    report["wall_time_s"] = time.perf_counter() - started
    print(f"\nwall time {report['wall_time_s']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
