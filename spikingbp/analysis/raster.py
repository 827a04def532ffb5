"""Spike rasters of a finished run (a ``CircuitResult``): populations stacked top to bottom, labelled,
with phases (gate windows, phases of a training cycle) shaded.

The caller chooses what to show and in which order, so the same function draws a synfire-gated chain
(one shaded gate window per stage) and an sBP training cycle (phases across all rows)::

    rows = [Row("g00", "gate 0", color="grey"), Row("x00", "stage 0", units=slice(0, 100))]
    phases = [Phase(301, 501, rows=("x00",))]         # steps; a row is named by population or label
    plot_raster(result, rows, "raster.png", dt=0.1 * ms, phases=phases)

Figures are written to a temporary file next to the target and renamed over it (never half-written).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spikingbp.errors import ConfigError
from spikingbp.io import atomic_open

INDEX_FONT = 5       # points: the unit-index labels
THIN_BAND_PT = 4 * INDEX_FONT   # a band shorter than this gets one "first-last" index tick, not two that would meet


@dataclass(frozen=True)
class Row:
    """One band of the raster: the units ``units`` (indices, a slice, or None: all) of ``population``;
    ``height`` (in height units) overrides the band's height."""

    population: str
    label: str | None = None
    units: object = None
    color: str = "black"
    height: float | None = None

    @property
    def name(self) -> str:
        return self.label if self.label is not None else self.population


@dataclass(frozen=True)
class Phase:
    """A shaded interval of steps [start, stop) with a label; over the rows named in ``rows`` (by label
    or population), or over the whole height when ``rows`` is empty."""

    start: float
    stop: float
    label: str = ""
    rows: tuple = ()
    color: str = "tab:orange"
    alpha: float = 0.18


def as_row(row) -> Row:
    """A ``Row`` from a Row, a population name, or a tuple (population, label[, units[, color[, height]]])."""
    if isinstance(row, Row):
        return row
    if isinstance(row, str):
        return Row(row)
    if isinstance(row, tuple) and 1 <= len(row) <= 5:
        return Row(*row)
    raise ConfigError(f"a raster row is a Row, a population name or (population, label[, units[, color[, height]]]); "
                      f"got {row!r}")


def as_phase(phase) -> Phase:
    """A ``Phase`` from a Phase or a tuple (start, stop[, label[, rows[, color]]])."""
    if isinstance(phase, Phase):
        return phase
    if isinstance(phase, tuple) and 2 <= len(phase) <= 5:
        start, stop, *rest = phase
        if len(rest) >= 2 and isinstance(rest[1], str):
            rest[1] = (rest[1],)
        return Phase(start, stop, *rest)
    raise ConfigError(f"a phase is a Phase or (start, stop[, label[, rows[, color]]]); got {phase!r}")


def _unit_indices(row: Row, size: int, max_units: int | None) -> np.ndarray:
    if row.units is None:
        units = np.arange(size)
    elif isinstance(row.units, slice):
        units = np.arange(size)[row.units]
    else:
        units = np.asarray(row.units, dtype=np.int64)
    if len(units) and (units.min() < 0 or units.max() >= size):
        raise ConfigError(f"raster row {row.name!r}: units out of range for population {row.population!r} "
                          f"of size {size}")
    if max_units is not None and len(units) > max_units:
        units = units[np.linspace(0, len(units) - 1, max_units).round().astype(int)]
    return units


def _seconds(dt) -> float | None:
    return None if dt is None else float(dt)


