"""Figures of graded transfer in synfire-gated synfire chains, from the long table that
``spikingbp.experiments.sgsc`` writes (``sgsc_results.csv``): one row per copy of a chain and stage.

Columns used: ``experiment`` (``meanfield``, ``spiking``, ``routing_a``, ...), ``S``, ``input``
(the copy's input amplitude), ``copy``, ``branch``, ``stage``, ``amplitude``, ``gain`` (A_j / A_{j-1})
and ``unit`` (the amplitudes' unit: ``pA``, or ``g0`` for the mean-field).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spikingbp.analysis.raster import save_figure
from spikingbp.errors import ConfigError, DataError

COLUMNS = ("experiment", "S", "input", "copy", "branch", "stage", "amplitude", "gain", "unit")


def read_results(table) -> pd.DataFrame:
    """The results table from a path to ``sgsc_results.csv`` or a DataFrame, checked for its columns."""
    if not isinstance(table, pd.DataFrame):
        path = Path(table)
        if not path.is_file():
            raise DataError(f"results file {path} not found; give the sgsc_results.csv of a run directory")
        table = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise DataError(f"the results table lacks the column(s) {missing}; give a table written by "
                        f"spikingbp.experiments.sgsc")
    return table


def _s_colours(values):
    values = sorted(set(values))
    cmap = colormaps["viridis"]
    return {s: cmap(0.1 + 0.8 * k / max(1, len(values) - 1)) for k, s in enumerate(values)}


def _draw_amplitudes(axes, part: pd.DataFrame, title: str, marked_S=None):
    """Amplitude versus stage: one line per (S, input amplitude), mean over copies, band of +-1 sd; on a
    log scale when all amplitudes are positive."""
    colours = _s_colours(part["S"])
    for (S, start), group in part.groupby(["S", "input"], sort=True):
        stats = group.groupby("stage")["amplitude"].agg(["mean", "std", "count"])
        label = f"S = {S:.3g}" + (" (calibrated)" if marked_S is not None and np.isclose(S, marked_S) else "")
        axes.plot(stats.index, stats["mean"], "-o", ms=2.5, lw=1.2, color=colours[S], label=label)
        if (stats["count"] > 1).any():
            sd = stats["std"].fillna(0)
            axes.fill_between(stats.index, stats["mean"] - sd, stats["mean"] + sd, color=colours[S], alpha=0.15,
                              lw=0)
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes.legend(unique.values(), unique.keys(), fontsize=7, loc="best")  # where it covers the fewest points
    unit = part["unit"].iloc[0]
    if (part["amplitude"] > 0).all():
        axes.set_yscale("log")                                    # a constant stage gain is a straight line
    axes.set_xlabel("stage j")
    axes.set_ylabel(f"amplitude I_j ({unit}, log scale)" if axes.get_yscale() == "log" else
                    f"amplitude I_j ({unit})")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)


def plot_amplitude_vs_stage(table, out_png, *, calibrated_S: float | None = None, tolerance: float = 0.1,
                            gain_stages: int | None = None, title: str | None = None) -> Path:
    """Three panels: mean-field amplitudes per stage for several S, spiking amplitudes per stage for
    several S (mean and sd over repeated copies), and the spiking stage gain per stage at the calibrated
    S (mean and sd over copies, with the +-``tolerance`` band around 1) over the first ``gain_stages``
    transfers (all when None): give the stages that ``summarise_gains`` summarises, so that figure and
    summary cover the same transfers. Returns the path written."""
    table = read_results(table)
    meanfield = table[table["experiment"] == "meanfield"]
    spiking = table[table["experiment"] == "spiking"]
    if meanfield.empty and spiking.empty:
        raise DataError("the results table has no 'meanfield' or 'spiking' rows to plot")
    figure = Figure(figsize=(14, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax_mf, ax_sp, ax_gain = figure.subplots(1, 3)
    if not meanfield.empty:
        _draw_amplitudes(ax_mf, meanfield, "mean-field chain (T = tau)")
    if not spiking.empty:
        _draw_amplitudes(ax_sp, spiking, "spiking SGSC (I&F populations)", calibrated_S)
        S_gain = calibrated_S if calibrated_S is not None else spiking["S"].median()
        at_S = spiking[np.isclose(spiking["S"], S_gain) & spiking["gain"].notna()]
        if gain_stages is not None:
            at_S = at_S[at_S["stage"] <= gain_stages]
        if not at_S.empty:
            stats = at_S.groupby("stage")["gain"].agg(["mean", "std"])
            ax_gain.axhspan(1 - tolerance, 1 + tolerance, color="tab:green", alpha=0.12, lw=0,
                            label=f"1 +- {tolerance:.0%}")
            ax_gain.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), fmt="o-", ms=3, capsize=2,
                             color="tab:blue", label=f"spiking, S = {S_gain:.3g} (mean +- sd over copies)")
    if not meanfield.empty:
        dashes = ((None, None), (6, 2), (2, 2), (6, 2, 2, 2))
        for k, (S, group) in enumerate(meanfield[meanfield["gain"].notna()].groupby("S")):
            if gain_stages is not None:
                group = group[group["stage"] <= gain_stages]
            stats = group.groupby("stage")["gain"].mean()
            ax_gain.plot(stats.index, stats.values, lw=1, color="0.5", dashes=dashes[k % len(dashes)],
                         label=f"mean-field, S = {S:.3g}")
    ax_gain.axhline(1, color="black", lw=0.6)
    ax_gain.set_xlabel("stage j (gain of the transfer j-1 -> j)")
    ax_gain.set_ylabel("stage gain I_j / I_{j-1}")
    ax_gain.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_gain.set_title("stage gain" if gain_stages is None else
                      f"stage gain over the first {gain_stages} transfers (the summary's)", fontsize=10)
    ax_gain.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: covers nothing
    ax_gain.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return save_figure(figure, out_png)


def summarise_gains(table, experiment: str = "spiking", S: float | None = None, stages: int = 8,
                    inputs=None) -> dict:
    """Stage gains of ``experiment`` at strength ``S`` over the first ``stages`` transfers: per stage the
    mean and sd over copies, the largest |mean - 1|, and per input amplitude the mean gain per stage
    over those transfers, (A_stages / A_0) ** (1 / stages). ``inputs`` limits the input amplitudes."""
    table = read_results(table)
    part = table[(table["experiment"] == experiment) & (table["branch"] == "main")]
    if S is not None:
        part = part[np.isclose(part["S"], S)]
    if inputs is not None:
        part = part[part["input"].isin(list(inputs))]
    part = part[part["stage"] <= stages]
    if part.empty or part["stage"].max() < stages:
        raise ConfigError(f"no {experiment!r} rows with {stages} stages at S = {S}")
    gains = part[part["gain"].notna()].groupby("stage")["gain"].agg(["mean", "std"])
    first = part[part["stage"] == 0].set_index(["input", "copy"])["amplitude"]
    last = part[part["stage"] == stages].set_index(["input", "copy"])["amplitude"]
    per_input = ((last / first) ** (1 / stages)).groupby(level="input").mean()
    return {
        "stage_gains": [float(v) for v in gains["mean"]],
        "stage_gain_sd": [float(v) for v in gains["std"].fillna(0)],
        "max_deviation": float(np.max(np.abs(gains["mean"] - 1))),
        "gain_per_input": {float(k): float(v) for k, v in per_input.items()},
        "max_deviation_per_input": float(np.max(np.abs(per_input - 1))),
    }


__all__ = ["COLUMNS", "read_results", "plot_amplitude_vs_stage", "summarise_gains"]
