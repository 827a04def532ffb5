"""Ensembles: K independent copies of one circuit as one circuit, so that one compiled program steps them all.

Copy k of a circuit (its own weights, input spikes, parameter values) becomes block k of every population,
source and projection: a population of n units becomes one of K n units (copy k at units k n .. (k + 1) n - 1),
a source likewise, and a projection's synapses are those of every copy with their indices moved into the
copy's block (block-diagonal: no synapse crosses copies). Each copy's synapses keep their order, and onto any
unit only its own copy's synapses add, in the order they did alone, so every copy computes what it computes
alone, bit for bit. A step costs one pass over K times larger arrays instead of K passes, which is where an
ensemble wins: a small network's step is mostly per-object overhead.

Parameters that differ between copies become per-unit (per-synapse) arrays; that needs a model that declares
them as variables (a parameter its equations do not declare is a compile-time constant, one for all copies).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from spikingbp.circuits.spikes import CircuitResult, SpikeSource
from spikingbp.errors import ConfigError

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit


def ensemble_circuit(copies: Sequence["Circuit"], name: str | None = None) -> "Circuit":
    """One circuit of the ``copies`` (circuits of one structure: the same populations, sources and
    projections by name, model and size), block k holding copy k."""
    from spikingbp.circuits.circuit import Circuit, _model_variables

    first = copies[0] if copies else None
    if first is None:
        raise ConfigError("an ensemble needs at least one circuit")
    for other in copies[1:]:
        _check_same_structure(first, other)
    K = len(copies)
    merged = Circuit(name or f"{first.name}_x{K}", first.dt, sample_steps=first.sample_steps, layout=first.layout)
    for population in first.populations.values():
        parts = [c.populations[population.name] for c in copies]
        declared = _model_variables(population.model)
        params = {key: _merged_values([p.params.get(key, population.model.parameters[key].default) for p in parts],
                                      population.size, key in declared, f"population {population.name!r}", key)
                  for key in {k for p in parts for k in p.params}}
        merged.add_population(population.name, K * population.size, population.model, **params)
    for source in first.sources.values():
        block = _merged_source([c.sources[source.name] for c in copies])
        merged.add_source(block.name, block.size, block.indices, block.steps)
    for projection in first.projections.values():
        parts = [c.projections[projection.name] for c in copies]
        n_pre, n_post = first.size_of(projection.pre), first.size_of(projection.post)
        declared = _model_variables(projection.synapse)
        params = {key: _merged_values([p.params[key] for p in parts], [len(p.i) for p in parts], key in declared,
                                      f"projection {projection.name!r}", key)
                  for key in projection.params}
        merged.connect(projection.pre, projection.post, np.concatenate([p.weight for p in parts]),
                       i=np.concatenate([p.i + k * n_pre for k, p in enumerate(parts)]),
                       j=np.concatenate([p.j + k * n_post for k, p in enumerate(parts)]),
                       delay=projection.delay, synapse=projection.synapse, name=projection.name, kind=projection.kind,
                       target=projection.target, **params)
    return merged


def ensemble_sources(copies: Sequence[Mapping[str, SpikeSource]]) -> dict:
    """The sources of an ensemble run from each copy's sources (by name)."""
    return {name: _merged_source([sources[name] for sources in copies]) for name in copies[0]}


def ensemble_weights(copies: Sequence[Mapping[str, np.ndarray]]) -> dict:
    """The weights of an ensemble's projections (by name, in synapse order) from each copy's."""
    return {name: np.concatenate([np.asarray(weights[name]) for weights in copies]) for name in copies[0]}


def split_result(result: CircuitResult, copies: int) -> list:
    """Each copy's ``CircuitResult`` of an ensemble run of ``copies`` equal copies."""
    results = []
    for k in range(copies):
        spikes = {}
        for name, (step, unit, size) in result.spikes.items():
            n = size // copies
            mine = (unit >= k * n) & (unit < (k + 1) * n)
            spikes[name] = (step[mine], unit[mine] - k * n, n)
        states = {name: {variable: np.hsplit(trace, copies)[k] for variable, trace in variables.items()}
                  for name, variables in result.states.items()}
        weights = {name: np.split(np.asarray(values), copies)[k] for name, values in result.weights.items()}
        results.append(CircuitResult(result.steps, spikes, states, weights))
    return results


def _merged_source(parts: Sequence[SpikeSource]) -> SpikeSource:
    size = parts[0].size
    if any(p.size != size for p in parts):
        raise ConfigError(f"source {parts[0].name!r} has sizes {[p.size for p in parts]} in the copies; an ensemble "
                          f"needs copies of one structure")
    return SpikeSource(parts[0].name, len(parts) * size,
                       np.concatenate([p.indices + k * size for k, p in enumerate(parts)]),
                       np.concatenate([p.steps for p in parts]))


def _merged_values(values: list, sizes, declared: bool, where: str, key: str):
    """One value per copy (a scalar or an array per unit / synapse) as the ensemble's: a scalar while all
    copies agree, else the copies' values side by side (which the model must declare as a variable)."""
    counts = sizes if isinstance(sizes, list) else [sizes] * len(values)
    if all(np.ndim(v) == 0 for v in values) and all(np.array_equal(v, values[0]) for v in values):
        return values[0]
    if not declared:
        raise ConfigError(f"{where}: the copies differ in {key!r}, which the model does not declare as a variable "
                          f"(a compile-time constant, one for all copies); give every copy the same {key}")
    return np.concatenate([np.broadcast_to(np.asarray(v), (n,)) for v, n in zip(values, counts)])


def _check_same_structure(a: "Circuit", b: "Circuit") -> None:
    def shape(c):
        return ({p.name: (p.size, p.model.name) for p in c.populations.values()},
                {s.name: s.size for s in c.sources.values()},
                {p.name: (p.pre, p.post, len(p.i), p.synapse.name, p.delay, p.target) for p in c.projections.values()},
                c.sample_steps, float(c.dt))
    if shape(a) != shape(b):
        raise ConfigError(f"circuits {a.name!r} and {b.name!r} differ in structure (populations, sources, "
                          f"projections, sample length or dt); an ensemble needs copies of one circuit")


__all__ = ["ensemble_circuit", "ensemble_sources", "ensemble_weights", "split_result"]
