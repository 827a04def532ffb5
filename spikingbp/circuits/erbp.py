"""eRBP (Neftci et al. 2017, docs/methods/erbp.md): data -> hidden -> output units (``ERBPUnit``) learning by
event-driven random backprop, with a pair of error units per class (``ERBPError``), on ``spikingbp.models.erbp``.

Populations ``h1`` ... ``hL`` and ``o`` (``ERBPUnit``), ``e`` (``ERBPError``: units 0 .. n_out - 1 the positive
parts [label - output]+, then the negative parts [output - label]+). Sources ``data`` (the stochastic data
units' spikes), ``label`` (the label units' spikes) and ``noise_<population>`` (the noise events of each
unit). Projections:

- ``W0`` (data -> h1), ``W1`` ... (-> o): ``ERBPWeights``, the learned weights;
- ``label_error`` (label j -> e+ j: +0.09, -> e- j: -0.09) and ``output_error`` (o j -> e+ j: -0.09,
  -> e- j: +0.09), into the error units;
- ``error_output`` (e+ j -> o j: +0.09, e- j -> o j: -0.09) and ``feedback<l>`` (e -> h_l: the fixed random
  G_l for e+, -G_l for e-), into the dendrites;
- ``noise_in_<population>``: sigma per noise event into the membrane;
- with blank-out (p < 1): ``ERBPBlankOutWeights`` for the learned weights, and ``seed_in_<population>`` from
  the ``seed`` source (31 units, the bits of each sample's seed, in its first step) to every unit.

Sample c occupies steps [c T, (c + 1) T); its first step starts every unit from rest, so spikes of its last
step reach no one. The random streams (data and label spikes, noise events) are made outside the circuit
(``spikingbp.algorithms.erbp``), so that the circuit and the numpy reference (``spikingbp.reference.erbp``)
run on the same ones. A run of K samples lasts K T steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spikingbp.circuits.spikes import SpikeSource, is_binary
from spikingbp.errors import ConfigError
from spikingbp.lehmer import MODULUS as LEHMER_M
from spikingbp.models.erbp import ERBPSettings  # noqa: F401  (the settings of the circuit and the reference)

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit


def check_streams(weights, feedback, data, labels, noise):
    """``weights`` [W0 (n_in, n_h1), ..., (n_hL, n_out)], ``feedback`` [G_l (n_out, n_hl)], bool ``data`` (N, T,
    n_in), ``labels`` (N, T, n_out) and ``noise`` (N, T, n_h1 + ... + n_out); returns them as arrays."""
    weights = [np.asarray(W, dtype=float) for W in weights]
    if len(weights) < 2 or any(W.ndim != 2 for W in weights) or any(
            a.shape[1] != b.shape[0] for a, b in zip(weights, weights[1:])):
        raise ConfigError(f"weights must be matrices (n_l, n_l+1) that chain, at least two; got shapes "
                          f"{[W.shape for W in weights]}")
    hidden, n_out = [W.shape[1] for W in weights[:-1]], weights[-1].shape[1]
    feedback = [np.asarray(G, dtype=float) for G in feedback]
    if [G.shape for G in feedback] != [(n_out, n) for n in hidden]:
        raise ConfigError(f"feedback must be one matrix (n_out, n_hidden) per hidden layer, shapes "
                          f"{[(n_out, n) for n in hidden]}; got {[G.shape for G in feedback]}")
    if not all(np.all(np.isfinite(M)) for M in weights + feedback):
        raise ConfigError("weights and feedback must be finite")
    data, labels, noise = (np.asarray(x) for x in (data, labels, noise))
    units = sum(hidden) + n_out
    for name, stream, n in (("data", data, weights[0].shape[0]), ("labels", labels, n_out), ("noise", noise, units)):
        if stream.ndim != 3 or stream.shape[2] != n or stream.shape[:2] != data.shape[:2] or \
                not is_binary(stream):
            raise ConfigError(f"{name} must be bool trains (N, T, {n}) like data {data.shape[:2]}, got shape "
                              f"{stream.shape}")
    return weights, feedback, data.astype(bool), labels.astype(bool), noise.astype(bool)


def _train_source(name: str, trains: np.ndarray, T: int) -> SpikeSource:
    sample, step, unit = np.nonzero(trains)
    return SpikeSource(name, trains.shape[2], unit, sample * T + step)


def layer_names(n_hidden: int) -> list:
    return [f"h{layer}" for layer in range(1, n_hidden + 1)] + ["o"]


SEED_BITS = 31  # a sample seed is an integer in [1, 2^31 - 2]: one seed-source unit per bit


def seed_source(seeds, T: int) -> SpikeSource:
    """The seed source: in each sample's first step, unit b fires where bit b of the sample's seed is set."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.ndim != 1 or np.any(seeds < 1) or np.any(seeds >= LEHMER_M):
        raise ConfigError(f"seeds must be one integer in [1, {LEHMER_M - 1}] per sample, got {seeds!r}")
    bits = (seeds[:, None] >> np.arange(SEED_BITS)) & 1
    sample, unit = np.nonzero(bits)
    return SpikeSource("seed", SEED_BITS, unit, sample * T)


