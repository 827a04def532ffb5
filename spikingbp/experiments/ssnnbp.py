"""The SSNN-BP figures of Biswas et al. (2023), from real runs: ``spikingbp figures ssnnbp --out DIR``.

    product_error.png       paper figure 4: the coincidence estimate of p*q from two independent Bernoulli trains
                            of Ts steps (what the stochastic rule sums: one +eta/2 per same-step coincidence),
                            for the 2,500 products of [0, 0.02, ..., 0.98] with itself at Ts = 25, 50, 100, 200:
                            the error distributions, and their standard deviation against sqrt(pq(1-pq)/Ts)
    sample_raster.png       one training sample of the circuit: input, hidden forward, d+ and d- units, output
                            forward and error units
    output_distributions.png paper figure 5: over the test set of a trained run (``--run``), the output spike
                            counts, their softmax and the winner-take-all outcome
    accuracy_vs_Ts.png      paper figure 6: test accuracy per epoch of runs at several Ts (``--runs``)
    product_error.csv       per Ts and product (p, q): the estimate's mean error, its sd over the repeats and
                            the predicted sd sqrt(pq(1-pq)/Ts) (a summary; the raw draws are not kept)
    output_counts.csv, summary.json   the numbers behind the others

Every figure is drawn by ``spikingbp.analysis.ssnnbp_figures`` from the tables written here.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from spikingbp.io import make_dir, write_csv, write_json

PRODUCT_VALUES = np.round(np.arange(50) * 0.02, 2)   # 0, 0.02, ..., 0.98
PRODUCT_TS = (25, 50, 100, 200)


def product_errors(Ts_values=PRODUCT_TS, repeats: int = 20, seed: int = 0) -> pd.DataFrame:
    """Coincidence estimates of p*q for every pair of ``PRODUCT_VALUES``: ``repeats`` pairs of independent
    Bernoulli trains of Ts steps each; one row per (Ts, p, q, repeat) with the estimate and its error."""
    rng = np.random.default_rng(seed)
    p, q = np.meshgrid(PRODUCT_VALUES, PRODUCT_VALUES, indexing="ij")
    rows = []
    for Ts in Ts_values:
        x = rng.random((repeats, Ts) + p.shape) < p            # forward train, rate p
        d = rng.random((repeats, Ts) + q.shape) < q            # gradient train, rate q
        estimate = (x & d).mean(axis=1)                        # coincidences per step
        for r in range(repeats):
            rows.append(pd.DataFrame({"Ts": Ts, "p": p.ravel(), "q": q.ravel(), "repeat": r,
                                      "estimate": estimate[r].ravel(), "error": estimate[r].ravel() - (p * q).ravel()}))
    return pd.concat(rows, ignore_index=True)


def product_error_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (Ts, p, q) of ``product_errors``: the repeats, the mean error, its sd and the predicted sd."""
    grouped = table.groupby(["Ts", "p", "q"])["error"]
    summary = grouped.agg(repeats="count", error_mean="mean", error_sd="std").reset_index()
    pq = summary["p"] * summary["q"]
    summary["predicted_sd"] = np.sqrt(pq * (1 - pq) / summary["Ts"])
    return summary.round({"error_mean": 6, "error_sd": 6, "predicted_sd": 6})


SAMPLE_HIDDEN = 32   # hidden units of the network whose training sample the raster shows


