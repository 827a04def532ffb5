"""Figures of eRBP runs (``spikingbp.experiments.erbp`` writes their tables): a training-sample raster, the
test error per epoch per architecture, and the test error against SynOps per classification."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spikingbp.analysis.curves import plot_runs_per_epoch
from spikingbp.analysis.raster import Row, draw_raster, save_figure

SAMPLE_ROWS = [Row("data", "data units", color="tab:blue"), Row("h1", "hidden", color="tab:green"),
               Row("o", "output", color="tab:red"), Row("label", "label units", color="tab:purple"),
               Row("e+", "error + (label - output)", color="tab:pink"),
               Row("e-", "error - (output - label)", color="tab:gray")]


def plot_sample_raster(result, out_png, label: int, network: str) -> Path:
    """Raster of one training sample: every unit of every population, in ms; ``network`` says whose sample."""
    figure = Figure(figsize=(8, 8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_raster(axes, result, SAMPLE_ROWS, dt=1e-4, band_height=(14, 40), unit_ticks=True, marker_size=2)
    figure.suptitle(f"eRBP: one 250 ms training sample (class {label}) of {network}; learning from 50 ms",
                    fontsize=11)
    return save_figure(figure, out_png)


def plot_test_error(runs, out_png) -> dict:
    """Test error (%) per epoch of each run, labelled by its network. Returns network -> errors."""
    return plot_runs_per_epoch(runs, out_png,
                               label=lambda run: json.loads((run / "config.json").read_text())["network"]["label"],
                               value=lambda metrics: 100 * (1 - metrics["test_accuracy"]), ylabel="test error (%)",
                               title="eRBP test error per epoch")


def plot_error_vs_synops(table: pd.DataFrame, out_png) -> dict:
    """Test error against mean forward SynOps per classification, one point per read-out time."""
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(table["synops"], 100 * table["error"], "o-")
    for _, row in table.iloc[[0, len(table) // 2, len(table) - 1]].iterrows():
        axes.annotate(f"{row['ms']:g} ms", (row["synops"], 100 * row["error"]), fontsize=7,
                      textcoords="offset points", xytext=(4, 4))
    axes.set_xscale("log")
    axes.set_xlabel("forward SynOps per classification (spikes x fan-out)")
    axes.set_ylabel("test error (%)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3, which="both")
    axes.set_title("eRBP: test error against SynOps (read out after t ms)", fontsize=10)
    save_figure(figure, out_png)
    last = table.iloc[-1]
    return {"final_error": float(last["error"]), "final_synops": float(last["synops"]),
            "points": len(table)}


__all__ = ["plot_sample_raster", "plot_test_error", "plot_error_vs_synops", "SAMPLE_ROWS"]
