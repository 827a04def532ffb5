"""eRBP (Neftci et al. 2017, docs/methods/erbp.md) in plain numpy: the discrete dynamics of ``spikingbp.models.erbp``,
vectorised over the units of each layer, written independently of the circuit.

A sample is ``T`` steps of dt = 0.1 ms. Its first step starts every unit from rest. Then per step, in order:

1. units: I = I decay_syn + a_in; U = U decay_dend + e_in; V' = V + n_in; V = V' + k_mem (I - V') (noise_carry
   = 1, Auryn's order; with 0: V = V + k_mem (I - V) + n_in), held at 0 while refractory; the learning phase is the steps after ``learn_after``. Error units: E = max(E + input, 0).
2. spikes: a unit fires when V > theta (V = 0, ``ref_steps`` steps blocked); an error unit when E > theta
   (it keeps E - theta).
3. deliveries, consumed in the next step: each presynaptic spike first updates its weights,
   w += eta U_post where the post unit learns and b_min < I_post < b_max, then delivers them; the error units
   (the positive parts e+ = [label - output]+ first, then e- = [output - label]+) reach the output dendrites
   one to one (+-0.09) and the hidden dendrites through the fixed random feedback G (e+: G, e-: -G); label
   spikes add +0.09 to e+ and -0.09 to e-, output spikes the opposite; noise events add sigma to V.

Sums over spikes are taken in increasing presynaptic index, as the circuit's synapses add them, so that
circuit and reference agree spike for spike and weight for weight.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.lehmer import MODULUS, MULTIPLIER
from spikingbp.models.erbp import ERBPSettings
from spikingbp.reference.sums import ordered_sum


#: The settings: one object for the circuit, this reference and the adapter (``spikingbp.models.erbp``, plain
#: numbers, no Brian2).
Settings = ERBPSettings


M = MODULUS                         # blank-out draws: x <- 16807 x mod M, per synapse and presynaptic spike


def _start_states(keys: np.ndarray, seed: int) -> np.ndarray:
    """Each synapse's generator state at the sample's start: key x seed mod M (exact in int64)."""
    return (keys * seed) % M


class Sample(NamedTuple):
    """What one sample did: spike flags (T, n) per hidden layer and of the output and error units (e+ then
    e-), and the weights after it."""

    hidden: list
    output: np.ndarray
    error: np.ndarray
    weights: list


def run_sample(weights, feedback, data, labels, noise, settings: Settings = Settings(), seed: int | None = None,
               keys=None) -> Sample:
    """One sample. ``weights`` [W0 (n_in, n_h1), ..., (n_hL, n_out)] (changed copies are returned),
    ``feedback`` [G_l (n_out, n_hl)] per hidden layer, ``data`` (T, n_in) and ``labels`` (T, n_out) bool spike
    trains, ``noise`` (T, n_h1 + ... + n_out) bool noise events (hidden layers, then the output). With
    blank-out (p < 1): the sample's ``seed`` and the synapses' ``keys`` (integer matrices like the weights);
    each presynaptic spike advances its synapses' generators and passes where the draw is below p M."""
    s = settings
    blank_out = s.p < 1.0
    if blank_out:
        if seed is None or keys is None:
            raise ConfigError(f"blank-out (p = {s.p}) needs the sample's seed and the synapses' keys")
        states = [_start_states(np.asarray(k, np.int64), int(seed)) for k in keys]
        threshold = float(s.p) * M
    weights = [np.array(W, float) for W in weights]
    sizes = [W.shape[1] for W in weights]
    n_out, n_layers = sizes[-1], len(sizes)
    back = [np.concatenate([G, -G]) for G in feedback]        # e+ rows, then e- rows
    to_output = np.concatenate([np.eye(n_out), -np.eye(n_out)]) * s.error_weight
    offsets = np.cumsum([0] + sizes)
    I, U, V, ref = ([np.zeros(n) for n in sizes] for _ in range(4))
    a_in, e_in, n_in = ([np.zeros(n) for n in sizes] for _ in range(3))
    E, error_in = np.zeros(2 * n_out), np.zeros(2 * n_out)
    record = [np.zeros((s.T, n), bool) for n in sizes]
    error_record = np.zeros((s.T, 2 * n_out), bool)
    for t in range(s.T):
        rest = float(t != 0)
        learning = float(t > s.learn_after)
        fired = []
        for layer in range(n_layers):
            I[layer] = rest * (I[layer] * s.decay_syn + a_in[layer])
            U[layer] = rest * (U[layer] * s.decay_dend + e_in[layer])
            Vn = V[layer] + n_in[layer] * s.noise_carry
            V1 = rest * (Vn + s.k_mem * (I[layer] - Vn))
            V2 = V1 + n_in[layer] * rest * (1 - s.noise_carry)
            blocked = ref[layer] > 0.5
            V[layer] = V2 * (1 - blocked)
            ref[layer] = rest * (ref[layer] - blocked)
            spikes = V[layer] > s.theta
            V[layer][spikes] = 0.0
            ref[layer][spikes] = s.ref_steps
            record[layer][t] = spikes
            fired.append(spikes)
        E1 = rest * (E + error_in)
        E = E1 * (E1 > 0)
        error_spikes = E > s.theta
        E[error_spikes] -= s.theta
        error_record[t] = error_spikes
        # deliveries of this step's spikes, consumed in the next step
        pre = [data[t]] + fired[:-1]
        for layer, W in enumerate(weights):
            spiking = np.flatnonzero(pre[layer])
            gate = learning * ((I[layer] > s.b_min) & (I[layer] < s.b_max))
            if not blank_out:
                W[spiking] += s.eta * U[layer] * gate
                a_in[layer] = ordered_sum(W[spiking])
                continue
            states[layer][spiking] = (MULTIPLIER * states[layer][spiking]) % M
            passes = states[layer][spiking] < threshold
            W[spiking] += s.eta * U[layer] * gate * passes
            a_in[layer] = ordered_sum(W[spiking] * passes)
        active = np.flatnonzero(error_spikes)
        for layer in range(n_layers - 1):
            e_in[layer] = ordered_sum(back[layer][active])
        e_in[-1] = ordered_sum(to_output[active])
        for layer in range(n_layers):
            n_in[layer] = s.sigma * noise[t, offsets[layer]:offsets[layer + 1]]
        label_part = s.error_weight * labels[t]
        output_part = s.error_weight * fired[-1]
        # the label and output synapses add one term each to an error unit: any order gives the same sum
        error_in = np.concatenate([label_part - output_part, output_part - label_part])
    return Sample(record[:-1], record[-1], error_record, weights)


