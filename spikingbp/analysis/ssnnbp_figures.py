"""Figures of SSNN-BP runs (Biswas et al. 2023, figures 4-6, and a raster of one training sample), drawn from
the tables and results that ``spikingbp.experiments.ssnnbp`` writes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spikingbp.analysis.curves import plot_runs_per_epoch
from spikingbp.analysis.raster import Row, draw_raster, save_figure
from spikingbp.errors import DataError


def plot_product_error(table: pd.DataFrame, out_png) -> dict:
    """Figure 4: per Ts, the distribution of the coincidence estimate's error over all products and repeats,
    and each product's error sd against sqrt(pq(1-pq)/Ts). Returns per Ts the overall error sd and the median
    ratio of measured to predicted sd (products with pq > 0)."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax_hist, ax_sd = figure.subplots(1, 2)
    summary = {}
    colours = dict(zip(sorted(table["Ts"].unique()), ("tab:red", "tab:orange", "tab:green", "tab:blue")))
    for Ts, part in table.groupby("Ts"):
        ax_hist.hist(part["error"], bins=np.linspace(-0.3, 0.3, 121), histtype="step", density=True,
                     color=colours[Ts], label=f"Ts = {Ts}")
        per_product = part.groupby(["p", "q"])["error"].std(ddof=1).reset_index()
        pq = per_product["p"] * per_product["q"]
        predicted = np.sqrt(pq * (1 - pq) / Ts)
        ax_sd.plot(predicted, per_product["error"], ".", ms=2, color=colours[Ts], alpha=0.5, label=f"Ts = {Ts}")
        positive = predicted > 0
        summary[int(Ts)] = {"error_sd": float(part["error"].std()), "error_mean": float(part["error"].mean()),
                            "median_measured_over_predicted_sd": float(np.median(
                                per_product["error"][positive] / predicted[positive]))}
    limit = float(table.groupby(["Ts", "p", "q"])["error"].std().max())
    ax_sd.plot([0, limit], [0, limit], color="black", lw=0.8, label="sqrt(pq(1 - pq) / Ts)")
    ax_hist.set_xlabel("estimate - p q")
    ax_hist.set_ylabel("density")
    ax_hist.set_title("error of the coincidence estimate, 2,500 products", fontsize=10)
    ax_hist.legend(fontsize=8)
    ax_sd.set_xlabel("predicted sd sqrt(pq(1 - pq) / Ts)")
    ax_sd.set_ylabel("measured sd over repeats")
    ax_sd.set_title("per product: measured against predicted sd", fontsize=10)
    ax_sd.legend(fontsize=8, markerscale=4)
    figure.suptitle("SSNN-BP stochastic product (paper figure 4)")
    save_figure(figure, out_png)
    return summary


#: The rows of one training sample, top to bottom (population names of ``experiments.ssnnbp.sample_result``).
SAMPLE_ROWS = [Row("input", "input x0", color="tab:blue"), Row("h1.fx", "hidden forward", color="tab:green"),
               Row("h1.fp", "hidden d+", color="tab:olive"), Row("h1.fm", "hidden d-", color="tab:brown"),
               Row("o.fx", "output forward", color="tab:red"), Row("label", "label train", color="tab:purple"),
               Row("o.fp", "output d+ (error)", color="tab:pink"), Row("o.fm", "output d- (error)", color="tab:gray")]


