"""The sum the circuits' synapses compute: rows added one after another, first to last."""
from __future__ import annotations

import numpy as np


def ordered_sum(rows: np.ndarray) -> np.ndarray:
    """The sum of ``rows`` (k, ...) taken first to last, as sequential ``+=`` in a synapse loop does (zeros for
    none). numpy's ``sum`` may add in another order (pairwise), which changes the last bits; a loop of row
    additions is that order, and for the few hundred rows a step delivers it is faster than ``cumsum``."""
    if len(rows) == 0:
        return np.zeros(rows.shape[1:])
    total = np.array(rows[0], dtype=float)
    for row in rows[1:]:
        total += row
    return total
