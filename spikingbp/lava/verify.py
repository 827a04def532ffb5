"""Brian2 and the lava translation side by side: spike identity per population, per sample, and weights.

``verify(circuit, steps)`` runs the circuit on Brian2's runtime device (numpy target: nothing to compile)
and its lava translation (``spikingbp.lava.translate``) and compares every population's spikes and every
plastic projection's final weights. ``verify_algorithm`` builds the training or inference circuit of any registered
algorithm and splits the comparison by sample (one cycle of the gating ring per sample in sBP);
``verify_sgsc`` does the same for a small synfire-gated circuit. Each result has ``lines()`` for a command line: one line per sample or
population and a final ``identical: K/N``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from spikingbp.errors import ConfigError
from spikingbp.lava.translate import LavaResult, TranslationReport, translate


@dataclass
class PopulationCheck:
    name: str
    identical: bool
    brian_spikes: int
    lava_spikes: int
    mismatches: int                  #: (step, unit) cells that differ
    first_mismatch: tuple | None     #: (step, unit) of the earliest difference


@dataclass
class WeightCheck:
    name: str
    identical: bool
    max_abs_diff: float


@dataclass
class Verification:
    """The comparison of one Brian2 run and one lava run of the same circuit."""

    circuit: str
    steps: int
    fixed_point: bool
    refractory: str
    populations: dict
    weights: dict
    brian: object            #: the CircuitResult
    lava: LavaResult
    brian_spikes: dict       #: population -> Brian2's bool (steps, units) matrix of what the lava process spikes
    report: TranslationReport
    brian_s: float
    lava_s: float

    @property
    def identical(self) -> bool:
        return all(c.identical for c in self.populations.values()) and all(c.identical for c in self.weights.values())

    def lines(self) -> list[str]:
        mode = "fixed point" if self.fixed_point else "floating point"
        out = [f"circuit {self.circuit}: {self.steps} steps, lava {mode}, refractory={self.refractory} "
               f"(brian2 {self.brian_s:.1f} s, lava {self.lava_s:.1f} s)"]
        for c in self.populations.values():
            state = "identical" if c.identical else (f"DIFFERS in {c.mismatches} cells, first at step "
                                                     f"{c.first_mismatch[0]} unit {c.first_mismatch[1]}")
            out.append(f"  {c.name}: {c.brian_spikes} spikes (brian2) / {c.lava_spikes} (lava): {state}")
        for c in self.weights.values():
            state = "identical" if c.identical else f"DIFFER by up to {c.max_abs_diff:g}"
            out.append(f"  weights {c.name}: {state}")
        same = sum(c.identical for c in self.populations.values()) + sum(c.identical for c in self.weights.values())
        out.append(f"identical: {same}/{len(self.populations) + len(self.weights)}")
        return out


def _compare(brian_matrix: np.ndarray, lava_matrix: np.ndarray, name: str) -> PopulationCheck:
    diff = brian_matrix != lava_matrix
    cells = np.argwhere(diff)
    return PopulationCheck(name, not diff.any(), int(brian_matrix.sum()), int(lava_matrix.sum()), int(diff.sum()),
                           tuple(int(x) for x in cells[0]) if len(cells) else None)


def verify(circuit, steps: int, fixed_point: bool = False, *, refractory: str = "exact", scale="auto",
           dv_max: int = 4096) -> Verification:
    """Run a circuit in Brian2 (runtime, numpy) and in Lava and compare them exactly.

    Every population's spikes are compared (where a translation spikes a state variable, SSNN-BP's forward flag
    ``fx``, that variable's steps) and the final weights of every projection Lava translates as plastic: sBP is
    integer arithmetic, SSNN-BP's processes repeat Brian2's float operations in its order, and random float LIF
    networks differ only where a potential lies within rounding of the threshold.

    Parameters
    ----------
    circuit : Circuit
        The circuit.
    steps : int
        Time steps to run.
    fixed_point : bool
        Run Lava's fixed-point models (Loihi's integer arithmetic) instead of floating point.
    refractory, scale, dv_max
        As in ``translate``.

    Returns
    -------
    Verification
        Per population and per plastic projection the comparison, and both runs' results.
    """
    from spikingbp.lava.translate import NEURONS

    network = translate(circuit, steps, refractory=refractory, scale=scale, dv_max=dv_max)
    plastic = list(network.plan(fixed_point).projection_plastic)
    # what each population's lava process spikes: the unit's spike events, or a 0/1 state (SSNN-BP: fx)
    variables = {name: NEURONS[p.model.name].spike_variable for name, p in circuit.populations.items()}
    states = {name: (variable,) for name, variable in variables.items() if variable}
    start = time.perf_counter()
    brian = circuit.run(steps, "runtime", target="numpy", record_spikes=True, record_states=states or None,
                        record_weights=plastic)
    brian_s = time.perf_counter() - start
    start = time.perf_counter()
    lava = network.run(steps, fixed_point=fixed_point)
    lava_s = time.perf_counter() - start
    brian_spikes = {name: (brian.states[name][variable] != 0 if variable else brian.spike_matrix(name))
                    for name, variable in variables.items()}
    populations = {name: _compare(brian_spikes[name], lava.spike_matrix(name), name) for name in circuit.populations}
    weights = {}
    for name in plastic:
        difference = np.abs(np.asarray(brian.weights[name], float) - lava.weights[name])
        weights[name] = WeightCheck(name, bool(np.all(difference == 0)), float(difference.max(initial=0.0)))
    return Verification(circuit.name, int(steps), fixed_point, refractory, populations, weights, brian, lava,
                        brian_spikes, network.report(fixed_point), brian_s, lava_s)


# ===================================================================================================
# Per sample: sBP and SGSC circuits, one gating-ring cycle per sample
# ===================================================================================================
@dataclass
class SampleCheck:
    index: int
    identical: bool
    steps: tuple               #: [start, stop) of the sample's cycle
    differing: list            #: populations whose spikes differ in the cycle
    output: np.ndarray | None = None  #: lava's output bits of the sample (sBP: o in its readout step)


@dataclass
class SampleVerification:
    """Per-sample identity of a circuit whose samples occupy equal runs of steps (an algorithm's, SGSC)."""

    kind: str
    samples: list
    verification: Verification
    weights: dict = field(default_factory=dict)    #: training: projection -> WeightCheck
    reference: dict = field(default_factory=dict)  #: training: 'W1', 'W2' -> lava weights equal the numpy reference

    @property
    def identical_count(self) -> int:
        return sum(s.identical for s in self.samples)

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def identical(self) -> bool:
        return self.identical_count == self.n and all(c.identical for c in self.weights.values()) \
            and all(self.reference.values())

    def lines(self) -> list[str]:
        v = self.verification
        mode = "fixed point" if v.fixed_point else "floating point"
        out = [f"{self.kind}: {self.n} samples, {v.steps} steps, lava {mode}, refractory={v.refractory} "
               f"(brian2 {v.brian_s:.1f} s, lava {v.lava_s:.1f} s)"]
        for s in self.samples:
            state = "identical" if s.identical else "DIFFERS in " + ", ".join(s.differing)
            bits = "" if s.output is None else " output " + "".join("1" if b else "0" for b in s.output)
            out.append(f"sample {s.index}: steps {s.steps[0]}-{s.steps[1] - 1}{bits}: {state}")
        for c in self.weights.values():
            out.append(f"weights {c.name}: " + ("identical" if c.identical else f"DIFFER by up to {c.max_abs_diff:g}"))
        for name, same in self.reference.items():
            out.append(f"{name} vs numpy reference: " + ("identical" if same else "DIFFERS"))
        out.append(f"identical: {self.identical_count}/{self.n}")
        return out


def per_cycle(verification: Verification, n_samples: int, phases: int, first_step: int = 2,
              readout: tuple | None = None) -> list[SampleCheck]:
    """Split a verification into samples: cycle c covers steps [first_step + phases c, first_step + phases (c+1)),
    the first also the steps before it and the last everything after. ``readout`` = (population, offset):
    record lava's spikes of that population at step first_step + phases c + offset."""
    steps = verification.steps
    samples = []
    for c in range(n_samples):
        start = 0 if c == 0 else first_step + phases * c
        stop = steps if c == n_samples - 1 else first_step + phases * (c + 1)
        differing = [name for name in verification.populations
                     if not np.array_equal(verification.brian_spikes[name][start:stop],
                                           verification.lava.spike_matrix(name)[start:stop])]
        output = None
        if readout is not None:
            population, offset = readout
            output = verification.lava.spike_matrix(population)[first_step + phases * c + offset].copy()
        samples.append(SampleCheck(c, not differing, (start, stop), differing, output))
    return samples


def _default_refractory(refractory, fixed_point):
    if refractory is None:  # lava has no fixed-point refractory LIF; sBP and SGSC never need it (test_lava.py)
        return "ignore" if fixed_point else "exact"
    return refractory


def verify_algorithm(algorithm, params, X, T=None, phase: str = "inference", fixed_point: bool = False, *,
                     refractory: str | None = None, dv_max: int = 4096) -> SampleVerification:
    """Verify an algorithm's circuit with trained params on real samples, Brian2 against Lava.

    Per sample: spike identity, Lava's output where the circuit has a readout, and for training the final
    weights of every plastic projection (Lava against Brian2) and the params they stand for against the
    algorithm's numpy reference.

    Parameters
    ----------
    algorithm : Algorithm
        The algorithm (``spikingbp.algorithms.create``).
    params : dict
        Its params (e.g. a finished run's ``final``).
    X, T : ndarray
        Samples and, for training, their targets.
    phase : {'inference', 'training'}
        Which circuit.
    fixed_point : bool
        Lava's fixed-point models.
    refractory : str or None
        As in ``translate``; None: 'exact' in floating point, 'ignore' in fixed point.
    dv_max : int
        As in ``translate``.

    Returns
    -------
    SampleVerification
        Per sample the comparison, and whether everything was identical.
    """
    from spikingbp.algorithms import RunContext

    run = algorithm.circuit(params, X, T, phase=phase)
    result = verify(run.circuit, run.steps, fixed_point, refractory=_default_refractory(refractory, fixed_point),
                    dv_max=dv_max)
    samples = per_cycle(result, run.samples, run.steps_per_sample, run.first_step, readout=run.readout)
    if phase != "train":
        return SampleVerification(f"{algorithm.name}-{phase}", samples, result)
    expected = algorithm.train_epoch(params, np.asarray(X), np.asarray(T), np.arange(len(X)), RunContext())
    learned = algorithm.learned_params(params, result.lava.weights)
    checks = {name: bool(np.array_equal(learned[name], expected[name])) for name in learned}
    return SampleVerification(f"{algorithm.name}-{phase}", samples, result, dict(result.weights), checks)


# ===================================================================================================
# A small synfire-gated circuit (docs/methods/sgsc.md, LoihiCUBA form)
# ===================================================================================================
SGSC_PHASES = 6


def sgsc_circuit(seed: int = 0, trials: int = 8, n_in: int = 10, n_out: int = 8):
    """A 6-stage gating ring driving, per trial (one ring cycle): x = input bits (g01); y = H(x W > 512)
    (g02) and the push-pull sign of x V (s_plus, s_minus, g02); p = y AND s_plus (gated product, g03);
    m = y relayed with a 1-step axonal delay (g04); q = x relayed with a 3-step delay (g05). Data layers have
    refractory_steps 2, so the circuit also exercises LIFRefractory. Returns (circuit, steps)."""
    from spikingbp.circuits.circuit import Circuit
    from spikingbp.circuits.sgsc import add_layer, gated_product, gating_chain, push_pull, relay, wire

    if trials < 1:
        raise ConfigError(f"trials must be positive, got {trials}")
    rng = np.random.default_rng(seed)
    circuit = Circuit(f"sgsc_{seed}")
    gating_chain(circuit, SGSC_PHASES)
    for name, size in (("x", n_in), ("y", n_out), ("p", n_out), ("m", n_out), ("q", n_in)):
        add_layer(circuit, name, size, refractory_steps=2)
    bits = rng.random((trials, n_in)) < 0.5
    bits[np.arange(trials), rng.integers(0, n_in, trials)] = True  # every trial has an active input
    cycle, unit = np.nonzero(bits)
    circuit.add_source("input", n_in, unit, 2 + 1 + SGSC_PHASES * cycle - 1)
    wire(circuit, [("input", "x", "1e"), ("g01", "x", "g"), ("g02", "y", "g")])
    W = 2 * rng.integers(-60, 200, size=(n_in, n_out))
    for k, total in enumerate((512, 514)[:min(n_out, trials)]):  # sums exactly at and just above y's threshold
        active = np.flatnonzero(bits[k])
        if len(active):
            W[active[0], k] += total - int(bits[k] @ W[:, k])
    circuit.connect("x", "y", W, pattern="all_to_all", kind="f", name="W")
    push_pull(circuit, "s", n_out, pre="x", weight=2 * rng.integers(-60, 60, size=(n_in, n_out)), gate="g02")
    gated_product(circuit, "y", "s_plus", "p", "g03")
    relay(circuit, "y", "m", "g04", delay=1)
    relay(circuit, "x", "q", "g05", delay=3)
    return circuit, 2 + SGSC_PHASES * trials + 2


def verify_sgsc(seed: int = 0, trials: int = 8, fixed_point: bool = False, *, refractory: str | None = None,
                dv_max: int = 4096) -> SampleVerification:
    """``sgsc_circuit(seed, trials)`` in Brian2 and lava; per-trial spike identity."""
    circuit, steps = sgsc_circuit(seed, trials)
    result = verify(circuit, steps, fixed_point, refractory=_default_refractory(refractory, fixed_point), scale=1.0,
                    dv_max=dv_max)
    return SampleVerification("sgsc", per_cycle(result, trials, SGSC_PHASES, readout=("p", 3)), result)


__all__ = ["verify", "Verification", "PopulationCheck", "WeightCheck", "SampleCheck", "SampleVerification",
           "per_cycle", "verify_algorithm", "sgsc_circuit", "verify_sgsc"]
