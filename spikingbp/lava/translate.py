"""Translate a ``Circuit`` of LoihiCUBA units (or SSNN-BP's or eRBP's inference circuit) into a lava-nc 0.10
process network that spikes identically.

``translate(circuit, steps)`` returns a ``LavaNetwork``; ``network.run()`` builds the lava processes, runs
them on lava's CPU simulator (``Loihi2SimCfg``, floating point or ``fixed_point=True``) and returns a
``LavaResult`` with the spikes of every population as bool (steps, units) arrays, as
``CircuitResult.spike_matrix`` gives them, and the final weights of the plastic projections.
``network.report()`` lists every lava process with a ``loihi_deployable`` flag and its reason.

How the circuit maps (and why):

* Units: lava's ``LIF`` holds one du, dv and vth per process (bias per unit), so units are grouped by
  (decay_u, decay_v, vth, refractory): all units of the circuit with the same values form one ``LIF``
  (a population with heterogeneous values is split across groups; populations of one model merge), the
  same way ``Circuit.run`` merges populations into one Brian2 ``NeuronGroup``. Few big processes keep
  lava fast: its CPU simulator runs every process as an OS process and synchronises each one every step.
  ``LoihiCUBAModulated`` units are plain LIF units here; their reward compartment lives in the plastic
  processes that read it.
* Refractoriness: Brian2's ``refractory_steps = r`` blocks the r - 1 steps after a spike (v held at its
  reset value 0, u still integrating). ``refractory="exact"`` maps r >= 2 to ``LIFRefractory`` with
  ``refractory_period = r - 1`` (lava's period counts the blocked steps; it has a floating-point model
  only); ``refractory="ignore"`` uses plain ``LIF`` and notes the dropped periods in the report. In the
  sBP circuits refractoriness never matters: no unit with refractory_steps 2 is driven above threshold
  in the step right after it fired (hT, which fires in phases 5 and 6 in a row, has none), so the period
  never blocks a spike. The tests show it by running sBP both ways (floating point with LIFRefractory,
  and with plain LIF in floating and fixed point): the spikes and weights are identical.
* Spike sources: one ``RingBuffer`` (lava.proc.io.source) with data (units, steps) for all sources.
* Static projections into ``a_in``: summed into one weight matrix per (pre group, post group, delay)
  (and, in fixed point, weight exponent): ``Dense`` for delay 0 and ``DelayDense`` with that delay
  otherwise. Lava's ``Dense`` sends at step t + 1 what arrived at step t, which is Brian2's delay-0 path
  (t + 1 + 0); ``DelayDense`` with delay d delivers at t + 1 + d (checked in the tests).
* Static projections into ``mod_in`` (the reward of ``LoihiCUBAModulated``): the same Dense processes,
  but their output feeds the reward input of the plastic processes whose post units they reach.
* SSNN-BP's composite neurons (``SSNNHidden``, ``SSNNOutput``): their forward compartment becomes an
  ``SSNNForwardUnits`` process (``spikingbp.lava.ssnn``) and the weights (at eta = 0), the lateral inhibition
  included, become ``Dense`` processes into its ``a_in`` and ``i_in``. Float sums agree bit for bit: Brian2
  adds a step's weights in presynaptic order, and so does the float ``Dense`` for binary spikes (it sums
  ``weights[:, spikes]``, a column-major copy, along its rows: column after column; a test guards this). The
  gradient compartments, the label input and (while it sends nothing) the dropout input are left out: they
  change weights, not spikes, and the inference circuit learns nothing. A process's spikes are then the
  forward flag ``fx`` of the Brian2 units, which is what ``spikingbp.lava.verify`` compares.
* eRBP's units (``ERBPUnit``, ``ERBPError``) become ``ERBPUnits`` and ``ERBPErrorUnits`` (``spikingbp.lava.erbp``),
  its weights at eta = 0 ``Dense`` processes; the error -> dendrite projections are left out (only the
  learning rule reads the dendrite).
* The translation is three tables, which the modules of the algorithms' processes add to (``register_neuron``,
  ``register_static``, ``register_rule``): ``NEURONS`` (neuron model -> how its units become lava units: LIF, or
  SSNNForwardUnits), ``STATIC`` (synapse models that act as fixed weights -> Dense / DelayDense) and ``spikingbp.lava.rules.RULES``
  (plasticity rule -> its lava process, e.g. ``SBPPlasticSynapses`` for ``SBPRewardRule`` in
  ``spikingbp.lava.rules.sbp``, which also says why lava 0.10's ``LearningDense`` cannot express it).
  Every plastic process is wired the same way: pre and post spikes in, activation out one step later with
  the updated weights, and the reward input where the rule has a third factor. A model in none of the
  tables is refused with an error naming the population or projection.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.lava import fixed_point as fxp
from spikingbp.lava.rules import RULES, RuleTranslation, rule_for
from spikingbp.lava.rules.sbp import SBPPlasticSynapses
from spikingbp.models.neurons import LoihiCUBA, LoihiCUBAModulated
from spikingbp.models.synapses import Static


@dataclass(frozen=True)
class NeuronTranslation:
    """How units of one neuron model become lava units.

    Units whose ``shared`` parameters (and, for LIF, refractory period) agree form one process, made by
    ``make(group, plan, fixed_point, name)``; ``per_unit`` parameters may differ within it (LIF's bias).
    Projections into ``inputs`` reach the process's port of that name; those into ``left_out`` are left out
    with the reason given (they can change no translated spike), those into ``silent_only`` only while their
    presynaptic source sends nothing. ``spike_variable``: the 0/1 state variable whose steps the process's
    spikes are (None: the unit's spike events)."""

    model: object
    process: str                        #: the lava class, for the report
    make: Callable
    shared: tuple                       #: parameters one process holds once
    per_unit: tuple = ()                #: parameters held per unit
    refractory: bool = False            #: refractory_steps map to LIFRefractory (or are ignored)
    reward_compartment: bool = False    #: decay_mod and mod_in belong to the plastic processes that read them
    inputs: tuple = ("a_in",)
    left_out: dict = field(default_factory=dict)
    silent_only: tuple = ()
    spike_variable: str | None = None
    fixed_point: bool = True            #: has a fixed-point model (else floating point only)
    merge_models: bool = True           #: units of other models with this process may share one
    group_prefix: str = "lif"           #: processes are named prefix0, prefix1, ...
    reason: str = ""                    #: why it is (not) Loihi-deployable, where that is not LIF's question


def _make_lif(group, plan, fixed_point: bool, name: str):
    from lava.proc.lif.process import LIF, LIFRefractory

    shape = (group.size,)
    if fixed_point:
        q = plan.neurons[group.name]
        return LIF(shape=shape, du=q.du, dv=q.dv, vth=q.vth, bias_mant=q.bias.mantissa, bias_exp=q.bias.exp,
                   name=name)
    if group.refractory_period:
        return LIFRefractory(shape=shape, du=group.decay_u, dv=group.decay_v, vth=group.vth,
                             bias_mant=group.bias_vector(), refractory_period=group.refractory_period, name=name)
    return LIF(shape=shape, du=group.decay_u, dv=group.decay_v, vth=group.vth, bias_mant=group.bias_vector(),
               name=name)


_LIF = dict(process="LIF", make=_make_lif, shared=("decay_u", "decay_v", "vth"), refractory=True)
#: Neuron model name -> its translation: LIF here, the algorithms' own units registered by the modules that define
#: their processes (``spikingbp.lava.erbp``, ``spikingbp.lava.ssnn``, imported at the end of this module). A model
#: not listed is refused with an error naming the population.
NEURONS = {entry.model.name: entry for entry in (
    NeuronTranslation(LoihiCUBA, **_LIF, per_unit=("bias",)),
    NeuronTranslation(LoihiCUBAModulated, **_LIF, per_unit=("bias", "decay_mod"), reward_compartment=True),
)}


def register_neuron(translation: NeuronTranslation) -> None:
    """Add ``translation`` to ``NEURONS`` (the first registration of a model stands)."""
    NEURONS.setdefault(translation.model.name, translation)


def frozen(rate: str, algorithm: str):
    """Why a projection of a learning rule with learning rate ``rate`` cannot be translated as fixed weights
    ('' if it can: the rate is 0)."""

    def refusal(projection) -> str:
        value = float(np.max(projection.synapse.resolve(**projection.params)[rate]))
        if value == 0:
            return ""
        return (f"projection {projection.name!r} ({projection.synapse.name}) learns ({rate} = {value:g}); lava "
                f"translates the {algorithm} inference circuit (learning rate 0), whose weights stay fixed: give the "
                f"inference phase")

    return refusal


@dataclass(frozen=True)
class StaticTranslation:
    """A synapse model that acts as fixed weights: Dense / DelayDense processes into a port of the post units
    or (``reward_target``) into the reward input of the plastic processes of a post unit with a reward
    compartment. ``refusal(projection)`` says why a projection of the model does not act as fixed weights
    ('' where it does)."""

    model: object
    reward_target: str = "mod_in"
    refusal: Callable = lambda projection: ""


#: Synapse model name -> its translation as fixed weights (``Static`` here; the algorithms' weights, frozen at eta
#: = 0, registered with their units); plastic rules are in ``spikingbp.lava.rules.RULES``.
STATIC = {entry.model.name: entry for entry in (StaticTranslation(Static),)}


def register_static(translation: StaticTranslation) -> None:
    """Add ``translation`` to ``STATIC`` (the first registration of a model stands)."""
    STATIC.setdefault(translation.model.name, translation)
REFRACTORY_MODES = ("exact", "ignore")
SOURCES = "sources"  # the name of the one RingBuffer that holds every spike source

_HOST_IO = ("host I/O: lava runs RingBuffer sources and sinks on the CPU; on Loihi, spikes enter and leave "
            "through lava-loihi's I/O processes instead")


# ===================================================================================================
# The translation plan: plain data, the same for floating and fixed point except for the quantisation.
# ===================================================================================================
@dataclass
class UnitGroup:
    """Units of one translation that share its ``shared`` values (and refractory period): one process."""

    name: str
    translation: NeuronTranslation
    values: dict                    #: the shared parameter values
    refractory_period: int          #: lava's refractory_period (blocked steps); 0: plain LIF
    dropped_refractory: int         #: largest refractory_steps dropped by refractory="ignore" (0: none)
    members: list = field(default_factory=list)  #: [(population, unit indices within it)] in group order
    per_unit: list = field(default_factory=list)  #: per member, {parameter: the values of its units}

    @property
    def size(self) -> int:
        return int(sum(len(units) for _, units in self.members))

    @property
    def populations(self) -> list:
        return list(dict.fromkeys(name for name, _ in self.members))

    @property
    def decay_u(self) -> float:
        return self.values["decay_u"]

    @property
    def decay_v(self) -> float:
        return self.values["decay_v"]

    @property
    def vth(self) -> float:
        return self.values["vth"]

    def vector(self, parameter: str, default: float) -> np.ndarray:
        """A per-unit parameter over the group's units (``default`` for members whose model has none)."""
        return np.concatenate([values.get(parameter, np.full(len(units), float(default)))
                               for values, (_, units) in zip(self.per_unit, self.members)])

    def bias_vector(self) -> np.ndarray:
        return self.vector("bias", 0.0)

    def decay_mod_vector(self) -> np.ndarray:
        return self.vector("decay_mod", 1.0)


@dataclass
class StaticBucket:
    """Static synapses of one (pre group, post group, delay, target[, weight exponent]): one Dense."""

    name: str
    pre: str
    post: str
    delay: int
    target: str                     #: 'a_in' or 'mod_in'
    weights: np.ndarray             #: (post, pre), circuit units (fixed point: what the mantissas mean)
    projections: list = field(default_factory=list)
    mantissa: np.ndarray | None = None
    exp: int = 0
    sign_mode: str = ""
    max_error: float = 0.0
    bound: float = 0.0
    floors_sum: bool = False
    clipped: bool = False


@dataclass
class PlasticLink:
    """One plastic projection (or its part between two unit groups): one process of its rule."""

    name: str
    pre: str
    post: str
    pre_index: np.ndarray
    post_index: np.ndarray
    weights: np.ndarray             #: initial weights, circuit units
    rule: RuleTranslation
    params: dict                    #: the rule's parameters, circuit units
    order: np.ndarray | None = None  #: position of each synapse in the projection (for multi-group splits)
    error: float = 0.0


@dataclass
class ProcessReport:
    """One lava process of the translation."""

    name: str
    lava_class: str
    role: str
    size: str
    contents: str
    loihi_deployable: bool
    reason: str


@dataclass
class TranslationReport:
    """What each lava process is and whether it could run on Loihi as is (judged on the fixed-point form
    unless ``fixed_point`` is False, where nothing floating point is deployable)."""

    circuit: str
    fixed_point: bool
    scale: float
    processes: list
    notes: list

    @property
    def loihi_deployable(self) -> bool:
        return all(p.loihi_deployable for p in self.processes if p.role != "io")

    def not_deployable(self) -> list:
        return [p for p in self.processes if not p.loihi_deployable and p.role != "io"]

    def to_dict(self) -> dict:
        return dict(circuit=self.circuit, fixed_point=self.fixed_point, scale=self.scale,
                    loihi_deployable=self.loihi_deployable, notes=list(self.notes),
                    processes=[vars(p).copy() for p in self.processes])

    def __str__(self) -> str:
        mode = "fixed point" if self.fixed_point else "floating point"
        lines = [f"lava translation of circuit {self.circuit!r} ({mode}, scale {self.scale:g}): "
                 f"{len(self.processes)} processes, Loihi-deployable as is: "
                 f"{'yes' if self.loihi_deployable else 'no'}"]
        for p in self.processes:
            flag = "yes" if p.loihi_deployable else "no "
            lines.append(f"  [{flag}] {p.name} ({p.lava_class}, {p.role}, {p.size}): {p.contents}")
            if p.reason:
                lines.append(f"        {p.reason}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


class _Plan:
    """Groups, buckets and plastic links of a circuit for one mode (floating or fixed point)."""

    def __init__(self, circuit, refractory: str, fixed_point: bool, scale, dv_max: int):
        self.circuit = circuit
        self.refractory = refractory
        self.fixed_point = fixed_point
        self.dv_max = dv_max
        self.notes = []
        self._check_models()
        self._group_units()
        self._locate_sources()
        self.scale = self._choose_scale(scale) if fixed_point else 1.0
        self.neurons = {g.name: fxp.quantize_neuron(g.decay_u, g.decay_v, g.vth, g.bias_vector(), self.scale,
                                                    dv_max) for g in self.groups} if fixed_point else {}
        self._bucket_static()
        self._link_plastic()

    # ------------------------------------------------------------------------------ checks
    def _check_models(self):
        circuit = self.circuit
        for population in circuit.populations.values():
            entry = NEURONS.get(population.model.name)
            if entry is None or entry.model is not population.model:
                raise ConfigError(f"population {population.name!r}: the lava translation supports "
                                  f"{list(NEURONS)}, not {population.model.name}")
            if self.fixed_point and not entry.fixed_point:
                raise ConfigError(f"population {population.name!r}: {population.model.name} translates to "
                                  f"{entry.process}, which has a floating-point model only; run without fixed point")
        self.left_out = set()
        for projection in circuit.projections.values():
            post_entry = NEURONS[circuit.populations[projection.post].model.name]
            target = projection.target or "a_in"
            static = STATIC.get(projection.synapse.name)
            if target in post_entry.left_out or target in post_entry.silent_only:
                why = post_entry.left_out.get(target)
                if why is None:
                    source = circuit.sources.get(projection.pre)
                    if source is None or len(source.indices):
                        raise ConfigError(f"projection {projection.name!r} sets {target!r} of {projection.post!r}, "
                                          f"which has no lava counterpart; it is left out only while its source sends "
                                          f"nothing (translate the inference circuit)")
                    why = "its source sends nothing"
                self.left_out.add(projection.name)
                self.notes.append(f"projection {projection.name!r} (into {projection.post}.{target}) is left out: {why}")
                continue
            if static is None:
                rule_for(projection).check(projection, post_entry.model)
                continue
            refusal = static.refusal(projection)
            if refusal:
                raise ConfigError(refusal)
            allowed = post_entry.inputs + ((static.reward_target,) if post_entry.reward_compartment else ())
            if target not in allowed:
                with_reward = [name for name, e in NEURONS.items() if e.reward_compartment]
                raise ConfigError(f"projection {projection.name!r}: target {target!r} of {post_entry.model.name} has "
                                  f"no lava counterpart; use {' or '.join(post_entry.inputs)}"
                                  + (f", or {static.reward_target} of {', '.join(with_reward)}" if with_reward else ""))

    # ------------------------------------------------------------------------------ units
    def _group_units(self):
        """Group units by their translation's shared values (and refractory period) in population order."""
        groups: dict[tuple, UnitGroup] = {}
        self.locate = {}  # population or source -> (group index per unit, index within group per unit)
        self.groups = []
        for population in self.circuit.populations.values():
            n = population.size
            entry = NEURONS[population.model.name]
            values = population.model.resolve(**population.params)

            def per_unit(key):
                return np.broadcast_to(np.asarray(values[key], dtype=float), (n,))

            if entry.refractory:
                refractory = per_unit("refractory_steps")
                if np.any(refractory != np.round(refractory)):
                    raise ConfigError(f"population {population.name!r}: refractory_steps must be whole numbers")
                blocked = np.maximum(refractory.astype(np.int64) - 1, 0)
                period = blocked if self.refractory == "exact" else np.zeros(n, np.int64)
            else:
                refractory, period = np.zeros(n), np.zeros(n, np.int64)
            kind = entry.process if entry.merge_models else population.model.name
            keys = list(zip(*(per_unit(p) for p in entry.shared), period))
            for key in dict.fromkeys(keys):
                units = np.array([k for k in range(n) if keys[k] == key], np.int64)
                if (kind, key) not in groups:
                    groups[kind, key] = UnitGroup(f"{entry.group_prefix}{len(groups)}", entry,
                                                  {p: float(x) for p, x in zip(entry.shared, key)}, int(key[-1]), 0)
                    self.groups.append(groups[kind, key])
                group = groups[kind, key]
                group_of = self.locate.setdefault(population.name, (np.empty(n, np.int64), np.empty(n, np.int64)))
                group_of[0][units] = self.groups.index(group)
                group_of[1][units] = group.size + np.arange(len(units))
                group.members.append((population.name, units))
                group.per_unit.append({parameter: per_unit(parameter)[units].copy() for parameter in entry.per_unit})
                if self.refractory == "ignore" and entry.refractory:
                    group.dropped_refractory = max(group.dropped_refractory, int(refractory[units].max()))
        self.group_names = [g.name for g in self.groups]

    def _locate_sources(self):
        offset = 0
        self.source_size = 0
        for source in self.circuit.sources.values():
            self.locate[source.name] = (np.full(source.size, -1, np.int64), offset + np.arange(source.size))
            offset += source.size
        self.source_size = offset

    def node_name(self, index: int) -> str:
        return SOURCES if index < 0 else self.group_names[index]

    def node_size(self, name: str) -> int:
        return self.source_size if name == SOURCES else self.groups[self.group_names.index(name)].size

    def _split(self, projection):
        """The projection's synapses split by (pre node, post node): yields (pre, post, positions, pre
        indices in node, post indices in node)."""
        pre_group, pre_index = self.locate[projection.pre]
        post_group, post_index = self.locate[projection.post]
        gi, ii = pre_group[projection.i], pre_index[projection.i]
        gj, jj = post_group[projection.j], post_index[projection.j]
        pairs = dict.fromkeys(zip(gi.tolist(), gj.tolist()))
        for a, b in pairs:
            positions = np.flatnonzero((gi == a) & (gj == b))
            yield self.node_name(a), self.node_name(b), positions, ii[positions], jj[positions]

    # ------------------------------------------------------------------------------ fixed-point scale
    def _choose_scale(self, scale):
        if scale != "auto":
            scale = float(scale)
            if scale <= 0 or not np.isfinite(scale):
                raise ConfigError(f"scale must be 'auto' or a positive number, got {scale!r}")
            return scale
        weight_max, inputs = [], {}
        for projection in self.circuit.projections.values():
            if (projection.target or "a_in") != "a_in":
                continue
            magnitude = np.abs(projection.weight)
            if projection.synapse.name not in STATIC:
                params = projection.synapse.resolve(**projection.params)
                magnitude = np.maximum(magnitude, rule_for(projection).weight_limit(params))
            else:
                weight_max.append(magnitude.max(initial=0.0))
            total = inputs.setdefault(projection.post, np.zeros(self.circuit.populations[projection.post].size))
            np.add.at(total, projection.j, magnitude)
        chosen = fxp.choose_scale([g.vth for g in self.groups], [g.bias_vector() for g in self.groups], weight_max,
                                  [t.max(initial=0.0) for t in inputs.values()])
        if chosen < 1 and inputs:
            population, total = max(((name, t.max(initial=0.0)) for name, t in inputs.items()), key=lambda x: x[1])
            self.notes.append(
                f"scale {chosen:g} < 1: the largest one-step input, into {population!r}, can reach {total:.0f} circuit "
                f"units (every weight at its bound, silencing gates included), while Loihi's 24-bit u holds "
                f"{fxp.CURRENT_MAX:.0f} at scale 1 and one synapse {fxp.WEIGHT_MAX} (see spikingbp.lava.fixed_point)")
        return chosen

    # ------------------------------------------------------------------------------ static
    def _bucket_static(self):
        self.buckets: list[StaticBucket] = []
        self.projection_buckets = {}  # projection -> bucket names
        for projection in self.circuit.projections.values():
            if projection.synapse.name not in STATIC or projection.name in self.left_out:
                continue
            target = projection.target or "a_in"
            names = []
            for pre, post, positions, ii, jj in self._split(projection):
                weights = projection.weight[positions]
                matrix = np.zeros((self.node_size(post), self.node_size(pre)))
                np.add.at(matrix, (jj, ii), weights)
                names.append(self._place(projection.name, pre, post, projection.delay, target, matrix))
            self.projection_buckets[projection.name] = names

    def _place(self, projection: str, pre: str, post: str, delay: int, target: str, matrix: np.ndarray) -> str:
        """Add a projection's (post, pre) matrix to a bucket it can share, or open a new one. In fixed point,
        a bucket holds one weight exponent, and a projection joins it only if the summed matrix is exactly
        the sum of the quantised parts (no extra error)."""
        key = (pre, post, delay, target)
        if not self.fixed_point:
            for bucket in self.buckets:
                if (bucket.pre, bucket.post, bucket.delay, bucket.target) == key:
                    bucket.weights = bucket.weights + matrix
                    bucket.projections.append(projection)
                    return bucket.name
            return self._open(projection, key, matrix, None)
        # reward weights are in modulator units, not in the units of v: they are not scaled
        scale = self.scale if target == "a_in" else 1.0
        present = matrix != 0
        alone = fxp.quantize_weights(matrix[present], scale)
        for bucket in self.buckets:
            if (bucket.pre, bucket.post, bucket.delay, bucket.target) != key:
                continue
            there = fxp.quantize_weights(matrix[present], scale, exp=bucket.exp)
            if there.clipped or not np.array_equal(there.values, alone.values):
                continue  # the bucket's exponent would represent this projection less well
            merged = fxp.quantize_weights(bucket.weights + matrix, scale, exp=bucket.exp)
            expected = bucket.mantissa.copy()
            expected[present] += there.mantissa
            if not merged.clipped and np.array_equal(merged.mantissa, expected):
                # bucket.weights holds what the mantissas mean, so its own part re-quantises without error
                bucket.weights, bucket.mantissa, bucket.sign_mode = merged.values, merged.mantissa, merged.sign_mode
                bucket.max_error = max(bucket.max_error, float(alone.error.max(initial=0.0)))
                bucket.bound = max(bucket.bound, float(alone.bound))
                bucket.floors_sum = bucket.floors_sum or merged.floors_sum
                bucket.projections.append(projection)
                return bucket.name
        return self._open(projection, key, matrix, scale)

    def _open(self, projection, key, matrix, scale) -> str:
        pre, post, delay, target = key
        name = f"{pre}_to_{post}" + (f"_d{delay}" if delay else "") + (f"_{target}" if target != "a_in" else "")
        taken = {b.name for b in self.buckets}
        base, k = name, 1
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        bucket = StaticBucket(name, pre, post, delay, target, matrix.copy(), [projection])
        if scale is not None:
            q = fxp.quantize_weights(matrix, scale)
            bucket.weights, bucket.mantissa, bucket.exp, bucket.sign_mode = q.values, q.mantissa, q.exp, q.sign_mode
            bucket.max_error = float(q.error.max(initial=0.0))
            bucket.bound, bucket.floors_sum, bucket.clipped = float(q.bound), q.floors_sum, q.clipped
        self.buckets.append(bucket)
        return name

    # ------------------------------------------------------------------------------ plastic
    def _link_plastic(self):
        self.plastic: list[PlasticLink] = []
        self.projection_plastic = {}
        for projection in self.circuit.projections.values():
            if projection.synapse.name in STATIC or projection.name in self.left_out:
                continue
            rule = rule_for(projection)
            params = {key: float(value) for key, value in projection.synapse.resolve(**projection.params).items()}
            names = []
            parts = list(self._split(projection))
            for pre, post, positions, ii, jj in parts:
                name = projection.name if len(parts) == 1 else f"{projection.name}_{pre}_to_{post}"
                link = PlasticLink(name, pre, post, ii, jj, projection.weight[positions].astype(float), rule, params,
                                   positions)
                if self.fixed_point:
                    link.error = rule.grid_error(link.weights, params, self.scale)
                self.plastic.append(link)
                names.append(name)
            self.projection_plastic[projection.name] = names
        used_mod = {b.post for b in self.buckets if b.target == "mod_in"}
        consumers = {link.post for link in self.plastic}
        for post in sorted(used_mod - consumers):
            self.notes.append(f"reward input into {post} reaches no plastic synapse; it cannot change any spike "
                              f"and is left out")

    # ------------------------------------------------------------------------------ report
    def report(self) -> TranslationReport:
        rows = []
        fixed = self.fixed_point
        for group in self.groups:
            populations = ", ".join(group.populations)
            if group.translation.process != "LIF":
                parameters = ", ".join(f"{key} {value:g}" for key, value in group.values.items())
                rows.append(ProcessReport(group.name, group.translation.process, "neurons", f"{group.size} units",
                                          f"{populations} ({parameters})", False, group.translation.reason))
                continue
            parameters = f"du {group.decay_u:g}, dv {group.decay_v:g}, vth {group.vth:g}"
            problems = []
            if group.refractory_period:
                cls = "LIFRefractory"
                problems.append(f"refractory_period {group.refractory_period} (refractory_steps "
                                f"{group.refractory_period + 1}): lava's LIFRefractory has a floating-point model "
                                f"only and its fixed-point LIF has no refractoriness; translate with "
                                f"refractory='ignore' where it does not matter (sBP)")
            else:
                cls = "LIF"
            if not fixed:
                problems.append("floating-point model")
            else:
                problems += self.neurons[group.name].problems
            reason = "; ".join(problems)
            if group.dropped_refractory > 1:
                reason = (reason + "; " if reason else "") + \
                    f"refractory_steps up to {group.dropped_refractory} dropped (refractory='ignore')"
            if fixed and not problems:
                q = self.neurons[group.name]
                errors = ", ".join(f"{k} {e:.3g} (<= {b:.3g})" for k, (e, b) in q.errors.items() if e)
                reason = (reason + "; " if reason else "") + (f"quantisation errors: {errors}" if errors
                                                             else "maps with no quantisation error")
            rows.append(ProcessReport(group.name, cls, "neurons", f"{group.size} units",
                                      f"{populations} ({parameters})", not problems, reason))
        for bucket in self.buckets:
            if bucket.target == "mod_in" and bucket.post not in {link.post for link in self.plastic}:
                continue
            cls = "DelayDense" if bucket.delay else "Dense"
            problems = []
            if not fixed:
                problems.append("floating-point model")
            elif bucket.clipped or bucket.exp < fxp.WEIGHT_EXP_MIN or bucket.exp > fxp.WEIGHT_EXP_MAX:
                problems.append("weights exceed the 8-bit mantissa at the largest exponent")
            if bucket.delay > 63:
                problems.append("delay above Loihi 2's 63 steps")
            reason = "; ".join(problems)
            if fixed and not problems:
                detail = (f"weight_exp {bucket.exp}, {bucket.sign_mode}, max error {bucket.max_error:.3g}"
                          + (" (the Dense floors the summed activation: < 1 activation unit)"
                             if bucket.floors_sum else ""))
                reason = detail if bucket.max_error or bucket.floors_sum else f"exact ({detail})"
            role = "reward" if bucket.target == "mod_in" else "synapses"
            rows.append(ProcessReport(bucket.name, cls, role, f"{bucket.weights.shape[0]}x{bucket.weights.shape[1]}",
                                      ", ".join(bucket.projections), not problems, reason))
        for link in self.plastic:
            reason = link.rule.reason
            if fixed and link.error:
                reason += f"; weights off the integer grid at scale {self.scale:g} by up to {link.error:.3g}"
            rows.append(ProcessReport(link.name, link.rule.process.__name__, "plastic synapses",
                                      f"{len(link.weights)} synapses", f"{link.pre} -> {link.post}",
                                      link.rule.deployable and not link.error, reason))
        if self.source_size:
            rows.append(ProcessReport(SOURCES, "RingBuffer (source)", "io", f"{self.source_size} units",
                                      ", ".join(self.circuit.sources), False, _HOST_IO))
        for group in self.groups:
            rows.append(ProcessReport(f"{group.name}_spikes", "RingBuffer (sink)", "io", f"{group.size} units",
                                      f"spikes of {group.name}", False, _HOST_IO))
        notes = list(self.notes)
        if fixed:
            notes.append(f"fixed point at scale {self.scale:g}: one circuit weight unit = {self.scale:g} activation "
                         f"units = {64 * self.scale:g} internal units of u and v")
        return TranslationReport(self.circuit.name, fixed, self.scale, rows, notes)


# ===================================================================================================
# Results and the network object
# ===================================================================================================
@dataclass
class LavaResult:
    """Spikes per population as bool (steps, units) and final weights per plastic projection (circuit
    units, in the projection's synapse order)."""

    steps: int
    spikes: dict
    weights: dict
    fixed_point: bool
    wall_s: float

    def spike_matrix(self, population: str) -> np.ndarray:
        return self.spikes[population]

    def spike_counts(self, population: str) -> np.ndarray:
        return self.spikes[population].sum(axis=0)


@dataclass
class BuiltNetwork:
    """The lava processes of one build: by process name, and which serve each population / projection."""

    processes: dict
    sinks: dict
    plastic: dict
    populations: dict   #: population -> [(LIF process, unit indices within the population, indices in the LIF)]
    projections: dict   #: projection -> [process]
    fixed_point: bool
    steps: int


class LavaNetwork:
    """A circuit's lava translation. ``run`` builds fresh processes each time (lava processes run once),
    in floating point or fixed point; ``report`` lists the processes and their Loihi-deployability."""

    def __init__(self, circuit, steps: int, *, refractory: str = "exact", scale="auto", dv_max: int = 4096):
        if refractory not in REFRACTORY_MODES:
            raise ConfigError(f"refractory must be one of {REFRACTORY_MODES}, got {refractory!r}")
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ConfigError(f"steps must be a positive integer, got {steps!r}")
        if not circuit.populations:
            raise ConfigError(f"circuit {circuit.name!r} has no population to translate")
        self.circuit = circuit
        self.steps = int(steps)
        self.refractory = refractory
        self.scale = scale
        self.dv_max = dv_max
        self._plans = {}
        self.last_build: BuiltNetwork | None = None
        self.plan(False)  # validate now

    def plan(self, fixed_point: bool = False) -> _Plan:
        if fixed_point not in self._plans:
            self._plans[fixed_point] = _Plan(self.circuit, self.refractory, fixed_point, self.scale, self.dv_max)
        return self._plans[fixed_point]

    @property
    def groups(self) -> list:
        return self.plan(False).groups

    @property
    def has_fixed_point(self) -> bool:
        """Whether every process of the translation has a fixed-point model (SSNN-BP's has not)."""
        return all(group.translation.fixed_point for group in self.groups)

    def report(self, fixed_point: bool = True) -> TranslationReport:
        return self.plan(fixed_point).report()

    # ------------------------------------------------------------------------------ build
    def build(self, steps: int | None = None, fixed_point: bool = False) -> BuiltNetwork:
        from lava.proc.dense.process import DelayDense, Dense
        from lava.proc.io import sink
        from lava.proc.io.source import RingBuffer

        steps = self.steps if steps is None else int(steps)
        plan = self.plan(fixed_point)
        if fixed_point:
            refractory = [g.name for g in plan.groups if g.refractory_period]
            if refractory:
                raise ConfigError(f"circuit {self.circuit.name!r}: units with refractory_steps >= 2 ({refractory}) "
                                  f"have no fixed-point lava model (LIFRefractory is floating point only); "
                                  f"translate with refractory='ignore' if refractoriness never matters")
        prefix = self.circuit.name
        processes, sinks, plastic, edges = {}, {}, {}, []
        lifs = {}
        for group in plan.groups:
            shape = (group.size,)
            lif = group.translation.make(group, plan, fixed_point, f"{prefix}_{group.name}")
            recorder = sink.RingBuffer(shape=shape, buffer=steps)
            lif.s_out.connect(recorder.a_in)
            lifs[group.name] = processes[group.name] = lif
            sinks[group.name] = processes[f"{group.name}_spikes"] = recorder
            edges.append((group.name, f"{group.name}_spikes"))
        if plan.source_size:
            data = np.zeros((plan.source_size, steps), np.int32 if fixed_point else float)
            for source in self.circuit.sources.values():
                _, index = plan.locate[source.name]
                keep = source.steps < steps
                data[index[source.indices[keep]], source.steps[keep]] = 1
            lifs[SOURCES] = processes[SOURCES] = RingBuffer(data=data)

        plastic_posts = {link.post for link in plan.plastic}
        mod_buckets = {}
        projection_processes = {name: [] for name in self.circuit.projections}
        for bucket in plan.buckets:
            if bucket.target == "mod_in" and bucket.post not in plastic_posts:
                continue
            if fixed_point:
                weights = bucket.mantissa.astype(np.int32)
                extra = dict(weight_exp=bucket.exp, num_weight_bits=8, sign_mode=fxp.sign_mode_enum(bucket.sign_mode))
            else:
                weights, extra = bucket.weights, {}
            if bucket.delay:
                dense = DelayDense(weights=weights, delays=np.full(weights.shape, bucket.delay, dtype=int),
                                   name=f"{prefix}_{bucket.name}", **extra)
            else:
                dense = Dense(weights=weights, name=f"{prefix}_{bucket.name}", **extra)
            lifs[bucket.pre].s_out.connect(dense.s_in)
            edges.append((bucket.pre, bucket.name))
            if bucket.target == "mod_in":
                mod_buckets.setdefault(bucket.post, []).append((bucket.name, dense))
            else:
                dense.a_out.connect(getattr(lifs[bucket.post], bucket.target))
                edges.append((bucket.name, bucket.post))
            processes[bucket.name] = dense
            for projection in bucket.projections:
                projection_processes[projection].append(dense)

        for link in plan.plastic:
            group = plan.groups[plan.group_names.index(link.post)]
            rule, params = link.rule, dict(link.params)
            if fixed_point:
                weights = np.round(link.weights * plan.scale).astype(np.int32)
                params.update({key: int(round(params[key] * plan.scale)) for key in rule.scaled_params})
            else:
                weights = link.weights
            process = rule.make(plan.node_size(link.pre), group.size, link.pre_index, link.post_index, weights,
                                params, group.decay_mod_vector(), f"{prefix}_{link.name}")
            lifs[link.pre].s_out.connect(process.s_in)
            lifs[link.post].s_out.connect(process.s_in_bap)
            process.a_out.connect(lifs[link.post].a_in)
            for bucket_name, dense in (mod_buckets.get(link.post, []) if rule.uses_reward else []):
                dense.a_out.connect(process.mod_in)
                edges.append((bucket_name, link.name))
            edges += [(link.pre, link.name), (link.post, link.name)]
            processes[link.name] = plastic[link.name] = process
        for projection, names in plan.projection_plastic.items():
            projection_processes[projection] += [plastic[name] for name in names]

        self._link_components(processes, lifs, edges, fixed_point, prefix)
        populations = {}
        for group in plan.groups:
            start = 0
            for name, units in group.members:
                populations.setdefault(name, []).append((lifs[group.name], units, start + np.arange(len(units))))
                start += len(units)
        self.last_build = BuiltNetwork(processes, sinks, plastic, populations, projection_processes, fixed_point,
                                       steps)
        return self.last_build

    def _link_components(self, processes, lifs, edges, fixed_point, prefix):
        """Lava compiles the processes connected to the one it runs; join unconnected parts of the circuit
        with zero-weight Dense processes (they add nothing to any unit)."""
        from lava.proc.dense.process import Dense

        parent = {name: name for name in processes}

        def root(name):
            while parent[name] != name:
                parent[name] = parent[parent[name]]
                name = parent[name]
            return name

        for a, b in edges:
            parent[root(a)] = root(b)
        groups = [name for name in self.plan(fixed_point).group_names]
        anchor = groups[0]
        for name in groups[1:]:
            if root(name) != root(anchor):
                size_pre, size_post = lifs[anchor].s_out.shape[0], lifs[name].a_in.shape[0]
                link = Dense(weights=np.zeros((size_post, size_pre), np.int32 if fixed_point else float),
                             name=f"{prefix}_link_{name}")
                lifs[anchor].s_out.connect(link.s_in)
                link.a_out.connect(lifs[name].a_in)
                processes[f"link_{name}"] = link
                parent[root(name)] = root(anchor)

    # ------------------------------------------------------------------------------ run
    def run(self, steps: int | None = None, fixed_point: bool = False) -> LavaResult:
        """Build, run ``steps`` steps (default: the translation's) on lava's CPU simulator, read, stop."""
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg

        steps = self.steps if steps is None else steps
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ConfigError(f"steps must be a positive integer, got {steps!r}")
        built = self.build(int(steps), fixed_point)
        plan = self.plan(fixed_point)
        anchor = built.processes[plan.group_names[0]]
        start = time.perf_counter()
        with warnings.catch_warnings():
            # lava's model search executes every module of this package as a loose file, where dataclasses
            # cannot resolve their module; the models of SBPPlasticSynapses are found in its own module first
            warnings.filterwarnings("ignore",
                                    message=r"Cannot import module .*(translate|verify|fixed_point|rules|sbp|ssnn|erbp)")
            anchor.run(condition=RunSteps(num_steps=int(steps)),
                       run_cfg=Loihi2SimCfg(select_tag="fixed_pt" if fixed_point else "floating_pt"))
        try:
            recorded = {name: np.asarray(process.data.get()) for name, process in built.sinks.items()}
            learned = {name: np.asarray(process.weights.get(), dtype=float) for name, process in built.plastic.items()}
        finally:
            anchor.stop()
        wall = time.perf_counter() - start
        spikes = {}
        for population in self.circuit.populations.values():
            matrix = np.zeros((int(steps), population.size), bool)
            for group in plan.groups:
                offset = 0
                for name, units in group.members:
                    if name == population.name:
                        rows = recorded[group.name][offset:offset + len(units)]
                        matrix[:, units] = rows.T != 0
                    offset += len(units)
            spikes[population.name] = matrix
        weights = {}
        for projection, names in plan.projection_plastic.items():
            values = np.zeros(len(self.circuit.projections[projection].i))
            for name in names:
                link = next(link for link in plan.plastic if link.name == name)
                values[link.order] = learned[name] / plan.scale
            weights[projection] = values
        return LavaResult(int(steps), spikes, weights, fixed_point, wall)


def translate(circuit, steps: int, *, refractory: str = "exact", scale="auto", dv_max: int = 4096) -> LavaNetwork:
    """Translate a circuit into a Lava (lava-nc) network.

    Parameters
    ----------
    circuit : Circuit
        Any circuit whose models have a registered translation (:doc:`/guide/lava`).
    steps : int
        The length of the runs the network will make, in time steps.
    refractory : {'exact', 'ignore'}
        'exact': LIFRefractory for refractory periods of 2 steps or more (floating point only); 'ignore'.
    scale : 'auto' or float
        Fixed point: circuit units to activation units (``fixed_point.choose_scale`` or a number).
    dv_max : int
        Fixed point: 4096 maps ``decay_v = 1`` exactly (outside Loihi's 12-bit field); 4095 stays inside it
        (approximate).

    Returns
    -------
    LavaNetwork
        The processes, their connections and the readers of their spikes and weights.

    Raises
    ------
    ConfigError
        A model without a translation, or a setting the translation cannot honour.
    """
    return LavaNetwork(circuit, steps, refractory=refractory, scale=scale, dv_max=dv_max)


from spikingbp.lava import erbp as _erbp, ssnn as _ssnn  # noqa: E402,F401  (register their units and weights)

__all__ = ["translate", "LavaNetwork", "LavaResult", "BuiltNetwork", "TranslationReport", "ProcessReport",
           "SBPPlasticSynapses", "UnitGroup", "StaticBucket", "PlasticLink", "REFRACTORY_MODES", "NEURONS",
           "STATIC", "RULES", "NeuronTranslation", "StaticTranslation"]