def train(weights, feedback, data, labels, noise, settings: Settings = Settings(), on_sample=None, seeds=None,
          keys=None):
    """Train on the samples (data (N, T, n_in), labels (N, T, n_out), noise (N, T, n_units); blank-out: one
    seed per sample and the keys) in order; returns the new weights. ``on_sample(c)`` is called after each
    sample."""
    weights = [np.array(W, float) for W in weights]
    for c in range(len(data)):
        seed = None if seeds is None else seeds[c]
        weights = run_sample(weights, feedback, data[c], labels[c], noise[c], settings, seed, keys).weights
        if on_sample is not None:
            on_sample(c)
    return weights


def output_counts(weights, feedback, data, noise, settings: Settings = Settings(), seeds=None,
                  keys=None) -> np.ndarray:
    """Output spikes per sample (N, n_out) without labels or learning."""
    n_out = np.shape(weights[-1])[1]
    labels = np.zeros((settings.T, n_out), bool)
    plain = settings.replace(eta=0.0)
    return np.array([run_sample(weights, feedback, data[c], labels, noise[c], plain,
                                None if seeds is None else seeds[c], keys).output.sum(axis=0)
                     for c in range(len(data))], dtype=np.int64)


def check_settings(settings: Settings) -> None:
    if settings.b_min >= settings.b_max:
        raise ConfigError(f"b_min={settings.b_min} must lie below b_max={settings.b_max}")


__all__ = ["Settings", "Sample", "run_sample", "train", "output_counts", "check_settings"]
