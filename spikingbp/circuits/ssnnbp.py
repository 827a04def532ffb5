"""SSNN-BP (Biswas et al. 2023, docs/methods/ssnnbp.md): layers of composite neurons (``spikingbp.models.ssnn``).

Populations ``h1`` ... ``hL`` (``SSNNHidden``) and ``o`` (``SSNNOutput``); projections ``W0`` (input source ->
h1), ``W1`` ... (h_l -> h_l+1 or o), each one weight per pair used forward and backward; ``lateral`` (o -> o,
every other unit, -w_inh: the winner-take-all); ``label`` (label source -> o's l_in); ``drop<l>`` (dropout
source -> h_l's dropped flag). Sample c occupies steps [c Ts, (c + 1) Ts); its input and label spikes are given
at its steps 0 .. Ts - 1 (those of the last step reach no one: the next sample starts from rest), its dropout
spikes at its step 0. A run of K samples lasts ``run_steps(K, Ts)`` = K Ts + 1 steps.

The random trains (front-loaded Poisson inputs, label trains, dropout masks) are made outside the circuit
(``spikingbp.algorithms.ssnnbp``), so that the circuit and the numpy reference (``spikingbp.reference.ssnnbp``)
run on the same ones.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spikingbp.circuits.spikes import SpikeSource, is_binary
from spikingbp.errors import ConfigError
from spikingbp.models.ssnn import FORMS, SSNNSettings  # noqa: F401  (the settings of circuit and reference)

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit

def run_steps(n_samples: int, Ts: int) -> int:
    """Steps of a run of ``n_samples``: their samples plus the step that applies the last change."""
    return int(n_samples) * int(Ts) + 1


def capacity(n_samples: int, Ts: int, n_in: int, n_out: int, hidden) -> int:
    """The most source spikes a run of ``n_samples`` can hold (every input and label unit at every step,
    every hidden unit dropped): what a compiled program is built for."""
    return int(n_samples) * (int(Ts) * (n_in + n_out) + int(sum(hidden)))


def check_trains(weights, inputs, labels, keep):
    """``inputs`` (N, Ts, n_in) and ``labels`` (N, Ts, n_out) bool trains, ``keep`` one (N, n_hidden) bool mask per
    hidden layer, and the weights (n_l, n_l+1) that fit them; returns them as arrays."""
    weights = [np.asarray(W, dtype=float) for W in weights]
    if len(weights) < 2 or any(W.ndim != 2 for W in weights) or any(
            a.shape[1] != b.shape[0] for a, b in zip(weights, weights[1:])):
        raise ConfigError(f"weights must be matrices (n_l, n_l+1) that chain, at least two; got shapes "
                          f"{[W.shape for W in weights]}")
    if not all(np.all(np.isfinite(W)) for W in weights):
        raise ConfigError("weights must be finite")
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.ndim != 3 or inputs.shape[2] != weights[0].shape[0] or not is_binary(inputs):
        raise ConfigError(f"inputs must be bool trains (N, Ts, {weights[0].shape[0]}), got shape {inputs.shape}")
    if labels.shape != inputs.shape[:2] + (weights[-1].shape[1],) or not is_binary(labels):
        raise ConfigError(f"labels must be bool trains (N, Ts, {weights[-1].shape[1]}), got shape {labels.shape}")
    hidden = [W.shape[1] for W in weights[:-1]]
    keep = [np.asarray(mask) for mask in keep]
    if len(keep) != len(hidden) or any(mask.shape != (len(inputs), n) for mask, n in zip(keep, hidden)):
        raise ConfigError(f"keep must be one bool mask (N, n_hidden) per hidden layer, shapes "
                          f"{[(len(inputs), n) for n in hidden]}; got {[mask.shape for mask in keep]}")
    return weights, inputs.astype(bool), labels.astype(bool), [mask.astype(bool) for mask in keep]


def _train_source(name: str, trains: np.ndarray, Ts: int) -> SpikeSource:
    sample, step, unit = np.nonzero(trains)
    return SpikeSource(name, trains.shape[2], unit, sample * Ts + step)


def run_inputs(weights, inputs, labels, keep, Ts: int):
    """The spike sources (input, label, drop1 ...) and the weights (W0, W1, ...; pre-major) of a run, as plain
    arrays: the circuit is built from these, and a compiled program reruns with them (no Brian2)."""
    weights, inputs, labels, keep = check_trains(weights, inputs, labels, keep)
    if inputs.shape[1] != Ts:
        raise ConfigError(f"the trains have {inputs.shape[1]} steps per sample, the circuit Ts = {Ts}")
    sources = {"input": _train_source("input", inputs, Ts), "label": _train_source("label", labels, Ts)}
    for layer, mask in enumerate(keep, start=1):
        sample, unit = np.nonzero(~mask)
        sources[f"drop{layer}"] = SpikeSource(f"drop{layer}", mask.shape[1], unit, sample * Ts)
    return sources, {f"W{layer}": W.ravel() for layer, W in enumerate(weights)}


def ssnn_circuit(weights, inputs, labels, keep, settings: SSNNSettings = SSNNSettings(),
                 name: str = "ssnnbp") -> "Circuit":
    """The SSNN-BP circuit of ``weights`` [W0 (n_in, n_h1), ..., (n_hL, n_out)] for the samples whose trains are
    ``inputs``, ``labels`` and dropout masks ``keep`` (see ``check_trains``), in that order. With eta = 0 it
    is the inference circuit (give empty label trains and keep everything): its weights are ``SSNN_FORWARD``,
    the rules' forward half, since nothing learns."""
    from spikingbp.circuits.circuit import Circuit
    from spikingbp.models.ssnn import SSNN_FORWARD, SSNN_RULES, SSNNHidden, SSNNLateral, SSNNOutput, kernel_factor
    from spikingbp.models.synapses import Static

    sources, flat = run_inputs(weights, inputs, labels, keep, settings.Ts)
    sizes = [np.shape(weights[0])[0]] + [np.shape(W)[1] for W in weights]
    circuit = Circuit(name, sample_steps=settings.Ts)
    k = kernel_factor(settings.Ts)
    common = dict(Ts=settings.Ts, k=k, theta=settings.theta)
    gradient = dict(mirror_reset=int(settings.mirror_reset), k_g=k if settings.gradient_kernel else 1.0)
    layers = [f"h{layer}" for layer in range(1, len(sizes) - 1)] + ["o"]
    for layer, size in zip(layers[:-1], sizes[1:-1]):
        circuit.add_population(layer, size, SSNNHidden, theta_g=settings.theta_hidden,
                               saturation_steps=settings.saturation_steps, hold_gradient=int(settings.hold_gradient),
                               **gradient, **common)
    circuit.add_population("o", sizes[-1], SSNNOutput, theta_g=settings.theta_output, **gradient, **common)
    for source in sources.values():
        circuit.add_source(source.name, source.size, source.indices, source.steps)
    learns = settings.eta > 0
    input_rule, rule = SSNN_RULES[settings.form] if learns else SSNN_FORWARD
    learning_rate = {"eta2": settings.eta / 2} if learns else {}
    pres = ["input"] + layers[:-1]
    for layer, (pre, post) in enumerate(zip(pres, layers)):
        circuit.connect(pre, post, flat[f"W{layer}"], pattern="all_to_all", synapse=input_rule if layer == 0 else rule,
                        name=f"W{layer}", kind="p", **learning_rate)
    n_out = sizes[-1]
    rivals = np.array([(i, j) for i in range(n_out) for j in range(n_out) if i != j]).reshape(-1, 2)
    circuit.connect("o", "o", -settings.w_inh, i=rivals[:, 0], j=rivals[:, 1], synapse=SSNNLateral, name="lateral",
                    kind="wta")
    circuit.connect("label", "o", 1.0, pattern="one_to_one", target="l_in", name="labels", kind="label",
                    synapse=Static)
    for layer in range(1, len(layers)):
        circuit.connect(f"drop{layer}", f"h{layer}", 1.0, pattern="one_to_one", target="dropped",
                        name=f"dropout{layer}", kind="dropout", synapse=Static)
    return circuit


#: The projections whose weights a run reports.
def weight_projections(n_layers: int) -> tuple:
    return tuple(f"W{layer}" for layer in range(n_layers))


#: What a run records for the per-sample readout: the output's forward spike count after every step.
READOUT_STATES = {"o": ("nx",)}


def output_counts(result, n_samples: int, Ts: int) -> np.ndarray:
    """Forward spikes of each output unit in each of the first ``n_samples`` samples (N, n_out) of a run that
    recorded ``READOUT_STATES``."""
    last = np.arange(n_samples) * Ts + Ts - 1
    return np.rint(result.states["o"]["nx"][last]).astype(np.int64)


def learned(result, shapes) -> list:
    """The weights after a run, as matrices of ``shapes`` (stored as the circuit stores them, ``WEIGHT_DTYPE``)."""
    from spikingbp.models.ssnn import stored

    return [stored(result.weights[f"W{layer}"]).reshape(shape) for layer, shape in enumerate(shapes)]


__all__ = ["SSNNSettings", "FORMS", "ssnn_circuit", "run_inputs", "check_trains", "run_steps", "capacity",
           "weight_projections", "READOUT_STATES", "output_counts", "learned"]
