"""Operation counts of a circuit run, read from what the run did: the spikes of every population (recorded in
the run) and of every source (given to it), carried through the circuit's own connectivity.

Counted per run (``OperationCounts``; ``per_sample`` divides by the samples it held):

- ``spikes``: spikes of each population and source;
- ``synaptic_events``: one per spike per synapse it reaches (spikes x fan-out), per projection; a synapse
  model whose ``on_post`` code sends a value back to the presynaptic unit (SSNN-BP's gradient) adds one per
  post spike per synapse (spikes x fan-in);
- ``neuron_updates``: unit-steps simulated (every unit of a population is updated in every step), and of
  them ``active_updates``: the unit-steps in which the unit received at least one synaptic event or spiked
  (Loihi's active versus inactive compartment updates);
- ``plastic_updates``: executions of a learning rule on a synapse while learning is on (``learning``, a
  bool per step; None: every step): each spike reaching a synapse of a plastic projection runs its rule
  once (a presynaptic spike its ``on_pre``, a post spike its ``on_post`` code), and a rule applied at every
  sample start (``SynapseModel.sample_update``) runs once per synapse per sample.

This module imports no Brian2: it reads the ``Circuit`` description and a ``CircuitResult``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from spikingbp.errors import ConfigError

#: the kinds of count, in the order tables list them
KINDS = ("spikes", "synaptic_events", "plastic_updates", "neuron_updates", "active_updates")


@dataclass
class OperationCounts:
    """Counts of one run of ``samples`` samples (``steps_per_sample`` steps each) and ``steps`` steps in all:
    kind -> {population or projection: count}."""

    samples: int
    steps: int
    steps_per_sample: int | None = None
    spikes: dict = field(default_factory=dict)
    synaptic_events: dict = field(default_factory=dict)
    plastic_updates: dict = field(default_factory=dict)
    neuron_updates: dict = field(default_factory=dict)
    active_updates: dict = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return int(sum(getattr(self, kind).values()))

    def per_sample(self, kind: str) -> float:
        return self.total(kind) / self.samples

    def rows(self) -> list:
        """One dict per count: kind, name, count, per_sample."""
        return [{"kind": kind, "name": name, "count": int(count), "per_sample": count / self.samples}
                for kind in KINDS for name, count in getattr(self, kind).items()]


def count_operations(circuit, result, samples: int, learning=None, *,
                     steps_per_sample: int | None = None) -> OperationCounts:
    """The operation counts (module docstring) of ``result``, a run of ``circuit`` over ``samples`` samples that
    recorded the spikes of every population; ``learning``: a bool per step, where the learning rules act."""
    missing = sorted(set(circuit.populations) - set(result.spikes))
    if missing:
        raise ConfigError(f"counting operations needs the spikes of every population; the run did not record "
                          f"{missing}: run it with record_spikes=True")
    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ConfigError(f"samples must be a positive whole number, got {samples!r}")
    steps = int(result.steps)
    learning = np.ones(steps, bool) if learning is None else np.asarray(learning, bool)
    if learning.shape != (steps,):
        raise ConfigError(f"learning must hold one flag per step ({steps}), got shape {learning.shape}")
    trains = {name: _train(result.spikes[name][:2], steps, result.spikes[name][2]) for name in circuit.populations}
    for source in circuit.sources.values():
        trains[source.name] = _train((source.steps, source.indices), steps, source.size)
    counts = OperationCounts(int(samples), steps, steps_per_sample)
    counts.spikes = {name: int(train.nnz) for name, train in trains.items()}
    received = {name: _zeros(steps, p.size) for name, p in circuit.populations.items()}
    for projection in circuit.projections.values():
        n_pre, n_post = circuit.size_of(projection.pre), circuit.size_of(projection.post)
        wiring = _connectivity(projection.i, projection.j, n_pre, n_post)
        forward = trains[projection.pre] @ wiring           # (steps, post): events arriving from each step
        events = int(forward.sum())
        shift = 1 + projection.delay                         # a spike of step t reaches the post unit at t + 1 + delay
        received[projection.post] = received[projection.post] + _shifted(forward, shift, steps)
        plastic = int(forward.sum(axis=1).A1 @ learning) if projection.plastic else 0
        if projection.synapse.on_post:                       # a post spike runs the synapse's on_post code
            backward = trains[projection.post] @ wiring.T
            if _delivers_to_pre(projection.synapse.on_post):   # and sends something back (SSNN-BP's gradient)
                events += int(backward.sum())
                received[projection.pre] = received[projection.pre] + _shifted(backward, 1, steps)
            plastic += int(backward.sum(axis=1).A1 @ learning) if projection.plastic else 0
        if projection.plastic and projection.synapse.sample_update and learning.any():
            plastic += len(projection.i) * int(samples)
        counts.synaptic_events[projection.name] = events
        if projection.plastic:
            counts.plastic_updates[projection.name] = plastic
    for name, population in circuit.populations.items():
        counts.neuron_updates[name] = population.size * steps
        active = (received[name] + trains[name]).astype(bool)
        counts.active_updates[name] = int(active.nnz)
    return counts


def _delivers_to_pre(code: str) -> bool:
    """Whether synapse code adds to a variable of the presynaptic unit (``x_pre += ...``)."""
    return re.search(r"\b\w+_pre\s*\+=", code) is not None


def _train(entry, steps: int, size: int):
    """Spikes (steps, units) as a sparse count matrix; spikes after the run's end are dropped."""
    from scipy.sparse import csr_matrix

    step, unit = (np.asarray(a, np.int64) for a in entry)
    keep = step < steps
    return csr_matrix((np.ones(int(keep.sum())), (step[keep], unit[keep])), shape=(steps, size))


def _zeros(steps: int, size: int):
    from scipy.sparse import csr_matrix

    return csr_matrix((steps, size))


def _connectivity(i, j, n_pre: int, n_post: int):
    """Synapse counts (pre, post) of a projection (a pair wired twice counts twice)."""
    from scipy.sparse import csr_matrix

    return csr_matrix((np.ones(len(i)), (np.asarray(i), np.asarray(j))), shape=(n_pre, n_post))


def _shifted(matrix, shift: int, steps: int):
    """``matrix`` (steps, units) moved ``shift`` steps later; what falls past the run's end is dropped."""
    from scipy.sparse import vstack

    if shift >= steps:
        return _zeros(steps, matrix.shape[1])
    return vstack([_zeros(shift, matrix.shape[1]), matrix[:steps - shift]]).tocsr()


__all__ = ["OperationCounts", "count_operations", "KINDS"]
