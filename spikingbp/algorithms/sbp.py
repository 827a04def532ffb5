"""sBP (Renner et al. 2024) on the Algorithm interface: an adapter over ``spikingbp.circuits.sbp`` (the
spiking circuit, on any Brian2 device) and ``spikingbp.reference.sbp`` (the numpy model, device
``reference``). Params: ``W1`` (n_in, n_hidden) and ``W2`` (n_hidden, n_out), even int32 in [-254, 254]."""
from __future__ import annotations

import numpy as np

from spikingbp.algorithms import register
from spikingbp.algorithms.base import BRIAN_DEVICES, REFERENCE, Algorithm, CircuitRun, Option, Sizes
from spikingbp.errors import ConfigError


@register
class SBP(Algorithm):
    name = "sbp"
    title = "sBP: exact backprop in a synfire-gated binary circuit (Renner et al. 2024)"
    encoding = "binary pixels (uint8 > threshold), one sample per 12-step cycle"
    headline = "argmax_potential"
    measures = ("exact", "argmax_spikes", "argmax_potential")
    devices = (REFERENCE, *BRIAN_DEVICES)
    options = {"threshold": Option(127, int, "a pixel is on when its uint8 value exceeds this", 0, 254)}
    default_hidden = (400,)
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
        return {"W1": W1, "W2": W2}

    def train_epoch(self, params, X, T, order, ctx):
        from spikingbp.circuits import sbp as circuit
        from spikingbp.reference import sbp as reference

        if not ctx.on_circuit:
            W1, W2 = reference.train_epoch(X, T, params["W1"], params["W2"], order=order,
                                           on_sample=lambda _: ctx.advance(1))
        elif self._programs(ctx):
            W1, W2 = params["W1"], params["W2"]
            n_in, n_hidden, n_out = W1.shape[0], W1.shape[1], W2.shape[1]
            for start in range(0, len(order), ctx.chunk):
                part = order[start:start + ctx.chunk]
                program = ctx.programs.program(
                    {"circuit": "sbp.training", "sizes": [n_in, n_hidden, n_out]},
                    lambda: circuit.training_circuit(W1, W2, X[part], T[part]),
                    circuit.training_steps(ctx.chunk), circuit.training_capacity(ctx.chunk, n_in, n_out),
                    variable_weights=circuit.PLASTIC_PROJECTIONS, record_weights=circuit.PLASTIC_PROJECTIONS,
                    label=f"{n_in}-{n_hidden}-{n_out} training ({ctx.chunk} samples a run)")
                result = program.run(*circuit.training_inputs(W1, W2, X[part], T[part]))
                W1, W2 = circuit.learned_weights(result, n_in, n_hidden, n_out)
                ctx.advance(len(part))
        else:  # a device whose program cannot be rerun: one build and run for all of ``order``
            W1, W2 = circuit.train(params["W1"], params["W2"], X[order], T[order], ctx.device,
                                   ctx.directory("train"), **ctx.device_options())
            ctx.advance(len(order))
        return {"W1": W1, "W2": W2}

    ensemble_devices = ("cpp_standalone",)

    def ideal_updates(self, params, X, T, index, ctx):
        """The binary network's exact update (spec sbp.md, ``reference.sbp.train_step``): the circuit must make
        exactly this change, so its cosine is 1."""
        from spikingbp.algorithms.base import SampleUpdates
        from spikingbp.reference import sbp as reference

        W1, W2, trace = reference.train_step(X[index], T[index], params["W1"], params["W2"])
        return SampleUpdates(
            directions={"W1": {"exact": (W1 - params["W1"]).astype(float)},
                        "W2": {"exact": (W2 - params["W2"]).astype(float)}},
            units={"W1": {"silent": float(np.mean(~trace.h)), "saturated": float(np.mean(trace.a1 > reference.THRESHOLD)),
                          "error_scale": float(np.sqrt(np.mean(np.square(trace.d1, dtype=float))))},
                   "W2": {"silent": float(np.mean(~trace.o)), "saturated": float(np.mean(trace.o_gt)),
                          "error_scale": float(np.sqrt(np.mean(np.square(trace.d2, dtype=float))))}})

    def train_ensemble_epoch(self, params, X, T, orders, contexts):
        from spikingbp.circuits import sbp as circuit
        from spikingbp.circuits.ensemble import ensemble_circuit, ensemble_sources, ensemble_weights, split_result

        ctx = contexts[0]  # sBP draws nothing per copy: device, program cache, chunk and progress are shared
        if ctx.device not in self.ensemble_devices or ctx.programs is None:
            raise ConfigError(f"sbp ensembles run on {', '.join(self.ensemble_devices)} with a program cache; "
                              f"got --device {ctx.device}")
        if len({len(order) for order in orders}) != 1:
            raise ConfigError(f"the copies of an ensemble train on as many samples each; got {[len(o) for o in orders]}")
        K = len(params)
        weights = [(p["W1"], p["W2"]) for p in params]
        n_in, n_hidden, n_out = weights[0][0].shape[0], weights[0][0].shape[1], weights[0][1].shape[1]
        for start in range(0, len(orders[0]), ctx.chunk):
            parts = [order[start:start + ctx.chunk] for order in orders]
            program = ctx.programs.program(
                {"circuit": "sbp.training", "sizes": [n_in, n_hidden, n_out], "copies": K},
                lambda: ensemble_circuit([circuit.training_circuit(W1, W2, X[part], T[part])
                                          for (W1, W2), part in zip(weights, parts)]),
                circuit.training_steps(ctx.chunk), K * circuit.training_capacity(ctx.chunk, n_in, n_out),
                variable_weights=circuit.PLASTIC_PROJECTIONS, record_weights=circuit.PLASTIC_PROJECTIONS,
                label=f"{K} x {n_in}-{n_hidden}-{n_out} training ({ctx.chunk} samples a run)")
            inputs = [circuit.training_inputs(W1, W2, X[part], T[part]) for (W1, W2), part in zip(weights, parts)]
            result = program.run(ensemble_sources([sources for sources, _ in inputs]),
                                 ensemble_weights([flat for _, flat in inputs]))
            weights = [circuit.learned_weights(copy, n_in, n_hidden, n_out) for copy in split_result(result, K)]
            ctx.advance(K * len(parts[0]))
        return [{"W1": W1, "W2": W2} for W1, W2 in weights]

    @staticmethod
    def _programs(ctx) -> bool:
        from spikingbp.circuits.program import RERUNNABLE_DEVICES

        return ctx.programs is not None and ctx.device in RERUNNABLE_DEVICES

    def evaluate(self, params, X, T, ctx):
        from spikingbp.circuits import sbp as circuit
        from spikingbp.reference import sbp as reference

        if not ctx.on_circuit:
            scores = reference.accuracy(X, T, params["W1"], params["W2"])
            ctx.advance(len(X))
        else:
            if self._programs(ctx):
                W1, W2 = params["W1"], params["W2"]
                outputs = []
                n_in, n_hidden, n_out = W1.shape[0], W1.shape[1], W2.shape[1]
                for start in range(0, len(X), ctx.chunk):
                    part = X[start:start + ctx.chunk]
                    program = ctx.programs.program(
                        {"circuit": "sbp.inference", "sizes": [n_in, n_hidden, n_out]},
                        lambda: circuit.inference_circuit(W1, W2, part),
                        circuit.inference_steps(ctx.chunk), circuit.inference_capacity(ctx.chunk, n_in),
                        variable_weights=("W1", "W2"), record_spikes=circuit.INFERENCE_SPIKES,
                        record_states=circuit.INFERENCE_STATES,
                        label=f"{n_in}-{n_hidden}-{n_out} inference ({ctx.chunk} samples a run)")
                    result = program.run(*circuit.inference_inputs(W1, W2, part))
                    outputs.append(circuit.inference_outputs(result, len(part)))
                    ctx.advance(len(part))
                spikes, potentials = (np.concatenate(parts) for parts in zip(*outputs))
            else:
                spikes, potentials = circuit.infer(params["W1"], params["W2"], X, ctx.device, ctx.directory("infer"),
                                                   **ctx.device_options())
                ctx.advance(len(X))
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
            return CircuitRun(circuit.training_circuit(params["W1"], params["W2"], X, T), circuit.training_steps(n),
                              n, circuit.TRAINING_PHASES, int(circuit.phase_step(0, 0)))
        return CircuitRun(circuit.inference_circuit(params["W1"], params["W2"], X), circuit.inference_steps(n), n,
                          circuit.INFERENCE_PHASES, int(circuit.phase_step(0, 0)), readout=("o", 3))

    def learned_params(self, params, weights):
        from spikingbp.circuits import sbp as circuit

        matrices = circuit.weights_of(weights, *params["W1"].shape, params["W2"].shape[1])
        return {"W1": matrices["W1_h"], "W2": matrices["W2_o"]}

    def start_figures(self, out, params, X, T):
        """``training_cycle.png``: the second training cycle (the first two samples given, initial weights),
        recorded from the spiking circuit on the runtime device."""
        from spikingbp.analysis.sbp_figures import plot_training_cycle
        from spikingbp.circuits import sbp as circuit

        first = slice(0, min(2, len(X)))
        run = self.circuit(params, X[first], T[first], phase="train")
        result = run.circuit.run(run.steps, "runtime", target="numpy")
        plot_training_cycle(result, out / "training_cycle.png", int(circuit.phase_step(0, run.samples - 1)),
                            title=f"sBP training cycle, sample {run.samples - 1} of the presentation order")
