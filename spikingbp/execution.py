"""Where circuits run: an algorithm *declares* a phase's circuit as a ``Plan``; one executor per device (the
``EXECUTORS`` table, the one place that knows devices) *runs* it.

A plan says what one run of a phase is: how to draw a batch of samples (``prepare``: the per-sample random
trains, the weights of the moment), the circuit of a batch (``build``), its spikes and variable weights as plain
arrays (``inputs``, for a compiled program's rerun), what to read from the result (``read``) and the numpy
reference's answer for the same batch (``reference``), together with the program's ``shape`` (what the compiled
code depends on besides spikes and variable weights) and its ``steps`` per run. An executor says where and how:

``reference``       the plan's numpy model, sample by sample
``runtime``         Brian2 runtime: the circuit of each run built and run in this process
``cpp_standalone``  one compiled program per shape (``ProgramCache``), rerun with each run's spikes and weights;
                    a cache miss compiles without simulating, then runs once
``genn``, ``cuda``  one build and run per call (their programs cannot be rerun with new values)

Two loops run a plan over samples: ``fold`` (training: each run starts from the state the last one left) and
``collect`` (evaluation: every run from one state, the outputs in sample order). Both take K states and K sample
lists: K > 1 is an ensemble, one circuit of K blocks (``spikingbp.circuits.ensemble``) on a Brian2 device and K
reference runs on the reference, each copy equal bit for bit to its own run, with no algorithm code.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Mapping, Sequence

import numpy as np

from spikingbp.devices import DEVICES
from spikingbp.errors import ConfigError

#: The device name of an algorithm's plain-numpy reference model.
REFERENCE = "reference"
#: Brian2 devices (``spikingbp.devices.use_device``) a circuit may run on.
BRIAN_DEVICES = DEVICES
#: The circuits an algorithm exposes: ``train`` learns, ``inference`` only reads out.
PHASES = ("train", "inference")
#: What each Brian2 device's generated code guarantees, for the algorithms that need it: ``ieee_float``, every
#: float operation as written (``spikingbp.devices.EXACT_FLOAT_FLAGS``), without which a float circuit does not
#: equal its numpy reference bit for bit; ``pre_reads``, synaptic code that reads presynaptic variables
#: (brian2genn has none).
DEVICE_FEATURES = {
    "runtime": ("ieee_float", "pre_reads"),
    "cpp_standalone": ("ieee_float", "pre_reads"),
    "genn": (),
    "cuda": ("pre_reads",),
}


def devices_for(*requires: str) -> tuple:
    """The devices of an algorithm whose circuits need the features ``requires``: the reference and every Brian2
    device that has them."""
    unknown = set(requires) - {f for features in DEVICE_FEATURES.values() for f in features}
    if unknown:
        raise ConfigError(f"unknown device features {sorted(unknown)}; known: "
                          f"{sorted({f for features in DEVICE_FEATURES.values() for f in features})}")
    return (REFERENCE, *(d for d in BRIAN_DEVICES if set(requires) <= set(DEVICE_FEATURES[d])))


@dataclass
class RunContext:
    """Where and how a run executes: ``device`` (``reference`` or a Brian2 device), the directory for
    built projects (``build_dir / <phase>``, devices that build per call), the compiled-program cache, the most
    samples per run (``chunk``), the seed and the epoch being trained (from 1; 0 outside training), so that an
    algorithm that draws per sample (Poisson trains, dropout masks, noise) can seed each epoch's draws from
    (seed, epoch) and a resumed run draws the same, and ``on_samples(n)``, called as samples finish."""

    device: str = REFERENCE
    build_dir: Path | None = None
    seed: int = 0
    on_samples: Callable[[int], None] | None = None
    epoch: int = 0
    chunk: int = 1000                 #: the most samples one run (and one compiled program) holds
    programs: object = None           #: a ``spikingbp.circuits.program.ProgramCache`` (None: build per run)

    @property
    def executor(self) -> "Executor":
        return executor(self.device)

    def advance(self, samples: int) -> None:
        if self.on_samples is not None:
            self.on_samples(int(samples))


@dataclass(frozen=True)
class Records:
    """What a circuit run records: spikes of populations, state traces (population -> variables), final weights
    of projections, and the projections whose weights a compiled program takes anew each run (``variable``)."""

    spikes: tuple = ()
    states: Mapping = field(default_factory=dict)
    weights: tuple = ()
    variable: tuple = ()


@dataclass(frozen=True)
class Plan:
    """One phase of an algorithm, declared for one set of settings (see the module docstring). ``state`` is
    what a run starts from (the weights), ``indices`` the samples of one run, ``batch`` whatever ``prepare``
    makes of them for the other callables."""

    phase: str                                                  #: ``train`` or ``inference``
    shape: dict                                                 #: what a compiled program depends on
    label: str                                                  #: the program in words (compile messages)
    steps: Callable[[int], int]                                 #: steps of a run of n samples
    prepare: Callable[[object, np.ndarray, RunContext], object]  #: (state, indices, context) -> batch
    build: Callable[[object], object]                           #: batch -> ``Circuit``
    inputs: Callable[[object], tuple]                           #: batch -> (sources, variable weights)
    read: Callable[[object, object], object]                    #: (``CircuitResult``, batch) -> output
    reference: Callable[[object, Callable[[int], None]], object]  #: (batch, per-sample progress) -> output
    records: Records = Records()
    capacity: Callable[[int], int] | None = None   #: most source spikes of a run of n samples (None: measured)
    most_samples: int | None = None                #: the most samples one run may hold (e.g. a memory bound)

    def __post_init__(self):
        if self.phase not in PHASES:
            raise ConfigError(f"phase={self.phase!r}: choose one of {', '.join(PHASES)}")


class Executor(ABC):
    """Runs plans on one device. ``chunked``: a call runs in runs of at most ``RunContext.chunk`` samples, and a
    training loop may checkpoint between calls; otherwise one build serves all the samples of a call."""

    name: ClassVar[str]
    chunked: ClassVar[bool] = True
    how: str = ""            #: how a call runs, in words (``spikingbp info``)

    def run_size(self, plan: Plan, ctx: RunContext, n: int) -> int:
        """Samples per run of a call on ``n`` samples."""
        most = n if not self.chunked else ctx.chunk
        return max(1, min(most, plan.most_samples or most))

    @abstractmethod
    def run(self, plan: Plan, batches: Sequence, ctx: RunContext, run_size: int, n: int) -> list:
        """The outputs of ``plan`` on ``batches`` of ``n`` samples each (one batch per copy; several: one
        ensemble run), in a program for ``run_size`` samples where programs are kept."""


class ReferenceExecutor(Executor):
    """The plan's numpy model, copy by copy."""

    name = REFERENCE
    how = "chunks, numpy"

    def run(self, plan, batches, ctx, run_size, n):
        return [plan.reference(batch, ctx.advance) for batch in batches]


