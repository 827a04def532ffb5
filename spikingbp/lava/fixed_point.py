"""Quantisation of LoihiCUBA circuits for lava-nc's fixed-point (bit-accurate) models, with error bounds.

What lava 0.10's fixed-point models compute (read from ``lava.proc.lif.models.AbstractPyLifModelFixed``,
``PyLifModelBitAcc`` and ``lava.proc.dense.models.AbstractPyDenseModelBitAcc``), in internal units:

* Dense: the weight mantissa ``m`` is clipped to 8 bits by sign mode (excitatory 0..255, inhibitory
  -255..0, mixed -256..255 with the lowest bit cleared, i.e. even values -256..254); the activation of a
  step is ``sum(m) << weight_exp`` (``>> -weight_exp`` for negative exponents, which floors the sum).
* LIF: the activation is shifted left by 6 (``act_shift``) and added to the 24-bit current u after
  ``u * (4096 - (du + 1)) >> 12`` (sign-magnitude, so truncation toward zero; ``du + 1`` because
  ``ds_offset = 1``); the voltage is ``v * (4096 - dv) >> 12 + u + bias_mant << bias_exp`` (``dm_offset = 0``),
  clipped to +-(2**23 - 1); a spike iff ``v > vth << 6`` (``vth_shift``). The bias is not shifted by 6:
  ``bias_mant << bias_exp`` is already in internal units (64ths of an activation unit). bias_mant is 13-bit signed
  (-4096..4095), bias_exp 0..7, vth 17-bit unsigned (0..131071), du and dv 12-bit (0..4095).

So one circuit weight unit (the unit of weights, vth and bias in ``spikingbp.models.LoihiCUBA``) maps to
``scale`` activation units and ``64 * scale`` internal units of u and v; ``scale`` is a power of two
(``choose_scale``; 1 for sBP). The mapping, per parameter (values in circuit units):

=============  =====================================================  =========================================
parameter      fixed point                                            error bound (circuit units)
=============  =====================================================  =========================================
weight w       m * 2**e / scale, m by sign mode, e in -8..7 shared    grid / 2 * 2**e / scale (grid 1, mixed 2),
               by one Dense                                           0 if w * scale is on the grid; e < 0 also
                                                                      floors the summed activation (< 1 / scale)
vth            round(vth * scale) / scale                             0.5 / scale
bias           round(64 * bias * scale / 2**x) * 2**x / (64 scale),   2**x / (128 * scale) with x the per-unit
               x = bias_exp, the smallest exponent that fits          bias_exp (x = 0: 1 / (128 * scale))
decay_u        (du + 1) / 4096, du = round(4096 decay_u) - 1          1 / 8192 (1 / 4096 for decay_u < 1 / 8192:
                                                                      u always decays by at least 1 / 4096)
decay_v        dv / 4096, dv = round(4096 decay_v)                    1 / 8192 (with dv_max = 4095: 1 / 4096 for
                                                                      decay_v > 4095.5 / 4096)
=============  =====================================================  =========================================

Lava annotates the LIF's input as 16 bits but does not saturate it: summed activations above 2**15
(e.g. a 400-input sBP layer at its worst case) are exact here; whether hardware saturates them is not
checked. u wraps and v saturates at 24 bits (``choose_scale`` keeps the worst one-step input inside).

Besides the parameters, every step truncates u * (1 - decay_u) and v * (1 - decay_v) toward zero: an error
below one internal unit, 1 / (64 * scale) circuit units, per step (none when the decay is 0 or 1).

The sBP circuits map with no error at all: integer weights of the 8-bit grids (gates 8704 = 136 * 2**6,
relays 520 = 130 * 2**2, plastic W even in -254..254 at e = 0), vth 1024 and bias -8192 = -4096 * 2**7 / 64
at scale 1, and decays of 1: du = 4095 (effective 4096). decay_v = 1 needs dv = 4096, which lava's Python
model computes exactly (``v * 0``) but which lies outside Loihi's 12-bit dv field (lava hard-wires
``dm_offset = 0``; Loihi 1 had the dm_offset bit that made 4096 reachable). With ``dv_max=4095`` instead,
v keeps trunc(v / 4096) from the previous step: a silent sBP unit (v = -8192 * 64) carries -128 internal
units = -2 weight units into its gated step, so a unit whose input is exactly 514 (= 512 + 2) would stay
silent. ``dv_max`` therefore defaults to 4096, and the report marks such populations not deployable as is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingbp.errors import ConfigError

#: Activations and the threshold are shifted left by this many bits inside the fixed-point LIF.
STATE_SHIFT = 6
#: One circuit unit (at scale 1) in internal units of u and v.
INTERNAL_PER_UNIT = 2 ** STATE_SHIFT
#: Decays are fractions of this (12 bits).
DECAY_UNITY = 4096
#: u and v are 24-bit signed: |u|, |v| < 2**23 internal units.
STATE_LIMIT = 2 ** 23
#: vth is 17-bit unsigned.
VTH_MAX = 2 ** 17 - 1
#: bias_mant is 13-bit signed, bias_exp 0..7.
BIAS_MANT_MIN, BIAS_MANT_MAX = -4096, 4095
BIAS_EXP_MAX = 7
#: Weight exponents that Loihi's synapse format allows.
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7
#: Mantissa range and grid per sign mode (lava.utils.weightutils: clip_weights, truncate_weights).
SIGN_MODES = {"excitatory": (0, 255, 1), "inhibitory": (-255, 0, 1), "mixed": (-256, 254, 2)}
#: The largest weight magnitude any sign mode holds at the largest exponent.
WEIGHT_MAX = 254 * 2 ** WEIGHT_EXP_MAX
#: Largest |bias| in circuit units at scale 1 (positive side; the negative side reaches -8192).
BIAS_MAX = BIAS_MANT_MAX * 2 ** BIAS_EXP_MAX / INTERNAL_PER_UNIT
BIAS_MIN = BIAS_MANT_MIN * 2 ** BIAS_EXP_MAX / INTERNAL_PER_UNIT
#: Largest |u| in circuit units at scale 1 (24-bit u after the 6-bit shift).
CURRENT_MAX = STATE_LIMIT / INTERNAL_PER_UNIT


def sign_mode_of(values) -> str:
    """Lava's sign mode of a weight set: all >= 0 excitatory (also all zero), all <= 0 inhibitory, else mixed."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or values.min() >= 0:
        return "excitatory"
    if values.max() <= 0:
        return "inhibitory"
    return "mixed"


