"""A fourth learning algorithm, written against the public interface: a spiking delta-rule readout.

    python examples/new_algorithm.py [OUT]      # trains it on digits into OUT (default examples_out/new_algorithm)
    python examples/new_algorithm.py train --algorithm delta --device cpp_standalone --out runs/delta  # any command

Binary pixels drive threshold units through fixed random +-1 weights W0; the outputs learn W1 += eta h (t - o)
from the hidden spikes h, the label spikes t and their own spikes o. A sample takes three steps (inputs, hidden
decision, output decision); the change is applied as the next sample starts. All values are small integers, so
the circuit equals its numpy reference exactly. A new algorithm writes models, a circuit, a reference and an
``Algorithm`` with a ``plan`` per phase; the execution layer runs the plans on every device, in chunks, resumed,
or as an ensemble. Run as a script, this file is the ``spikingbp`` command with the algorithm registered.
"""
import numpy as np

from spikingbp.algorithms import Algorithm, CircuitRun, Option, register
from spikingbp.circuits.circuit import Circuit
from spikingbp.circuits.spikes import SpikeSource
from spikingbp.errors import ConfigError
from spikingbp.execution import Plan, Records, collect, devices_for
from spikingbp.models.base import NeuronModel, Parameter, SynapseModel
from spikingbp.models.synapses import Static

# ----------------------------------------------------------------------------- parameters
TS = 3             # steps per sample: inputs, hidden decision, output decision
THETA_HIDDEN = 2   # a hidden unit fires when its drive exceeds this
THETA_OUTPUT = 0   # an output unit fires when its drive exceeds this

# ----------------------------------------------------------------------------- models
DeltaUnit = NeuronModel(
    name="DeltaUnit", threshold="fired > 0.5", reset="", method="euler", input_variable="a_in",
    equations="""
a_in : 1     # weighted input spikes of this step
t_in : 1     # label spikes of this step (outputs)
u : 1        # the drive when the unit last decided (the readout)
err : 1      # the last decision's error t - o (what the next sample's weight change reads)
fired : 1    # the unit fired in this step
count : 1    # steps since the start of the run
phase : 1 (constant)  # the step of a sample at which the unit decides
theta : 1 (constant)  # firing threshold on the drive
""",
    step_code="""at = int(abs(count - Ts * floor(count / Ts) - phase) < 0.5)
fired = at * int(a_in > theta)
u = at * a_in + (1 - at) * u
err = at * (t_in - fired) + (1 - at) * err
a_in = 0
t_in = 0
count += 1
""",
    parameters={"Ts": Parameter(TS, "steps per sample", 1, None), "phase": Parameter(1, "the step that decides", 0, None),
                "theta": Parameter(0, "firing threshold on the drive")},
    doc="Threshold unit that decides once per sample, at step ``phase``, from the drive of the step before.")

DeltaWeights = SynapseModel(
    name="DeltaWeights", on_pre="a_in_post += w\nx = 1", sample_update="w += eta * x * err_post\nx = 0",
    equations="w : 1  # the weight\nx : 1  # the presynaptic unit fired in this sample",
    parameters={"eta": Parameter(1, "learning rate (integer: exact)", 0, None)}, post_requires=("a_in", "err"),
    doc="Delta rule: a presynaptic spike delivers w; at the next sample start w += eta x (t - o).")


# ----------------------------------------------------------------------------- circuit and reference
def delta_sources(X, T) -> dict:
    """The input spikes of samples X (N, n_in) 0/1 in their first steps, the labels T (N, n_out) one-hot (zeros:
    none) in their second."""
    (x_sample, x_unit), (t_sample, t_unit) = np.nonzero(X), np.nonzero(T)
    return {"x": SpikeSource("x", X.shape[1], x_unit, x_sample * TS),
            "label": SpikeSource("label", T.shape[1], t_unit, t_sample * TS + 1)}


def delta_circuit(W0, W1, X, T, eta: int) -> Circuit:
    """The circuit of samples X with labels T (``delta_sources``), in order."""
    circuit = Circuit("delta", sample_steps=TS)
    circuit.add_population("h", W0.shape[1], DeltaUnit, phase=1, theta=THETA_HIDDEN)
    circuit.add_population("o", W1.shape[1], DeltaUnit, phase=2, theta=THETA_OUTPUT)
    for source in delta_sources(X, T).values():
        circuit.add_source(source.name, source.size, source.indices, source.steps)
    circuit.connect("x", "h", W0.ravel(), pattern="all_to_all", name="W0", kind="fixed")
    circuit.connect("h", "o", W1.ravel(), pattern="all_to_all", synapse=DeltaWeights, name="W1", kind="p", eta=eta)
    circuit.connect("label", "o", 1, pattern="one_to_one", target="t_in", name="labels", kind="label", synapse=Static)
    return circuit


