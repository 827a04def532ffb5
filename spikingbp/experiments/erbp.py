"""The eRBP figures of Neftci et al. (2017), from real runs: ``spikingbp figures erbp --out DIR``.

    test_error.png          test error per epoch of each run (``--runs``), one curve per architecture
    error_vs_synops.png     test error against forward SynOps per classification, reading each test sample out
                            after 1, 2, ... of its 500 ms (the final weights of ``--run``)
    sample_raster.png       one training sample of the circuit: data, hidden, output, label and error units
    error_vs_synops.csv, summary.json   the numbers behind them

Every figure is drawn by ``spikingbp.analysis.erbp_figures`` from the tables written here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spikingbp.io import make_dir, write_csv, write_json


SAMPLE_HIDDEN = 32   # hidden units of the network whose training sample the raster shows


def sample_result(seed: int = 0, hidden: int = SAMPLE_HIDDEN):
    """One 250 ms training sample of a digits network on the runtime device: (CircuitResult with the spikes of
    data, h1, o, label, e+ and e-, its class)."""
    from spikingbp.algorithms import create
    from spikingbp.circuits import erbp as circuit
    from spikingbp.circuits.spikes import CircuitResult, spike_entry
    from spikingbp.training import load_data

    algorithm = create("erbp")
    data = load_data(algorithm, "digits", limit_train=1, limit_test=1)
    params = algorithm.init_params(data.sizes((hidden,)), seed)
    weights, feedback = algorithm._split(params)
    streams = algorithm.streams(data.X_train, data.T_train, [0], [seed, 1], hidden + 10, train=True)
    settings = algorithm.settings(train=True)
    result = circuit.erbp_circuit(weights, feedback, *streams[:3], settings).run(
        settings.T, "runtime", record_spikes=True, target="numpy")
    spikes = {"data": spike_entry(streams[0][0]), "label": spike_entry(streams[1][0])}
    for name in ("h1", "o"):
        spikes[name] = spike_entry(result.spike_matrix(name))
    errors = result.spike_matrix("e")
    spikes["e+"], spikes["e-"] = spike_entry(errors[:, :10]), spike_entry(errors[:, 10:])
    return CircuitResult(settings.T, spikes, {}, {}), int(np.argmax(data.T_train[0]))


def error_vs_synops(run_dir, most: int | None = None, windows: int = 20) -> pd.DataFrame:
    """Test error and mean forward SynOps per classification of a finished erbp run's final weights on its test
    set (at most ``most`` samples), read out after ``windows`` equal parts of a test sample, on its device."""
    from spikingbp.training import load_test_run

    run, data, context = load_test_run(run_dir, "erbp", most)
    T = run.algorithm.test_steps
    steps = np.unique(np.linspace(T / windows, T, windows).round().astype(np.int64))
    curve = run.algorithm.error_vs_synops(run.final, data.X_test, data.T_test, context, steps)
    return pd.DataFrame({"ms": np.asarray(curve["steps"]) * 0.1, "error": curve["error"], "synops": curve["synops"]})


def run_figures(out, *, run_dir=None, runs=(), quick: bool = False, seed: int = 0) -> dict:
    """Write the figures and tables (module docstring) into ``out``; returns the summary."""
    from spikingbp.analysis import erbp_figures as figures

    from spikingbp.training import finished_runs

    out = Path(out)
    runs = finished_runs(runs, "erbp")
    finished_runs([run_dir] if run_dir else [], "erbp")
    make_dir(out)
    result, label = sample_result(seed)
    # a fresh digits network, whatever the runs given: the raster shows the circuit's mechanism, not a run
    figures.plot_sample_raster(result, out / "sample_raster.png", label, f"a fresh 64-{SAMPLE_HIDDEN}-10 digits network")
    summary, files = {}, ["sample_raster.png"]
    if run_dir:
        table = error_vs_synops(run_dir, most=50 if quick else None, windows=10 if quick else 20)
        write_csv(out / "error_vs_synops.csv", table)
        summary["error_vs_synops"] = figures.plot_error_vs_synops(table, out / "error_vs_synops.png")
        files += ["error_vs_synops.png", "error_vs_synops.csv"]
    if runs:
        summary["test_error"] = figures.plot_test_error(runs, out / "test_error.png")
        files.append("test_error.png")
    summary["files"] = files
    write_json(out / "summary.json", summary)
    return summary


__all__ = ["sample_result", "error_vs_synops", "run_figures"]
