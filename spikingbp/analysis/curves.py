"""Learning curves of a finished (or running) training job, from its ``metrics.csv``.

The table has one row per epoch, a column ``epoch`` and accuracy columns ``train_<measure>`` and
``test_<measure>`` for the measures ``exact`` (all output bits right), ``argmax_spikes`` and
``argmax_potential``. Measures missing from the table are left out of the figure.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spikingbp.errors import ConfigError, DataError
from spikingbp.io import atomic_open

#: measure column suffix -> legend label, colour and marker (distinct shapes, so that points that coincide,
#: as all of them do in a one-epoch run, can still be told apart).
MEASURES = {
    "exact": ("all output bits right", "tab:blue", "s"),
    "argmax_spikes": ("argmax of output spikes", "tab:orange", "^"),
    "argmax_potential": ("argmax of output potential", "tab:green", "o"),
}
#: split prefix -> line style, and whether the marker is filled (train) or open (test).
SPLITS = {"train": ("-", True), "test": ("--", False)}


def plot_learning_curves(metrics, out_png, title: str = "Learning curves") -> Path:
    """Plot train (solid, filled markers) and test (dashed, open markers) accuracy per epoch for each
    measure, one marker shape per measure, with a tick at every epoch, and save it as PNG.

    ``metrics`` is a path to a ``metrics.csv`` or a ``pandas.DataFrame`` of the same columns. The figure
    is written to a temporary file next to ``out_png`` and renamed over it. Returns the path written.
    """
    table = _read_metrics(metrics)
    out_png = Path(out_png)
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    draw_learning_curves(figure.add_subplot(), table, title)
    _save_atomically(figure, out_png)
    return out_png


def draw_learning_curves(axes, metrics, title: str = "Learning curves"):
    """Draw the learning curves of ``metrics`` (see ``plot_learning_curves``) into ``axes``."""
    table = _read_metrics(metrics)
    for measure, (label, colour, marker) in MEASURES.items():
        for split, (style, filled) in SPLITS.items():
            column = f"{split}_{measure}"
            if column in table:
                axes.plot(table["epoch"], table[column], linestyle=style, marker=marker, markersize=6,
                          color=colour, markerfacecolor=colour if filled else "white", markeredgewidth=1.2,
                          label=f"{split}: {label}")
    axes.set_xlabel("epoch")
    axes.set_ylabel("accuracy")
    axes.set_ylim(0, 1)
    last_epoch = int(table["epoch"].max()) if len(table) else 1
    axes.set_xlim(0.5, max(1, last_epoch) + 0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10], min_n_ticks=1))
    axes.grid(alpha=0.3)
    axes.set_title(title)
    axes.legend(fontsize="small", loc="lower right")
    return axes


def _read_metrics(metrics) -> pd.DataFrame:
    if isinstance(metrics, pd.DataFrame):
        table = metrics
    else:
        path = Path(metrics)
        if not path.is_file():
            raise DataError(f"metrics file {path} not found; give the metrics.csv of a run directory")
        table = pd.read_csv(path)
    if "epoch" not in table:
        raise DataError(
            f"the metrics table has no 'epoch' column (columns: {', '.join(map(str, table.columns))}); "
            f"give a metrics.csv written by spikingbp.training")
    if not any(f"{split}_{measure}" in table for split in SPLITS for measure in MEASURES):
        raise DataError(
            "the metrics table has no accuracy column (train_/test_ followed by "
            f"{', '.join(MEASURES)}); give a metrics.csv written by spikingbp.training")
    return table


def _save_atomically(figure: Figure, out_png: Path) -> None:
    if out_png.suffix.lower() != ".png":
        raise ConfigError(f"out_png={out_png} does not end in .png; give a .png path")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_png, "wb") as stream:
        figure.savefig(stream, format="png", dpi=120)