def sign_mode_enum(mode: str):
    """The ``lava.utils.weightutils.SignMode`` member of a sign mode name."""
    from lava.utils.weightutils import SignMode

    return {"excitatory": SignMode.EXCITATORY, "inhibitory": SignMode.INHIBITORY, "mixed": SignMode.MIXED}[mode]


@dataclass
class QuantizedWeights:
    """Weights as lava's fixed-point Dense holds them: ``values ~= mantissa * 2**exp / scale``."""

    mantissa: np.ndarray   #: int64, same shape as the weights
    exp: int               #: the shared weight_exp
    sign_mode: str         #: 'excitatory', 'inhibitory' or 'mixed'
    scale: float           #: activation units per circuit unit
    values: np.ndarray     #: what the mantissas mean, in circuit units
    error: np.ndarray      #: |values - original|
    bound: float           #: the documented bound on ``error`` (inf when clipped)
    clipped: bool          #: a weight exceeded the largest representable magnitude
    floors_sum: bool       #: exp < 0 and the mantissas are not multiples of 2**-exp: the Dense floors the sum

    @property
    def exact(self) -> bool:
        return not self.clipped and not self.floors_sum and bool(np.all(self.error == 0))


def quantize_weights(weights, scale: float = 1.0, exp: int | None = None) -> QuantizedWeights:
    """Mantissas and the exponent of one Dense, rounding to nearest: the finest grid, i.e. the smallest
    exponent in -8..7 at which every scaled weight fits the mantissa range of its sign mode, then raised
    while the values stay the same (so integers get exponents >= 0); or the exponent ``exp`` if given."""
    weights = np.asarray(weights, dtype=float)
    if not np.all(np.isfinite(weights)):
        raise ConfigError("weights must be finite to be quantised")
    scaled = weights * scale
    mode = sign_mode_of(scaled)
    low, high, grid = SIGN_MODES[mode]
    exps = range(WEIGHT_EXP_MIN, WEIGHT_EXP_MAX + 1) if exp is None else (int(exp),)
    mantissa, chosen, clipped = None, None, True
    for e in exps:
        mantissa = grid * np.round(scaled / 2.0 ** e / grid)
        chosen = e
        if mantissa.size == 0 or (mantissa.min() >= low and mantissa.max() <= high):
            clipped = False
            break
    if clipped:
        mantissa = np.clip(mantissa, low, high)
    elif exp is None:
        # the largest exponent that represents the same values (integers get e >= 0, 8704 = 68 * 2**7):
        # fewer distinct exponents let more projections share one Dense
        for e in range(chosen + 1, WEIGHT_EXP_MAX + 1):
            coarser = grid * np.round(scaled / 2.0 ** e / grid)
            if coarser.min() < low or coarser.max() > high or not np.array_equal(coarser * 2.0 ** e,
                                                                                  mantissa * 2.0 ** chosen):
                break
            mantissa, chosen = coarser, e
    mantissa = mantissa.astype(np.int64)
    values = mantissa * 2.0 ** chosen / scale
    error = np.abs(values - weights)
    floors = chosen < 0 and bool(np.any(mantissa % (2 ** -chosen)))
    bound = np.inf if clipped else grid / 2 * 2.0 ** chosen / scale
    return QuantizedWeights(mantissa, int(chosen), mode, float(scale), values, error, bound, clipped, floors)


