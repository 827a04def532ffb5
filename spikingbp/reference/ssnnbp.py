"""SSNN-BP (Biswas et al. 2023, docs/methods/ssnnbp.md) in plain numpy: the discrete dynamics of
``spikingbp.models.ssnn``, vectorised over the units of each layer, written independently of the circuit.

One sample is ``Ts`` steps. A layer's composite neurons hold a forward compartment and two gradient
compartments (d+, d-), each an integrate-and-fire unit on the kernel 1 - exp(-n / tau), tau = Ts / 10:

    drive A += input;  potential v += (A - v) k, k = 1 - exp(-1 / tau);  spike iff v > threshold, then
    A and v lose the threshold.

(With ``gradient_kernel`` off the gradient compartments step by 1 instead of k: their potential is their drive.)

Forward: layer l + 1 gets W_l^T of layer l's forward spikes of the step before (the input layer: the given
trains); the output also gets -w_inh per forward spike of every rival. Gradient: the output's d+ integrates
(label - own forward spike) of the step before and d- the negative; hidden d+ integrates W_l^T (d+ - d-) of
the layer above (d- the negative) and emits only after its forward unit's first spike of the sample. Dropped
hidden units do not fire forward. Weight change: dW_l = eta/2 sum_t s_x^l(t) (d+^{l+1}(t) - d-^{l+1}(t))^T
(stochastic form) or eta/2 (sum_t s_x^l)(sum_t d+ - d-)^T (rate form), applied after the sample.

Sums over spikes are taken in increasing presynaptic index, as the circuit's synapses add them, so that
circuit and reference agree spike for spike and weight for weight. The weights are stored as the circuit stores
them, in ``WEIGHT_DTYPE`` (float32): a sample computes with them in float64, and its change is added in float64
and rounded once, as the circuit's ``w += dw`` does.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.models.ssnn import SSNNSettings, stored
from spikingbp.reference.sums import ordered_sum

FORMS = ("stochastic", "rate")


#: The settings: one object for the circuit, this reference and the adapter (``spikingbp.models.ssnn``, plain
#: numbers, no Brian2).
Settings = SSNNSettings


class Layer(NamedTuple):
    """Spike flags of one layer's compartments over a sample, bool (Ts, n)."""

    x: np.ndarray
    d_plus: np.ndarray
    d_minus: np.ndarray


def kernel_step(Ts: int) -> float:
    return float(1.0 - np.exp(-10.0 / Ts))


def gradient_step(settings: Settings) -> float:
    """The gradient compartments' step towards their drive: the kernel's k, or 1 with ``gradient_kernel`` off."""
    return kernel_step(settings.Ts) if settings.gradient_kernel else 1.0


def spike_ceiling(Ts: int, layer: int) -> int:
    """The most forward spikes a unit of ``layer`` (the inputs: 0) can fire in a sample: a spike reaches the next
    layer in the step after it, so layer l's units cannot fire in the sample's first l steps."""
    return int(Ts) - int(layer)


def _relax(A1, v, k):
    """The potential after one step towards the drive ``A1``."""
    return v + (A1 - v) * k


