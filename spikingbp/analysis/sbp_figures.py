"""Figures of sBP runs: one training cycle as a raster in the layout of Renner et al. (2024), figure 2."""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spikingbp.analysis.raster import Phase, Row, draw_raster, save_figure
from spikingbp.circuits.spikes import CircuitResult

GATES = tuple(f"g{k:02d}" for k in range(12))

#: Rows top to bottom: the gating ring (one band, g00 at the top), then input, hidden and output side, as in
#: the paper's figure 2. Every unit of every population is drawn.
CYCLE_ROWS = (
    [Row("gates", "gates g00-g11", color="dimgray", height=30)]
    + [Row("x", "x", color="tab:blue"), Row("m_x", "m_x", color="tab:blue"),
       Row("h", "h", color="tab:green"), Row("h_lt", "h<", color="tab:green"), Row("h_gt", "h>", color="tab:green"),
       Row("m_h", "m_h", color="tab:green"), Row("c_h", "c_h = f'", color="tab:green"),
       Row("hT", "hT", color="tab:olive"),
       Row("o", "o", color="tab:red"), Row("o_lt", "o<", color="tab:red"), Row("o_gt", "o>", color="tab:red"),
       Row("t", "t", color="tab:purple"), Row("d_plus", "d+", color="tab:purple"),
       Row("d_minus", "d-", color="tab:purple"), Row("oT_minus", "oT-", color="tab:purple")]
)

PHASE_NAMES = ("silence", "x", "forward h", "forward o", "error", "W2 +", "back +", "W1 +", "silence", "W2 -",
               "back -", "W1 -")

TIMING = ("Phase k is the step in which the units gate gk opens fire; the gate itself fires one step earlier "
          "(its spike arrives in the next step).\nThe reward is present in phases 5 and 7 (W2 +, W1 +) and absent "
          "in 9 and 11 (W2 -, W1 -); phases 0 and 8 silence the learning layers. Every unit is drawn.")


def with_gate_band(result: CircuitResult) -> CircuitResult:
    """``result`` with one more population, ``gates``: unit k is the gate ``gKK``."""
    steps, units = [], []
    for k, gate in enumerate(GATES):
        step, _, _ = result.spikes[gate]
        steps.append(step)
        units.append(np.full(len(step), k, np.int64))
    spikes = dict(result.spikes, gates=(np.concatenate(steps), np.concatenate(units), len(GATES)))
    return CircuitResult(result.steps, spikes, result.states, result.weights)


def plot_training_cycle(result, out_png, first_phase_step: int, cycles: int = 1, title: str | None = None):
    """Raster of ``cycles`` training cycles of a recorded sBP training run (``CircuitResult`` with all
    spikes), every unit of every population, the 12 phases of each cycle shaded alternately and named on
    the top axis; ``first_phase_step`` is the step of phase 0 of the first cycle shown."""
    previous = first_phase_step - 1  # phase 11 of the cycle before: where g00 fires
    phases, centres, names = [], [previous], ["(11)\nprevious\nsample"]
    for cycle in range(cycles):
        for phase, name in enumerate(PHASE_NAMES):
            step = first_phase_step + 12 * cycle + phase
            phases.append(Phase(step - 0.5, step + 0.5, color="tab:orange" if phase % 2 else "tab:blue", alpha=0.10))
            centres.append(step)
            names.append(f"{phase}\n{name}")
    figure = Figure(figsize=(10, 11), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_raster(axes, with_gate_band(result), CYCLE_ROWS, phases=phases, marker_size=9,
                time_window=(previous - 0.5, first_phase_step + 12 * cycles - 0.5), band_height=(14, 40),
                unit_ticks=True)
    top = axes.secondary_xaxis("top")
    top.set_xticks(centres)
    top.set_xticklabels(names, fontsize=7)
    top.tick_params(length=0)
    axes.set_xticks(centres)
    axes.set_xlabel("time step\n\n" + TIMING, fontsize=8)
    figure.suptitle(title or "sBP: one training cycle (12 phases)", fontsize=11)
    return save_figure(figure, out_png)


__all__ = ["CYCLE_ROWS", "PHASE_NAMES", "plot_training_cycle", "with_gate_band"]
