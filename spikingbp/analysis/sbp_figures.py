"""Figures of sBP runs: one training cycle as a raster in the layout of Renner et al. (2024), figure 2."""
from __future__ import annotations

from spikingbp.analysis.raster import Phase, Row, plot_raster

#: Rows top to bottom: the gating ring, then input, hidden and output side, as in the paper's figure 2.
CYCLE_ROWS = (
    [Row(f"g{k:02d}", f"g{k:02d}", color="dimgray") for k in range(12)]
    + [Row("x", "x", color="tab:blue"), Row("m_x", "m_x", color="tab:blue"),
       Row("h", "h", color="tab:green"), Row("h_lt", "h<", color="tab:green"), Row("h_gt", "h>", color="tab:green"),
       Row("m_h", "m_h", color="tab:green"), Row("c_h", "c_h = f'", color="tab:green"),
       Row("hT", "hT", color="tab:olive"),
       Row("o", "o", color="tab:red"), Row("o_lt", "o<", color="tab:red"), Row("o_gt", "o>", color="tab:red"),
       Row("t", "t", color="tab:purple"), Row("d_plus", "d+", color="tab:purple"),
       Row("d_minus", "d-", color="tab:purple"), Row("oT_minus", "oT-", color="tab:purple")]
)

PHASE_NAMES = ("", "x", "forward h", "forward o", "error", "W2 +", "back +", "W1 +", "", "W2 -", "back -", "W1 -")


def plot_training_cycle(result, out_png, first_phase_step: int, cycles: int = 1, title: str | None = None):
    """Raster of ``cycles`` training cycles of a recorded sBP training run (``CircuitResult`` with all
    spikes), the 12 phases of each cycle shaded alternately and labelled; ``first_phase_step`` is the
    step of phase 0 of the first cycle shown."""
    phases = []
    for cycle in range(cycles):
        for phase, name in enumerate(PHASE_NAMES):
            start = first_phase_step + 12 * cycle + phase
            phases.append(Phase(start - 0.5, start + 0.5, f"{phase}" + (f"\n{name}" if name else ""),
                                color="tab:orange" if phase % 2 else "tab:blue", alpha=0.10))
    window = (first_phase_step - 1, first_phase_step + 12 * cycles)
    return plot_raster(result, CYCLE_ROWS, out_png, phases=phases, time_window=window,
                       title=title or "sBP: one training cycle (12 phases)", max_units=16,
                       figsize=(9, 9))


__all__ = ["CYCLE_ROWS", "PHASE_NAMES", "plot_training_cycle"]