class BuildExecutor(Executor):
    """Brian2 in this process (runtime) or one generated project per call (genn, cuda): the circuit of each run
    is built and run; an ensemble's copies as one circuit."""

    def __init__(self, name: str, chunked: bool, **device_options):
        self.name, self.chunked, self.device_options = name, chunked, device_options
        self.how = ("chunks, nothing compiled" if chunked else
                    "one build per epoch (its program cannot be rerun with new values)")

    def directory(self, ctx: RunContext, plan: Plan) -> str | None:
        if self.name == "runtime" or ctx.build_dir is None:
            return None
        return str(Path(ctx.build_dir) / plan.phase)

    def run(self, plan, batches, ctx, run_size, n):
        from spikingbp.circuits.ensemble import ensemble_circuit

        K = len(batches)
        circuits = [plan.build(batch) for batch in batches]
        circuit = circuits[0] if K == 1 else ensemble_circuit(circuits)
        result = circuit.run(plan.steps(n), self.name, self.directory(ctx, plan),
                             record_spikes=plan.records.spikes, record_states=plan.records.states or None,
                             record_weights=plan.records.weights, **self.device_options)
        return _outputs(plan, result, batches, ctx, n)


def _outputs(plan: Plan, result, batches: list, ctx: RunContext, n: int) -> list:
    """What each copy's batch gives back from the result of one run (its part of an ensemble's), after which the
    context has advanced by the samples the run trained."""
    from spikingbp.circuits.ensemble import split_result

    K = len(batches)
    outputs = [plan.read(part, batch) for part, batch in zip([result] if K == 1 else split_result(result, K), batches)]
    ctx.advance(K * n)
    return outputs


class CompiledExecutor(Executor):
    """cpp_standalone through the program cache: one program per (shape, run size, copies), rerun with each
    run's spikes and variable weights; a short last run uses the full-length program (its missing samples have
    no spikes and change nothing). Without a cache (``ctx.programs`` None) it builds per run."""

    name = "cpp_standalone"
    how = "chunks, one program per shape, rerun"
    without_cache = BuildExecutor(name, True)   # builds each run's circuit where no program cache is given

    def run(self, plan, batches, ctx, run_size, n):
        from spikingbp.circuits.ensemble import ensemble_circuit, ensemble_sources, ensemble_weights

        if ctx.programs is None:
            return self.without_cache.run(plan, batches, ctx, run_size, n)
        K = len(batches)
        inputs = [plan.inputs(batch) for batch in batches]
        sources, weights = inputs[0] if K == 1 else (ensemble_sources([i[0] for i in inputs]),
                                                     ensemble_weights([i[1] for i in inputs]))
        if plan.capacity is not None:
            capacity = K * plan.capacity(run_size)
        else:  # a power of two above this run's spikes scaled to a full run, with a margin, so that every run of
            # one dataset (the short last one too) finds the same program
            spikes = sum(len(source.indices) for source in sources.values())
            capacity = 1 << max(10, int(np.ceil(np.log2(1.25 * spikes * run_size / n + 1))))

        def build():
            circuits = [plan.build(batch) for batch in batches]
            return circuits[0] if K == 1 else ensemble_circuit(circuits)

        records = plan.records
        program = ctx.programs.program(
            {**plan.shape, **({"copies": K} if K > 1 else {})}, build, plan.steps(run_size), capacity,
            variable_weights=records.variable, record_spikes=records.spikes, record_states=records.states or None,
            record_weights=records.weights,
            label=f"{f'{K} x ' if K > 1 else ''}{plan.label} ({run_size} samples a run, {capacity} spikes)")
        return _outputs(plan, program.run(sources, weights), batches, ctx, n)


