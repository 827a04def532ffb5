"""Plain-numpy reference of sBP: the exact binary backprop update of ``docs/methods/sbp.md`` ("What it computes").

Units: the neuron threshold is 1024. Weights are even integers in [-254, 254] held in int32 arrays,
``W1`` of shape (n_in, n_hidden) and ``W2`` of shape (n_hidden, n_out). Inputs are binary (bool or 0/1),
targets one-hot. For one sample::

    a1 = x @ W1;  h = H(a1 > 512);  f1' = H(a1 > 0) - H(a1 > 1024)
    a2 = h @ W2;  o = H(a2 > 512);  o< = H(a2 > 0);  o> = H(a2 > 1024)
    d2+ = H(t - o) * o<;   d2- = H(o - t) * o< * (1 - o>);   d2 = d2+ - d2-
    W2 <- clip(W2 + 2 * h (x) d2, -254, 254)
    d1 = clip((W2 @ d2) * f1', -1, 1)          (with the W2 just updated)
    W1 <- clip(W1 + 2 * x (x) d1, -254, 254)

The spiking circuit must reproduce these weights bit for bit, so everything here is integer arithmetic.
Training is one sample at a time (each sample sees the weights the previous one left); evaluation is
vectorised over a batch.

Public functions: ``init_weights``, ``forward``, ``train_step``, ``train_epoch``, ``predict``, ``accuracy``.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from spikingbp.data.encoders import as_generator
from spikingbp.checks import whole
from spikingbp.errors import ConfigError, DataError

#: Neuron threshold in weight units; a gated unit fires iff its input exceeds half of it.
THRESHOLD = 1024
#: Binary units (h, o) fire iff their input exceeds this (the gate brings them half-way to threshold).
HALF_THRESHOLD = THRESHOLD // 2
#: Weights are clipped to [-WEIGHT_LIMIT, WEIGHT_LIMIT] after every update.
WEIGHT_LIMIT = 254
#: Initial weights are clipped to [-INIT_LIMIT, INIT_LIMIT] before rounding to even.
INIT_LIMIT = 240
#: Each learning event moves a weight by this much (the NxSDK rule's +-2).
WEIGHT_STEP = 2
#: Weight arrays are stored with this dtype.
WEIGHT_DTYPE = np.int32
#: Samples per chunk when evaluating a batch (bounds the memory of the float copies, see ``_exact_matmul``).
EVALUATION_CHUNK = 4096


class ForwardPass(NamedTuple):
    """Forward pass of one sample (1-d arrays) or a batch (2-d arrays, one row per sample)."""

    a1: np.ndarray  #: hidden potentials x @ W1, int64
    h: np.ndarray   #: hidden spikes H(a1 > 512), bool
    a2: np.ndarray  #: output potentials h @ W2, int64
    o: np.ndarray   #: output spikes H(a2 > 512), bool


class StepTrace(NamedTuple):
    """Every intermediate value of one training step, in the order the spec computes them."""

    a1: np.ndarray        #: hidden potentials x @ W1 (old W1), int64 (n_hidden,)
    h: np.ndarray         #: hidden spikes H(a1 > 512), bool
    f1_prime: np.ndarray  #: straight-through derivative H(a1 > 0) - H(a1 > 1024), bool
    a2: np.ndarray        #: output potentials h @ W2 (old W2), int64 (n_out,)
    o: np.ndarray         #: output spikes H(a2 > 512), bool
    o_lt: np.ndarray      #: o< = H(a2 > 0), bool
    o_gt: np.ndarray      #: o> = H(a2 > 1024), bool
    d2: np.ndarray        #: output error d2+ - d2-, int8 in {-1, 0, 1}
    d1: np.ndarray        #: hidden error clip((W2_new @ d2) * f1', -1, 1), int8 in {-1, 0, 1}


class Prediction(NamedTuple):
    """Network outputs of a batch."""

    output_bits: np.ndarray        #: output spikes o, bool (N, n_out)
    argmax_spikes: np.ndarray      #: index of the first spiking output (0 when none spikes), int64 (N,)
    argmax_potential: np.ndarray   #: index of the largest a2 (first on ties), int64 (N,)


class Accuracy(NamedTuple):
    """The spec's three accuracies, each a fraction in [0, 1]."""

    exact: float             #: all output bits equal the one-hot target
    argmax_spikes: float     #: argmax of the output spikes is the label
    argmax_potential: float  #: argmax of the output potential a2 is the label


# --------------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------------