@dataclass(frozen=True)
class StreamEvents:
    """The spikes of a run's streams as index arrays (sample, step, unit): ``data`` (units of n_in), ``labels``
    (of n_out) and ``noise`` (of the hidden layers, then the output), for ``samples`` samples of ``T`` steps; the
    sparse form of ``check_streams``' bool trains, which the compiled circuit takes without the dense arrays."""

    samples: int
    T: int
    data: tuple
    labels: tuple
    noise: tuple

    def dense(self, name: str, units: int) -> np.ndarray:
        """One stream as bool trains (samples, T, units)."""
        trains = np.zeros((self.samples, self.T, units), bool)
        trains[getattr(self, name)] = True
        return trains

    def counts(self, name: str) -> np.ndarray:
        """Spikes of one stream per sample and step (samples, T)."""
        sample, step, _ = getattr(self, name)
        return np.bincount(sample * self.T + step, minlength=self.samples * self.T).reshape(self.samples, self.T)


def _event_source(name: str, size: int, events: tuple, T: int, first: int = 0) -> SpikeSource:
    """The source of the events of units [first, first + size) of ``events`` (sample, step, unit)."""
    sample, step, unit = events
    mine = (unit >= first) & (unit < first + size)
    return SpikeSource(name, size, unit[mine] - first, sample[mine] * T + step[mine])


def event_inputs(weights, feedback, events: StreamEvents, seeds=None):
    """``run_inputs`` of streams given as ``StreamEvents``."""
    weights = [np.asarray(W, dtype=float) for W in weights]
    sizes = [W.shape[1] for W in weights]
    n_in, n_out, T = weights[0].shape[0], sizes[-1], events.T
    units = sum(sizes)
    for name, n in (("data", n_in), ("labels", n_out), ("noise", units)):
        sample, step, unit = getattr(events, name)
        if len(sample) and (sample.min() < 0 or sample.max() >= events.samples or step.min() < 0 or
                            step.max() >= T or unit.min() < 0 or unit.max() >= n):
            raise ConfigError(f"{name} events must lie in {events.samples} samples x {T} steps x {n} units")
    sources = {"data": _event_source("data", n_in, events.data, T),
               "label": _event_source("label", n_out, events.labels, T)}
    offsets = np.cumsum([0] + sizes)
    for name, start, stop in zip(layer_names(len(sizes) - 1), offsets, offsets[1:]):
        sources[f"noise_{name}"] = _event_source(f"noise_{name}", int(stop - start), events.noise, T, int(start))
    if seeds is not None:
        if len(seeds) != events.samples:
            raise ConfigError(f"give one seed per sample: {events.samples} samples, {len(seeds)} seeds")
        if np.any(events.data[1] == 0):
            raise ConfigError("with blank-out the data units must be silent in a sample's first step (the step "
                              "in which its seed arrives)")
        sources["seed"] = seed_source(seeds, T)
    return sources, variable_weights(weights, feedback)