@dataclass
class QuantizedBias:
    mantissa: np.ndarray   #: bias_mant, int64 per unit
    exp: np.ndarray        #: bias_exp, int64 per unit
    values: np.ndarray     #: what they mean, in circuit units
    error: np.ndarray
    bound: np.ndarray      #: per-unit bound 2**exp / (128 * scale); inf where clipped
    clipped: bool


def quantize_bias(bias, scale: float = 1.0) -> QuantizedBias:
    """bias_mant and bias_exp per unit: the smallest exponent 0..7 whose mantissa fits 13 bits."""
    bias = np.atleast_1d(np.asarray(bias, dtype=float))
    internal = bias * scale * INTERNAL_PER_UNIT
    exp = np.full(bias.shape, BIAS_EXP_MAX, np.int64)  # units that fit nowhere are clipped at the largest
    fitted = np.zeros(bias.shape, bool)
    for e in range(BIAS_EXP_MAX + 1):
        candidate = np.round(internal / 2.0 ** e)
        fits = ~fitted & (candidate >= BIAS_MANT_MIN) & (candidate <= BIAS_MANT_MAX)
        exp[fits] = e
        fitted |= fits
    mantissa = np.clip(np.round(internal / 2.0 ** exp), BIAS_MANT_MIN, BIAS_MANT_MAX).astype(np.int64)
    values = mantissa * 2.0 ** exp / (INTERNAL_PER_UNIT * scale)
    bound = np.where(fitted, 2.0 ** exp / (2 * INTERNAL_PER_UNIT * scale), np.inf)
    return QuantizedBias(mantissa, exp, values, np.abs(values - bias), bound, not bool(np.all(fitted)))


@dataclass
class QuantizedNeuron:
    """The fixed-point LIF parameters of one group of units (scalars du, dv, vth; per-unit bias)."""

    du: int
    dv: int
    vth: int
    bias: QuantizedBias
    decay_u: float   #: effective (du + 1) / 4096
    decay_v: float   #: effective dv / 4096
    vth_value: float  #: vth / scale, circuit units
    errors: dict     #: parameter -> (error, bound)
    problems: list   #: reasons this group is not deployable as is (empty: deployable)


def quantize_decay_u(decay_u: float) -> tuple[int, float]:
    """(du, effective decay): lava adds ds_offset = 1, so du = round(4096 decay_u) - 1 in 0..4095."""
    du = int(np.clip(np.round(decay_u * DECAY_UNITY) - 1, 0, DECAY_UNITY - 1))
    return du, (du + 1) / DECAY_UNITY