def init_weights(n_in: int, n_hidden: int, n_out: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Initial (W1, W2) as in the authors' ``weight_init(mode='rand_He')``.

    Each layer draws N(0, 1) * sqrt(2 / (fan_in + fan_out)) * 1024 with its own fan-in and fan-out
    (n_in + n_hidden for W1, n_hidden + n_out for W2), clips to +-240 and rounds toward zero to an even
    integer. W1 is drawn before W2 from ``rng`` (a ``numpy.random.Generator`` or an integer seed).
    """
    n_in = _positive_size(n_in, "n_in")
    n_hidden = _positive_size(n_hidden, "n_hidden")
    n_out = _positive_size(n_out, "n_out")
    generator = as_generator(rng)
    W1 = _init_layer(generator, n_in, n_hidden)
    W2 = _init_layer(generator, n_hidden, n_out)
    return W1, W2


def _init_layer(generator: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    scale = np.sqrt(2.0 / (fan_in + fan_out)) * THRESHOLD
    weights = generator.standard_normal((fan_in, fan_out)) * scale
    weights = np.clip(weights, -INIT_LIMIT, INIT_LIMIT)
    # Round toward zero to an even integer: floor(|w| / 2) * 2 * sign(w).
    return (np.trunc(weights / WEIGHT_STEP) * WEIGHT_STEP).astype(WEIGHT_DTYPE)


# --------------------------------------------------------------------------------------------------
# Forward pass and evaluation
# --------------------------------------------------------------------------------------------------

def forward(x, W1: np.ndarray, W2: np.ndarray) -> ForwardPass:
    """Forward pass of one sample ``x`` (n_in,) or a batch (N, n_in) of binary inputs."""
    W1, W2 = _checked_weights(W1, W2)
    inputs = _binary(x, "x")
    if inputs.ndim not in (1, 2) or inputs.shape[-1] != W1.shape[0]:
        raise ConfigError(
            f"x has shape {inputs.shape} but W1 has {W1.shape[0]} inputs; give one sample ({W1.shape[0]},) "
            f"or a batch (N, {W1.shape[0]})")
    if inputs.ndim == 1:
        a1 = W1[np.flatnonzero(inputs)].sum(axis=0, dtype=np.int64)
        h = a1 > HALF_THRESHOLD
        a2 = W2[np.flatnonzero(h)].sum(axis=0, dtype=np.int64)
        return ForwardPass(a1, h, a2, a2 > HALF_THRESHOLD)
    parts = [_forward_batch(inputs[start:start + EVALUATION_CHUNK], W1, W2)
             for start in range(0, max(len(inputs), 1), EVALUATION_CHUNK)]
    return ForwardPass(*(np.concatenate(arrays) for arrays in zip(*parts)))


def _forward_batch(inputs: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> ForwardPass:
    a1 = _exact_matmul(inputs, W1)
    h = a1 > HALF_THRESHOLD
    a2 = _exact_matmul(h, W2)
    return ForwardPass(a1, h, a2, a2 > HALF_THRESHOLD)


def _exact_matmul(binary: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``binary @ weights`` as int64, computed with float64 BLAS (about 6x faster than numpy's integer
    matmul). This is exact: every operand and every partial sum is an integer of magnitude at most
    n_rows * 254, far below 2**53, where float64 represents all integers exactly."""
    if weights.shape[0] * WEIGHT_LIMIT >= 2 ** 53:  # pragma: no cover - needs ~3.5e13 inputs
        return binary.astype(np.int64) @ weights.astype(np.int64)
    product = binary.astype(np.float64) @ weights.astype(np.float64)
    return product.astype(np.int64)


def predict(X, W1: np.ndarray, W2: np.ndarray) -> Prediction:
    """Outputs of a batch ``X`` (N, n_in): the output bits and the two argmax read-outs.

    ``argmax_spikes`` follows ``numpy.argmax`` as the authors' numpy model does: the first spiking
    output, and output 0 when no output spikes. ``argmax_potential`` is the first largest a2.
    """
    inputs = _binary(X, "X")
    if inputs.ndim != 2:
        raise ConfigError(f"X has shape {inputs.shape}; give a batch (N, n_in), e.g. x[None] for one sample")
    result = forward(inputs, W1, W2)
    return Prediction(result.o, np.argmax(result.o, axis=1), np.argmax(result.a2, axis=1))


def accuracy(X, T, W1: np.ndarray, W2: np.ndarray) -> Accuracy:
    """The three accuracies of (W1, W2) on inputs ``X`` (N, n_in) with one-hot targets ``T`` (N, n_out)."""
    targets = _one_hot(T, "T")
    prediction = predict(X, W1, W2)
    if targets.shape != prediction.output_bits.shape:
        raise ConfigError(
            f"T has shape {targets.shape} but the network gives {prediction.output_bits.shape}; give one "
            f"one-hot row per sample of X (spikingbp.data.one_hot(labels, n_out))")
    return score(prediction, targets)


def score(prediction: Prediction, T) -> Accuracy:
    """The three accuracies of a ``Prediction`` against one-hot targets ``T`` (N, n_out)."""
    targets = _one_hot(T, "T")
    if len(targets) == 0:
        raise DataError("no samples to score; give at least one sample")
    labels = np.argmax(targets, axis=1)
    exact = np.all(prediction.output_bits == targets, axis=1)
    return Accuracy(
        exact=float(exact.mean()),
        argmax_spikes=float((prediction.argmax_spikes == labels).mean()),
        argmax_potential=float((prediction.argmax_potential == labels).mean()))


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def train_step(x, t, W1: np.ndarray, W2: np.ndarray, *, inplace: bool = False
               ) -> tuple[np.ndarray, np.ndarray, StepTrace]:
    """One sBP update on input ``x`` (n_in,) with target ``t`` (n_out,): one-hot in training (``train_epoch``
    refuses anything else); the rule is elementwise, so this primitive accepts any binary ``t``.

    Returns the updated ``(W1, W2, trace)``; ``trace`` holds every intermediate (``StepTrace``).
    With ``inplace=False`` (default) the arguments are left untouched and new arrays are returned;
    with ``inplace=True`` the given int32 arrays are updated and returned.
    """
    W1, W2 = _checked_weights(W1, W2)
    inputs = _binary(x, "x")
    target = _binary(t, "t")
    if inputs.shape != (W1.shape[0],):
        raise ConfigError(f"x has shape {inputs.shape}; W1 expects one sample of shape ({W1.shape[0]},)")
    if target.shape != (W2.shape[1],):
        raise ConfigError(f"t has shape {target.shape}; W2 expects a one-hot target of shape ({W2.shape[1]},)")
    if inplace:
        for name, weights in (("W1", W1), ("W2", W2)):
            if weights.dtype != WEIGHT_DTYPE:
                raise ConfigError(
                    f"inplace=True needs {name} as int32 but it is {weights.dtype}; convert it with "
                    f"{name}.astype(numpy.int32) or pass inplace=False")
    else:
        W1, W2 = W1.astype(WEIGHT_DTYPE), W2.astype(WEIGHT_DTYPE)
    trace = _step_inplace(np.flatnonzero(inputs), target, W1, W2)
    return W1, W2, trace


def train_epoch(X, T, W1: np.ndarray, W2: np.ndarray, order=None,
                on_sample: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Train on every sample of ``X`` (N, n_in) with one-hot targets ``T`` (N, n_out), one at a time,
    in the order of the indices ``order`` (default 0..N-1), and return the updated (W1, W2) as new
    int32 arrays; the arguments are left unchanged. ``on_sample(i)`` is called after the i-th presented
    sample (e.g. to advance a progress bar)."""
    W1, W2 = _checked_weights(W1, W2)
    inputs = _binary(X, "X")
    targets = _one_hot(T, "T")
    if inputs.ndim != 2 or inputs.shape[1] != W1.shape[0]:
        raise ConfigError(f"X has shape {inputs.shape}; W1 expects a batch (N, {W1.shape[0]})")
    if targets.shape != (len(inputs), W2.shape[1]):
        raise ConfigError(
            f"T has shape {targets.shape}; give one one-hot row of length {W2.shape[1]} per sample of X "
            f"({len(inputs)} samples)")
    indices = np.arange(len(inputs)) if order is None else np.asarray(order)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer) or (
            indices.size and (indices.min() < 0 or indices.max() >= len(inputs))):
        raise ConfigError(f"order must be a 1-d array of integer indices in 0..{len(inputs) - 1}")
    W1, W2 = W1.astype(WEIGHT_DTYPE, copy=True), W2.astype(WEIGHT_DTYPE, copy=True)
    active_inputs = [np.flatnonzero(row) for row in inputs]
    for position, index in enumerate(indices):
        _step_inplace(active_inputs[index], targets[index], W1, W2)
        if on_sample is not None:
            on_sample(position)
    return W1, W2


def _step_inplace(active_inputs: np.ndarray, target: np.ndarray, W1: np.ndarray, W2: np.ndarray) -> StepTrace:
    """The spec's update for the sample whose active inputs are ``active_inputs`` (indices of x == 1),
    changing the int32 arrays W1 and W2 in place. Only the rows of active units can change (the outer
    products h (x) d2 and x (x) d1 vanish elsewhere), so only those rows are gathered and written back."""
    # Forward pass.
    a1 = W1[active_inputs].sum(axis=0, dtype=np.int64)
    h = a1 > HALF_THRESHOLD
    f1_prime = (a1 > 0) & ~(a1 > THRESHOLD)          # H(a1 > 0) - H(a1 > 1024), never negative
    active_hidden = np.flatnonzero(h)
    a2 = W2[active_hidden].sum(axis=0, dtype=np.int64)
    o = a2 > HALF_THRESHOLD
    o_lt = a2 > 0
    o_gt = a2 > THRESHOLD

    # Output error (ternary).
    d2_plus = target & ~o & o_lt                     # H(t - o) * o<
    d2_minus = o & ~target & o_lt & ~o_gt            # H(o - t) * o< * (1 - o>)
    d2 = d2_plus.astype(np.int8) - d2_minus.astype(np.int8)

    # W2 <- clip(W2 + 2 h (x) d2): rows of spiking hidden units move by 2 * d2.
    if d2.any() and active_hidden.size:
        rows = W2[active_hidden] + WEIGHT_STEP * d2
        np.clip(rows, -WEIGHT_LIMIT, WEIGHT_LIMIT, out=rows)
        W2[active_hidden] = rows

    # d1 from the updated W2, gated by f1'.
    d1 = np.clip(W2 @ d2.astype(np.int64), -1, 1).astype(np.int8) * f1_prime

    # W1 <- clip(W1 + 2 x (x) d1): rows of active inputs move by 2 * d1.
    if d1.any() and active_inputs.size:
        rows = W1[active_inputs] + WEIGHT_STEP * d1
        np.clip(rows, -WEIGHT_LIMIT, WEIGHT_LIMIT, out=rows)
        W1[active_inputs] = rows

    return StepTrace(a1, h, f1_prime, a2, o, o_lt, o_gt, d2, d1)


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------

def _checked_weights(W1, W2) -> tuple[np.ndarray, np.ndarray]:
    W1 = np.asarray(W1)
    W2 = np.asarray(W2)
    for name, weights in (("W1", W1), ("W2", W2)):
        if weights.ndim != 2:
            raise ConfigError(f"{name} has shape {weights.shape}; it must be a 2-d (fan_in, fan_out) array")
        if not np.issubdtype(weights.dtype, np.integer):
            raise ConfigError(
                f"{name} has dtype {weights.dtype}; sBP weights are integers, use init_weights() or "
                f"{name}.astype(numpy.int32)")
    if W1.shape[1] != W2.shape[0]:
        raise ConfigError(
            f"W1 {W1.shape} and W2 {W2.shape} disagree on the hidden size; W1 must be (n_in, n_hidden) "
            f"and W2 (n_hidden, n_out)")
    return W1, W2


def _binary(values, name: str) -> np.ndarray:
    """``values`` as a bool array, refusing anything other than 0 and 1."""
    array = np.asarray(values)
    if array.dtype == np.bool_:
        return array
    if array.size and not np.isin(array, (0, 1)).all():
        raise DataError(
            f"{name} holds values other than 0 and 1; sBP inputs and targets are binary, binarise the images "
            f"(spikingbp.data.binarize) and one-hot the labels (spikingbp.data.one_hot)")
    return array.astype(bool)


def _one_hot(values, name: str) -> np.ndarray:
    """``values`` as bool one-hot rows (the last axis), refusing all-zero and multi-hot rows."""
    array = _binary(values, name)
    counts = array.sum(axis=-1)
    if array.size and np.any(counts != 1):
        bad = np.flatnonzero(np.atleast_1d(counts) != 1)
        raise DataError(
            f"{name} is not one-hot: {len(bad)} row(s) hold {int(np.atleast_1d(counts)[bad[0]])} ones (first: row "
            f"{bad[0]}); give exactly one 1 per sample (spikingbp.data.one_hot)")
    return array


def _positive_size(value, name: str) -> int:
    return whole(value, name, minimum=1, hint=" (a number of units)")


