"""Synfire-gated parts on the LoihiCUBA unit (docs/methods/sgsc.md; the one-step-per-stage form of docs/methods/sbp.md).

Every unit is the binary Loihi compartment with ``decay_u = decay_v = 1`` (no memory across steps):
``v[t] = input arriving at t + bias``, spike iff ``v > 1024``. Data units sit at bias -8192 and stay
silent unless a gate arrives; a gate's weight cancels the bias and sets what the unit compares its
input against. The connection types are a table, so that a circuit is a list of
``(pre, post, type)`` rows (``wire``), not code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spikingbp.circuits.spikes import SpikeSource
from spikingbp.errors import ConfigError

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit

THRESHOLD = 1024.0   # vth in weight units
DATA_BIAS = -8192.0  # data, memory and error units: silent unless gated
MAX_DELAY = 6        # longest axonal delay of a relay (1e_d6)


@dataclass(frozen=True)
class ConnectionType:
    pattern: str   # "all_to_all" (a gate to a layer) or "one_to_one"
    weight: float
    doc: str


CONNECTION_TYPES = {
    "g": ConnectionType("all_to_all", 8192 + 512, "gate: cancels the bias; unit fires iff input > 512"),
    "gm05": ConnectionType("all_to_all", 512, "added to g: unit fires iff input > 0"),
    "gp05": ConnectionType("all_to_all", 8192, "instead of g: unit fires iff input > 1024"),
    "gi": ConnectionType("all_to_all", -8128, "inhibitory gate: silences a layer in a phase"),
    "1e": ConnectionType("one_to_one", 520, "excitatory relay: copies a binary value"),
    "1i": ConnectionType("one_to_one", -520, "inhibitory relay: subtracts a binary value"),
    "1ge": ConnectionType("one_to_one", 9280, "gating chain: stage k -> stage k + 1"),
    "g1": ConnectionType("one_to_one", 8192 + 512, "conditional gate: gates its post unit by unit"),
}


def parse_type(kind: str) -> tuple[ConnectionType, int]:
    """``'1e_d3'`` -> (the 1e type, delay 3). Unknown types or delays out of 0..6 raise ConfigError."""
    base, separator, suffix = kind.partition("_d")
    if base not in CONNECTION_TYPES:
        raise ConfigError(f"unknown connection type {kind!r}; known: {sorted(CONNECTION_TYPES)} "
                          f"(optionally with an axonal delay suffix _d1.._d{MAX_DELAY})")
    delay = 0
    if separator:  # "1e_d" without a number is as wrong as "1e_d7"
        if not suffix.isdigit() or not 0 <= int(suffix) <= MAX_DELAY:
            raise ConfigError(f"connection type {kind!r}: delay must be 0..{MAX_DELAY} steps")
        delay = int(suffix)
    return CONNECTION_TYPES[base], delay


def add_layer(circuit: Circuit, name: str, size: int, *, gate: bool = False, refractory_steps: int = 0):
    """Binary units: data units (bias -8192) or, with ``gate=True``, gating units (bias 0)."""
    from spikingbp.models.neurons import LoihiCUBA  # here: the tables above are read without Brian2

    return circuit.add_population(name, size, LoihiCUBA, decay_u=1.0, decay_v=1.0, vth=THRESHOLD,
                                  bias=0.0 if gate else DATA_BIAS, refractory_steps=refractory_steps)


def wire(circuit: Circuit, rows, inhibition: dict | None = None):
    """Add ``(pre, post, type)`` rows, e.g. ``("g02", "h1", "g")`` or ``("m_h1", "h1", "1e_d2")``.

    ``inhibition`` maps a post population to the weight its ``gi`` rows get instead of the table's -8128
    (see ``silencing_weight``)."""
    inhibition = inhibition or {}
    for pre, post, kind in rows:
        ctype, delay = parse_type(kind)
        weight = inhibition.get(post, ctype.weight) if kind.partition("_d")[0] == "gi" else ctype.weight
        circuit.connect(pre, post, weight, pattern=ctype.pattern, delay=delay, kind=kind)


def silencing_weight(largest_input: float) -> float:
    """The ``gi`` weight that keeps a data unit (bias -8192) silent in its inhibited phase against any
    input up to ``largest_input``: ``largest_input + DATA_BIAS + gi <= THRESHOLD``. The table's -8128
    covers inputs up to 17,344; a larger bound gets the next multiple of 64 below ``9216 - largest_input``
    (64 is the grid of Loihi's weights at exponent 0, as for -8128 = -127 * 64)."""
    default = CONNECTION_TYPES["gi"].weight
    needed = THRESHOLD - DATA_BIAS - float(largest_input)
    return float(min(default, np.floor(needed / 64) * 64))


def kick(prefix: str = "g", kick_step: int = 0) -> SpikeSource:
    """The source that starts the gating chain ``prefix``: one spike at ``kick_step``."""
    return SpikeSource(f"{prefix}_kick", 1, np.zeros(1, np.int64), np.full(1, kick_step, np.int64))


def gating_chain(circuit: Circuit, stages: int, *, prefix: str = "g", ring: bool = True,
                 kick_step: int = 0) -> list[str]:
    """``stages`` one-unit gates ``g00, g01, ...``; a kick source fires ``g00`` at ``kick_step + 1``, and
    each stage fires the next one step later; with ``ring=True`` the last re-fires the first."""
    if stages < 2:
        raise ConfigError(f"a gating chain needs at least 2 stages, got {stages}")
    names = [f"{prefix}{k:02d}" for k in range(stages)]
    for name in names:
        add_layer(circuit, name, 1, gate=True)
    source = kick(prefix, kick_step)
    circuit.add_source(source.name, source.size, source.indices, source.steps)
    rows = [(f"{prefix}_kick", names[0], "1ge")]
    rows += [(a, b, "1ge") for a, b in zip(names, names[1:])]
    if ring:
        rows.append((names[-1], names[0], "1ge"))
    wire(circuit, rows)
    return names


def relay(circuit: Circuit, pre: str, post: str, gate: str, *, delay: int = 0, sign: int = +1):
    """Gated relay: ``post`` copies ``pre`` (or subtracts it, ``sign=-1``) when ``gate`` opens it."""
    wire(circuit, [(pre, post, ("1e" if sign > 0 else "1i") + (f"_d{delay}" if delay else "")),
                   (gate, post, "g")])


def push_pull(circuit: Circuit, name: str, size: int, *, pre=None, weight=1.0, gate: str | None = None,
              pattern: str = "all_to_all") -> tuple[str, str]:
    """A signed value as two non-negative binary layers ``name_plus`` (value > 0) and ``name_minus``
    (value < 0), so that plus - minus is its sign (ternary), as sBP's d+ and d- carry the error.

    Without ``pre`` only the two layers are made. With ``pre`` the signed input s is wired in, through
    ``weight`` (a scalar, one value per synapse, or a (pre, size) matrix) with ``pattern``: ``pre`` a
    layer or source gives s = W^T pre; ``pre`` a pair ``(plus, minus)`` of another push-pull value gives
    s = W^T (plus - minus), plus through +W and minus through -W (sBP's W2Tp and W2Tm pathways).
    ``name_plus`` receives +s and ``name_minus`` -s. ``gate`` opens both halves with ``g`` + ``gm05``, so
    when it arrives with s, ``name_plus`` fires iff s > 0 and ``name_minus`` iff s < 0 (strictly).
    """
    if pre is not None and not isinstance(pre, str) and len(pre) != 2:
        raise ConfigError(f"push_pull {name!r}: pre must be a layer name or a (plus, minus) pair, got {pre!r}")
    plus, minus = f"{name}_plus", f"{name}_minus"
    add_layer(circuit, plus, size)
    add_layer(circuit, minus, size)
    if pre is not None:
        weight = np.asarray(weight, dtype=float)
        signed = [(pre, +1.0)] if isinstance(pre, str) else [(pre[0], +1.0), (pre[1], -1.0)]
        for source, sign in signed:
            circuit.connect(source, plus, sign * weight, pattern=pattern, kind="pp_pos" if sign > 0 else "pp_neg")
            circuit.connect(source, minus, -sign * weight, pattern=pattern, kind="pp_neg" if sign > 0 else "pp_pos")
    if gate is not None:
        wire(circuit, [(gate, half, kind) for half in (plus, minus) for kind in ("g", "gm05")])
    return plus, minus


def gated_product(circuit: Circuit, value: str, factor: str, out: str, gate: str):
    """``out = value AND factor`` unit by unit: ``factor`` gates the relay of ``value`` into ``out``
    (conditional gating: the Hadamard product of two binary vectors). ``gate`` only times the phase: it
    lifts ``out`` half-way, so a unit needs both its factor and its value to fire."""
    ctype = CONNECTION_TYPES
    circuit.connect(value, out, ctype["1e"].weight, pattern="one_to_one", kind="1e")
    circuit.connect(factor, out, ctype["g1"].weight / 2, pattern="one_to_one", kind="g1_half")
    circuit.connect(gate, out, ctype["g1"].weight / 2, pattern="all_to_all", kind="g_half")


__all__ = ["CONNECTION_TYPES", "ConnectionType", "THRESHOLD", "DATA_BIAS", "parse_type", "add_layer", "wire",
           "silencing_weight",
           "gating_chain", "relay", "push_pull", "gated_product"]
