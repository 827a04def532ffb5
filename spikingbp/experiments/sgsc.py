"""The SGSC job: graded, dynamically routable transfer in synfire-gated synfire chains (docs/methods/sgsc.md).

``run_sgsc(out_dir, seed=0, quick=False)`` runs, on Brian2's runtime device (numpy target: nothing to
compile):

1. the mean-field chain for S = 2, e and 3 (T = tau), against the closed form S (T/tau) exp(-T/tau);
2. the spiking chain's calibration: the S whose mean stage gain is 1 (``calibrate_strength``);
3. the spiking chain at the calibrated S (several amplitudes, repeated copies) and at 0.9 and 1.1 times
   it, over ``stages`` stages;
4. dynamic routing: the same circuit with the routing input set to branch a, then to branch b.

and writes into ``out_dir``::

    sgsc_results.csv        one row per copy of a chain and stage (columns: see analysis.sgsc_figures)
    calibration.csv         the mean stage gain at each S tried by the calibration
    config.json             seed, quick, and every parameter of every part
    summary.json            what run_sgsc returns
    amplitude_vs_stage.png  amplitudes per stage for several S, mean-field and spiking, and stage gains
    raster.png              gating and graded populations of the spiking chain, gates shaded
    routing.png             rasters of the routed circuit for route a and route b

Every file is written under a temporary name and renamed over its final name.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spikingbp.analysis.raster import Phase, Row, plot_raster, plot_rasters
from spikingbp.analysis.sgsc_figures import plot_amplitude_vs_stage, summarise_gains
from spikingbp.circuits.graded import (SpikingConfig, calibrate_strength, exact_strength, meanfield_chain,
                                       routed_sgsc, run_graded, spiking_sgsc, stage_gain, stage_gains)
from spikingbp.checks import whole
from spikingbp.io import atomic_open, make_dir, write_csv

PA = 1e-12

#: The two sizes of the job. ``quick`` keeps the tests short: fewer stages, amplitudes and repeats.
SETTINGS = {
    False: dict(meanfield_S=(2.0, float(np.e), 3.0), meanfield_amplitudes=(0.1, 0.2, 0.4), meanfield_stages=8,
                n=100, stages=10, amplitudes_pA=(10, 15, 20, 25, 30, 35), repeats=4,
                other_S_factors=(0.9, 1.1), other_S_amplitudes_pA=(10, 20, 30),
                calibration_S=(2.6, 2.9, 3.2), calibration_amplitudes_pA=(10, 15, 20, 25, 30),
                calibration_stages=3, calibration_repeats=2, gain_stages=8, range_pA=(10, 30),
                routing_trunk=2, routing_branch_stages=2, routing_amplitude_pA=20, raster_amplitude_pA=20),
    True: dict(meanfield_S=(2.0, float(np.e), 3.0), meanfield_amplitudes=(0.1, 0.2, 0.4), meanfield_stages=8,
               n=100, stages=4, amplitudes_pA=(10, 20, 30), repeats=1,
               other_S_factors=(), other_S_amplitudes_pA=(),
               calibration_S=(2.6, 3.2), calibration_amplitudes_pA=(10, 20, 30),
               calibration_stages=2, calibration_repeats=1, gain_stages=4, range_pA=(10, 30),
               routing_trunk=1, routing_branch_stages=2, routing_amplitude_pA=20, raster_amplitude_pA=20),
}


def run_sgsc(out_dir, seed: int = 0, quick: bool = False, *, config: SpikingConfig | None = None,
             progress=print) -> dict:
    """Run the SGSC demonstrations and write results and figures to ``out_dir`` (see the module doc).

    Returns the summary: the mean-field stage gains (measured and closed form), the calibrated S, the
    spiking stage gains at that S (per stage, mean and sd over copies), their largest deviation from 1
    over ``gain_stages`` stages, the mean gain per stage of each input amplitude, the routing outcome,
    the files written and the wall time. ``progress`` receives one line per step (None: silent).
    """
    whole(seed, "seed", minimum=0)
    started = time.perf_counter()
    say = progress or (lambda *_: None)
    out = make_dir(out_dir)
    settings = SETTINGS[bool(quick)]
    config = config or SpikingConfig()
    config = config.replace(n=settings["n"])
    run_options = dict(device="runtime", target="numpy")
    tables, timings = [], {}

    # 1. Mean-field chain, T = tau: gains against the closed form.
    t0 = time.perf_counter()
    S_mf = np.repeat(settings["meanfield_S"], len(settings["meanfield_amplitudes"]))
    A_mf = np.tile(settings["meanfield_amplitudes"], len(settings["meanfield_S"]))
    mf = meanfield_chain(settings["meanfield_stages"], S_mf, A_mf)
    mf_result = run_graded(mf, seed=None, **run_options)
    mf_amplitudes = mf.layout.amplitudes_of(mf_result)
    tables.append(_table("meanfield", mf.layout, mf_amplitudes, "main", unit="g0"))
    mf_gains = stage_gains(mf_amplitudes)
    T, tau = mf.layout.parameters["T"], mf.layout.parameters["tau"]
    meanfield = {"S": [float(s) for s in settings["meanfield_S"]],
                 "stage_gain_measured": [float(np.mean(mf_gains[S_mf == s])) for s in settings["meanfield_S"]],
                 "stage_gain_closed_form": [float(stage_gain(s, T, tau)) for s in settings["meanfield_S"]],
                 "exact_S": exact_strength(T, tau)}
    timings["meanfield_s"] = time.perf_counter() - t0
    say(f"mean-field: stage gains {np.round(meanfield['stage_gain_measured'], 4).tolist()} for S = "
        f"{np.round(meanfield['S'], 3).tolist()} (closed form "
        f"{np.round(meanfield['stage_gain_closed_form'], 4).tolist()})")

    # 2. Calibrate S for the spiking chain.
    t0 = time.perf_counter()
    calibration = calibrate_strength(config, settings["calibration_S"],
                                     np.asarray(settings["calibration_amplitudes_pA"]) * PA,
                                     stages=settings["calibration_stages"],
                                     repeats=settings["calibration_repeats"], seed=seed + 1, **run_options)
    S_star = calibration.value
    timings["calibration_s"] = time.perf_counter() - t0
    say(f"calibration: mean stage gain {calibration.table['mean_gain'].round(3).tolist()} at S = "
        f"{calibration.table['S'].tolist()} -> S = {S_star:.3f}")

    # 3. The spiking chain at the calibrated S, and at other S.
    t0 = time.perf_counter()
    amplitudes = list(np.asarray(settings["amplitudes_pA"]) * PA)
    strengths = [S_star] * len(amplitudes)
    for factor in settings["other_S_factors"]:
        amplitudes += list(np.asarray(settings["other_S_amplitudes_pA"]) * PA)
        strengths += [S_star * factor] * len(settings["other_S_amplitudes_pA"])
    chain = spiking_sgsc(settings["stages"], strengths, amplitudes, repeats=settings["repeats"], config=config)
    chain_result = run_graded(chain, seed=seed + 2, **run_options)
    chain_amplitudes = chain.layout.amplitudes_of(chain_result)
    tables.append(_table("spiking", chain.layout, chain_amplitudes, "main", result=chain_result))
    timings["spiking_s"] = time.perf_counter() - t0
    results = pd.concat(tables, ignore_index=True)
    gains = summarise_gains(results, "spiking", S_star, settings["gain_stages"])
    low, high = settings["range_pA"]
    in_range = [a for a in np.asarray(settings["amplitudes_pA"], float) if low <= a <= high]
    ranged = summarise_gains(results, "spiking", S_star, settings["gain_stages"], inputs=in_range)
    say(f"spiking chain at S = {S_star:.3f}: stage gains {np.round(gains['stage_gains'], 3).tolist()}, "
        f"max |gain - 1| over {settings['gain_stages']} stages {gains['max_deviation']:.3f}")

    # 4. Dynamic routing: one circuit, two routes.
    t0 = time.perf_counter()
    routing, routed = {}, {}
    for k, route in enumerate(("a", "b")):
        circuit = routed_sgsc(settings["routing_trunk"], settings["routing_branch_stages"], route, S_star,
                              [settings["routing_amplitude_pA"] * PA], config=config)
        result = run_graded(circuit, seed=seed + 3 + k, **run_options)
        routed[route] = (circuit, result)
        summary = {}
        for branch in ("a", "b"):
            amps = circuit.layout.amplitudes_of(result, branch)
            tables.append(_table(f"routing_{route}", circuit.layout, amps, branch, result=result))
            branch_stages = circuit.layout.stages[branch][settings["routing_trunk"] + 1:]
            summary[branch] = {
                "stages": branch_stages,
                "amplitudes_pA": [float(a / PA) for a in amps[0]],
                "spikes_in_gate": [int(circuit.layout.spike_counts(result, s)[0, 0]) for s in branch_stages]}
        chosen = summary[route]["spikes_in_gate"]
        other = summary["b" if route == "a" else "a"]["spikes_in_gate"]
        summary["correct"] = bool(min(chosen) > 0 and max(other) == 0)
        routing[route] = summary
    timings["routing_s"] = time.perf_counter() - t0
    say("routing: " + ", ".join(f"route {r}: branch spikes a {routing[r]['a']['spikes_in_gate']}, "
                                f"b {routing[r]['b']['spikes_in_gate']}" for r in ("a", "b")))

    # Files.
    t0 = time.perf_counter()
    results = pd.concat(tables, ignore_index=True)
    files = {}
    files["results"] = write_csv(out / "sgsc_results.csv", results)
    files["calibration"] = write_csv(out / "calibration.csv", calibration.table)
    files["amplitude_vs_stage"] = plot_amplitude_vs_stage(
        results, out / "amplitude_vs_stage.png", calibrated_S=S_star, gain_stages=settings["gain_stages"],
        title=f"Graded transfer in synfire-gated synfire chains (calibrated S = {S_star:.3f})")
    files["raster"] = _raster(chain, chain_result, S_star, settings["raster_amplitude_pA"] * PA,
                              out / "raster.png")
    files["routing"] = plot_rasters(
        [_routing_panel(*routed[route], route) for route in ("a", "b")], out / "routing.png", max_units=50,
        suptitle="Dynamic routing: the same circuit, the routing input picks the branch")
    timings["files_s"] = time.perf_counter() - t0

    summary = {
        "seed": int(seed), "quick": bool(quick),
        "meanfield": meanfield,
        "calibrated_S": S_star,
        "calibration": calibration.table.to_dict("records"),
        "g0_pA": float(config.g0 / PA),
        "gain_stages": settings["gain_stages"],
        "stage_gains": gains["stage_gains"],
        "stage_gain_sd": gains["stage_gain_sd"],
        "max_deviation": gains["max_deviation"],
        "gain_per_input_pA": {f"{k:g}": v for k, v in gains["gain_per_input"].items()},
        "max_deviation_per_input": gains["max_deviation_per_input"],
        "range_pA": [low, high],
        "max_deviation_in_range": ranged["max_deviation"],
        "max_deviation_per_input_in_range": ranged["max_deviation_per_input"],
        "routing": routing,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }
    summary["wall_time_s"] = round(time.perf_counter() - started, 2)
    summary["files"] = {k: str(v) for k, v in files.items()}
    summary["files"]["config"] = str(out / "config.json")
    summary["files"]["summary"] = str(out / "summary.json")
    _write_json(out / "config.json", {
        "seed": int(seed), "quick": bool(quick), "device": run_options, "settings": _plain(settings),
        "spiking": config.record(), "meanfield": mf.layout.parameters,
        "chain": chain.layout.parameters, "routing": routed["a"][0].layout.parameters,
        "seeds": {"calibration": seed + 1, "chain": seed + 2, "routing_a": seed + 3, "routing_b": seed + 4},
    })
    _write_json(out / "summary.json", summary)
    say(f"wrote {out} in {summary['wall_time_s']:.1f} s")
    return summary


def main(out_dir, seed: int = 0, quick: bool = False) -> int:
    """CLI entry (``spikingbp sgsc --out DIR``): run the job, print its summary lines; exit code 0."""
    summary = run_sgsc(out_dir, seed=seed, quick=quick)
    print(f"calibrated S = {summary['calibrated_S']:.3f}; max |stage gain - 1| over {summary['gain_stages']} "
          f"stages = {summary['max_deviation']:.3f}; routing correct: "
          f"{all(summary['routing'][r]['correct'] for r in ('a', 'b'))}")
    return 0


# ---------------------------------------------------------------------------------------------------

def _table(experiment: str, layout, amplitudes: np.ndarray, branch: str, *, unit: str = "pA",
           result=None) -> pd.DataFrame:
    """Long rows (copy, stage) of one run's amplitudes, gains and (spiking) spike counts."""
    scale = PA if unit == "pA" else 1.0
    copies, stages = amplitudes.shape
    gains = np.column_stack([np.full(copies, np.nan), stage_gains(amplitudes)])
    frame = pd.DataFrame({
        "experiment": experiment, "branch": branch,
        "S": np.repeat(layout.strengths, stages), "input": np.repeat(np.round(layout.amplitudes / scale, 9), stages),
        "copy": np.repeat(np.arange(copies), stages), "stage": np.tile(np.arange(stages), copies),
        "amplitude": amplitudes.ravel() / scale, "gain": gains.ravel(), "unit": unit})
    if result is not None:
        counts = np.stack([layout.spike_counts(result, name) for name in layout.stages[branch]], axis=1)
        frame["spikes_in_gate"] = counts[:, :, 0].ravel()
        frame["spikes_outside_gate"] = counts[:, :, 1].ravel()
    return frame


