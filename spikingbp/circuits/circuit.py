"""The circuit object: a complete, backend-free description of a spiking network, and its Brian2 run.

A ``Circuit`` holds named populations (a neuron model and its parameters), spike sources (which unit
spikes at which step) and projections (pre, post, synapse indices, weights, delay in steps, synapse
model). Everything is plain data, so the Lava translation and the analysis read the same description.

``Circuit.run`` realises it in Brian2 compactly: populations that share a model become one
``NeuronGroup`` (each population a contiguous slice), all sources one ``SpikeGeneratorGroup``, and
projections that share pre group, post group, delay, synapse model, target and parameters one
``Synapses`` object (plastic ones too: sBP's three copies of W1 are one pathway), so that a circuit of
hundreds of projections compiles quickly on cpp_standalone and GeNN.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from spikingbp.circuits.spikes import CircuitResult, SpikeSource
from spikingbp.errors import ConfigError, DeviceError
from spikingbp.models.base import NeuronModel, SynapseModel
from spikingbp.models.synapses import Static, StaticCurrent

STATIC_MODELS = (Static, StaticCurrent)


@dataclass
class Population:
    """``size`` units of ``model``; ``params`` override the model's defaults (scalars or per-unit arrays)."""

    name: str
    size: int
    model: NeuronModel
    params: dict = field(default_factory=dict)


@dataclass
class Projection:
    """Synapses ``i[k] -> j[k]`` (indices within the pre and post populations) with ``weight[k]``.

    A spike of the pre unit at step t reaches the post unit's input at step t + 1 + ``delay``
    (Loihi's convention, which the discrete models follow). ``kind`` names the connection type
    (e.g. ``g``, ``1e``, ``p``) for tables and figures.
    """

    name: str
    pre: str
    post: str
    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray
    delay: int = 0
    synapse: SynapseModel = Static
    params: dict = field(default_factory=dict)
    kind: str = ""
    target: str | None = None  # post variable the synapse adds to (None: the post model's input variable)

    @property
    def plastic(self) -> bool:
        return not any(self.synapse is model for model in STATIC_MODELS)