def quantize_decay_v(decay_v: float, dv_max: int = DECAY_UNITY) -> tuple[int, float]:
    """(dv, effective decay): dv = round(4096 decay_v), at most ``dv_max`` (4096, or 4095 for the 12-bit field)."""
    if dv_max not in (DECAY_UNITY - 1, DECAY_UNITY):
        raise ConfigError(f"dv_max must be 4095 (Loihi's 12-bit dv) or 4096 (exact full decay), got {dv_max!r}")
    dv = int(np.clip(np.round(decay_v * DECAY_UNITY), 0, dv_max))
    return dv, dv / DECAY_UNITY


def quantize_threshold(vth: float, scale: float = 1.0) -> tuple[int, float, bool]:
    """(vth register, its value in circuit units, clipped?)."""
    raw = np.round(vth * scale)
    clipped = raw < 0 or raw > VTH_MAX
    register = int(np.clip(raw, 0, VTH_MAX))
    return register, register / scale, bool(clipped)


def quantize_neuron(decay_u: float, decay_v: float, vth: float, bias, scale: float = 1.0,
                    dv_max: int = DECAY_UNITY) -> QuantizedNeuron:
    du, eff_u = quantize_decay_u(decay_u)
    dv, eff_v = quantize_decay_v(decay_v, dv_max)
    vth_register, vth_value, vth_clipped = quantize_threshold(vth, scale)
    qbias = quantize_bias(bias, scale)
    errors = {
        "decay_u": (abs(eff_u - decay_u), 1 / DECAY_UNITY if decay_u < 0.5 / DECAY_UNITY else 0.5 / DECAY_UNITY),
        "decay_v": (abs(eff_v - decay_v), 1 / DECAY_UNITY if decay_v > (dv_max + 0.5) / DECAY_UNITY
                    else 0.5 / DECAY_UNITY),
        "vth": (abs(vth_value - vth), 0.5 / scale),
        "bias": (float(qbias.error.max(initial=0.0)), float(qbias.bound.max(initial=0.0))),
    }
    problems = []
    if dv > DECAY_UNITY - 1:
        problems.append("dv = 4096 (decay_v = 1 exactly) lies outside Loihi's 12-bit dv (0..4095); lava's Python "
                        "model computes it, hardware needs dv <= 4095 (see spikingbp.lava.fixed_point)")
    if vth_clipped:
        problems.append(f"vth = {vth} does not fit the 17-bit threshold at scale {scale}")
    if qbias.clipped:
        problems.append(f"a bias does not fit bias_mant * 2**bias_exp at scale {scale}")
    return QuantizedNeuron(du, dv, vth_register, qbias, eff_u, eff_v, vth_value, errors, problems)


def choose_scale(vths, biases, weight_maxima, input_maxima) -> float:
    """The largest power of two 2**k (k in -8..16) at which every threshold, bias, static weight magnitude
    and worst-case one-step input (sum of |w| into a unit) fits its register: vth * s <= 131071,
    bias * s in [-8192, 8190], |w| * s <= 254 * 2**7, input * s < 2**17 (24-bit u). Returns 2**-8 if
    nothing fits. A larger scale gives finer thresholds and biases; sBP gets 1 (bias -8192)."""
    vth = max((abs(float(v)) for v in vths), default=0.0)
    bias_hi = max((float(np.max(b)) for b in biases if np.size(b)), default=0.0)
    bias_lo = min((float(np.min(b)) for b in biases if np.size(b)), default=0.0)
    weight = max((float(w) for w in weight_maxima), default=0.0)
    current = max((float(c) for c in input_maxima), default=0.0)
    for k in range(16, -9, -1):
        s = 2.0 ** k
        if vth * s <= VTH_MAX and bias_hi * s <= BIAS_MAX and bias_lo * s >= BIAS_MIN \
                and weight * s <= WEIGHT_MAX and current * s < CURRENT_MAX:
            return s
    return 2.0 ** -8


__all__ = ["QuantizedWeights", "QuantizedBias", "QuantizedNeuron", "quantize_weights", "quantize_bias",
           "quantize_decay_u", "quantize_decay_v", "quantize_threshold", "quantize_neuron", "choose_scale",
           "sign_mode_of", "sign_mode_enum", "STATE_SHIFT", "DECAY_UNITY", "VTH_MAX", "SIGN_MODES"]