def sample_result(seed: int = 0, Ts: int = 50, hidden: int = SAMPLE_HIDDEN):
    """One training sample of a digits network on the runtime device, every compartment's flags recorded:
    (CircuitResult with spikes of input and of each compartment, Ts)."""
    from spikingbp.algorithms import create
    from spikingbp.circuits import ssnnbp as circuit
    from spikingbp.circuits.spikes import CircuitResult, spike_entry
    from spikingbp.training import load_data

    algorithm = create("ssnnbp", {"Ts": Ts})
    data = load_data(algorithm, "digits", limit_train=1, limit_test=1)
    params = algorithm.init_params(data.sizes((hidden,)), seed)
    weights = [params["W0"], params["W1"]]
    inputs, labels, keep = algorithm.trains(data.X_train, data.T_train, [0], [seed, 1], [hidden], train=True)
    built = circuit.ssnn_circuit(weights, inputs, labels, keep, algorithm.settings())
    states = {population: ("fx", "fp", "fm") for population in ("h1", "o")}
    result = built.run(circuit.run_steps(1, Ts), "runtime", record_spikes=(), record_states=states, target="numpy")
    spikes = {"input": spike_entry(inputs[0])}
    for population in ("h1", "o"):
        for flag in ("fx", "fp", "fm"):
            spikes[f"{population}.{flag}"] = spike_entry(result.states[population][flag][:Ts] > 0.5)
    spikes["label"] = spike_entry(labels[0])
    return CircuitResult(Ts, spikes, {}, {}), int(np.argmax(data.T_train[0]))


def test_output_counts(run_dir, most: int | None = None):
    """Output spike counts (N, n_out) of a finished ssnnbp run's final weights on its test set (the part it
    was tested on, at ``most`` samples), on the device it trained on, and the labels (N,)."""
    from spikingbp.training import load_test_run

    run, data, context = load_test_run(run_dir, "ssnnbp", most)
    counts = run.algorithm.output_counts(run.final, data.X_test, context)
    return counts, np.argmax(data.T_test, axis=1)


def _output_counts(run_dir: Path, table: Path, quick: bool):
    """The test output counts of a finished run: computed from its final weights and written to ``table``, or,
    where the run kept no weights (a committed run whose weights were dropped), read from ``table``."""
    if not (run_dir / "weights_final.npz").is_file() and table.is_file():
        frame = pd.read_csv(table)
        return frame.drop(columns="label").to_numpy(), frame["label"].to_numpy()
    counts, labels = test_output_counts(run_dir, most=200 if quick else None)
    write_csv(table, pd.DataFrame(np.column_stack([labels, counts]), columns=["label"] + [
        f"count_{k}" for k in range(counts.shape[1])]))
    return counts, labels


def run_figures(out, *, run_dir=None, runs=(), quick: bool = False, seed: int = 0) -> dict:
    """Write the figures and tables (module docstring) into ``out``; returns the summary."""
    from spikingbp.analysis import ssnnbp_figures as figures

    from spikingbp.training import finished_runs

    out = Path(out)
    runs = finished_runs(runs, "ssnnbp")
    finished_runs([run_dir] if run_dir else [], "ssnnbp")
    make_dir(out)
    table = product_errors(repeats=5 if quick else 20, seed=seed)
    write_csv(out / "product_error.csv", product_error_summary(table))
    summary = {"product_error": figures.plot_product_error(table, out / "product_error.png")}
    result, label = sample_result(seed)
    # a fresh digits network, whatever the runs given: the raster shows the circuit's mechanism, not a run
    figures.plot_sample_raster(result, out / "sample_raster.png", label, f"a fresh 64-{SAMPLE_HIDDEN}-10 digits network")
    files = ["product_error.png", "product_error.csv", "sample_raster.png"]
    if run_dir:
        counts, labels = _output_counts(Path(run_dir), out / "output_counts.csv", quick)
        summary["output_distributions"] = figures.plot_output_distributions(counts, labels,
                                                                            out / "output_distributions.png")
        files += ["output_distributions.png", "output_counts.csv"]
    if runs:
        summary["accuracy_vs_Ts"] = figures.plot_accuracy_vs_Ts(runs, out / "accuracy_vs_Ts.png")
        files.append("accuracy_vs_Ts.png")
    summary["files"] = files
    write_json(out / "summary.json", summary)
    return summary


__all__ = ["product_errors", "product_error_summary", "sample_result", "test_output_counts", "run_figures", "PRODUCT_VALUES", "PRODUCT_TS"]