class Circuit:
    """A named collection of populations, spike sources and projections on one time step: the one network
    description every back end builds, runs or translates (:doc:`/guide/models`).

    Parameters
    ----------
    name : str
        The circuit's name (a Python identifier; it prefixes the Brian2 objects).
    dt : brian2.Quantity or None
        The time step (None: 1 ms).
    sample_steps : int or None
        The length of one sample in steps, where a synapse model has a ``sample_update`` (run at the start of
        every sample).
    layout : object or None
        What the builder records about how to read the circuit (e.g. ``spikingbp.circuits.graded.GradedLayout``:
        stages, copies, readout steps).

    Raises
    ------
    ConfigError
        A ``sample_steps`` that is not a positive whole number.
    """

    def __init__(self, name: str, dt=None, *, sample_steps: int | None = None, layout=None):
        from brian2 import ms

        if sample_steps is not None and (isinstance(sample_steps, bool) or not isinstance(sample_steps, (int, np.integer))
                                         or sample_steps < 1):
            raise ConfigError(f"circuit {name!r}: sample_steps must be a positive whole number of steps, "
                              f"got {sample_steps!r}")
        self.name = name
        self.dt = dt if dt is not None else 1 * ms
        self.sample_steps = None if sample_steps is None else int(sample_steps)
        self.layout = layout
        self.populations: dict[str, Population] = {}
        self.sources: dict[str, SpikeSource] = {}
        self.projections: dict[str, Projection] = {}

    # ------------------------------------------------------------------------------- description
    def _check_new_name(self, name: str):
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"circuit {self.name!r}: name {name!r} must be a Python identifier")
        if name in self.populations or name in self.sources or name in self.projections:
            raise ConfigError(f"circuit {self.name!r}: the name {name!r} is already used")

    def add_population(self, name: str, size: int, model: NeuronModel, **params) -> Population:
        """Add ``size`` units of ``model`` named ``name``.

        Parameters
        ----------
        name : str
            A Python identifier, unique among the circuit's populations, sources and projections.
        size : int
            Number of units, at least 1.
        model : NeuronModel
            The dynamics (``spikingbp.models``).
        **params
            Values of the model's parameters (checked against its ``Parameter`` ranges and units), each a scalar
            or one value per unit.

        Returns
        -------
        Population
        """
        self._check_new_name(name)
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(f"population {name!r}: size must be a positive integer, got {size!r}")
        model.resolve(**{k: v for k, v in params.items()})  # validate names, units and ranges now
        for key, value in params.items():
            if np.ndim(value) not in (0, 1) or (np.ndim(value) == 1 and len(value) != size):
                raise ConfigError(f"population {name!r}: parameter {key!r} must be a scalar or have length "
                                  f"{size}, got shape {np.shape(value)}")
        self.populations[name] = Population(name, int(size), model, dict(params))
        return self.populations[name]

    def add_source(self, name: str, size: int, indices=(), steps=()) -> SpikeSource:
        """Add ``size`` spike generators named ``name``: unit ``indices[k]`` spikes at step ``steps[k]`` (whole
        numbers; a unit spikes at most once per step).

        Returns
        -------
        SpikeSource
        """
        self._check_new_name(name)
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(f"source {name!r}: size must be a positive integer, got {size!r}")
        raw_indices, raw_steps = np.asarray(indices), np.asarray(steps)
        for label, raw in (("indices", raw_indices), ("steps", raw_steps)):
            if raw.size and (raw.dtype.kind not in "iuf" or not np.all(np.isfinite(raw))
                             or np.any(raw != np.round(raw))):
                raise ConfigError(f"source {name!r}: {label} must be whole numbers, got {raw!r}")
        indices, steps = raw_indices.astype(np.int64), raw_steps.astype(np.int64)
        if indices.shape != steps.shape or indices.ndim != 1:
            raise ConfigError(f"source {name!r}: indices and steps must be 1-d and of equal length")
        if len(indices) and (indices.min() < 0 or indices.max() >= size or steps.min() < 0):
            raise ConfigError(f"source {name!r}: indices must lie in [0, {size}) and steps be >= 0")
        if len(np.unique(indices * (steps.max(initial=0) + 1) + steps)) != len(indices):
            raise ConfigError(f"source {name!r}: a unit may spike at most once per step")
        self.sources[name] = SpikeSource(name, int(size), indices, steps)
        return self.sources[name]

    def size_of(self, name: str) -> int:
        """The number of units of the population or source ``name``."""
        if name in self.populations:
            return self.populations[name].size
        if name in self.sources:
            return self.sources[name].size
        raise ConfigError(f"circuit {self.name!r}: no population or source named {name!r}; "
                          f"known: {sorted(self.populations) + sorted(self.sources)}")

    def connect(self, pre: str, post: str, weight, *, pattern: str | None = None, i=None, j=None,
                delay: int = 0, synapse: SynapseModel = Static, name: str | None = None, kind: str = "",
                target: str | None = None, **params) -> Projection:
        """Add a projection. ``pattern`` is ``one_to_one`` or ``all_to_all``, or give index arrays ``i``, ``j``.
        ``weight`` is a scalar or one value per synapse (for all_to_all: a (pre, post) matrix works too)."""
        n_pre, n_post = self.size_of(pre), self.size_of(post)
        if post not in self.populations:
            raise ConfigError(f"projection to {post!r}: the target must be a population, not a source")
        if pattern == "one_to_one":
            if n_pre != n_post:
                raise ConfigError(f"one_to_one {pre!r} -> {post!r} needs equal sizes, got {n_pre} and {n_post}")
            i = j = np.arange(n_pre)
        elif pattern == "all_to_all":
            i, j = np.repeat(np.arange(n_pre), n_post), np.tile(np.arange(n_post), n_pre)
        elif pattern is not None:
            raise ConfigError(f"unknown pattern {pattern!r}; use 'one_to_one', 'all_to_all' or i, j arrays")
        elif i is None or j is None:
            raise ConfigError(f"projection {pre!r} -> {post!r}: give a pattern or both i and j")
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        if i.shape != j.shape or i.ndim != 1:
            raise ConfigError(f"projection {pre!r} -> {post!r}: i and j must be 1-d arrays of equal length")
        if len(i) and (i.min() < 0 or i.max() >= n_pre or j.min() < 0 or j.max() >= n_post):
            raise ConfigError(f"projection {pre!r} -> {post!r}: indices out of range for sizes {n_pre} -> {n_post}")
        weight = np.asarray(weight, dtype=float)
        if weight.ndim == 2 and weight.shape == (n_pre, n_post):
            weight = weight[i, j]
        elif weight.ndim > 1:  # a matrix of another shape would be read in a wrong layout
            raise ConfigError(f"projection {pre!r} -> {post!r}: a weight matrix must have shape (pre, post) = "
                              f"({n_pre}, {n_post}), got {weight.shape}")
        weight = np.broadcast_to(weight, i.shape).astype(float) if weight.ndim == 0 else weight.ravel()
        if weight.shape != i.shape:
            raise ConfigError(f"projection {pre!r} -> {post!r}: {len(i)} synapses but weight has shape {weight.shape}")
        if np.isnan(weight).any():
            raise ConfigError(f"projection {pre!r} -> {post!r}: weights contain NaN")
        if not np.isfinite(weight).all():
            raise ConfigError(f"projection {pre!r} -> {post!r}: weights contain an infinity")
        if not isinstance(delay, (int, np.integer)) or delay < 0:
            raise ConfigError(f"projection {pre!r} -> {post!r}: delay must be a non-negative integer number "
                              f"of steps, got {delay!r}")
        synapse.resolve(**params)
        if synapse.sample_update and self.sample_steps is None:
            raise ConfigError(f"projection {pre!r} -> {post!r}: {synapse.name} updates at every sample start; "
                              f"give the circuit its sample length, Circuit(..., sample_steps=N)")
        if name is None:  # a generated name is made unique; an explicit one must be new
            name = f"{pre}__{post}__{kind or synapse.name}" + (f"_d{delay}" if delay else "")
            base, k = name, 1
            while name in self.projections:
                k += 1
                name = f"{base}_{k}"
        self._check_new_name(name)
        self.projections[name] = Projection(name, pre, post, i, j, weight.copy(), int(delay), synapse,
                                            dict(params), kind, target)
        return self.projections[name]

    def table(self):
        """Populations and projections as two pandas DataFrames (for docs, tests and analysis)."""
        import pandas as pd

        populations = pd.DataFrame([dict(name=p.name, size=p.size, model=p.model.name,
                                         **{k: (v if np.ndim(v) == 0 else "per unit") for k, v in p.params.items()})
                                    for p in self.populations.values()])
        projections = pd.DataFrame([dict(name=p.name, pre=p.pre, post=p.post, kind=p.kind, synapses=len(p.i),
                                         delay=p.delay, model=p.synapse.name, plastic=p.plastic)
                                    for p in self.projections.values()])
        return populations, projections

    # ------------------------------------------------------------------------------- Brian2
    def _layout(self):
        """Merge populations by model: model name -> (model, [(population, offset)], total size)."""
        groups = {}
        for population in self.populations.values():
            key = population.model.name
            model, members, size = groups.get(key, (population.model, [], 0))
            if model is not population.model:
                raise ConfigError(f"two different models are both named {key!r}")
            members.append((population, size))
            groups[key] = (model, members, size + population.size)
        return groups

    def _check_records(self, record_spikes, record_states, record_weights):
        """Every name to record must be a population (spikes, states) or a projection (weights)."""
        spikes = () if record_spikes is True or not record_spikes else record_spikes
        if isinstance(spikes, str) or isinstance(record_weights, str):
            raise ConfigError("record_spikes and record_weights take a list of names, not one string")
        for name in list(spikes) + list(record_states or {}):
            if name not in self.populations:
                what = "a spike source (its spikes are given)" if name in self.sources else "unknown"
                raise ConfigError(f"circuit {self.name!r}: cannot record {name!r}: {what}; populations: "
                                  f"{sorted(self.populations)}")
        for name, variables in (record_states or {}).items():
            known = _model_variables(self.populations[name].model) | {"lastspike", "not_refractory"}
            if isinstance(variables, str) or any(v not in known for v in variables):
                raise ConfigError(f"circuit {self.name!r}: record_states[{name!r}] must be a list of variables "
                                  f"of {self.populations[name].model.name} ({sorted(known)}), got {variables!r}")
        for name in record_weights:
            if name not in self.projections:
                raise ConfigError(f"circuit {self.name!r}: cannot record the weights of {name!r}: no such "
                                  f"projection; projections: {sorted(self.projections)}")

    def build(self, record_spikes=True, record_states=None, record_weights=()):
        """Create the Brian2 objects on the current device; returns a ``BrianCircuit``."""
        self._check_records(record_spikes, record_states, record_weights)
        return BrianCircuit(self, record_spikes, record_states or {}, tuple(record_weights))

    def run(self, steps: int, device: str = "runtime", directory: str | None = None, *,
            record_spikes=True, record_states=None, record_weights=(), seed: int | None = None,
            **device_options) -> CircuitResult:
        """Build and run for ``steps`` time steps on ``device`` (see ``spikingbp.devices.use_device``).

        ``seed`` seeds the random numbers of the run (noise, random connectivity) on the device that runs
        it (``brian2.seed``: numpy and cython on runtime, the generated program on cpp_standalone and
        cuda); brian2genn cannot be seeded, so a seed there is refused. Returns a ``CircuitResult``, or
        ``None`` when ``run=False`` (code generation only)."""
        from brian2 import defaultclock
        from brian2 import seed as brian_seed

        from spikingbp.devices import compiler_interrupts, use_device

        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ConfigError(f"steps must be a positive integer, got {steps!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ConfigError(f"seed must be a non-negative integer or None, got {seed!r}")
        if seed is not None and device == "genn":
            raise DeviceError("brian2genn cannot seed its random numbers; run with seed=None on genn (its draws "
                              "then differ from run to run) or use another device")
        self._check_records(record_spikes, record_states, record_weights)
        with use_device(device, directory, **device_options):
            defaultclock.dt = self.dt
            if seed is not None:
                brian_seed(int(seed))
            built = self.build(record_spikes, record_states, record_weights)
            with compiler_interrupts():
                built.network.run(steps * self.dt)
            if not device_options.get("run", True):
                return None  # code generation only: nothing was simulated
            return built.result(steps)


class BrianCircuit:
    """The Brian2 realisation of a ``Circuit``: ``network``, ``groups`` (by model name), ``sources``,
    ``synapses`` (by name) and the maps from populations and projections to them."""

    def __init__(self, circuit: Circuit, record_spikes, record_states: dict, record_weights: tuple):
        from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor

        from spikingbp.circuits.build import neuron_group, sample_update, step_map, synapses

        self.circuit = circuit
        self.network = Network()
        self.offsets = {}  # population or source name -> (Brian2 group, offset)
        self.groups = {}
        for model_name, (model, members, size) in circuit._layout().items():
            params = {}
            for key in {k for population, _ in members for k in population.params}:
                default = model.parameters[key].default
                values = []
                for population, _ in members:
                    value = population.params.get(key, default)
                    values.append(np.broadcast_to(np.asarray(value), (population.size,)))
                values = np.concatenate(values)
                # one value for the whole group stays a scalar: parameters the equations do not declare are
                # compile-time constants (spikingbp.circuits.build), and need one
                params[key] = (values[0] if np.all(values == values[0]) else values) * _unit(default)
            group = neuron_group(model, size, f"{circuit.name}_{model_name.lower()}", **params)
            self.groups[model_name] = group
            self.network.add(group)
            if model.step_code:
                self.network.add(step_map(group, model, circuit.dt))
            for population, offset in members:
                self.offsets[population.name] = (group, offset)

        self.source_group = None
        if circuit.sources:
            indices, times, offset = [], [], 0
            for source in circuit.sources.values():
                self.offsets[source.name] = (None, offset)
                indices.append(source.indices + offset)
                times.append(source.steps)
                offset += source.size
            self.source_group = SpikeGeneratorGroup(offset, np.concatenate(indices),
                                                    np.concatenate(times) * circuit.dt,
                                                    name=f"{circuit.name}_sources")
            self.network.add(self.source_group)
            for source in circuit.sources.values():
                self.offsets[source.name] = (self.source_group, self.offsets[source.name][1])

        # Merge projections with the same pre group, post group, model, delay, target and parameters.
        merged = defaultdict(list)
        self.synapses = {}
        self.synapse_indices = {}  # Synapses name -> (i, j) in creation order (what projection_slices index)
        self.projection_slices = {}  # projection name -> (Synapses, slice of its synapses)
        for projection in circuit.projections.values():
            pre_group, _ = self.offsets[projection.pre]
            post_group, _ = self.offsets[projection.post]
            # a per-synapse parameter array is its projection's own: such projections never merge
            params = tuple(sorted((key, value if np.ndim(value) == 0 else ("per synapse", projection.name))
                                  for key, value in projection.params.items()))
            merged[(pre_group.name, post_group.name, projection.synapse.name, projection.delay,
                    projection.target, params)].append(projection)
        for key, projections in merged.items():
            if len(projections) == 1 and projections[0].plastic:
                name = projections[0].name
            else:  # e.g. "units__learning_units_d4", numbered when targets or parameters differ
                name = f"{key[0]}__{key[1]}_d{key[3]}"
                name = name if name not in self.synapses else f"{name}_{len(self.synapses)}"
            first = projections[0]
            pre_group, _ = self.offsets[first.pre]
            post_group, _ = self.offsets[first.post]
            post_model = circuit.populations[first.post].model
            i = np.concatenate([p.i + self.offsets[p.pre][1] for p in projections])
            j = np.concatenate([p.j + self.offsets[p.post][1] for p in projections])
            syn = synapses(pre_group, post_group, first.synapse, f"{circuit.name}_{name}".lower(),
                           target=first.target or post_model.input_variable, i=i, j=j,
                           delay=first.delay * circuit.dt, **first.params)
            syn.w = np.concatenate([p.weight for p in projections]) * _unit(first.synapse, "w")
            self.synapses[name] = syn
            self.synapse_indices[syn.name] = (i, j)
            self.network.add(syn)
            if first.synapse.sample_update:
                self.network.add(sample_update(syn, first.synapse, circuit.sample_steps * circuit.dt))
            start = 0
            for p in projections:
                self.projection_slices[p.name] = (syn, slice(start, start + len(p.i)))
                start += len(p.i)

        # One SpikeMonitor per NeuronGroup (split into populations when read): a monitor per population
        # would be one more code object to compile per population on the standalone devices.
        self.recorded_spikes = list(circuit.populations if record_spikes is True else (record_spikes or ()))
        self.spike_monitors = {}  # Brian2 group name -> SpikeMonitor of the whole group
        for name in self.recorded_spikes:
            group, _ = self.offsets[name]
            if group.name not in self.spike_monitors:
                monitor = SpikeMonitor(group, name=f"spikes_{group.name}")
                self.spike_monitors[group.name] = monitor
                self.network.add(monitor)
        self.state_monitors = {}
        for name, variables in record_states.items():
            group, offset = self.offsets[name]
            monitor = StateMonitor(group[offset:offset + circuit.populations[name].size], list(variables),
                                   record=True, when="end", name=f"states_{name}")
            self.state_monitors[name] = (monitor, list(variables))
            self.network.add(monitor)
        self.record_weights = record_weights

    def result(self, steps: int) -> CircuitResult:
        """Read the monitors (call after the run, still on the same device). Every array is a copy: newer Brian2
        versions hand out views into memory freed with the network (weights read back as 4.9e-324 and NaN)."""
        dt = float(self.circuit.dt)
        recorded = {key: (np.round(np.array(m.t[:]) / dt).astype(np.int64), np.array(m.i[:], np.int64))
                    for key, m in self.spike_monitors.items()}
        spikes = {}
        for name in self.recorded_spikes:
            group, offset = self.offsets[name]
            size = self.circuit.populations[name].size
            step, unit = recorded[group.name]
            mine = (unit >= offset) & (unit < offset + size)
            spikes[name] = (step[mine], unit[mine] - offset, size)
        states = {name: {v: np.array(getattr(m, v)).T for v in variables}
                  for name, (m, variables) in self.state_monitors.items()}
        weights = {}
        for name in self.record_weights:
            syn, part = self.projection_slices[name]
            i, _ = self.synapse_indices[syn.name]
            weights[name] = _in_creation_order(i, np.array(syn.w[:]))[part]
        return CircuitResult(steps, spikes, states, weights)


def _in_creation_order(i, values):
    """``values`` of one Synapses object's synapses (read after a run) in the order the synapses were
    created, whose presynaptic indices are ``i``.

    Runtime and cpp_standalone keep that order. brian2genn (SPARSE connectivity, its default) hands the
    variables back row by row, sorted by presynaptic index and in creation order within a row, while
    ``syn.i`` and ``syn.j`` keep the creation order; that reordering is undone here."""
    from brian2 import get_device, prefs

    if type(get_device()).__name__ != "GeNNDevice" or prefs.devices.genn.connectivity != "SPARSE":
        return values
    restored = np.empty_like(values)
    restored[np.argsort(i, kind="stable")] = values
    return restored


def _model_variables(model) -> set:
    """Names of the variables in a neuron or synapse model's equations."""
    from brian2.equations.equations import Equations

    return set(Equations(model.equations.format(target="a_in")).names)


def _unit(default, variable: str | None = None):
    """The Brian2 unit of a parameter default, or of a synapse model's variable."""
    from brian2 import Quantity
    from brian2.equations.equations import Equations

    if variable is not None:
        dims = Equations(default.equations.format(target="a_in"))[variable].dim
        return Quantity(1, dim=dims)
    return Quantity(1, dim=default.dim) if isinstance(default, Quantity) else 1


__all__ = ["Circuit", "Population", "SpikeSource", "Projection", "CircuitResult", "BrianCircuit"]