def _raster(circuit, result, S: float, amplitude: float, out_png: Path) -> Path:
    """Gating population j above graded stage j (the first copy that carries ``amplitude`` at ``S``)."""
    layout = circuit.layout
    matches = np.flatnonzero(np.isclose(layout.strengths, S) &
                             np.isclose(layout.amplitudes, amplitude, rtol=1e-6, atol=0))
    copy = int(matches[0]) if len(matches) else 0
    units = slice(copy * layout.n, (copy + 1) * layout.n)
    rows, phases = [], []
    gates = layout.gate_populations["main"]
    for j, stage in enumerate(layout.stages["main"]):
        rows.append(Row(gates[j], f"gate pop. {j} (first 15)", slice(0, 15), "0.45"))
        rows.append(Row(stage, f"stage {j}", units, "tab:blue"))
        first, last = layout.gate(j)
        phases.append(Phase(first, last + 1, rows=(f"stage {j}",)))
    window = (layout.start_step - layout.period, layout.steps_needed())
    return plot_raster(result, rows, out_png, dt=layout.dt, phases=phases, max_units=50, time_window=window,
                       title=f"Spiking SGSC at S = {S:.3f}: input {layout.amplitudes[copy] / PA:g} pA\n"
                             f"one copy of {layout.n} units per stage, its gate window shaded")


