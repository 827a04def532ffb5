"""sBP (Renner et al. 2024): exact backprop in a synfire-gated binary circuit (docs/methods/sbp.md).

A 12-unit gating ring opens one phase per step; one training sample takes 12 steps, inference 4.
Every unit is the binary LoihiCUBA compartment; the post units of plastic synapses also carry the
reward compartment (``LoihiCUBAModulated``). The whole circuit is a table of ``(pre, post, type)`` rows
(``TRAINING_ROWS``), the plastic projections and the spike sources (data, targets, kick, reward).

Timing: the kick spikes at step 0, so gate ``gKK`` fires at step ``1 + KK + 12 c`` in cycle ``c`` and the
units it gates fire one step later, at ``phase_step(KK, c) = 2 + KK + 12 c``. Sample ``c`` of the
presentation order is presented in cycle ``c``.

Population names (spec name in brackets): ``x``, ``m_x`` [m_x6]; ``h`` [h1], ``h_lt`` [h1<, h1_copy],
``h_gt`` [h1>, h1_copy2], ``m_h`` [m_h1], ``c_h`` [c_h1], ``hT`` [h1T]; ``o``, ``o_lt`` [o<], ``o_gt`` [o>],
``t``, ``d_plus`` [d+], ``d_minus`` [d-], ``oT_minus`` [oT-].
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spikingbp.circuits.sgsc import (CONNECTION_TYPES, DATA_BIAS, THRESHOLD, add_layer, gating_chain, kick,
                                     parse_type, silencing_weight, wire)
from spikingbp.circuits.spikes import SpikeSource, is_binary
from spikingbp.errors import CircuitError, ConfigError

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit

TRAINING_PHASES = 12
INFERENCE_PHASES = 4
WEIGHT_LIMIT = 254

HIDDEN_LEARNING = ("h", "h_lt", "h_gt")   # post units of the three copies of W1
OUTPUT_LEARNING = ("o", "o_lt", "o_gt")   # post units of the three copies of W2
LEARNING = HIDDEN_LEARNING + OUTPUT_LEARNING + ("hT",)


def _gated(gate: str, targets, kind: str):
    return [(gate, target, kind) for target in targets]


#: Every static connection of the training circuit, phase by phase (docs/methods/sbp.md, "The 12-phase cycle").
TRAINING_ROWS = [
    # sources
    ("input", "x", "1e"), ("target", "t", "1e"),
    # 1: x = input bits; x is remembered in m_x (arrives in phase 6)
    ("g01", "x", "g"), ("x", "m_x", "1e_d4"),
    # 2: h = H(a1 > 512), h< = H(a1 > 0), h> = H(a1 > 1024); f' = h< AND NOT h> reaches c_h in phase 6
    ("g02", "h", "g"), ("g02", "h_lt", "g"), ("g02", "h_lt", "gm05"), ("g02", "h_gt", "gp05"),
    ("h_lt", "c_h", "1e_d3"), ("h_gt", "c_h", "1i_d3"),
    # 3: o, o<, o>, the target t; h is remembered in m_h
    ("g03", "o", "g"), ("g03", "o_lt", "g"), ("g03", "o_lt", "gm05"), ("g03", "o_gt", "gp05"), ("g03", "t", "g"),
    ("g03", "m_h", "g"), ("h", "m_h", "1e"),
    # 4: d+ = t AND NOT o, d- = o AND NOT t AND NOT o>, both gated unit by unit by o<
    ("o_lt", "d_plus", "g1"), ("t", "d_plus", "1e"), ("o", "d_plus", "1i"),
    ("o_lt", "d_minus", "g1"), ("o", "d_minus", "1e"), ("t", "d_minus", "1i"), ("o_gt", "d_minus", "1i"),
    ("g04", "hT", "gi"),
    # 5: W2 potentiation (reward): h replayed from m_h, o and copies driven by d+, oT- by d-
    *_gated("g05", ("h", "hT", "o", "o_lt", "o_gt", "oT_minus"), "g"),
    ("m_h", "h", "1e_d1"), ("m_h", "hT", "1e_d1"),
    ("d_plus", "o", "1e"), ("d_plus", "o_lt", "1e"), ("d_plus", "o_gt", "1e"), ("d_minus", "oT_minus", "1e"),
    # 6: backward pass, positive half: hT = H(W2^T d2 > 0); c_h = f'; x replayed into m_x
    ("g06", "hT", "g"), ("g06", "hT", "gm05"), ("g06", "c_h", "g"), ("g06", "m_x", "g"),
    *_gated("g06", HIDDEN_LEARNING + OUTPUT_LEARNING, "gi"),
    # 7: W1 potentiation (reward): x replayed, h and copies driven by hT, gated unit by unit by c_h
    ("g07", "x", "g"), ("m_x", "x", "1e"),
    ("hT", "h", "1e"), ("hT", "h_lt", "1e"), ("hT", "h_gt", "1e"),
    ("c_h", "h", "g1"), ("c_h", "h_lt", "g1"), ("c_h", "h_gt", "g1"),
    # 8: silence
    *_gated("g08", HIDDEN_LEARNING + OUTPUT_LEARNING, "gi"),
    # 9: W2 depression (no reward): roles of d+ and d- swapped
    *_gated("g09", ("h", "hT", "o", "o_lt", "o_gt", "oT_minus"), "g"),
    ("m_h", "h", "1e_d5"), ("m_h", "hT", "1e_d5"),
    ("d_minus", "o", "1e_d4"), ("d_minus", "o_lt", "1e_d4"), ("d_minus", "o_gt", "1e_d4"),
    ("d_plus", "oT_minus", "1e_d4"),
    # 10: backward pass, negative half
    ("g10", "hT", "g"), ("g10", "hT", "gm05"),
    *_gated("g10", HIDDEN_LEARNING + OUTPUT_LEARNING, "gi"),
    # 11: W1 depression: x replayed, h and copies gated by c_h (held four steps)
    ("g11", "x", "g"), ("m_x", "x", "1e_d4"),
    ("c_h", "h", "g1_d4"), ("c_h", "h_lt", "g1_d4"), ("c_h", "h_gt", "g1_d4"),
    # 0: silence before the next sample
    *_gated("g00", HIDDEN_LEARNING + OUTPUT_LEARNING, "gi"),
]

#: The inference circuit: forward pass only, four phases.
INFERENCE_ROWS = [("input", "x", "1e"), ("g01", "x", "g"), ("g02", "h", "g"), ("g03", "o", "g")]


#: Connection types that open or close a unit's phase; by construction none of them arrives in a phase that
#: ``gi`` silences, so the silencing bound counts everything else.
GATE_KINDS = ("g", "gm05", "gp05", "gi", "g1")


def largest_inputs(circuit: Circuit, rows) -> dict:
    """Per population, the largest input it can receive in one step besides its gates: every plastic
    synapse at +WEIGHT_LIMIT plus every excitatory relay among ``rows``. A 784-input hidden layer can
    reach 784 * 254 = 199,136, far beyond the 17,344 that bias -8192 and gi -8128 hold back."""
    bound = {}
    for projection in circuit.projections.values():
        if projection.plastic:
            fan_in = np.bincount(projection.j, minlength=circuit.size_of(projection.post)).max()
            bound[projection.post] = bound.get(projection.post, 0.0) + float(fan_in) * WEIGHT_LIMIT
    for _, post, kind in rows:
        ctype, _ = parse_type(kind)
        if kind.partition("_d")[0] not in GATE_KINDS and ctype.weight > 0:
            bound[post] = bound.get(post, 0.0) + ctype.weight
    return bound


def phase_step(phase: int, cycle, phases: int = TRAINING_PHASES):
    """The step at which units gated in ``phase`` of ``cycle`` fire (kick at step 0)."""
    return 2 + phase + phases * np.asarray(cycle)


def training_steps(n_samples: int) -> int:
    """Steps that cover ``n_samples`` training cycles, including the last coincidence (phase 11), plus
    one step so that a backend that processes spikes one step late (GeNN) sees it too."""
    return int(phase_step(11, n_samples - 1)) + 2


def inference_steps(n_samples: int) -> int:
    return int(phase_step(3, n_samples - 1, INFERENCE_PHASES)) + 1


def training_capacity(n_samples: int, n_in: int, n_out: int) -> int:
    """The most source spikes a training circuit of ``n_samples`` can hold: every input and target bit on,
    two reward spikes per sample and the kick (what a compiled training program is built for)."""
    return n_samples * (n_in + n_out + 2) + 1


def inference_capacity(n_samples: int, n_in: int) -> int:
    """The most source spikes an inference circuit of ``n_samples`` can hold."""
    return n_samples * n_in + 1


def _check_inputs(W1, W2, inputs, targets=None):
    W1, W2 = np.asarray(W1), np.asarray(W2)
    if W1.ndim != 2 or W2.ndim != 2 or W1.shape[1] != W2.shape[0]:
        raise ConfigError(f"W1 must be (n_in, n_hidden) and W2 (n_hidden, n_out); got {W1.shape} and {W2.shape}")
    for name, W in (("W1", W1), ("W2", W2)):
        if not np.all(np.isfinite(W)) or np.any(np.abs(W) > WEIGHT_LIMIT) or np.any(W % 2 != 0):
            raise ConfigError(f"{name} must hold even integers in [-{WEIGHT_LIMIT}, {WEIGHT_LIMIT}] (weight units)")
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[1] != W1.shape[0] or len(inputs) == 0:
        raise ConfigError(f"inputs must be (n_samples, {W1.shape[0]}) binary, got shape {inputs.shape}")
    if not is_binary(inputs):
        raise ConfigError("inputs must be binary (0/1 or bool)")
    if targets is not None:
        targets = np.asarray(targets)
        if targets.shape != (len(inputs), W2.shape[1]) or not is_binary(targets):
            raise ConfigError(f"targets must be one-hot (n_samples, {W2.shape[1]}), got shape {targets.shape}")
        rows = np.flatnonzero(targets.sum(axis=1) != 1)
        if len(rows):
            raise ConfigError(f"targets must be one-hot: row {rows[0]} has {int(targets[rows[0]].sum())} ones "
                              f"({len(rows)} such rows); give exactly one 1 per sample")
    return W1, W2, inputs.astype(bool), None if targets is None else targets.astype(bool)


def _sample_spikes(bits: np.ndarray, steps: np.ndarray):
    """Spike source data: unit k spikes at ``steps[c]`` when ``bits[c, k]``."""
    cycle, unit = np.nonzero(bits)
    return unit, steps[cycle]


def _add_learning_layer(circuit: Circuit, name: str, size: int, refractory_steps: int):
    from spikingbp.models.neurons import LoihiCUBAModulated

    return circuit.add_population(name, size, LoihiCUBAModulated, decay_u=1.0, decay_v=1.0, vth=THRESHOLD,
                                  bias=DATA_BIAS, refractory_steps=refractory_steps)


#: The plastic projections of the training circuit: name -> (pre, post, what its weights are).
PLASTIC = {**{f"W1_{post}": ("x", post, "W1") for post in HIDDEN_LEARNING},
           **{f"W2_{post}": ("h", post, "W2") for post in OUTPUT_LEARNING},
           "W2Tp_hT": ("o", "hT", "+W2T"), "W2Tm_hT": ("oT_minus", "hT", "-W2T")}
PLASTIC_PROJECTIONS = tuple(PLASTIC)


def training_inputs(W1, W2, inputs, targets):
    """What a training run of ``inputs`` (N, n_in) bool with one-hot ``targets`` (N, n_out) from ``W1``,
    ``W2`` feeds its circuit, as plain arrays: the spike sources (kick, input, target, reward) by name and the
    weights of ``PLASTIC_PROJECTIONS`` (pre-major, as all_to_all numbers its synapses). The training
    circuit is built from these, and a compiled training program reruns with them (no Brian2)."""
    W1, W2, inputs, targets = _check_inputs(W1, W2, inputs, targets)
    cycles = np.arange(len(inputs))
    # The reward is present in phases 5 and 7: its spike arrives in the modulator one step later.
    reward_steps = np.sort(np.concatenate([phase_step(5, cycles) - 1, phase_step(7, cycles) - 1]))
    sources = {"g_kick": kick(),
               "input": SpikeSource("input", W1.shape[0], *_sample_spikes(inputs, phase_step(1, cycles) - 1)),
               "target": SpikeSource("target", W2.shape[1], *_sample_spikes(targets, phase_step(3, cycles) - 1)),
               "reward": SpikeSource("reward", 1, np.zeros(len(reward_steps), np.int64), reward_steps)}
    matrices = {"W1": W1, "W2": W2, "+W2T": W2.T, "-W2T": -W2.T}
    weights = {name: matrices[which].astype(float).ravel() for name, (_, _, which) in PLASTIC.items()}
    return sources, weights


def training_circuit(W1, W2, inputs, targets, name: str = "sbp") -> Circuit:
    """The 12-phase training circuit for the samples ``inputs`` (N, n_in) bool with one-hot ``targets``
    (N, n_out), presented in that order, starting from weights ``W1`` (n_in, n_hidden) and ``W2``
    (n_hidden, n_out). Three plastic copies of W1 (into h, h_lt, h_gt) and of W2 (into o, o_lt, o_gt),
    and W2Tp = +W2^T (o -> hT) and W2Tm = -W2^T (oT_minus -> hT), all learning by ``SBPRewardRule``."""
    from spikingbp.circuits.circuit import Circuit
    from spikingbp.models.plasticity import SBPRewardRule

    sources, weights = training_inputs(W1, W2, inputs, targets)  # checks the arguments
    n_in, n_hidden, n_out = np.shape(W1)[0], np.shape(W1)[1], np.shape(W2)[1]
    circuit = Circuit(name)
    gating_chain(circuit, TRAINING_PHASES)
    for population, size in (("x", n_in), ("m_x", n_in), ("m_h", n_hidden), ("c_h", n_hidden),
                             ("t", n_out), ("d_plus", n_out), ("d_minus", n_out), ("oT_minus", n_out)):
        add_layer(circuit, population, size, refractory_steps=2)
    for population in HIDDEN_LEARNING:
        _add_learning_layer(circuit, population, n_hidden, refractory_steps=2)
    for population in OUTPUT_LEARNING:
        _add_learning_layer(circuit, population, n_out, refractory_steps=2)
    _add_learning_layer(circuit, "hT", n_hidden, refractory_steps=0)  # fires in phases 5 and 6 in a row

    for source in (sources["input"], sources["target"], sources["reward"]):  # the kick came with the chain
        circuit.add_source(source.name, source.size, source.indices, source.steps)
    for population in LEARNING:
        circuit.connect("reward", population, 1.0, pattern="all_to_all", target="mod_in", kind="reward")
    for projection, (pre, post, _) in PLASTIC.items():
        circuit.connect(pre, post, weights[projection], pattern="all_to_all", synapse=SBPRewardRule, kind="p",
                        name=projection)
    # The summed plastic input arrives ungated in the phases gi silences (a1 in 8 and 0, a2 in 6, 8, 10, 0):
    # gi must hold back the largest sum the weights can reach, or units fire outside their phase.
    inhibition = {name: silencing_weight(bound) for name, bound in largest_inputs(circuit, TRAINING_ROWS).items()}
    wire(circuit, TRAINING_ROWS, inhibition=inhibition)
    return circuit


def weights_of(weights: dict, n_in: int, n_hidden: int, n_out: int) -> dict:
    """All plastic weight copies of a training run (its recorded ``weights``, projection name -> values, from
    Brian2 or Lava) as integer matrices in (pre, post) layout:
    ``W1_h``, ``W1_h_lt``, ``W1_h_gt`` (n_in, n_hidden); ``W2_o``, ... (n_hidden, n_out); ``W2Tp_hT`` and
    ``W2Tm_hT`` (n_out, n_hidden). Projections were built all_to_all, so synapse k is (k // n_post, k % n_post)."""
    shapes = {"W1": (n_in, n_hidden), "W2": (n_hidden, n_out), "W2Tp": (n_out, n_hidden), "W2Tm": (n_out, n_hidden)}
    matrices = {}
    for name, values in weights.items():
        rounded = np.rint(values)
        if np.any(np.abs(values - rounded) > 1e-9):
            raise CircuitError(f"plastic weights of {name} left the integer grid; the circuit is not exact")
        matrices[name] = rounded.astype(np.int32).reshape(shapes[name.split("_")[0]])
    return matrices



def train(W1, W2, inputs, targets, device: str = "runtime", directory: str | None = None, *,
          check_copies: bool = True, **device_options):
    """Train on ``inputs``/``targets`` in the given order in one run on ``device``; returns the new
    (W1, W2) as int32. With ``check_copies`` the copies are verified identical to W1, W2 and +-W2^T."""
    circuit = training_circuit(W1, W2, inputs, targets)  # checks the arguments
    W1, W2 = np.asarray(W1), np.asarray(W2)
    result = circuit.run(training_steps(len(inputs)), device, directory, record_spikes=(),
                         record_weights=PLASTIC_PROJECTIONS, **device_options)
    if result is None:  # code generation only
        return None
    return learned_weights(result, *W1.shape, W2.shape[1], check_copies=check_copies)


def learned_weights(result, n_in: int, n_hidden: int, n_out: int, *, check_copies: bool = True):
    """(W1, W2) int32 after a training run that recorded ``PLASTIC_PROJECTIONS``; with ``check_copies``
    every copy must equal W1, W2 or +-W2^T (``CircuitError`` otherwise)."""
    weights = weights_of(result.weights, n_in, n_hidden, n_out)
    W1_new, W2_new = weights["W1_h"], weights["W2_o"]
    if check_copies:
        copies = {"W1_h_lt": W1_new, "W1_h_gt": W1_new, "W2_o_lt": W2_new, "W2_o_gt": W2_new,
                  "W2Tp_hT": W2_new.T, "W2Tm_hT": -W2_new.T}
        for name, expected in copies.items():
            if not np.array_equal(weights[name], expected):
                raise CircuitError(f"the plastic copy {name} diverged from its original; the circuit is not exact "
                                   f"(please report this with the data and weights that led to it)")
    return W1_new, W2_new


def inference_inputs(W1, W2, inputs):
    """What an inference run of ``inputs`` feeds its circuit: the source ``input`` and the weights of the
    projections ``W1`` and ``W2`` (pre-major), as plain arrays (see ``training_inputs``)."""
    W1, W2, inputs, _ = _check_inputs(W1, W2, inputs)
    cycles = np.arange(len(inputs))
    sources = {"g_kick": kick(), "input": SpikeSource(
        "input", W1.shape[0], *_sample_spikes(inputs, phase_step(1, cycles, INFERENCE_PHASES) - 1))}
    return sources, {"W1": W1.astype(float).ravel(), "W2": W2.astype(float).ravel()}


def inference_circuit(W1, W2, inputs, name: str = "sbp_inference") -> Circuit:
    """The 4-phase forward circuit: x -> h -> o with static weights, one sample per cycle."""
    from spikingbp.circuits.circuit import Circuit

    sources, weights = inference_inputs(W1, W2, inputs)  # checks the arguments
    n_in, n_hidden, n_out = np.shape(W1)[0], np.shape(W1)[1], np.shape(W2)[1]
    circuit = Circuit(name)
    gating_chain(circuit, INFERENCE_PHASES)
    add_layer(circuit, "x", n_in, refractory_steps=2)
    add_layer(circuit, "h", n_hidden, refractory_steps=2)
    add_layer(circuit, "o", n_out, refractory_steps=2)
    source = sources["input"]
    circuit.add_source(source.name, source.size, source.indices, source.steps)
    wire(circuit, INFERENCE_ROWS)
    circuit.connect("x", "h", weights["W1"], pattern="all_to_all", kind="f", name="W1")
    circuit.connect("h", "o", weights["W2"], pattern="all_to_all", kind="f", name="W2")
    return circuit


def infer(W1, W2, inputs, device: str = "runtime", directory: str | None = None, **device_options):
    """Run the inference circuit; returns (output spikes (N, n_out) bool, output potentials a2 (N, n_out) int)."""
    circuit = inference_circuit(W1, W2, inputs)  # checks the arguments
    result = circuit.run(inference_steps(len(inputs)), device, directory, record_spikes=INFERENCE_SPIKES,
                         record_states=INFERENCE_STATES, **device_options)
    if result is None:
        return None
    return inference_outputs(result, len(inputs))


#: What an inference run records for ``inference_outputs``.
INFERENCE_SPIKES = ("o",)
INFERENCE_STATES = {"o": ("u",)}


def inference_outputs(result, n_samples: int):
    """(output spikes (N, n_out) bool, output potentials a2 (N, n_out) int) of the first ``n_samples``
    samples of an inference run that recorded ``INFERENCE_SPIKES`` and ``INFERENCE_STATES``."""
    readout = phase_step(3, np.arange(n_samples), INFERENCE_PHASES)
    spikes = result.spike_matrix("o")[readout]
    gate = CONNECTION_TYPES["g"].weight  # u = a2 + the g03 gate's weight in the readout step
    potentials = np.rint(result.states["o"]["u"][readout] - gate).astype(np.int64)
    return spikes, potentials


__all__ = ["TRAINING_ROWS", "INFERENCE_ROWS", "PLASTIC", "PLASTIC_PROJECTIONS", "INFERENCE_SPIKES", "INFERENCE_STATES",
           "training_circuit", "inference_circuit", "training_inputs", "inference_inputs", "train", "infer",
           "phase_step", "training_steps", "inference_steps", "training_capacity", "inference_capacity",
           "largest_inputs", "learned_weights", "weights_of", "inference_outputs"]
