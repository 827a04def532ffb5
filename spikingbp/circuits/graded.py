"""Graded, gated transfer in synfire-gated synfire chains (docs/methods/sgsc.md), in continuous time.

Builders (each returns a ``Circuit`` with a ``GradedLayout`` attached as ``circuit.layout``):

``meanfield_chain``  the spec's mean-field chain: K + 1 ``MeanFieldUnit`` populations with square gates
                     of length T one after the other, so that I_{j+1}((j+1)T) = S (T/tau) e^{-T/tau} I_j(jT).
``spiking_sgsc``     a gating synfire chain of current-based I&F populations whose volleys switch square
                     gate currents onto the stages of a second chain of noisy I&F populations, which
                     carries graded current amplitudes.
``routed_sgsc``      the same with a branch point: the graded chain feeds two branches through fixed
                     connections, and a routing input decides which branch's gating chain fires.

All gates come from inside the circuit (an expression of t, or gating volleys), every projection has one
integer delay, and nothing needs TimedArray or network_operation, so every builder passes brian2genn
code generation. Timing, in steps of ``dt`` with P = T / dt: stage 0 holds the input amplitude at the
end of step s0, gate j is open for the steps s0 + j P + 1 ... s0 + (j + 1) P, and the amplitude of
stage j is its synaptic current at the end of step s0 + j P, when gate j - 1 closes.

Calibration (spiking): ``calibrate_offset`` finds the gate amplitude g0 that makes the stage transfer
proportional (no intercept: the gate sits exactly at the offset), ``calibrate_strength`` the S whose
mean stage gain is 1.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
from brian2 import Quantity, amp, get_dimensions, ms, mV, pA, pF

from spikingbp.circuits.circuit import Circuit, CircuitResult
from spikingbp.errors import ConfigError
from spikingbp.models.meanfield import GateSwitch, MeanFieldUnit, RateCoupling
from spikingbp.models.neurons import NoisyLIF
from spikingbp.models.synapses import Static, StaticCurrent

BRANCHES = ("a", "b")


# ---------------------------------------------------------------------------------------------------
# Closed form of the mean-field transfer.

def stage_gain(S, T, tau):
    """Mean-field amplitude gain of one gated stage: S (T / tau) exp(-T / tau)."""
    x = float(T / tau)
    return np.asarray(S, dtype=float) * x * np.exp(-x)


def exact_strength(T, tau) -> float:
    """The S that transfers every amplitude exactly (stage gain 1): (tau / T) exp(T / tau); e for T = tau."""
    x = float(T / tau)
    return float(np.exp(x) / x)


# ---------------------------------------------------------------------------------------------------
# Where the stages of a built circuit sit, and how to read their amplitudes.

@dataclass
class GradedLayout:
    """The stages of the graded chain(s) of a built circuit.

    ``stages[branch]`` lists the stage names in order: branch ``"main"`` for a plain chain, ``"a"`` and
    ``"b"`` (each starting with the shared trunk) after a branch point. ``where[name]`` is the
    population and first unit of that stage; it holds ``copies`` copies of the chain, ``n`` units each
    (copy c: units first + c n ... first + (c + 1) n - 1). Copy c started with ``amplitudes[c]`` and
    has the feed-forward strength ``strengths[c]``.
    """

    kind: str                      # "meanfield" or "spiking"
    dt: Quantity                   # time step of the circuit
    tau: Quantity                  # synaptic time constant of the graded chain
    period: int                    # P = T / dt, the gate length in steps
    start_step: int                # s0: stage 0 holds the input amplitude at the end of this step
    n: int                         # units per copy of the chain in a stage
    amplitudes: np.ndarray         # input amplitude of each copy (amp for spiking, 1 for mean-field)
    strengths: np.ndarray          # feed-forward strength S of each copy
    stages: dict                   # branch -> stage names, stage 0 first
    where: dict                    # stage name -> (population, first unit)
    gate_populations: dict = field(default_factory=dict)  # branch -> gating populations, in order
    weight_per_strength: float = 0.0  # spiking: current jump per spike (amp) for S = 1
    route: str | None = None       # the branch the routing input selects (routed_sgsc)
    parameters: dict = field(default_factory=dict)        # what the builder used, for config.json

    @property
    def copies(self) -> int:
        """Copies of the chain (one per input amplitude, S value and repeat)."""
        return len(self.amplitudes)

    def readout_step(self, stage: int) -> int:
        """The step at whose end stage ``stage``'s amplitude is read."""
        return self.start_step + stage * self.period

    def gate(self, stage: int) -> tuple[int, int]:
        """First and last step of the gate of stage ``stage``."""
        return self.start_step + stage * self.period + 1, self.start_step + (stage + 1) * self.period

    def steps_needed(self) -> int:
        """Steps to run so that the last stage of every branch has been read and its gate has closed, and a
        quarter period beyond, so that a raster shows the last gate closed rather than ending inside it."""
        longest = max(len(names) for names in self.stages.values())
        return self.start_step + longest * self.period + 2 + self.period // 4

    def amplitudes_of(self, result: CircuitResult, branch: str = "main") -> np.ndarray:
        """Amplitude of each stage of ``branch`` in each copy: array (copies, stages).

        Mean-field: the recorded current ``I``. Spiking: stage 0 is the input amplitude (exact by
        construction); stage j > 0 is rebuilt from the spikes of stage j - 1, which is exactly the
        synaptic current its units hold (each spike adds S w in its own step, the current decays by
        1 - dt / tau per step: Brian2's runtime and cpp_standalone schedule), so no state needs
        recording."""
        if branch not in self.stages:
            raise ConfigError(f"no branch {branch!r} in this circuit; known: {sorted(self.stages)}")
        names = self.stages[branch]
        out = np.zeros((self.copies, len(names)))
        for j, name in enumerate(names):
            step = self.readout_step(j)
            if step >= result.steps:
                raise ConfigError(f"stage {j} ({name}) is read at step {step}, but the run has "
                                  f"{result.steps} steps; run layout.steps_needed() steps")
            population, first = self.where[name]
            if self.kind == "meanfield":
                if population not in result.states or "I" not in result.states[population]:
                    raise ConfigError(f"the run did not record I of {population!r}; pass "
                                      f"record_states={{{population!r}: ['I']}}")
                out[:, j] = result.states[population]["I"][step, first:first + self.copies]
            elif j == 0:
                out[:, j] = self.amplitudes
            else:
                out[:, j] = self._current_from_spikes(result, names[j - 1], step)
        return out

    def _current_from_spikes(self, result: CircuitResult, pre: str, step: int) -> np.ndarray:
        population, first = self.where[pre]
        if population not in result.spikes:
            raise ConfigError(f"the run did not record the spikes of {population!r}")
        steps, units, _ = result.spikes[population]
        keep = steps <= step
        steps, copy = steps[keep], (units[keep] - first) // self.n
        decay = 1.0 - float(self.dt / self.tau)
        weights = self.weight_per_strength * self.strengths[copy] * decay ** (step - steps)
        return np.bincount(copy, weights=weights, minlength=self.copies)

    def spike_counts(self, result: CircuitResult, name: str) -> np.ndarray:
        """Spikes of each copy of stage ``name``, inside its gate and outside: array (copies, 2)."""
        population, first = self.where[name]
        steps, units, _ = result.spikes[population]
        first_step, last_step = self.gate(self._stage_index(name))
        inside = (steps >= first_step) & (steps <= last_step)
        copy = (units - first) // self.n
        return np.stack([np.bincount(copy[inside], minlength=self.copies),
                         np.bincount(copy[~inside], minlength=self.copies)], axis=1)

    def _stage_index(self, name: str) -> int:
        for names in self.stages.values():
            if name in names:
                return names.index(name)
        raise ConfigError(f"no stage named {name!r}")