def run_sample(weights, inputs, labels, keep, settings: Settings = Settings()):
    """One sample: ``inputs`` (Ts, n_in) and ``labels`` (Ts, n_out) bool trains, ``keep`` one bool mask per hidden
    layer. Returns (weight changes dW_l, [Layer per hidden layer and the output])."""
    Ts, k = settings.Ts, kernel_step(settings.Ts)
    k_g = gradient_step(settings)
    weights = [stored(W).astype(float) for W in weights]
    sizes = [W.shape[1] for W in weights]
    n_layers = len(sizes)
    zeros = [np.zeros(n) for n in sizes]
    A, v, Ap, vp, Am, vm = ([z.copy() for z in zeros] for _ in range(6))
    fx, fp, fm = ([np.zeros(n, bool) for n in sizes] for _ in range(3))
    on = [np.zeros(n, bool) for n in sizes]
    streak = [np.zeros(n, np.int64) for n in sizes]     # forward spikes in a row
    a_in, b_in = [z.copy() for z in zeros], [z.copy() for z in zeros]
    i_in, l_in = np.zeros(sizes[-1]), np.zeros(sizes[-1])
    dw = [np.zeros_like(W) for W in weights]
    counts_x = [np.zeros(W.shape[0]) for W in weights]                # presynaptic forward spikes per W_l
    counts_p, counts_m = [z.copy() for z in zeros], [z.copy() for z in zeros]
    mirror = float(settings.mirror_reset)   # a spike of either gradient stream resets both: one signed integrator
    inhibition = np.where(np.eye(sizes[-1], dtype=bool), 0.0, -settings.w_inh)  # row j: what output j's spike adds
    record = [Layer(np.zeros((Ts, n), bool), np.zeros((Ts, n), bool), np.zeros((Ts, n), bool)) for n in sizes]
    for t in range(Ts):
        for layer in range(n_layers):
            output = layer == n_layers - 1
            if output:
                drive = l_in - fx[layer]          # label spikes and the own forward spike of the step before
                A1 = A[layer] + a_in[layer] + i_in
            else:
                drive = b_in[layer]
                A1 = A[layer] + a_in[layer]
            v1 = _relax(A1, v[layer], k)
            fx[layer] = (v1 > settings.theta) & (True if output else keep[layer])  # dropped: no spike, no reset
            A[layer], v[layer] = A1 - settings.theta * fx[layer], v1 - settings.theta * fx[layer]
            threshold = settings.theta_output if output else settings.theta_hidden
            gate = np.ones(sizes[layer], bool) if output else on[layer].copy()
            if not output and settings.saturation_steps > 0:
                gate &= streak[layer] < settings.saturation_steps
            Ap1, Am1 = Ap[layer] + drive, Am[layer] - drive
            vp1, vm1 = _relax(Ap1, vp[layer], k_g), _relax(Am1, vm[layer], k_g)
            cross_p, cross_m = vp1 > threshold, vm1 > threshold
            fp[layer], fm[layer] = cross_p & gate, cross_m & gate
            # a closed gate resets silently, or holds the drive (hold_gradient; the output's gate is always open)
            spent_p, spent_m = (fp[layer], fm[layer]) if settings.hold_gradient else (cross_p, cross_m)
            reset_p, reset_m = spent_p - mirror * spent_m, spent_m - mirror * spent_p
            Ap[layer], vp[layer] = Ap1 - threshold * reset_p, vp1 - threshold * reset_p
            Am[layer], vm[layer] = Am1 - threshold * reset_m, vm1 - threshold * reset_m
            if not output:
                on[layer] = on[layer] | fx[layer]
                streak[layer] = (streak[layer] + 1) * fx[layer]
            counts_p[layer] += fp[layer]
            counts_m[layer] += fm[layer]
            record[layer].x[t], record[layer].d_plus[t], record[layer].d_minus[t] = fx[layer], fp[layer], fm[layer]
        # deliveries of this step's spikes, consumed in the next step
        pre_spikes = [inputs[t]] + fx[:-1]
        for layer, W in enumerate(weights):
            spiking = np.flatnonzero(pre_spikes[layer])
            a_in[layer] = ordered_sum(W[spiking])
            sign = fp[layer].astype(float) - fm[layer]
            # += eta/2 pre (x) sign on the coincidences alone: elsewhere the outer product adds 0, which
            # changes no sum, so this is the dense update's arithmetic at a few thousandths of its cost
            signed = np.flatnonzero(sign)
            if signed.size and spiking.size:
                dw[layer][np.ix_(spiking, signed)] += settings.eta / 2 * sign[signed]
            counts_x[layer] += pre_spikes[layer]
            if layer > 0:  # the gradient of the layer above flows back to the forward unit's layer
                post = np.flatnonzero(fx[layer] | fp[layer] | fm[layer])
                b_in[layer - 1] = ordered_sum((W[:, post] * sign[post]).T)
        rivals = np.flatnonzero(fx[-1])
        i_in = ordered_sum(inhibition[rivals])
        l_in = labels[t].astype(float)
    if settings.form == "stochastic":
        changes = dw
    else:
        # eta/2 x (count x (d+ - d- counts)): Brian2 generates the circuit's update in this order
        changes = [settings.eta / 2 * (counts_x[layer][:, None] * (counts_p[layer] - counts_m[layer])[None, :])
                   for layer in range(n_layers)]
    return changes, record


def apply(W, dW) -> np.ndarray:
    """The stored weights after adding the change ``dW``: the sum in float64, rounded once."""
    return stored(np.asarray(W, float) + dW)


def train(weights, inputs, labels, keep, settings: Settings = Settings(), on_sample=None):
    """Train on the samples (trains (N, Ts, n), masks (N, n_hidden) per hidden layer) in order; returns the
    new weights. ``on_sample(c)`` is called after each sample."""
    if settings.form not in FORMS:
        raise ConfigError(f"form={settings.form!r}: choose one of {', '.join(FORMS)}")
    weights = [stored(W) for W in weights]
    for c in range(len(inputs)):
        changes, _ = run_sample(weights, inputs[c], labels[c], [mask[c] for mask in keep], settings)
        weights = [apply(W, dW) for W, dW in zip(weights, changes)]
        if on_sample is not None:
            on_sample(c)
    return weights


def output_counts(weights, inputs, settings: Settings = Settings()) -> np.ndarray:
    """Forward spikes of each output unit per sample (N, n_out), without labels, dropout or learning."""
    n_out = np.shape(weights[-1])[1]
    keep = [np.ones(np.shape(W)[1], bool) for W in weights[:-1]]
    labels = np.zeros((settings.Ts, n_out), bool)
    return np.array([run_sample(weights, x, labels, keep, settings.replace(eta=0.0))[1][-1].x.sum(axis=0)
                     for x in inputs], dtype=np.int64)


__all__ = ["Settings", "Layer", "FORMS", "run_sample", "train", "output_counts", "kernel_step", "gradient_step", "apply"]
