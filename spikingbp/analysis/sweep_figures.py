"""Figures of a sweep's results frame (``spikingbp.sweep``): a measure against one parameter with the spread
over seeds, and a heatmap of its mean over two parameters. Both read the last epoch of every point."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spikingbp.analysis.raster import save_figure
from spikingbp.errors import ConfigError


def final_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each point's last row (its last epoch, where the frame has epochs)."""
    if "epoch" not in frame:
        return frame
    return frame.sort_values("epoch").groupby("point", sort=False).tail(1)


def _check(frame: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        raise ConfigError(f"the results have no column {', '.join(missing)}; columns: {', '.join(frame.columns)}")


def plot_measure(frame: pd.DataFrame, x: str, measure: str, out_png, spread: str = "seed") -> Path:
    """``measure`` against ``x``: every point (last epoch) as a dot, the mean over ``spread`` (the seeds) as a
    line with +-1 sd."""
    rows = final_rows(frame)
    _check(rows, [x, measure])
    stats = rows.groupby(x)[measure].agg(["mean", "std", "count"]).reset_index()
    numeric = pd.api.types.is_numeric_dtype(rows[x])
    position = (lambda values: np.asarray(values, float)) if numeric else \
        (lambda values: np.searchsorted(stats[x].astype(str).to_numpy(), np.asarray(values).astype(str)))
    figure = Figure(figsize=(5.6, 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(position(rows[x]), rows[measure], "o", alpha=0.45, color="tab:gray",
              label=f"one point (each {spread})" if spread in rows else "one point")
    axes.errorbar(position(stats[x]), stats["mean"], yerr=stats["std"].fillna(0), fmt="-o", color="tab:blue",
                  capsize=3, label=f"mean +- sd over {spread}" if spread in rows else "mean")
    if not numeric:
        axes.set_xticks(position(stats[x]), stats[x].astype(str))
    axes.set_xlabel(x)
    axes.set_ylabel(measure)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(f"{measure} against {x} ({len(rows)} points)", fontsize=10)
    return save_figure(figure, out_png)


def mean_table(frame: pd.DataFrame, x: str, y: str, measure: str) -> pd.DataFrame:
    """The mean of ``measure`` at each point's last epoch over the other parameters (e.g. the seeds), for each
    pair of ``y`` (rows) and ``x`` (columns) values."""
    rows = final_rows(frame)
    _check(rows, [x, y, measure])
    return rows.pivot_table(index=y, columns=x, values=measure, aggfunc="mean")


def plot_heatmap(frame: pd.DataFrame, x: str, y: str, measure: str, out_png) -> Path:
    """``mean_table`` as a heatmap, each cell labelled with its value."""
    table = mean_table(frame, x, y, measure)
    figure = Figure(figsize=(5.6, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(table.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
    for (row, column), value in np.ndenumerate(table.to_numpy(float)):
        if np.isfinite(value):
            axes.text(column, row, f"{value:.3g}", ha="center", va="center", fontsize=8, color="white")
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    figure.colorbar(image, ax=axes, label=f"mean {measure}")
    axes.set_title(f"{measure}: mean over the other parameters", fontsize=10)
    return save_figure(figure, out_png)


def sweep_figures(frame: pd.DataFrame, swept, measure: str, out_dir, spread: str = "seed") -> list:
    """The figures of a sweep over ``swept`` (parameter names): ``measure`` against each swept parameter
    but ``spread``, and a heatmap of the first two of them. Returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    swept = [name if name in frame or not name.startswith("options.") else name[len("options."):] for name in swept]
    axes = [name for name in swept if name != spread and frame[name].nunique() > 1] if len(frame) else []
    files = [plot_measure(frame, x, measure, out / f"{measure}_vs_{x}.png", spread) for x in axes]
    if len(axes) >= 2:
        files.append(plot_heatmap(frame, axes[0], axes[1], measure, out / f"{measure}_{axes[0]}_{axes[1]}.png"))
    return files


__all__ = ["final_rows", "mean_table", "plot_measure", "plot_heatmap", "sweep_figures"]
