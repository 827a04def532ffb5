"""What goes into and comes out of a circuit run, as plain numpy data (no Brian2): the spikes of a
source, and the spikes, state traces and final weights a run recorded. Compiled programs
(``spikingbp.circuits.program``) read and write these without importing Brian2."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SpikeSource:
    """``size`` spike generators; unit ``indices[k]`` spikes at step ``steps[k]``."""

    name: str
    size: int
    indices: np.ndarray
    steps: np.ndarray


@dataclass
class CircuitResult:
    """What a run recorded: spikes as (step, unit) pairs, state traces (steps, units) after each step,
    and final weights of the projections asked for (in the order of the projection's synapses)."""

    steps: int
    spikes: dict
    states: dict
    weights: dict

    def spike_matrix(self, population: str) -> np.ndarray:
        """Spikes of ``population`` as a bool array (steps, units)."""
        step, unit, size = self.spikes[population]
        matrix = np.zeros((self.steps, size), bool)
        matrix[step, unit] = True
        return matrix

    def spike_counts(self, population: str) -> np.ndarray:
        step, unit, size = self.spikes[population]
        return np.bincount(unit, minlength=size)


def spike_entry(flags: np.ndarray) -> tuple:
    """A bool (steps, units) spike matrix as a ``CircuitResult.spikes`` entry: (steps, units, size)."""
    step, unit = np.nonzero(flags)
    return step, unit, flags.shape[1]


def is_binary(array: np.ndarray) -> bool:
    """Whether every entry of ``array`` is 0 or 1 (a bool array is, without a look at its entries)."""
    array = np.asarray(array)
    return array.dtype == bool or bool(((array == 0) | (array == 1)).all())


__all__ = ["SpikeSource", "CircuitResult", "spike_entry", "is_binary"]
