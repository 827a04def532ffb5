"""Turn images and labels into network inputs: binary pixels, rates, Bernoulli spike trains, one-hot targets.

Pure numpy. Random functions take ``rng``: an integer seed (passed to ``numpy.random.default_rng``) or a
``numpy.random.Generator``; the same seed gives the same trains.

Typical uses::

    pixels = binarize(images, crop=4)                       # sBP: 28x28 MNIST -> 400 binary inputs
    intensity = rate_encode(images, max_rate=1.0)           # pixel/255, shape (N, H*W)
    trains = front_loaded_trains(intensity[0], n_steps=100, mean_rate=0.4, rng=0)   # SSNN-BP input
"""
from __future__ import annotations

import numpy as np

from spikingbp.checks import whole
from spikingbp.errors import ConfigError


def binarize(images, threshold: float = 127, crop: int = 0, downsample: int = 1) -> np.ndarray:
    """Binary inputs (N, n_pixels), bool, flattened row-major, from images (N, H, W).

    First ``crop`` pixels are cut from each side, then, if ``downsample`` > 1, each block of
    ``downsample`` x ``downsample`` pixels is averaged into one (the factor must divide the cropped size),
    and finally a pixel is on when it is ``> threshold``. The sBP rule is uint8 > 127; MNIST with
    ``crop=4`` gives 20x20 = 400 inputs.
    """
    images = _images_array(images)
    crop = _non_negative_int(crop, "crop")
    factor = _positive_int(downsample, "downsample")
    threshold = _finite_number(threshold, "threshold")
    n_images, height, width = images.shape
    if 2 * crop >= min(height, width):
        raise ConfigError(
            f"crop={crop} removes the whole {height}x{width} image; give crop below {(min(height, width) + 1) // 2}")
    images = images[:, crop:height - crop, crop:width - crop]
    height, width = images.shape[1:]
    if factor > 1:
        if height % factor or width % factor:
            raise ConfigError(
                f"downsample={factor} does not divide the {height}x{width} image (after crop={crop}); "
                f"choose a factor that divides both sides, or change crop")
        blocks = images.reshape(n_images, height // factor, factor, width // factor, factor)
        images = blocks.mean(axis=(2, 4))
    return (images > threshold).reshape(n_images, -1)


def rate_encode(images, max_rate: float) -> np.ndarray:
    """Rates (N, n_pixels), float, equal to ``max_rate * pixel / 255``, from images (N, H, W) or (N, n_pixels)
    with grey levels 0..255. ``max_rate`` is in whatever unit the caller uses (Hz, or a probability per
    step for ``poisson_trains``); ``max_rate=1`` gives the intensity pixel/255 in [0, 1]."""
    images = np.asarray(images)
    if images.ndim not in (2, 3):
        raise ConfigError(
            f"images has shape {images.shape}; give a batch (N, H, W) or (N, n_pixels), e.g. images[None] for one")
    values = _numeric(images, "images")
    if values.size and (values.min() < 0 or values.max() > 255):
        raise ConfigError(
            f"images has values from {values.min()} to {values.max()}; grey levels must lie in 0..255")
    max_rate = _finite_number(max_rate, "max_rate")
    if max_rate <= 0:
        raise ConfigError(f"max_rate={max_rate} must be positive; give the rate of a white pixel")
    return (values * (max_rate / 255.0)).reshape(len(values), -1)


def front_loaded_rates(intensity, n_steps: int, mean_rate: float) -> np.ndarray:
    """Per-step firing probabilities (n_steps, *intensity.shape) of the SSNN-BP input (docs/methods/ssnnbp.md).

    The probability of input i at step t falls linearly over the window, from ``2 * mean_rate * intensity``
    at its start to 0 at its end (sampled at step midpoints, (t + 0.5) / n_steps), so that its mean over
    the window is exactly ``mean_rate * intensity``. ``intensity`` is pixel/255 in [0, 1] (see
    ``rate_encode(images, 1.0)``); ``mean_rate`` is 0.3 to 0.5 in the paper and at most 0.5, so that the
    peak is a probability.
    """
    intensity = _numeric(np.asarray(intensity), "intensity")
    _check_unit_interval(intensity, "intensity")
    n_steps = _positive_int(n_steps, "n_steps")
    mean_rate = _finite_number(mean_rate, "mean_rate")
    if not 0 < mean_rate <= 0.5:
        raise ConfigError(
            f"mean_rate={mean_rate} must lie in (0, 0.5]: the peak probability 2*mean_rate must not exceed 1")
    midpoints = (np.arange(n_steps) + 0.5) / n_steps
    profile = 2.0 * (1.0 - midpoints)
    return profile.reshape((n_steps,) + (1,) * intensity.ndim) * (mean_rate * intensity)


def poisson_trains(rates_per_step, n_steps: int, rng, time_varying: bool = False) -> np.ndarray:
    """Bernoulli spike trains, bool (n_steps, *shape): each entry spikes with its per-step probability.

    With ``time_varying=False`` (default) ``rates_per_step`` has shape (n_inputs,) or (N, n_inputs) and
    holds for every step. With ``time_varying=True`` it already has a leading time axis, (n_steps, n_inputs)
    or (n_steps, N, n_inputs), as returned by ``front_loaded_rates``.
    """
    rates = _numeric(np.asarray(rates_per_step), "rates_per_step")
    n_steps = _positive_int(n_steps, "n_steps")
    _check_unit_interval(rates, "rates_per_step")
    generator = as_generator(rng)
    if time_varying:
        if rates.ndim not in (2, 3) or rates.shape[0] != n_steps:
            raise ConfigError(
                f"rates_per_step has shape {rates.shape}; with time_varying=True give (n_steps, n_inputs) or "
                f"(n_steps, N, n_inputs) with n_steps={n_steps}")
        shape = rates.shape
    else:
        if rates.ndim not in (1, 2):
            raise ConfigError(
                f"rates_per_step has shape {rates.shape}; give (n_inputs,) or (N, n_inputs), or pass "
                f"time_varying=True for rates with a leading time axis")
        shape = (n_steps,) + rates.shape
    return generator.random(shape) < rates


def front_loaded_trains(intensity, n_steps: int, mean_rate: float, rng) -> np.ndarray:
    """Front-loaded Bernoulli trains, bool (n_steps, *intensity.shape): ``poisson_trains`` of
    ``front_loaded_rates(intensity, n_steps, mean_rate)``. ``intensity`` is (n_inputs,) or (N, n_inputs)."""
    intensity = np.asarray(intensity)
    if intensity.ndim not in (1, 2):
        raise ConfigError(f"intensity has shape {intensity.shape}; give (n_inputs,) or (N, n_inputs)")
    rates = front_loaded_rates(intensity, n_steps, mean_rate)
    return poisson_trains(rates, n_steps, rng, time_varying=True)


def escape_noise_trains(hazard, n_steps: int, refractory_steps: int, rng) -> np.ndarray:
    """Spike trains of stochastic (SRM0, escape-noise) units at rest, drawn as Auryn's ``SRM0Group`` draws them
    (eRBP's data units): each unit holds a lifetime drawn from Exp(1) and spends ``hazard`` (its expected spikes
    per step) of it per step; when it runs out, a new one is drawn, and the unit fires unless it is in its
    ``refractory_steps`` after a spike (Auryn counts them down first, so spikes are at least
    ``refractory_steps`` apart).

    ``hazard`` (n_units,) with one generator (or seed) ``rng`` gives bool (n_steps, n_units); ``hazard``
    (N, n_units) with a sequence of N generators, one per row, gives bool (N, n_steps, n_units), each row drawn
    exactly as its own single call would draw it, and each generator left where that call would leave it. The
    rows share one loop over the steps (a sample's units renew a few thousand times, so a loop per sample would
    cost more than the circuit that runs them)."""
    hazard = np.asarray(hazard, dtype=float)
    rows, steps, units = escape_noise_events(hazard, n_steps, refractory_steps, rng)
    if hazard.ndim == 1:
        trains = np.zeros((n_steps, hazard.shape[0]), bool)
        trains[steps, units] = True
        return trains
    trains = np.zeros((hazard.shape[0], n_steps, hazard.shape[1]), bool)
    trains[rows, steps, units] = True
    return trains


def escape_noise_events(hazard, n_steps: int, refractory_steps: int, rng) -> tuple:
    """``escape_noise_trains`` as the index arrays of its spikes, (row, step, unit), int64, ordered by step, then
    row, then unit (row 0 throughout for a 1-d ``hazard``): the same draws, without the dense array, which for a
    run of many MNIST samples is most of the cost of handing the spikes to a circuit."""
    hazard = np.asarray(hazard, dtype=float)
    if hazard.ndim not in (1, 2) or not np.all(np.isfinite(hazard)) or np.any(hazard < 0):
        raise ConfigError(f"hazard must be non-negative expected spikes per step, (n_units,) or (N, n_units); got "
                          f"shape {hazard.shape}")
    n_steps, refractory_steps = _positive_int(n_steps, "n_steps"), _non_negative_int(refractory_steps,
                                                                                      "refractory_steps")
    if hazard.ndim == 1:
        return _escape_noise_rows(hazard[None], n_steps, refractory_steps, [as_generator(rng)])
    if isinstance(rng, (np.random.Generator, int, np.integer)) or len(rng) != len(hazard):
        raise ConfigError(f"hazard has {len(hazard)} rows; give one numpy.random.Generator per row (a list of "
                          f"{len(hazard)}), so that each row draws as its own call would")
    return _escape_noise_rows(hazard, n_steps, refractory_steps, [as_generator(g) for g in rng])


def _escape_noise_rows(hazard: np.ndarray, n_steps: int, refractory_steps: int, generators: list) -> tuple:
    """``escape_noise_events`` of the rows of ``hazard`` (N, n), row r drawing from ``generators[r]``.

    A row's lifetimes come from its generator in the order a single row's loop would draw them: the n initial
    ones, then at each step those of the units that ran out, in unit order. They are drawn ahead as a pool per
    row and handed out in that order; afterwards each generator is reset and advanced by exactly the draws its
    row used (the exponential stream is the same however it is split into calls)."""
    rows, n = hazard.shape
    fired_rows, fired_steps, fired_units = [], [], []
    lifetime = np.stack([g.exponential(1.0, n) for g in generators])
    states = [g.bit_generator.state for g in generators]
    pool_size = int(float(hazard.sum(axis=1).max()) * n_steps / 4) + 64   # a quarter of the busiest row's renewals
    pool = np.stack([g.exponential(1.0, pool_size) for g in generators])
    used = np.zeros(rows, np.int64)
    # Only units whose first lifetime can run out within the sample ever fire or draw: a lifetime L above
    # n_steps x hazard (with a margin far above the round-off of n_steps subtractions) stays positive. The loop
    # runs over those (row, unit) pairs alone, in row-major order (silent pixels are most of an image).
    live = np.flatnonzero(lifetime.ravel() < hazard.ravel() * n_steps * (1 + 1e-6))
    live_row, live_unit = np.divmod(live, n)
    life, rate = lifetime.ravel()[live], hazard.ravel()[live]
    refractory = np.zeros(live.size, np.int64)
    for step in range(n_steps):
        life -= rate
        refractory -= refractory > 0
        expired = np.flatnonzero(life < 0)              # ascending: each row's units in ascending order
        if not expired.size:
            continue
        row = live_row[expired]
        counts = np.bincount(row, minlength=rows)
        while (used + counts).max() > pool.shape[1]:   # draw the next stretch of every row's stream
            pool = np.concatenate([pool, np.stack([g.exponential(1.0, pool_size) for g in generators])], axis=1)
        first = np.cumsum(counts) - counts              # where each row's events start among the expired
        life[expired] = pool[row, used[row] + np.arange(expired.size) - first[row]]
        used += counts
        fire = expired[refractory[expired] == 0]
        fired_rows.append(live_row[fire])
        fired_units.append(live_unit[fire])
        fired_steps.append(np.full(fire.size, step, np.int64))
        refractory[fire] = refractory_steps
    for generator, state, draws in zip(generators, states, used):
        generator.bit_generator.state = state
        generator.exponential(1.0, int(draws))
    if not fired_rows:
        return tuple(np.zeros(0, np.int64) for _ in range(3))
    return (np.concatenate(fired_rows).astype(np.int64), np.concatenate(fired_steps),
            np.concatenate(fired_units).astype(np.int64))


def one_hot(labels, n_classes: int, dtype=np.float64) -> np.ndarray:
    """One-hot rows (N, n_classes) of integer ``labels`` (N,) in 0..n_classes-1."""
    labels = np.asarray(labels)
    n_classes = _positive_int(n_classes, "n_classes")
    if labels.ndim != 1:
        raise ConfigError(f"labels has shape {labels.shape}; give a 1-d array of class indices")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"labels has dtype {labels.dtype}; give integer class indices, e.g. labels.astype(int)")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ConfigError(
            f"labels range from {labels.min()} to {labels.max()}, outside 0..{n_classes - 1}; "
            f"check n_classes={n_classes}")
    encoded = np.zeros((len(labels), n_classes), dtype=dtype)
    encoded[np.arange(len(labels)), labels] = 1
    return encoded