def stage_gains(amplitudes: np.ndarray) -> np.ndarray:
    """Gain of each transfer, A_{j+1} / A_j, from amplitudes (copies, stages): array (copies, stages - 1)."""
    amplitudes = np.asarray(amplitudes, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(amplitudes[:, :-1] > 0, amplitudes[:, 1:] / amplitudes[:, :-1], np.nan)


# ---------------------------------------------------------------------------------------------------
# Helpers.

def _positive_int(value, name: str, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _steps(duration, dt, what: str) -> int:
    steps = float(duration / dt)
    if steps < 1 or abs(steps - round(steps)) > 1e-6:
        raise ConfigError(f"{what} = {duration} must be a positive whole number of time steps dt = {dt}")
    return int(round(steps))


def _in_amp(values, what: str) -> np.ndarray:
    """Currents given as Brian2 quantities (any current unit) or plain numbers in amp."""
    if isinstance(values, Quantity):
        if get_dimensions(values) != get_dimensions(amp):
            raise ConfigError(f"{what} must be currents (e.g. [10, 20] * pA), got units {get_dimensions(values)}")
        values = np.asarray(values / amp)
    return np.atleast_1d(np.asarray(values, dtype=float))


def _copies(amplitudes, strengths, repeats: int) -> tuple[np.ndarray, np.ndarray]:
    """One copy of the chain per (amplitude, S) pair and repeat: amplitude-major, then repeats."""
    amplitudes = np.atleast_1d(np.asarray(amplitudes, dtype=float))
    strengths = np.atleast_1d(np.asarray(strengths, dtype=float))
    if amplitudes.ndim != 1 or strengths.ndim != 1 or not len(amplitudes) or not len(strengths):
        raise ConfigError("amplitudes and S must be scalars or non-empty 1-d sequences")
    try:
        amplitudes, strengths = np.broadcast_arrays(amplitudes, strengths)
    except ValueError:
        raise ConfigError(f"give one S or one per amplitude: got {len(strengths)} S values for "
                          f"{len(amplitudes)} amplitudes") from None
    repeats = _positive_int(repeats, "repeats")
    if not np.all(np.isfinite(amplitudes)) or not np.all(np.isfinite(strengths)) or \
            np.any(amplitudes < 0) or np.any(strengths < 0):
        raise ConfigError("amplitudes and S must be finite and >= 0")
    return np.repeat(amplitudes, repeats), np.repeat(strengths, repeats)


def run_graded(circuit: Circuit, *, seed: int | None = 0, steps: int | None = None, device: str = "runtime",
               record_spikes=True, record_states=None, **device_options) -> CircuitResult:
    """Run a circuit of this module for ``circuit.layout.steps_needed()`` steps (or ``steps``).

    ``seed`` seeds the background noise on whichever device runs it (``Circuit.run``); None leaves it
    unseeded (needed on genn, which cannot be seeded)."""
    if record_states is None and circuit.layout.kind == "meanfield":
        record_states = {name: ["I"] for name in circuit.populations}
        record_spikes = False
    return circuit.run(steps or circuit.layout.steps_needed(), device, record_spikes=record_spikes,
                       record_states=record_states, seed=seed, **device_options)


# ---------------------------------------------------------------------------------------------------
# Mean-field chain.

def meanfield_chain(stages: int = 8, S=np.e, amplitudes=(0.3,), *, T=5 * ms, tau=5 * ms, g0: float = 1.0,
                    I_g: float | None = None, dt=None, start_step: int = 1,
                    name: str = "meanfield") -> Circuit:
    """A mean-field chain of ``stages`` transfers (stages ``x00`` ... ``xK``), one copy per amplitude.

    ``S`` is one strength or one per amplitude (compare several S in one run). All units sit in one
    ``MeanFieldUnit`` population ``x`` (stage j of copy c is unit j * copies + c), because Brian2 and
    brian2genn allow a single summed-variable ``Synapses`` per target: all rate couplings are one
    projection. An input spike sets I of stage 0 to the amplitude at ``start_step``; gate j is the
    square pulse on steps ``start_step + j P + 1 ... start_step + (j + 1) P``. ``I_g`` defaults to
    ``g0`` (the gate cancels the offset). Amplitudes must stay below ``g0``, or stages fire ungated.
    ``dt`` defaults to tau / 500, which keeps the discretisation error of a stage gain near 1e-3.
    """
    stages = _positive_int(stages, "stages")
    start_step = _positive_int(start_step, "start_step", 0)
    dt = dt if dt is not None else tau / 500
    period = _steps(T, dt, "T")
    amplitudes, strengths = _copies(amplitudes, S, 1)
    copies = len(amplitudes)
    I_g = g0 if I_g is None else I_g
    circuit = Circuit(name, dt=dt)
    names = [f"x{j:02d}" for j in range(stages + 1)]
    # The gate opens half a step before the first gated step, so no floating-point tie decides a step.
    t_on = np.repeat(start_step + np.arange(stages + 1) * period + 0.5, copies) * dt
    circuit.add_population("x", (stages + 1) * copies, MeanFieldUnit, tau=tau, I_g=I_g, g0=g0, t_on=t_on,
                           T_gate=period * dt)
    copy = np.arange(copies)
    circuit.connect("x", "x", np.tile(strengths, stages), synapse=RateCoupling, kind="S",
                    i=np.concatenate([j * copies + copy for j in range(stages)]),
                    j=np.concatenate([(j + 1) * copies + copy for j in range(stages)]))
    circuit.add_source("input", copies, copy, np.full(copies, start_step))
    circuit.connect("input", "x", amplitudes, i=copy, j=copy, synapse=Static, kind="amplitude")
    circuit.layout = GradedLayout(
        "meanfield", dt, tau, period, start_step, 1, amplitudes, strengths, stages={"main": names},
        where={nm: ("x", j * copies) for j, nm in enumerate(names)},
        parameters=dict(stages=stages, T=float(T), tau=float(tau), g0=g0, I_g=I_g, dt=float(dt)))
    return circuit


# ---------------------------------------------------------------------------------------------------
# Spiking synfire-gated synfire chain.

def _quantity(value):
    """A Quantity default of a dataclass field (an array, which Python 3.11+ refuses as a plain default)."""
    return field(default_factory=lambda: value)


@dataclass(frozen=True)
class SpikingConfig:
    """Parameters of the spiking SGSC (Brian2 quantities).

    Graded populations are ``NoisyLIF`` units held at ``I_rest``, silent for every amplitude they
    carry; a gate adds ``g0``, the offset from rest to the onset of their threshold-linear response,
    so that inside a gate a population fires at about ``beta * I`` for its synaptic current I.
    ``S`` becomes the current jump per spike ``S / (beta * tau * n)``, which makes the spiking chain's
    S the mean-field S if the rate followed the input at once; ``beta = 1 / (C_m v_th)`` is the slope of
    the LIF f-I curve well above threshold. The default g0 is ``calibrate_offset``'s result for these
    parameters (see benchmarks/sgsc_graded_transfer.py).
    """

    n: int = 100                   # units per graded population (per copy of the chain)
    n_gate: int = 100              # units per gating population
    dt: Quantity = _quantity(0.1 * ms)        # time step
    T: Quantity = _quantity(20 * ms)          # gate length (period of the gating chain)
    tau: Quantity = _quantity(20 * ms)        # synaptic time constant of the graded chain
    tau_m: Quantity = _quantity(4 * ms)       # membrane time constant of graded units
    C_m: Quantity = _quantity(4 * pF)         # membrane capacitance
    v_th: Quantity = _quantity(20 * mV)       # threshold (rest and reset at 0 mV)
    t_ref: Quantity = _quantity(0 * ms)       # refractory period of graded units
    sigma: Quantity = _quantity(6 * mV)       # background noise: std of the free membrane potential
    I_rest: Quantity = _quantity(-40 * pA)    # current of graded units outside their gate
    g0: Quantity = _quantity(51.4 * pA)       # gate amplitude = offset from rest to the threshold-linear onset
    gate_tau_m: Quantity = _quantity(10 * ms)  # membrane time constant of gating units
    gate_t_ref: Quantity = _quantity(2 * ms)  # refractory period of gating units (shorter than T)
    gate_drive: float = 1.5        # a full volley lifts a gating unit by this many thresholds in one step
    warmup: int = 300              # steps before the input starts, for graded units to settle at rest

    def __post_init__(self):
        _positive_int(self.n, "SpikingConfig.n")
        _positive_int(self.n_gate, "SpikingConfig.n_gate")
        _positive_int(self.warmup, "SpikingConfig.warmup", 0)
        for name in ("dt", "T", "tau", "tau_m", "C_m", "v_th", "gate_tau_m"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"SpikingConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if self.period < 3:
            raise ConfigError(f"T = {self.T} must be at least 3 steps of dt = {self.dt}")
        if not 0 <= float(self.gate_t_ref) < float(self.T):
            raise ConfigError("gate_t_ref must lie in [0, T): a gating unit must be ready for the next volley")
        if not 1 < self.gate_drive < 2:
            raise ConfigError(f"gate_drive must lie in (1, 2): one volley fires the next gate, half of one "
                              f"(the branch point without routing input) does not; got {self.gate_drive}")

    @property
    def period(self) -> int:
        """Gate length in steps."""
        return _steps(self.T, self.dt, "T")

    @property
    def beta(self) -> Quantity:
        """Slope of the LIF f-I curve above threshold, 1 / (C_m v_th), in Hz per amp."""
        return 1 / (self.C_m * self.v_th)

    def weight_per_strength(self) -> float:
        """Current jump (amp) per spike of a graded unit for S = 1: 1 / (beta tau n)."""
        return float(1 / (self.beta * self.tau * self.n))

    def replace(self, **changes) -> "SpikingConfig":
        """A copy with some parameters changed (checked again)."""
        return replace(self, **changes)

    def record(self) -> dict:
        """All parameters as plain numbers in SI units (seconds, amp, volt, farad), for config.json."""
        return {k: (int(v) if isinstance(v, (int, np.integer)) else float(v)) for k, v in asdict(self).items()}


def input_shape(period: int, dt_over_tau: float) -> np.ndarray:
    """Current jumps, per unit of amplitude, that make a current decaying by (1 - dt / tau) per step
    follow (n / P) exp((P - n) dt / tau) over the steps n = 1 ... P and end at exactly 1: the rise of a
    gated stage's current while an ideal (mean-field) stage before it fires."""
    n = np.arange(period + 1)
    target = n / period * np.exp((period - n) * dt_over_tau)
    return target[1:] - (1 - dt_over_tau) * target[:-1]


def _add_graded(circuit: Circuit, names, config: SpikingConfig, copies: int):
    for name in names:
        if name not in circuit.populations:
            circuit.add_population(name, copies * config.n, NoisyLIF, tau_m=config.tau_m, tau_syn=config.tau,
                                   C_m=config.C_m, v_th=config.v_th, v_reset=0 * mV, t_ref=config.t_ref,
                                   sigma=config.sigma, I_ext=config.I_rest)


def _add_gating(circuit: Circuit, names, config: SpikingConfig):
    # Gating units have no noise and a one-step synaptic current (tau_syn = dt under Euler): a volley
    # acts within one step, and each gating unit fires exactly once per volley.
    for name in names:
        if name not in circuit.populations:
            circuit.add_population(name, config.n_gate, NoisyLIF, tau_m=config.gate_tau_m, tau_syn=config.dt,
                                   C_m=config.C_m, v_th=config.v_th, v_reset=0 * mV, t_ref=config.gate_t_ref,
                                   sigma=0 * mV, I_ext=0 * pA)


def _build_spiking(name: str, branches: dict, gates: dict, amplitudes, S, repeats: int,
                   config: SpikingConfig, half_links=(), parameters=None) -> Circuit:
    """The common part of ``spiking_sgsc`` and ``routed_sgsc``: ``branches`` maps a branch to its stage
    names, ``gates`` to its gating populations (one more than stages: the last closes the last gate)."""
    c = config
    amplitudes, strengths = _copies(_in_amp(amplitudes, "amplitudes"), S, repeats)
    copies, n, period = len(amplitudes), c.n, c.period
    circuit = Circuit(name, dt=c.dt)
    for names in branches.values():
        _add_graded(circuit, names, c, copies)
    for names in gates.values():
        _add_gating(circuit, names, c)
    volley = float(c.gate_drive * c.v_th * c.C_m / c.dt)      # current that one full volley delivers
    s0 = c.warmup + period                                      # stage 0 holds A and gate 0 fires

    # Gating chain: a kick fires the first gating population at s0; each fires the next `period`
    # steps later (axonal delay period - 1, plus the step a gating unit takes to fire).
    first_gate = next(iter(gates.values()))[0]
    circuit.add_source("kick", 1, [0], [s0 - 1])
    circuit.connect("kick", first_gate, volley, pattern="all_to_all", synapse=StaticCurrent, kind="kick")
    links = {(pre, post): None for names in gates.values() for pre, post in zip(names, names[1:])}
    for pre, post in links:
        share = 0.5 if (pre, post) in half_links else 1.0
        circuit.connect(pre, post, share * volley / c.n_gate, pattern="all_to_all", delay=period - 1,
                        synapse=StaticCurrent, kind="chain")

    # Gates: volley j switches the gate current of stage j on (+g0), volley j + 1 switches it off.
    w_gate = float(c.g0) / c.n_gate
    opens = {(gates[b][j], stage): None for b, names in branches.items() for j, stage in enumerate(names)}
    closes = {(gates[b][j + 1], stage): None for b, names in branches.items() for j, stage in enumerate(names)}
    for pre, post in opens:
        circuit.connect(pre, post, w_gate, pattern="all_to_all", synapse=GateSwitch, kind="gate_on")
    for pre, post in closes:
        circuit.connect(pre, post, -w_gate, pattern="all_to_all", synapse=GateSwitch, kind="gate_off")

    # Graded chain: copy k of a stage drives copy k of the next, all to all, S / (beta tau n) per spike.
    w_ff = c.weight_per_strength()
    block_i, block_j = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    ff_i = np.concatenate([block_i + k * n for k in range(copies)])
    ff_j = np.concatenate([block_j + k * n for k in range(copies)])
    ff_w = np.repeat(strengths * w_ff, n * n)
    stage_links = {(pre, post): None for names in branches.values() for pre, post in zip(names, names[1:])}
    for pre, post in stage_links:
        circuit.connect(pre, post, ff_w, i=ff_i, j=ff_j, synapse=StaticCurrent, kind="S")

    # Input: during the period before its gate, stage 0 receives the current that a gated stage gets
    # from an ideal stage before it, I(t) = A (t / T) exp((T - t) / tau), ending at A at step s0; so
    # stage 0 starts like every later stage. Input unit k fires once, at step s0 - P + 1 + k.
    first_stage = next(iter(branches.values()))[0]
    shape = input_shape(period, float(c.dt / c.tau))
    circuit.add_source("input", period, np.arange(period), s0 - period + 1 + np.arange(period))
    circuit.connect("input", first_stage, np.outer(shape, np.repeat(amplitudes, n)).ravel(),
                    i=np.repeat(np.arange(period), copies * n), j=np.tile(np.arange(copies * n), period),
                    synapse=StaticCurrent, kind="amplitude")

    circuit.layout = GradedLayout(
        "spiking", c.dt, c.tau, period, s0, n, amplitudes, strengths, stages=branches,
        where={stage: (stage, 0) for names in branches.values() for stage in names},
        gate_populations=gates, weight_per_strength=w_ff,
        parameters=dict(repeats=repeats, **(parameters or {}), **c.record()))
    return circuit


def spiking_sgsc(stages: int = 8, S=2.95, amplitudes=(20e-12,), *, repeats: int = 1,
                 config: SpikingConfig = SpikingConfig(), name: str = "sgsc") -> Circuit:
    """A gating chain of I&F populations that gates a chain of noisy I&F populations carrying graded
    current amplitudes.

    Graded stages ``x00`` ... ``xK`` (K = ``stages``) each hold one copy of ``config.n`` units per
    amplitude and repeat (amplitude-major); copy k starts with its amplitude (amp, or a Brian2 current)
    and drives only itself, all to all from stage j to stage j + 1. ``S`` is one strength or one per
    amplitude. Gating populations ``g00`` ... ``g(K+1)`` of ``config.n_gate`` units: a kick fires
    ``g00``, and each fires the next one period T later; volley j switches the gate current of stage j
    on, volley j + 1 switches it off: square gates of length T, one after the other.
    """
    stages = _positive_int(stages, "stages")
    names = [f"x{j:02d}" for j in range(stages + 1)]
    gates = [f"g{j:02d}" for j in range(stages + 2)]
    return _build_spiking(name, {"main": names}, {"main": gates}, amplitudes, S, repeats, config,
                          parameters=dict(stages=stages))


def routed_sgsc(trunk: int = 2, branch_stages: int = 2, route: str | None = "a", S=2.95,
                amplitudes=(20e-12,), *, repeats: int = 1, config: SpikingConfig = SpikingConfig(),
                name: str = "routed") -> Circuit:
    """Dynamic routing: the graded chain ``x00`` ... ``x{trunk}`` feeds, through fixed all-to-all
    connections, both branches ``a`` (``ya..``) and ``b`` (``yb..``) of ``branch_stages`` stages.

    Each branch has its own gating chain (``ga..``, ``gb..``), which the last trunk gate drives with
    half a volley: it fires only if the routing input (``route``, one unit per branch) adds the other
    half in the same step. So the connectivity is the same for every route; the routing input decides
    which branch's gates open, and only that branch carries the value on (the other's first stage
    receives the current but is never released). ``route=None`` opens neither branch.
    """
    trunk = _positive_int(trunk, "trunk", 0)
    branch_stages = _positive_int(branch_stages, "branch_stages")
    if route not in (None,) + BRANCHES:
        raise ConfigError(f"route must be 'a', 'b' or None, got {route!r}")
    shared = [f"x{j:02d}" for j in range(trunk + 1)]
    shared_gates = [f"g{j:02d}" for j in range(trunk + 1)]
    later = range(trunk + 1, trunk + 1 + branch_stages)
    branches = {b: shared + [f"y{b}{j:02d}" for j in later] for b in BRANCHES}
    gates = {b: shared_gates + [f"g{b}{j:02d}" for j in range(trunk + 1, trunk + 2 + branch_stages)]
             for b in BRANCHES}
    half_links = {(shared_gates[-1], gates[b][trunk + 1]) for b in BRANCHES}
    circuit = _build_spiking(name, branches, gates, amplitudes, S, repeats, config, half_links,
                             parameters=dict(trunk=trunk, branch_stages=branch_stages, route=route))
    # The routing input meets the last trunk gate's volley at the first gate of the chosen branch.
    layout = circuit.layout
    arrival = layout.start_step + trunk * layout.period + layout.period - 1
    volley = float(config.gate_drive * config.v_th * config.C_m / config.dt)
    circuit.add_source("route", len(BRANCHES), [] if route is None else [BRANCHES.index(route)],
                       [] if route is None else [arrival])
    for k, b in enumerate(BRANCHES):
        circuit.connect("route", gates[b][trunk + 1], volley / 2, i=np.full(config.n_gate, k),
                        j=np.arange(config.n_gate), synapse=StaticCurrent, kind="route")
    layout.route = route
    return circuit


# ---------------------------------------------------------------------------------------------------
# Measurements and calibration of the spiking chain.

def population_rates(currents, config: SpikingConfig = SpikingConfig(), *, duration=500 * ms, seed: int = 0,
                     **run_options) -> np.ndarray:
    """The f-I curve: mean rate (Hz) of a graded population (``config.n`` noisy units, no gate) under
    each constant current in ``currents`` (amp, or a Brian2 current)."""
    currents = _in_amp(currents, "currents")
    c = config
    circuit = Circuit("fI", dt=c.dt)
    for k, current in enumerate(currents):
        circuit.add_population(f"p{k:02d}", c.n, NoisyLIF, tau_m=c.tau_m, tau_syn=c.tau, C_m=c.C_m,
                               v_th=c.v_th, v_reset=0 * mV, t_ref=c.t_ref, sigma=c.sigma, I_ext=current * amp)
    steps = _steps(duration, c.dt, "duration")
    settle = min(steps // 5, int(round(float(5 * c.tau_m / c.dt))))
    np.random.seed(seed)
    result = circuit.run(steps, **run_options)
    rates = []
    for k in range(len(currents)):
        step, _, size = result.spikes[f"p{k:02d}"]
        rates.append(np.sum(step >= settle) / (size * (steps - settle) * float(c.dt)))
    return np.asarray(rates)


@dataclass
class Calibration:
    """A calibrated value and the measurements behind it (one row per tried value)."""

    name: str                      # "S" or "g0"
    value: float                   # the calibrated value (g0 in amp)
    table: object                  # pandas.DataFrame of the measurements
    fit: tuple                     # (slope, intercept) of the line that was solved for the value


def _transfer_pairs(amplitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return amplitudes[:, :-1].ravel(), amplitudes[:, 1:].ravel()


def calibrate_strength(config: SpikingConfig = SpikingConfig(), strengths=(2.6, 2.9, 3.2),
                       amplitudes=(10e-12, 15e-12, 20e-12, 25e-12, 30e-12), *, stages: int = 3,
                       repeats: int = 2, seed: int = 0, **run_options) -> Calibration:
    """The S whose mean stage gain is 1: one run in which every S in ``strengths`` drives its own copies
    of the chain (``stages`` transfers, each amplitude ``repeats`` times); the mean gain of all transfers
    at each S is fitted by a line in S, solved for gain 1."""
    import pandas as pd

    strengths = np.atleast_1d(np.asarray(strengths, dtype=float))
    if len(strengths) < 2 or len(np.unique(strengths)) < 2:
        raise ConfigError("calibrate_strength needs at least two different S values")
    amps = _in_amp(amplitudes, "amplitudes")
    circuit = spiking_sgsc(stages, np.repeat(strengths, len(amps)), np.tile(amps, len(strengths)),
                           repeats=repeats, config=config, name="calibrate_S")
    layout = circuit.layout
    gains = stage_gains(layout.amplitudes_of(run_graded(circuit, seed=seed, **run_options)))
    rows = []
    for S in strengths:
        mine = layout.strengths == S
        rows.append(dict(S=S, mean_gain=float(np.nanmean(gains[mine])), sd_gain=float(np.nanstd(gains[mine])),
                         transfers=int(np.isfinite(gains[mine]).sum())))
    table = pd.DataFrame(rows)
    value, fit = _solve(table["S"].to_numpy(), table["mean_gain"].to_numpy(), 1.0)
    return Calibration("S", value, table, fit)


def calibrate_offset(config: SpikingConfig = SpikingConfig(), offsets=(47e-12, 51e-12, 55e-12), S: float = 2.9,
                     amplitudes=(10e-12, 15e-12, 20e-12, 25e-12, 30e-12), *, stages: int = 3, repeats: int = 2,
                     seed: int = 0, **run_options) -> Calibration:
    """The gate amplitude g0 (amp) at which the stage transfer is proportional: for each trial g0, a line
    A_{j+1} = a A_j + b through all transfers; the g0 where b = 0 (interpolated by a line in g0) puts
    the gate exactly at the offset of the population's threshold-linear response."""
    import pandas as pd

    offsets = _in_amp(offsets, "offsets")
    if len(offsets) < 2 or len(np.unique(offsets)) < 2:
        raise ConfigError("calibrate_offset needs at least two different g0 values")
    rows = []
    for k, g0 in enumerate(offsets):
        circuit = spiking_sgsc(stages, S, amplitudes, repeats=repeats, config=config.replace(g0=g0 * amp),
                               name="calibrate_g0")
        amps = circuit.layout.amplitudes_of(run_graded(circuit, seed=seed + k, **run_options))
        x, y = _transfer_pairs(amps)
        a, b = np.polyfit(x, y, 1)
        rows.append(dict(g0=g0, slope=float(a), intercept=float(b),
                         mean_gain=float(np.nanmean(stage_gains(amps)))))
    table = pd.DataFrame(rows)
    value, fit = _solve(table["g0"].to_numpy(), table["intercept"].to_numpy(), 0.0)
    return Calibration("g0", value, table, fit)


def _solve(x: np.ndarray, y: np.ndarray, target: float) -> tuple[float, tuple]:
    """Where y(x) reaches ``target``: on the line through the two neighbouring points that bracket it,
    or, if none do, on the least-squares line through all points (extrapolation). y must grow with x."""
    order = np.argsort(x)
    x, y = x[order], y[order]
    slope, intercept = np.polyfit(x, y, 1)
    if slope <= 0:
        raise ConfigError(f"the measured quantity does not grow with the calibrated parameter "
                          f"({list(zip(x.tolist(), y.tolist()))}); nothing to calibrate at these settings")
    for k in range(len(x) - 1):
        if y[k] <= target <= y[k + 1] and y[k + 1] > y[k]:
            slope = (y[k + 1] - y[k]) / (x[k + 1] - x[k])
            intercept = y[k] - slope * x[k]
            break
    return float((target - intercept) / slope), (float(slope), float(intercept))


__all__ = ["stage_gain", "exact_strength", "GradedLayout", "stage_gains", "run_graded", "meanfield_chain",
           "SpikingConfig", "input_shape", "spiking_sgsc", "routed_sgsc", "population_rates", "Calibration",
           "calibrate_strength", "calibrate_offset"]
