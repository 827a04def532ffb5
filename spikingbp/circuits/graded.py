"""Graded, gated transfer in synfire-gated synfire chains (spec sgsc.md), in continuous time.

Two builders return a ``Circuit``:

``meanfield_chain``  the spec's mean-field chain: K + 1 ``MeanFieldUnit`` populations with square gates
                     of length T, one after the other, so that I_{j+1}((j+1)T) = S (T/tau) e^{-T/tau} I_j(jT).
``spiking_sgsc``     a gating synfire chain of current-based I&F populations (``NoisyLIF``) whose volleys
                     switch square gate currents onto the stages of a second chain of noisy I&F
                     populations, which carries graded current amplitudes; optionally with a branch
                     point where a routing input decides which of two gating branches fires.

All gates come from inside the circuit (an expression of t, or gating volleys), every projection has one
integer delay, and nothing needs TimedArray or network_operation, so both pass brian2genn code
generation. Timing, in steps of ``dt``: the input amplitude is set at step s0, gate j is open for the
steps s0 + j P + 1 ... s0 + (j + 1) P (P = T / dt), and the amplitude of stage j is its synaptic current
at the end of step s0 + j P, the end of gate j - 1. The builders attach a ``GradedLayout`` as
``circuit.layout`` that knows these steps and reads the amplitudes of a run.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
from brian2 import Hz, amp, ms, mV, pA, pF

from spikingbp.circuits.circuit import Circuit, CircuitResult
from spikingbp.errors import ConfigError
from spikingbp.models.meanfield import GateSwitch, MeanFieldUnit, RateCoupling
from spikingbp.models.neurons import NoisyLIF
from spikingbp.models.synapses import Static, StaticCurrent


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
    """Stages of the graded chain(s) of a built circuit.

    ``stages[b]`` lists the population names of branch ``b`` in order (branch ``"main"`` for a plain
    chain; ``"a"`` and ``"b"`` after a branch point, each starting with the shared trunk). Each
    population holds ``chains`` copies of the chain, ``n`` units each (unit c * n ... (c + 1) * n - 1
    is copy c). ``readout_steps[j]`` is the step at whose end stage j's amplitude is read.
    """

    kind: str                      # "meanfield" or "spiking"
    dt: object                     # the circuit's time step
    period: int                    # gate length T in steps
    start_step: int                # s0: the step that sets the input amplitude
    n: int                         # units per copy of a chain in one population
    chains: int                    # copies of the chain (amplitudes, repeats or S values)
    amplitudes: np.ndarray         # input amplitude of each copy
    strengths: np.ndarray          # feed-forward strength S of each copy
    stages: dict = field(default_factory=dict)          # branch -> population names, stage 0 first
    gates: dict = field(default_factory=dict)           # population -> (first, last) gated step
    gate_populations: dict = field(default_factory=dict)  # branch -> gating population names
    weight_per_spike: float = 0.0  # spiking: current jump per input spike (amp), per unit of S
    tau: object = None             # synaptic time constant of the graded chain
    route: str | None = None       # branch the routing input selects (None: no branch point)
    config: dict = field(default_factory=dict)          # parameters the builder used

    def readout_step(self, stage: int) -> int:
        return self.start_step + stage * self.period

    def steps_needed(self, branch: str = None) -> int:
        """Steps to run so that every stage of every branch has been read and shown."""
        longest = max(len(names) for names in self.stages.values())
        return self.start_step + (longest + 1) * self.period + 2

    def amplitudes_of(self, result: CircuitResult, branch: str = "main") -> np.ndarray:
        """Amplitude of each stage of ``branch`` for each copy of the chain: array (chains, stages)."""
        if branch not in self.stages:
            raise ConfigError(f"no branch {branch!r}; known: {sorted(self.stages)}")
        names = self.stages[branch]
        out = np.zeros((self.chains, len(names)))
        for j, name in enumerate(names):
            step = self.readout_step(j)
            if step >= result.steps:
                raise ConfigError(f"stage {j} ({name}) is read at step {step}, but the run has only "
                                  f"{result.steps} steps; run layout.steps_needed() steps")
            if self.kind == "meanfield":
                trace = result.states[name]["I"]
                out[:, j] = trace[step, :]
            elif j == 0:
                out[:, j] = self.amplitudes
            else:
                out[:, j] = self._current_from_spikes(result, names[j - 1], step)
        return out

    def _current_from_spikes(self, result: CircuitResult, pre: str, step: int) -> np.ndarray:
        """The synaptic current a stage receives from ``pre``, rebuilt from ``pre``'s spikes: each spike
        adds S w to every unit of the next stage in the same step, and the current decays by
        (1 - dt / tau) per step (Euler), so the sum is exactly what the units hold."""
        steps, units, _ = result.spikes[pre]
        keep = steps <= step
        steps, units = steps[keep], units[keep]
        decay = 1.0 - float(self.dt / self.tau)
        copy = units // self.n
        weights = self.weight_per_spike * self.strengths[copy] * decay ** (step - steps)
        return np.bincount(copy, weights=weights, minlength=self.chains)

    def spike_counts_in_gate(self, result: CircuitResult, name: str) -> np.ndarray:
        """Spikes per copy of population ``name`` inside its gate, and outside it: array (chains, 2)."""
        steps, units, _ = result.spikes[name]
        first, last = self.gates[name]
        inside = (steps >= first) & (steps <= last)
        copy = units // self.n
        return np.stack([np.bincount(copy[inside], minlength=self.chains),
                         np.bincount(copy[~inside], minlength=self.chains)], axis=1)


def _broadcast_chains(amplitudes, strengths, repeats: int):
    amplitudes = np.atleast_1d(np.asarray(amplitudes, dtype=float))
    strengths = np.atleast_1d(np.asarray(strengths, dtype=float))
    if amplitudes.ndim != 1 or strengths.ndim != 1:
        raise ConfigError("amplitudes and S must be scalars or 1-d sequences")
    try:
        amplitudes, strengths = np.broadcast_arrays(amplitudes, strengths)
    except ValueError:
        raise ConfigError(f"give one S or one per amplitude: got {len(strengths)} S values for "
                          f"{len(amplitudes)} amplitudes") from None
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ConfigError(f"repeats must be a positive integer, got {repeats!r}")
    if np.any(amplitudes < 0) or np.any(strengths < 0) or not np.all(np.isfinite(amplitudes + strengths)):
        raise ConfigError("amplitudes and S must be finite and >= 0")
    return np.repeat(amplitudes, repeats), np.repeat(strengths, repeats)


def _steps(duration, dt, what: str) -> int:
    steps = float(duration / dt)
    if steps < 1 or abs(steps - round(steps)) > 1e-6:
        raise ConfigError(f"{what} = {duration} must be a positive whole number of time steps dt = {dt}")
    return int(round(steps))


# ---------------------------------------------------------------------------------------------------
# Mean-field chain.

def meanfield_chain(stages: int = 8, S=np.e, amplitudes=(0.5,), *, T=5 * ms, tau=5 * ms, g0: float = 1.0,
                    I_g: float | None = None, dt=None, start_step: int = 1,
                    name: str = "meanfield") -> Circuit:
    """A ``stages``-stage mean-field chain (populations ``x00`` ... ``xK``), one copy per amplitude.

    Every population is a single ``MeanFieldUnit`` population holding all copies; stage j of copy c is
    unit c. ``S`` is one strength or one per amplitude (compare several S in one run). The input source
    sets I of stage 0 to the amplitude at ``start_step``; gate j is the square pulse on the steps
    ``start_step + j P + 1 ... start_step + (j + 1) P``. ``I_g`` defaults to ``g0`` (gate at the offset).
    Amplitudes should stay below ``g0``, or ungated stages start to fire.
    """
    if not isinstance(stages, (int, np.integer)) or stages < 1:
        raise ConfigError(f"stages must be a positive integer, got {stages!r}")
    dt = dt if dt is not None else tau / 500
    period = _steps(T, dt, "T")
    amplitudes, strengths = _broadcast_chains(amplitudes, S, 1)
    chains = len(amplitudes)
    I_g = g0 if I_g is None else I_g
    circuit = Circuit(name, dt=dt)
    names = [f"x{j:02d}" for j in range(stages + 1)]
    # One population with all stages: Brian2 and brian2genn allow one summed-variable Synapses per
    # target, so all rate couplings must be a single projection. Unit j * chains + c is stage j of copy c.
    units = np.arange(chains)
    t_on = np.concatenate([np.full(chains, start_step + j * period + 0.5) for j in range(stages + 1)]) * dt
    circuit.add_population("x", (stages + 1) * chains, MeanFieldUnit, tau=tau, I_g=I_g, g0=g0,
                           t_on=t_on, T_gate=period * dt)
    circuit.connect("x", "x", np.tile(strengths, stages), synapse=RateCoupling, kind="S",
                    i=np.concatenate([j * chains + units for j in range(stages)]),
                    j=np.concatenate([(j + 1) * chains + units for j in range(stages)]))
    circuit.add_source("input", chains, units, np.full(chains, start_step))
    circuit.connect("input", "x", amplitudes, i=units, j=units, synapse=Static, kind="amplitude")
    layout = GradedLayout("meanfield", dt, period, start_step, 1, chains, amplitudes, strengths,
                          stages={"main": names}, tau=tau,
                          config=dict(stages=stages, T=T, tau=tau, g0=g0, I_g=I_g, dt=dt))
    layout.gates = {nm: (start_step + j * period + 1, start_step + (j + 1) * period)
                    for j, nm in enumerate(names)}
    layout.unit_of = {nm: j * chains + units for j, nm in enumerate(names)}
    circuit.layout = layout
    return circuit


def meanfield_amplitudes(circuit: Circuit, steps: int | None = None, device: str = "runtime",
                         **device_options) -> tuple[np.ndarray, CircuitResult]:
    """Run a ``meanfield_chain`` and return its amplitudes (copies, stages) and the result."""
    layout = circuit.layout
    steps = steps or layout.steps_needed()
    result = circuit.run(steps, device, record_spikes=False, record_states={"x": ["I"]}, **device_options)
    trace = result.states["x"]["I"]
    names = layout.stages["main"]
    amplitudes = np.stack([trace[layout.readout_step(j), layout.unit_of[nm]] for j, nm in enumerate(names)],
                          axis=1)
    return amplitudes, result


# ---------------------------------------------------------------------------------------------------
# Spiking synfire-gated synfire chain.

@dataclass(frozen=True)
class SpikingConfig:
    """Parameters of the spiking SGSC. Currents in amp, times in seconds (Brian2 quantities).

    Graded populations are ``NoisyLIF`` units held at the current ``I_rest`` (silent for every amplitude
    they carry); a gate adds ``g0``, the offset between rest and the onset of their threshold-linear
    response, so that inside a gate a population fires at about ``beta * I`` for its synaptic current I.
    ``S`` becomes the current jump per spike ``S / (beta * tau * n)``, which makes the spiking chain's S
    the mean-field S when the rate follows the input at once; ``beta = 1 / (C_m v_th)`` is the slope of
    the LIF f-I curve above threshold.
    """

    n: int = 100                   # units per graded population
    n_gate: int = 100              # units per gating population
    dt: object = 0.1 * ms          # time step
    T: object = 20 * ms            # gate length (period of the gating chain)
    tau: object = 20 * ms          # synaptic time constant of the graded chain
    tau_m: object = 8 * ms         # membrane time constant of graded units
    C_m: object = 4 * pF           # membrane capacitance
    v_th: object = 20 * mV         # threshold (v_rest = v_reset = 0)
    t_ref: object = 0 * ms         # refractory period of graded units
    sigma: object = 6 * mV         # background noise: std of the free membrane potential
    I_rest: object = -25 * pA      # current of graded units outside their gate
    g0: object = 34 * pA           # offset from rest to the threshold-linear onset: the gate amplitude
    gate_tau_m: object = 10 * ms   # membrane time constant of gating units
    gate_t_ref: object = 1 * ms    # refractory period of gating units (< T)
    gate_drive: float = 1.5        # a full volley lifts a gating unit by this many thresholds in one step
    warmup: int = 300              # steps before the input starts (graded units settle at rest)

    def __post_init__(self):
        for name in ("n", "n_gate", "warmup"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (0 if name == "warmup" else 1):
                raise ConfigError(f"SpikingConfig.{name} must be a positive integer, got {value!r}")
        period = _steps(self.T, self.dt, "T")
        if period < 3:
            raise ConfigError(f"T = {self.T} must be at least 3 steps of dt = {self.dt}")
        if not self.gate_t_ref < self.T:
            raise ConfigError("gate_t_ref must be shorter than T, or a gating unit misses the next volley")
        if self.gate_drive <= 1:
            raise ConfigError(f"gate_drive must exceed 1 (one volley must fire the next stage), got "
                              f"{self.gate_drive}")

    @property
    def period(self) -> int:
        return _steps(self.T, self.dt, "T")

    @property
    def beta(self):
        """Slope of the f-I curve above threshold, Hz per amp: 1 / (C_m v_th)."""
        return 1 / (self.C_m * self.v_th)

    def weight_per_strength(self) -> float:
        """Current jump (amp) per spike of a graded unit for S = 1."""
        return float(1 / (self.beta * self.tau * self.n))

    def record(self) -> dict:
        """All parameters as plain numbers in SI units, for config.json."""
        return {k: (float(v) if not isinstance(v, (int, np.integer)) else int(v)) for k, v in asdict(self).items()}


def spiking_sgsc(stages: int = 8, S: float = np.e, amplitudes=(5e-12,), *, repeats: int = 1,
                 config: SpikingConfig = SpikingConfig(), branch_at: int | None = None,
                 branch_stages: int = 2, route: str | None = "a", name: str = "sgsc") -> Circuit:
    """A gating chain of I&F populations that gates a graded chain of noisy I&F populations.

    Graded populations ``x00`` ... ``xK`` (K = ``stages``) each hold ``len(amplitudes) * repeats``
    copies of ``config.n`` units; copy c starts with the current ``amplitudes[c // repeats]`` (amp) and
    is wired only to itself, all to all from stage j to stage j + 1 with ``S / (beta tau n)`` per spike.
    ``S`` is one strength or one per amplitude. Gating populations ``g00`` ... ``g(K+1)``: a kick fires
    ``g00``; each fires the next one period later (all to all, axonal delay); volley j switches the gate
    current of stage j on, volley j + 1 switches it off.

    With ``branch_at = m`` the chain splits after stage m into branches ``a`` (``ya..``) and ``b``
    (``yb..``) of ``branch_stages`` stages each, with fixed connectivity from stage m into both. Their
    gating chains ``ga..`` and ``gb..`` start only when the volley of gate m coincides with a volley of
    the routing input (``route``, one unit per branch): half a volley each is not enough, so only the
    routed branch opens its gates and carries the value on. ``route=None`` routes nowhere.
    """
    if not isinstance(stages, (int, np.integer)) or stages < 1:
        raise ConfigError(f"stages must be a positive integer, got {stages!r}")
    amplitudes, strengths = _broadcast_chains(amplitudes, S, repeats)
    c = config
    chains, n, period = len(amplitudes), c.n, c.period
    circuit = Circuit(name, dt=c.dt)
    graded = dict(tau_m=c.tau_m, tau_syn=c.tau, C_m=c.C_m, v_th=c.v_th, v_reset=0 * mV, t_ref=c.t_ref,
                  sigma=c.sigma, I_ext=c.I_rest)
    # Gating units: no noise, and a one-step synaptic current (tau_syn = dt, Euler), so a volley
    # acts within one step and a gating unit fires exactly once per volley.
    gating = dict(tau_m=c.gate_tau_m, tau_syn=c.dt, C_m=c.C_m, v_th=c.v_th, v_reset=0 * mV, t_ref=c.gate_t_ref,
                  sigma=0 * mV, I_ext=0 * pA)
    volley = float(c.gate_drive * c.v_th * c.C_m / c.dt)        # current of a full volley (amp)
    w_gate_chain = volley / c.n_gate
    w_gate = float(c.g0) / c.n_gate                               # gate current per gating spike
    w_ff = c.weight_per_strength()
    s0 = c.warmup + period                                        # the input is complete, g00 fires
    kick = s0 - 1

    if branch_at is None:
        trunk = stages
    else:
        if not isinstance(branch_at, (int, np.integer)) or not 0 <= branch_at < stages:
            raise ConfigError(f"branch_at must be a stage in 0 .. {stages - 1}, got {branch_at!r}")
        if route not in (None, "a", "b"):
            raise ConfigError(f"route must be 'a', 'b' or None, got {route!r}")
        trunk = branch_at
    x = [f"x{j:02d}" for j in range(trunk + 1)]
    g = [f"g{j:02d}" for j in range(trunk + 1)]
    branches = {"main": x} if branch_at is None else {
        b: x + [f"y{b}{j:02d}" for j in range(trunk + 1, trunk + 1 + branch_stages)] for b in ("a", "b")}
    gate_names = {"main": g + [f"g{trunk + 1:02d}"]} if branch_at is None else {
        b: g + [f"g{b}{j:02d}" for j in range(trunk + 1, trunk + 2 + branch_stages)] for b in ("a", "b")}

    for names in branches.values():
        for nm in names:
            if nm not in circuit.populations:
                circuit.add_population(nm, chains * n, NoisyLIF, **graded)
    for names in gate_names.values():
        for nm in names:
            if nm not in circuit.populations:
                circuit.add_population(nm, c.n_gate, NoisyLIF, **gating)

    # Gating chain: kick -> g00 -> g01 -> ...; a stage fires `period` steps after the one before it.
    circuit.add_source("kick", 1, [0], [kick])
    circuit.connect("kick", g[0], volley, pattern="all_to_all", synapse=StaticCurrent, kind="kick")
    chain_links = {(pre, post): None for names in gate_names.values() for pre, post in zip(names, names[1:])}
    for pre, post in chain_links:
        half = branch_at is not None and pre == g[-1]             # the branch point needs the routing input
        circuit.connect(pre, post, w_gate_chain / (2 if half else 1), pattern="all_to_all",
                        delay=period - 1, synapse=StaticCurrent, kind="chain")
    if branch_at is not None:
        # Routing input: one unit per branch; its volley meets gate m's at the branch's first gate.
        arrival = s0 + trunk * period + period - 1                 # gate m's volley reaches the branch
        circuit.add_source("route", 2, [] if route is None else [("a", "b").index(route)],
                           [] if route is None else [arrival])
        for k, b in enumerate(("a", "b")):
            circuit.connect("route", gate_names[b][trunk + 1], volley / 2, i=np.full(c.n_gate, k),
                            j=np.arange(c.n_gate), synapse=StaticCurrent, kind="route")

    # Gates: volley j opens stage j, volley j + 1 closes it (at the branch point either branch's first
    # volley closes the trunk's last stage).
    opens = {(gate_names[b][j], nm): None for b, names in branches.items() for j, nm in enumerate(names)}
    closes = {(gate_names[b][j + 1], nm): None for b, names in branches.items() for j, nm in enumerate(names)}
    for pre, post in opens:
        circuit.connect(pre, post, w_gate, pattern="all_to_all", synapse=GateSwitch, kind="gate_on")
    for pre, post in closes:
        circuit.connect(pre, post, -w_gate, pattern="all_to_all", synapse=GateSwitch, kind="gate_off")

    # Graded chain: copy c of stage j to copy c of stage j + 1, all to all.
    block_i = np.repeat(np.arange(n), n)
    block_j = np.tile(np.arange(n), n)
    ff_i = np.concatenate([block_i + k * n for k in range(chains)])
    ff_j = np.concatenate([block_j + k * n for k in range(chains)])
    ff_w = np.repeat(strengths * w_ff, n * n)
    links = {(pre, post): None for names in branches.values() for pre, post in zip(names, names[1:])}
    for pre, post in links:
        circuit.connect(pre, post, ff_w, i=ff_i, j=ff_j, synapse=StaticCurrent, kind="S")
    # Input: stage 0 receives, during the period before its gate, the current a gated stage receives
    # from an ideal (mean-field) stage -1, so that stage 0 starts like every later stage:
    # I(t) = A (t / T) exp((T - t) / tau), reaching A at step s0. Input unit k fires once, at step
    # s0 - P + 1 + k, with the jump that makes the Euler-decayed current follow that curve exactly.
    shape = input_shape(period, float(c.dt / c.tau))
    circuit.add_source("input", period, np.arange(period), s0 - period + 1 + np.arange(period))
    circuit.connect("input", x[0], np.outer(shape, np.repeat(amplitudes, n)).ravel(),
                    i=np.repeat(np.arange(period), chains * n), j=np.tile(np.arange(chains * n), period),
                    synapse=StaticCurrent, kind="amplitude")

    layout = GradedLayout("spiking", c.dt, period, s0, n, chains, amplitudes, strengths,
                          stages=branches, gate_populations=gate_names, weight_per_spike=w_ff, tau=c.tau,
                          route=route if branch_at is not None else None,
                          config=dict(stages=stages, branch_at=branch_at, branch_stages=branch_stages,
                                      repeats=repeats, **c.record()))
    for names in branches.values():
        for j, nm in enumerate(names):
            layout.gates[nm] = (s0 + j * period + 1, s0 + (j + 1) * period)
    circuit.layout = layout
    return circuit


def input_shape(period: int, dt_over_tau: float) -> np.ndarray:
    """Jumps (per unit amplitude) that make a current decaying by (1 - dt / tau) per step follow
    (n / P) exp((P - n) dt / tau) over steps n = 1 ... P, ending at 1: a gated stage's rise."""
    n = np.arange(period + 1)
    target = n / period * np.exp((period - n) * dt_over_tau)
    return target[1:] - (1 - dt_over_tau) * target[:-1]


def population_rates(currents, config: SpikingConfig = SpikingConfig(), *, duration=200 * ms,
                     device: str = "runtime", seed: int | None = 0, **device_options) -> np.ndarray:
    """Mean rate (Hz) of a graded population under each constant input current (amp): the f-I curve.

    One circuit with a population per current (``config.n`` noisy units each, no gate, no input)."""
    currents = np.atleast_1d(np.asarray(currents, dtype=float))
    c = config
    circuit = Circuit("fI", dt=c.dt)
    for k, current in enumerate(currents):
        circuit.add_population(f"p{k:02d}", c.n, NoisyLIF, tau_m=c.tau_m, tau_syn=c.tau, C_m=c.C_m,
                               v_th=c.v_th, v_reset=0 * mV, t_ref=c.t_ref, sigma=c.sigma, I_ext=current * amp)
    steps = _steps(duration, c.dt, "duration")
    warm = min(steps // 5, int(round(float(5 * c.tau_m / c.dt))))
    result = _run(circuit, steps, device, seed, record_spikes=True, **device_options)
    rates = []
    for k in range(len(currents)):
        step, _, size = result.spikes[f"p{k:02d}"]
        rates.append(np.sum(step >= warm) / (size * (steps - warm) * float(c.dt)))
    return np.asarray(rates)


def fit_threshold_linear(currents, rates, low: float, high: float) -> tuple[float, float]:
    """Least-squares line through the f-I points with ``low <= rate <= high`` (Hz): returns the onset
    ``mu0`` (current where the line reaches 0, amp) and the slope ``beta`` (Hz per amp)."""
    currents, rates = np.asarray(currents, float), np.asarray(rates, float)
    keep = (rates >= low) & (rates <= high)
    if keep.sum() < 2:
        raise ConfigError(f"fewer than two f-I points have rates in [{low}, {high}] Hz; widen the range")
    slope, intercept = np.polyfit(currents[keep], rates[keep], 1)
    return float(-intercept / slope), float(slope)


def _run(circuit: Circuit, steps: int, device: str, seed: int | None, **options) -> CircuitResult:
    """``circuit.run`` with the background noise seeded (runtime draws from numpy's generator)."""
    if seed is not None and device == "runtime":
        np.random.seed(seed)
    return circuit.run(steps, device, **options)