def run_inputs(weights, feedback, data, labels, noise, T: int, seeds=None):
    """The spike sources (data, label, noise_<population>, and with ``seeds``, one per sample, the seed source)
    and the weights (W0, W1, ...; pre-major) of a run, as plain arrays: the circuit is built from these, and a
    compiled program reruns with them (no Brian2)."""
    weights, feedback, data, labels, noise = check_streams(weights, feedback, data, labels, noise)
    if data.shape[1] != T:
        raise ConfigError(f"the streams have {data.shape[1]} steps per sample, the circuit T = {T}")
    sizes = [W.shape[1] for W in weights]
    offsets = np.cumsum([0] + sizes)
    sources = {"data": _train_source("data", data, T), "label": _train_source("label", labels, T)}
    for name, start, stop in zip(layer_names(len(sizes) - 1), offsets, offsets[1:]):
        sources[f"noise_{name}"] = _train_source(f"noise_{name}", noise[:, :, start:stop], T)
    if seeds is not None:
        if len(seeds) != len(data):
            raise ConfigError(f"give one seed per sample: {len(data)} samples, {len(seeds)} seeds")
        if data[:, 0].any():
            raise ConfigError("with blank-out the data units must be silent in a sample's first step (the step "
                              "in which its seed arrives)")
        sources["seed"] = seed_source(seeds, T)
    return sources, variable_weights(weights, feedback)


def variable_weights(weights, feedback) -> dict:
    """The weights a compiled program takes anew each run, by projection, in synapse order: the learned W0, W1, ...
    (pre-major) and the feedback from the error units (``feedback<l>``: the rows of G for e+, then -G for e-), so
    that runs of other seeds (other feedback) share one program."""
    flat = {f"W{layer}": np.asarray(W, float).ravel() for layer, W in enumerate(weights)}
    for layer, G in enumerate(feedback, start=1):
        flat[f"feedback{layer}"] = np.concatenate([np.asarray(G, float), -np.asarray(G, float)]).ravel()
    return flat


