"""sBP (Renner et al. 2024) on the Algorithm interface: an adapter over ``spikingbp.circuits.sbp`` (the
spiking circuit, on any Brian2 device) and ``spikingbp.reference.sbp`` (the numpy model, device
``reference``). Params: ``W0`` (n_in, n_hidden) and ``W1`` (n_hidden, n_out), even int32 in [-254, 254], named
0-based as every algorithm's layers are (the paper's and the circuit's W1 and W2; run directories written before
the change name them so and are read through ``upgrade_params``)."""
from __future__ import annotations

import numpy as np

from spikingbp.algorithms import register
from spikingbp.algorithms.base import Algorithm, CircuitRun, Option, Sizes
from spikingbp.errors import ConfigError
from spikingbp.execution import devices_for


@register
class SBP(Algorithm):
    name = "sbp"
    title = "sBP: exact backprop in a synfire-gated binary circuit (Renner et al. 2024)"
    encoding = "binary pixels (uint8 > threshold), one sample per 12-step cycle"
    headline = "argmax_potential"
    measures = ("exact", "argmax_spikes", "argmax_potential")
    devices = devices_for()  # integer dynamics: every device
    options = {"threshold": Option(127, int, "a pixel is on when its uint8 value exceeds this", 0, 254)}
    default_hidden = (400,)
    nir_graph = "spikingbp.nirgraph:sbp_graph"
    paper_results = {"mnist": "96.3 % (97.5 % by potential), MNIST 400-400-10", "fashion-mnist": "not reported",
                     "digits": "not reported"}
    lava_phases = ("inference", "train")   # its reward-gated rule is translated (spikingbp.lava.rules.sbp)
    paper_energy = ({"phase": "train", "energy_uJ": 590.0, "time_ms": 1.5, "kind": "measured on Loihi",
                     "source": "Renner et al. 2024 (sBP), 400-400-10 on MNIST"},
                    {"phase": "inference", "energy_uJ": 2.5, "time_ms": 0.17, "kind": "measured on Loihi",
                     "source": "Renner et al. 2024 (sBP)"})
    crop_defaults = {"mnist": 4}  # 28x28 -> 20x20 = 400 inputs, as in the paper

    def check_sizes(self, sizes: Sizes) -> None:
        if len(sizes.hidden) != 1:
            raise ConfigError(f"sbp has exactly one hidden layer; got hidden sizes {list(sizes.hidden)}, "
                              f"give e.g. --hidden 400")

    def encode(self, images):
        from spikingbp.data import binarize

        return binarize(images, threshold=self.values["threshold"])

    def init_params(self, sizes: Sizes, seed: int):
        from spikingbp.reference import sbp as reference

        self.check_sizes(sizes)
        W1, W2 = reference.init_weights(sizes.n_in, sizes.hidden[0], sizes.n_out, rng=seed)
        return {"W0": W1, "W1": W2}

    @staticmethod
    def upgrade_params(params):
        """Params of a run written with the 1-based names (W1, W2) under the 0-based names (W0, W1)."""
        if "W2" in params and "W0" not in params:
            return {"W0": params["W1"], "W1": params["W2"], **{k: v for k, v in params.items() if k not in ("W1", "W2")}}
        return params

    def plan(self, phase, params, X, T=None, epoch=0):
        """sBP's circuits: training (weights in, learned weights out) and inference (output spikes and
        potentials a2), each with the compiled program's exact spike capacity."""
        from spikingbp.circuits import sbp as circuit
        from spikingbp.execution import Plan, Records
        from spikingbp.reference import sbp as reference

        n_in, n_hidden, n_out = params["W0"].shape[0], params["W0"].shape[1], params["W1"].shape[1]
        sizes = [n_in, n_hidden, n_out]
        if self._check_phase(phase) == "train":
            return Plan(
                phase, {"circuit": "sbp.training", "sizes": sizes}, f"{n_in}-{n_hidden}-{n_out} training",
                circuit.training_steps,
                prepare=lambda p, indices, ctx: (p["W0"], p["W1"], X[indices], T[indices]),
                build=lambda batch: circuit.training_circuit(*batch),
                inputs=lambda batch: circuit.training_inputs(*batch),
                read=lambda result, batch: dict(zip(("W0", "W1"), circuit.learned_weights(result, *sizes))),
                reference=lambda batch, advance: dict(zip(("W0", "W1"), reference.train_epoch(
                    batch[2], batch[3], batch[0], batch[1], on_sample=lambda _: advance(1)))),
                records=Records(weights=circuit.PLASTIC_PROJECTIONS, variable=circuit.PLASTIC_PROJECTIONS),
                capacity=lambda n: circuit.training_capacity(n, n_in, n_out))

        def forward(batch, advance):
            result = reference.forward(batch[2], batch[0], batch[1])
            advance(len(batch[2]))
            return result.o, result.a2

        return Plan(
            phase, {"circuit": "sbp.inference", "sizes": sizes}, f"{n_in}-{n_hidden}-{n_out} inference",
            circuit.inference_steps,
            prepare=lambda p, indices, ctx: (p["W0"], p["W1"], X[indices]),
            build=lambda batch: circuit.inference_circuit(*batch),
            inputs=lambda batch: circuit.inference_inputs(*batch),
            read=lambda result, batch: circuit.inference_outputs(result, len(batch[2])),
            reference=forward,
            records=Records(spikes=circuit.INFERENCE_SPIKES, states=circuit.INFERENCE_STATES, variable=("W1", "W2")),
            capacity=lambda n: circuit.inference_capacity(n, n_in))

    def ideal_updates(self, params, X, T, index, ctx):
        """The binary network's exact update (docs/methods/sbp.md, ``reference.sbp.train_step``): the circuit must make
        exactly this change, so its cosine is 1."""
        from spikingbp.algorithms.base import SampleUpdates
        from spikingbp.reference import sbp as reference

        W1, W2, trace = reference.train_step(X[index], T[index], params["W0"], params["W1"])
        return SampleUpdates(
            directions={"W0": {"exact": (W1 - params["W0"]).astype(float)},
                        "W1": {"exact": (W2 - params["W1"]).astype(float)}},
            units={"W0": {"silent": float(np.mean(~trace.h)), "saturated": float(np.mean(trace.a1 > reference.THRESHOLD)),
                          "error_scale": float(np.sqrt(np.mean(np.square(trace.d1, dtype=float))))},
                   "W1": {"silent": float(np.mean(~trace.o)), "saturated": float(np.mean(trace.o_gt)),
                          "error_scale": float(np.sqrt(np.mean(np.square(trace.d2, dtype=float))))}})

    def predict(self, params, X, ctx):
        """The output unit of the largest potential a2 (the headline readout; the first of equals)."""
        from spikingbp.execution import collect

        outputs = collect(self.plan("inference", params, X), params, np.arange(len(X)), ctx)
        return np.argmax(np.concatenate([potentials for _, potentials in outputs]), axis=1)

    def evaluate(self, params, X, T, ctx):
        from spikingbp.execution import collect
        from spikingbp.reference import sbp as reference

        outputs = collect(self.plan("inference", params, X), params, np.arange(len(X)), ctx)
        spikes, potentials = (np.concatenate(parts) for parts in zip(*outputs))
        prediction = reference.Prediction(spikes, np.argmax(spikes, axis=1), np.argmax(potentials, axis=1))
        scores = reference.score(prediction, T)
        values = {measure: float(getattr(scores, measure)) for measure in self.measures}
        return {"accuracy": values[self.headline], **values}

    def circuit(self, params, X, T=None, phase="inference"):
        from spikingbp.circuits import sbp as circuit

        n = len(X)
        if self._check_phase(phase) == "train":
            if T is None:
                raise ConfigError("the sbp training circuit needs targets T")
            return CircuitRun(circuit.training_circuit(params["W0"], params["W1"], X, T), circuit.training_steps(n),
                              n, circuit.TRAINING_PHASES, int(circuit.phase_step(0, 0)))
        return CircuitRun(circuit.inference_circuit(params["W0"], params["W1"], X), circuit.inference_steps(n), n,
                          circuit.INFERENCE_PHASES, int(circuit.phase_step(0, 0)), readout=("o", 3))

    def learned_params(self, params, weights):
        from spikingbp.circuits import sbp as circuit

        matrices = circuit.weights_of(weights, *params["W0"].shape, params["W1"].shape[1])
        return {"W0": matrices["W1_h"], "W1": matrices["W2_o"]}

    def start_figures(self, out, params, X, T):
        """``training_cycle.png``: the second training cycle (the first two samples given, initial weights),
        recorded from the spiking circuit (``spikingbp.execution.simulate``)."""
        from spikingbp.analysis.sbp_figures import plot_training_cycle
        from spikingbp.circuits import sbp as circuit
        from spikingbp.execution import simulate

        first = slice(0, min(2, len(X)))
        run = self.circuit(params, X[first], T[first], phase="train")
        result = simulate(run.circuit, run.steps)
        plot_training_cycle(result, out / "training_cycle.png", int(circuit.phase_step(0, run.samples - 1)),
                            title=f"sBP training cycle, sample {run.samples - 1} of the presentation order")