def _routing_panel(circuit, result, route: str) -> dict:
    layout = circuit.layout
    rows, phases = [], []
    trunk = [s for s in layout.stages["a"] if s in layout.stages["b"]]
    for j, stage in enumerate(trunk):
        rows += [Row(layout.gate_populations["a"][j], f"gate {j} (first 15)", slice(0, 15), "0.45"),
                 Row(stage, f"x{j}", None, "tab:blue")]
        phases.append(Phase(layout.gate(j)[0], layout.gate(j)[1] + 1, rows=(f"x{j}",)))
    for branch, colour in (("a", "tab:green"), ("b", "tab:red")):
        for j, stage in enumerate(layout.stages[branch][len(trunk):], start=len(trunk)):
            label = f"{branch}: stage {j}"
            rows += [Row(layout.gate_populations[branch][j], f"{branch}: gate {j} (first 15)", slice(0, 15), "0.45"),
                     Row(stage, label, None, colour)]
            if branch == route:
                phases.append(Phase(layout.gate(j)[0], layout.gate(j)[1] + 1, rows=(label,)))
    window = (layout.start_step - layout.period, layout.steps_needed())
    return dict(result=result, rows=rows, dt=layout.dt, phases=phases, time_window=window,
                title=f"routing input -> branch {route}")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _atomic_write(path: Path, write, mode: str = "w") -> Path:
    with atomic_open(path, mode) as stream:
        write(stream)
    return path


def _write_json(path: Path, value) -> Path:
    def write(stream):
        json.dump(_plain(value), stream, indent=2)
        stream.write("\n")
    return _atomic_write(path, write)


__all__ = ["run_sgsc", "main", "SETTINGS"]