def erbp_circuit(weights, feedback, data, labels, noise, settings: ERBPSettings = ERBPSettings(),
                 name: str = "erbp", seeds=None, keys=None) -> "Circuit":
    """The eRBP circuit of ``weights`` and ``feedback`` (see ``check_streams``) for the samples whose streams
    are ``data``, ``labels`` and ``noise``, in that order. With eta = 0 it is the test circuit (give empty
    label trains); ``data`` may instead be the ``StreamEvents`` of all three (``labels`` and ``noise`` None). With
    blank-out (settings.p < 1) give ``seeds`` (one per sample) and ``keys`` (one integer
    matrix like each weight matrix, in [1, 2^31 - 2]: the synapses' generator keys)."""
    from spikingbp.circuits.circuit import Circuit
    from spikingbp.models.erbp import ERBPBlankOutWeights, ERBPError, ERBPUnit, ERBPWeights
    from spikingbp.models.synapses import Static

    s = settings
    blank_out = s.p < 1.0
    if blank_out and (seeds is None or keys is None or [np.shape(k) for k in keys] != [np.shape(W) for W in weights]):
        raise ConfigError(f"blank-out (p = {s.p}) needs one seed per sample and keys shaped like the weights "
                          f"{[np.shape(W) for W in weights]}")
    if isinstance(data, StreamEvents):
        if data.T != s.T:
            raise ConfigError(f"the streams have {data.T} steps per sample, the circuit T = {s.T}")
        sources, flat = event_inputs(weights, feedback, data, seeds if blank_out else None)
    else:
        sources, flat = run_inputs(weights, feedback, data, labels, noise, s.T, seeds if blank_out else None)
    hidden, n_out = [np.shape(W)[1] for W in weights[:-1]], np.shape(weights[-1])[1]
    layers = layer_names(len(hidden))
    circuit = Circuit(name, sample_steps=s.T)
    unit = dict(T=s.T, theta=s.theta, k_mem=s.k_mem, decay_syn=s.decay_syn, decay_dend=s.decay_dend,
                ref_steps=s.ref_steps, learn_after=s.learn_after, noise_carry=s.noise_carry)
    for layer, size in zip(layers, hidden + [n_out]):
        circuit.add_population(layer, size, ERBPUnit, **unit)
    circuit.add_population("e", 2 * n_out, ERBPError, T=s.T, theta=s.theta)
    for source in sources.values():
        circuit.add_source(source.name, source.size, source.indices, source.steps)
    for layer, (pre, post) in enumerate(zip(["data"] + layers[:-1], layers)):
        rule = dict(eta=s.eta, b_min=s.b_min, b_max=s.b_max)
        if blank_out:
            rule.update(synapse=ERBPBlankOutWeights, key=np.asarray(keys[layer], float).ravel(),
                        pass_below=pass_below(s.p))
        circuit.connect(pre, post, flat[f"W{layer}"], pattern="all_to_all", synapse=rule.pop("synapse", ERBPWeights),
                        name=f"W{layer}", kind="p", **rule)
    classes = np.arange(n_out)
    pairs = dict(i=np.concatenate([classes, classes]), j=np.concatenate([classes, classes + n_out]))
    w = s.error_weight * np.concatenate([np.ones(n_out), -np.ones(n_out)])   # to e+, then to e-
    circuit.connect("label", "e", w, **pairs, target="e_in", synapse=Static, name="label_error", kind="label")
    circuit.connect("o", "e", -w, **pairs, target="e_in", synapse=Static, name="output_error", kind="error")
    circuit.connect("e", "o", w, i=np.arange(2 * n_out), j=np.concatenate([classes, classes]), target="e_in",
                    synapse=Static, name="error_output", kind="error")
    for layer in range(1, len(feedback) + 1):   # e+ rows, then e- rows
        circuit.connect("e", f"h{layer}", flat[f"feedback{layer}"], pattern="all_to_all", target="e_in", synapse=Static,
                        name=f"feedback{layer}", kind="feedback")
    for layer in layers:
        circuit.connect(f"noise_{layer}", layer, s.sigma, pattern="one_to_one", target="n_in", synapse=Static,
                        name=f"noise_in_{layer}", kind="noise")
        if blank_out:   # bit b of the sample seed adds 2^b to every unit's seed_in
            bits = np.repeat(2.0 ** np.arange(SEED_BITS)[:, None], circuit.populations[layer].size, axis=1)
            circuit.connect("seed", layer, bits, pattern="all_to_all", target="seed_in", synapse=Static,
                            name=f"seed_in_{layer}", kind="seed")
    return circuit


def pass_below(p: float) -> float:
    """The draw below which a spike passes a blank-out synapse: p (2^31 - 1)."""
    return float(p) * LEHMER_M


def weight_projections(n_layers: int) -> tuple:
    """The projections whose weights a run reports."""
    return tuple(f"W{layer}" for layer in range(n_layers))


def feedback_projections(n_hidden: int) -> tuple:
    """The projections of the fixed feedback, one per hidden layer."""
    return tuple(f"feedback{layer}" for layer in range(1, n_hidden + 1))


def learned(result, shapes) -> list:
    """The weights after a run, as matrices of ``shapes``."""
    return [np.asarray(result.weights[f"W{layer}"], float).reshape(shape) for layer, shape in enumerate(shapes)]


def output_counts(result, n_samples: int, T: int) -> np.ndarray:
    """Output spikes per sample (N, n_out) of a run that recorded the spikes of ``o``."""
    spikes = result.spike_matrix("o")[:n_samples * T]
    return spikes.reshape(n_samples, T, -1).sum(axis=1).astype(np.int64)


__all__ = ["ERBPSettings", "StreamEvents", "event_inputs", "erbp_circuit", "run_inputs", "check_streams", "layer_names",
           "weight_projections",
           "feedback_projections", "variable_weights", "learned", "output_counts", "seed_source", "pass_below", "SEED_BITS"]
