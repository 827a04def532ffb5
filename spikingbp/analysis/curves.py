"""Learning curves of a finished (or running) training job, from its ``metrics.csv``.

The table has one row per epoch, a column ``epoch`` and accuracy columns ``train_<measure>`` and
``test_<measure>`` for each of the algorithm's measures (sBP: ``exact``, ``argmax_spikes``,
``argmax_potential``; SSNN-BP and eRBP: ``argmax_counts``; eRBP also its SynOps, which are not drawn); the
headline ``train_accuracy`` repeats one of them.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spikingbp.errors import ConfigError, DataError
from spikingbp.io import atomic_open

#: measure column suffix -> legend label (others are labelled by their name).
LABELS = {
    "exact": "all output bits right",
    "argmax_spikes": "argmax of output spikes",
    "argmax_potential": "argmax of output potential",
    "argmax_counts": "argmax of output spike counts",
}
#: colours and marker shapes, one per measure in the table's order (distinct shapes, so that points that
#: coincide, as all of them do in a one-epoch run, can still be told apart).
STYLES = (("tab:blue", "s"), ("tab:orange", "^"), ("tab:green", "o"), ("tab:red", "D"), ("tab:purple", "v"))
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
    for (measure, label), (colour, marker) in zip(_measures(table).items(), STYLES * 4):
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
    if not _measures(table):
        raise DataError("the metrics table has no measure column (train_<measure> and test_<measure> besides "
                        "train_accuracy); give a metrics.csv written by spikingbp.training")
    return table


def _measures(table) -> dict:
    """The accuracy measures of ``table`` (columns train_<m> or test_<m> whose values are fractions in [0, 1],
    not the headline ``accuracy``; counts such as eRBP's SynOps stay in the table) -> label."""
    names = [c.split("_", 1)[1] for c in table.columns if c.startswith(tuple(f"{s}_" for s in SPLITS))]
    fractions = [name for name in dict.fromkeys(names) if name != "accuracy" and all(
        pd.to_numeric(table[f"{split}_{name}"], errors="coerce").dropna().between(0, 1).all()
        for split in SPLITS if f"{split}_{name}" in table)]
    return {name: LABELS.get(name, name.replace("_", " ")) for name in fractions}


def plot_runs_per_epoch(runs, out_png, *, label, value, ylabel: str, title: str, ylim=(0, None)) -> dict:
    """One curve per finished run: ``value(metrics)`` per epoch, labelled ``label(run directory)``. Returns
    label -> values."""
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    curves = {}
    runs = [Path(run) for run in runs]
    names = [label(run) for run in runs]
    for run, name in zip(runs, names):
        if names.count(name) > 1:   # runs of one label (e.g. one architecture) stay apart
            name = f"{name} ({run.name})"
        metrics = _read_metrics(run / "metrics.csv")
        values = value(metrics)
        axes.plot(metrics["epoch"], values, "o-", label=name)
        curves[name] = [round(float(v), 6) for v in values]
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    axes.set_ylabel(ylabel)
    axes.set_ylim(*ylim)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    axes.set_title(title, fontsize=10)
    _save_atomically(figure, Path(out_png))
    return curves


def _save_atomically(figure: Figure, out_png: Path) -> None:
    if out_png.suffix.lower() != ".png":
        raise ConfigError(f"out_png={out_png} does not end in .png; give a .png path")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_png, "wb") as stream:
        figure.savefig(stream, format="png", dpi=120)