def reference_step(W0, W1, x, t, eta: int):
    """One sample of the numpy reference: (drive of the outputs, W1 after the sample)."""
    h = (x @ W0 > THETA_HIDDEN).astype(np.int64)
    drive = h @ W1
    return drive, W1 + eta * np.outer(h, np.asarray(t, np.int64) - (drive > THETA_OUTPUT))


# ----------------------------------------------------------------------------- algorithm
@register
class DeltaRule(Algorithm):
    name = "delta"
    title = "Spiking delta rule on a fixed random hidden layer (an example of a new algorithm)"
    encoding = "binary pixels (uint8 > 127), one sample per 3 steps"
    headline = "argmax_drive"
    measures = ("argmax_drive",)
    devices = devices_for()                 # integers only: exact on every device
    options = {"eta": Option(1, int, "learning rate (an integer keeps the circuit exact)", 0, 100)}
    default_hidden = (64,)

    def check_sizes(self, sizes):
        if len(sizes.hidden) != 1:
            raise ConfigError(f"delta has one hidden layer; got {list(sizes.hidden)}, give e.g. --hidden 64")

    def encode(self, images):
        return (np.asarray(images).reshape(len(images), -1) > 127).astype(np.int64)

    def init_params(self, sizes, seed):
        self.check_sizes(sizes)
        rng = np.random.default_rng(seed)
        return {"W0": rng.choice([-1, 1], size=(sizes.n_in, sizes.hidden[0])),
                "W1": np.zeros((sizes.hidden[0], sizes.n_out), np.int64)}

    def plan(self, phase, params, X, T=None, epoch=0):
        train, eta = self._check_phase(phase) == "train", self.values["eta"]
        targets = T if train else np.zeros((len(X), params["W1"].shape[1]), np.int64)
        n_in, n_h, n_out = params["W0"].shape + params["W1"].shape[1:]

        def prepare(p, indices, ctx):
            return p, X[indices], targets[indices]

        def inputs(batch):
            return delta_sources(batch[1], batch[2]), {"W1": batch[0]["W1"].ravel()}

        def read(result, batch):   # training: the params learned; inference: the output drives (n, n_out)
            if train:
                return self.learned_params(batch[0], result.weights)
            return result.states["o"]["u"][np.arange(len(batch[1])) * TS + 2]

        def reference(batch, advance):
            W1, drives = batch[0]["W1"], []
            for x, t in zip(batch[1], batch[2]):
                drive, changed = reference_step(batch[0]["W0"], W1, x, t, eta)
                W1 = changed if train else W1
                drives.append(drive)
                advance(1)
            return {"W0": batch[0]["W0"], "W1": W1} if train else np.array(drives).reshape(-1, n_out)

        return Plan(phase, {"circuit": "delta", "sizes": [n_in, n_h, n_out], "eta": eta if train else 0},
                    f"{n_in}-{n_h}-{n_out} delta {phase}", lambda n: n * TS + 1, prepare,
                    lambda batch: delta_circuit(batch[0]["W0"], batch[0]["W1"], batch[1], batch[2], eta if train else 0),
                    inputs, read, reference, Records(states={} if train else {"o": ("u",)},
                                                     weights=("W1",) if train else (), variable=("W1",)))

    def evaluate(self, params, X, T, ctx):
        drive = np.concatenate(collect(self.plan("inference", params, X), params, np.arange(len(X)), ctx))
        accuracy = float(np.mean(np.argmax(drive, axis=1) == np.argmax(T, axis=1)))
        return {"accuracy": accuracy, "argmax_drive": accuracy}

    def circuit(self, params, X, T=None, phase="inference"):
        targets = T if self._check_phase(phase) == "train" else np.zeros((len(X), params["W1"].shape[1]))
        eta = self.values["eta"] if phase == "train" else 0
        return CircuitRun(delta_circuit(params["W0"], params["W1"], X, targets, eta), len(X) * TS + 1, len(X), TS, 0,
                          readout=("o", 2))

    def learned_params(self, params, weights):
        return {**params, "W1": np.rint(weights["W1"]).astype(np.int64).reshape(params["W1"].shape)}


if __name__ == "__main__":
    import sys

    from spikingbp.cli import COMMANDS, main

    arguments = sys.argv[1:]
    if not arguments or arguments[0] not in COMMANDS:   # the demonstration: three epochs on digits
        arguments = ["train", "--algorithm", "delta", "--dataset", "digits", "--epochs", "3", "--device", "runtime",
                     "--quiet", "--out", arguments[0] if arguments else "examples_out/new_algorithm"]
    sys.exit(main(arguments))