#: device -> the executor that runs plans there (the one place that knows devices).
EXECUTORS = {
    REFERENCE: ReferenceExecutor(),
    "runtime": BuildExecutor("runtime", True, target="numpy"),
    "cpp_standalone": CompiledExecutor(),
    "genn": BuildExecutor("genn", False),
    "cuda": BuildExecutor("cuda", False),
}


def executor(device: str) -> Executor:
    if device not in EXECUTORS:
        raise ConfigError(f"unknown device {device!r}; choose one of {', '.join(EXECUTORS)}")
    return EXECUTORS[device]


def _copies(states, index_lists, contexts) -> tuple:
    states, index_lists, contexts = list(states), [np.asarray(i) for i in index_lists], list(contexts)
    if not (len(states) == len(index_lists) == len(contexts) >= 1):
        raise ConfigError(f"give one state, sample list and context per copy; got {len(states)}, "
                          f"{len(index_lists)} and {len(contexts)}")
    if len({len(i) for i in index_lists}) != 1:
        raise ConfigError(f"the copies of an ensemble run on as many samples each; got {[len(i) for i in index_lists]}")
    if len({c.device for c in contexts}) != 1:
        raise ConfigError("the copies of an ensemble run on one device")
    return states, index_lists, contexts


def fold(plan: Plan, states, index_lists, contexts) -> list:
    """Training: run ``plan`` over the samples ``index_lists[k]`` of each copy k, run after run, each run
    starting from the state the one before returned (the first from ``states[k]``); returns the last states."""
    states, index_lists, contexts = _copies(states, index_lists, contexts)
    ctx = contexts[0]
    runner = ctx.executor
    size = runner.run_size(plan, ctx, len(index_lists[0]))
    for start in range(0, len(index_lists[0]), size):
        batches = [plan.prepare(state, indices[start:start + size], c)
                   for state, indices, c in zip(states, index_lists, contexts)]
        states = runner.run(plan, batches, ctx, size, len(index_lists[0][start:start + size]))
    return states


def each_run(plan: Plan, state, indices, ctx: RunContext):
    """Evaluation: yields (sample indices, output) of ``plan`` from ``state`` on the samples ``indices``, run by
    run, in order (a generator: one run's output in memory at a time)."""
    runner = ctx.executor
    indices = np.asarray(indices)
    size = runner.run_size(plan, ctx, len(indices))
    for start in range(0, len(indices), size):
        part = indices[start:start + size]
        yield part, runner.run(plan, [plan.prepare(state, part, ctx)], ctx, size, len(part))[0]


def collect(plan: Plan, state, indices, ctx: RunContext) -> list:
    """The outputs of ``each_run``, in a list."""
    return [output for _, output in each_run(plan, state, indices, ctx)]


def run_once(plan: Plan, state, indices, ctx: RunContext):
    """The output of one run of ``plan`` on all of ``indices``, built for them (no program cache): for a
    measurement on a few samples that records more than a phase's runs do."""
    single = dataclasses.replace(ctx, programs=None, chunk=max(1, len(indices)), on_samples=None)
    return single.executor.run(plan, [plan.prepare(state, np.asarray(indices), single)], single, len(indices),
                               len(indices))[0]


def simulate(circuit, steps: int, **records):
    """``circuit`` (a ``Circuit``) run for ``steps`` steps in this process (Brian2 runtime, numpy code), recording
    everything unless ``records`` say otherwise: for figures and checks of a few samples, where compiling would
    cost more than it saves."""
    return circuit.run(steps, "runtime", target="numpy", **records)


__all__ = ["RunContext", "Records", "Plan", "Executor", "EXECUTORS", "executor", "fold", "each_run", "collect", "run_once", "simulate", "REFERENCE",
           "BRIAN_DEVICES", "PHASES", "DEVICE_FEATURES", "devices_for"]