def plot_sample_raster(result, out_png, label: int, network: str) -> Path:
    """Raster of one training sample: every unit of every compartment."""
    figure = Figure(figsize=(8, 8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_raster(axes, result, SAMPLE_ROWS, band_height=(14, 40), unit_ticks=True, marker_size=4)
    figure.suptitle(f"SSNN-BP: one training sample (class {label}) of {network}, forward and gradient units",
                    fontsize=11)
    return save_figure(figure, out_png)


def plot_output_distributions(counts: np.ndarray, labels: np.ndarray, out_png) -> dict:
    """Figure 5: over the test set, (a) the spike counts of the correct output unit and of the others, (b) the
    softmax of the counts at the correct unit, (c) the winner-take-all outcome (one winner and right, a tie,
    no spike, wrong). Returns the fractions of (c) and the accuracy."""
    counts, labels = np.asarray(counts), np.asarray(labels)
    if counts.ndim != 2 or len(counts) != len(labels) or len(counts) == 0:
        raise DataError(f"output counts (N, n_out) and labels (N,) needed; got {counts.shape} and {labels.shape}")
    rows = np.arange(len(labels))
    correct = counts[rows, labels]
    rival = np.ones(counts.shape, bool)
    rival[rows, labels] = False
    others = counts[rival]                                   # every other unit of every sample
    exp = np.exp(counts - counts.max(axis=1, keepdims=True))
    softmax = exp[rows, labels] / exp.sum(axis=1)
    top = counts.max(axis=1)
    winners = (counts == top[:, None]).sum(axis=1)
    outcome = {"right (single winner)": float(np.mean((winners == 1) & (np.argmax(counts, axis=1) == labels))),
               "tie": float(np.mean((winners > 1) & (top > 0))), "no output spike": float(np.mean(top == 0)),
               "wrong (single winner)": float(np.mean((winners == 1) & (np.argmax(counts, axis=1) != labels)))}
    figure = Figure(figsize=(12, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    ax_counts, ax_soft, ax_wta = figure.subplots(1, 3)
    bins = np.arange(0, max(1, counts.max()) + 2) - 0.5
    ax_counts.hist(correct, bins=bins, alpha=0.6, density=True, log=True, label="correct class's unit")
    ax_counts.hist(others, bins=bins, alpha=0.6, density=True, log=True, label="the other units")
    ax_counts.set_xlabel("output spikes per sample")
    ax_counts.set_ylabel("fraction (log scale)")
    ax_counts.legend(fontsize=8)
    ax_counts.set_title("raw spike counts", fontsize=10)
    ax_soft.hist(softmax, bins=np.linspace(0, 1, 21), color="tab:green")
    ax_soft.set_xlabel("softmax of the counts, correct class")
    ax_soft.set_ylabel("test samples")
    ax_soft.set_title("softmax", fontsize=10)
    ax_wta.bar(range(len(outcome)), list(outcome.values()), color=["tab:green", "tab:orange", "0.6", "tab:red"])
    ax_wta.set_xticks(range(len(outcome)))
    ax_wta.set_xticklabels(list(outcome), fontsize=7, rotation=15)
    ax_wta.set_ylabel("fraction of test samples")
    ax_wta.set_title("winner-take-all", fontsize=10)
    figure.suptitle(f"SSNN-BP output over {len(counts)} test samples (paper figure 5)")
    save_figure(figure, out_png)
    return {"samples": int(len(counts)), "accuracy_argmax": float(np.mean(np.argmax(counts, axis=1) == labels)),
            **outcome}


def plot_accuracy_vs_Ts(runs, out_png) -> dict:
    """Figure 6: test accuracy per epoch of each run (labelled by its Ts). Returns Ts -> accuracies."""
    def Ts(run):
        return int(json.loads((run / "config.json").read_text())["config"].get("options", {}).get("Ts", 100))

    curves = plot_runs_per_epoch(runs, out_png, label=lambda run: f"Ts = {Ts(run)}",
                                 value=lambda metrics: metrics["test_accuracy"], ylabel="test accuracy",
                                 title="SSNN-BP test accuracy against Ts (paper figure 6)", ylim=(0, 1))
    return {int(name.split("= ")[1]): values for name, values in curves.items()}


__all__ = ["plot_product_error", "plot_sample_raster", "plot_output_distributions", "plot_accuracy_vs_Ts",
           "SAMPLE_ROWS"]