def draw_raster(axes, result, rows, *, dt=None, phases=(), max_units: int | None = None,
                marker_size: float | None = None, time_window=None, phase_labels: bool = True,
                band_height: tuple | None = None, unit_ticks: bool = False):
    """Draw a raster into matplotlib ``axes``. ``rows`` from top to bottom (see ``as_row``); ``dt`` (a
    Brian2 time or seconds) puts the time axis in ms, else in steps; ``max_units`` thins large rows
    evenly, and a thinned row's label says how many of its units it shows; ``time_window`` (first, last
    step) limits the x range. ``band_height`` = (low, high): every band gets between low and high
    height units whatever its size (else one per unit shown), so that one-unit and 784-unit populations
    are both readable; ``unit_ticks`` labels each band's first and last unit index on the right axis.
    Returns {row name: (y low, y high)}."""
    rows = [as_row(r) for r in rows]
    if not rows:
        raise ConfigError("a raster needs at least one row")
    scale = 1.0 if dt is None else _seconds(dt) * 1e3          # step -> ms
    bands, labels, top = {}, [], 0.0
    drawn, separators, index_ticks = [], [], []
    for row in rows:
        if row.population not in result.spikes:
            raise ConfigError(f"raster row {row.name!r}: the result has no spikes of {row.population!r} "
                              f"(recorded: {sorted(result.spikes)})")
        steps, units, size = result.spikes[row.population]
        selected = _unit_indices(row, size, None)
        shown = _unit_indices(row, size, max_units)
        position = np.full(size, -1, dtype=np.int64)
        position[shown] = np.arange(len(shown))
        keep = position[units] >= 0
        count = max(len(shown), 1)
        height = (float(row.height) if row.height is not None else float(count) if band_height is None
                  else float(np.clip(count, *band_height)))
        unit_height = height / count
        low = top - height
        drawn.append((row, steps[keep] * scale, top - (position[units[keep]] + 0.5) * unit_height, unit_height))
        bands[row.name] = (low, top)
        labels.append(row.name if len(shown) == len(selected) else f"{row.name}\n{len(shown)} of {len(selected)} units")
        if unit_ticks:
            index_ticks.append((top, low, unit_height, shown))
        gap = max(1.0, 0.08 * height)                             # a gap between rows
        separators.append(low - gap / 2)
        top = low - gap
    total = -top
    if unit_ticks:   # first and last index per band; a thin band gets one "first-last" tick, so labels never meet
        _, height_in = axes.figure.get_size_inches()
        thin = THIN_BAND_PT / (axes.get_position().height * height_in * 72 / total)   # in band units
        index_ticks = [tick for high, low, unit_height, shown in index_ticks for tick in (
            [((high + low) / 2, f"{shown[0]}-{shown[-1]}" if len(shown) > 1 else str(shown[0]))] if high - low < thin
            else [(high - 0.5 * unit_height, str(shown[0])), (low + 0.5 * unit_height, str(shown[-1]))])]
    size = marker_size if marker_size is not None else max(0.3, min(4.0, 400.0 / total))
    for row, x, y, unit_height in drawn:
        axes.scatter(x, y, s=size, marker="|" if size < 1.5 else ".", color=row.color,
                     linewidths=0.5, rasterized=True)
    for phase in (as_phase(p) for p in phases):
        x0, x1 = phase.start * scale, phase.stop * scale
        targets = [name for name in bands if name in phase.rows] + \
                  [r.name for r in rows if r.population in phase.rows and r.name not in phase.rows]
        if phase.rows and not targets:
            raise ConfigError(f"phase {phase.label!r}: none of its rows {phase.rows} is in the raster")
        if not phase.rows:
            axes.axvspan(x0, x1, color=phase.color, alpha=phase.alpha, lw=0)
            if phase_labels and phase.label:
                axes.text((x0 + x1) / 2, 1.005, phase.label, transform=axes.get_xaxis_transform(),
                          ha="center", va="bottom", fontsize=7)
        for name in dict.fromkeys(targets):
            low, high = bands[name]
            axes.fill_between([x0, x1], low, high, color=phase.color, alpha=phase.alpha, lw=0)
            if phase_labels and phase.label:
                axes.text(x0, high, f" {phase.label}", ha="left", va="top", fontsize=5, color="dimgray")
    axes.set_yticks([(low + high) / 2 for low, high in bands.values()])
    axes.set_yticklabels(labels, fontsize=7 if len(bands) > 12 else 8)
    for y in separators[:-1]:
        axes.axhline(y, color="0.85", lw=0.5)
    axes.set_ylim(top, 0.5)
    axes.set_xlabel("time (ms)" if dt is not None else "time step")
    if time_window is not None:
        axes.set_xlim(time_window[0] * scale, time_window[1] * scale)
    axes.tick_params(axis="y", length=0)
    if unit_ticks:
        right = axes.twinx()
        right.set_ylim(axes.get_ylim())
        right.set_yticks([y for y, _ in index_ticks])
        right.set_yticklabels([label for _, label in index_ticks], fontsize=INDEX_FONT, color="0.4")
        right.tick_params(axis="y", length=2, pad=1)
        right.set_ylabel("unit index", fontsize=7, color="0.4")
    return bands


def plot_raster(result, rows, out_png, *, dt=None, phases=(), title: str | None = None,
                max_units: int | None = None, time_window=None, figsize=None) -> Path:
    """One raster (see ``draw_raster``) saved as a PNG; returns the path written."""
    return plot_rasters([dict(result=result, rows=rows, dt=dt, phases=phases, title=title,
                              time_window=time_window)], out_png, max_units=max_units, figsize=figsize)


def plot_rasters(panels, out_png, *, max_units: int | None = None, figsize=None, suptitle: str | None = None) -> Path:
    """Several rasters side by side, one per dict in ``panels`` with the keys of ``draw_raster``
    (``result``, ``rows``, and optionally ``dt``, ``phases``, ``title``, ``time_window``)."""
    if not panels:
        raise ConfigError("plot_rasters needs at least one panel")
    n_rows = max(len(p["rows"]) for p in panels)
    figure = Figure(figsize=figsize or (5.5 * len(panels), 1.2 + 0.32 * n_rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        draw_raster(ax, panel["result"], panel["rows"], dt=panel.get("dt"), phases=panel.get("phases", ()),
                    max_units=max_units, time_window=panel.get("time_window"))
        if panel.get("title"):
            ax.set_title(panel["title"], fontsize=10)
    if suptitle:
        figure.suptitle(suptitle)
    return save_figure(figure, out_png)


def save_figure(figure: Figure, out_png, dpi: int = 130) -> Path:
    """Write ``figure`` as PNG to a temporary name next to ``out_png``, then rename it over the target."""
    out_png = Path(out_png)
    if out_png.suffix.lower() != ".png":
        raise ConfigError(f"out_png={out_png} does not end in .png; give a .png path")
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out_png, "wb") as stream:
        figure.savefig(stream, format="png", dpi=dpi)
    return out_png


__all__ = ["Row", "Phase", "as_row", "as_phase", "draw_raster", "plot_raster", "plot_rasters", "save_figure"]