def as_generator(rng) -> np.random.Generator:
    """``rng`` itself if it is a ``numpy.random.Generator``, else ``numpy.random.default_rng(rng)`` for an
    integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)) or rng < 0:
        raise ConfigError(
            f"rng={rng!r} is neither a numpy.random.Generator nor a non-negative integer seed; "
            f"give e.g. rng=0 or rng=numpy.random.default_rng(0)")
    return np.random.default_rng(int(rng))


def _images_array(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3:
        raise ConfigError(
            f"images has shape {images.shape}; give a batch (N, H, W), e.g. images[None] for a single image")
    return _numeric(images, "images")


def _numeric(array: np.ndarray, argument: str) -> np.ndarray:
    """``array`` if it holds real numbers (bool counts) without NaN."""
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
        raise ConfigError(f"{argument} has dtype {array.dtype}; give real numbers")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ConfigError(f"{argument} contains NaN; give finite values")
    return array


def _check_unit_interval(array: np.ndarray, argument: str):
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ConfigError(
            f"{argument} has values from {array.min()} to {array.max()}; probabilities must lie in [0, 1]")


def _finite_number(value, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value):
        raise ConfigError(f"{argument}={value!r} is not a finite number")
    return float(value)


def _positive_int(value, argument: str) -> int:
    return whole(value, argument, minimum=1)


def _non_negative_int(value, argument: str) -> int:
    return whole(value, argument, minimum=0)
