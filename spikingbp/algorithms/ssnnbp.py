"""SSNN-BP (Biswas et al. 2023) on the Algorithm interface: an adapter over ``spikingbp.circuits.ssnnbp`` (the
composite-neuron circuit) and ``spikingbp.reference.ssnnbp`` (the numpy model, device ``reference``).

Params: ``W0`` (n_in, n_h1), ``W1`` ... (float32 as the circuit stores them, He initialisation). Every sample's random trains (front-loaded
Poisson inputs, the label train, dropout masks) are drawn here from a generator seeded by (run seed, epoch,
sample index), so that the circuit and the reference, in runs of any size, resumed or not, see the same ones;
evaluation draws from (run seed, 0, sample index, 1), the same trains every epoch."""
from __future__ import annotations

import numpy as np

from spikingbp.algorithms import register
from spikingbp.algorithms.base import Algorithm, CircuitRun, Option, Sizes, epoch_eta
from spikingbp.errors import ConfigError
from spikingbp.execution import devices_for
from spikingbp.models.ssnn import ETA

EVALUATION = 1  # the last seed word of evaluation trains (training trains have none)


def _uniform_trains(intensity, n_steps: int, mean_rate: float, rng) -> np.ndarray:
    from spikingbp.data import poisson_trains

    return poisson_trains(mean_rate * np.asarray(intensity), n_steps, rng)


def _front_loaded_trains(intensity, n_steps: int, mean_rate: float, rng) -> np.ndarray:
    from spikingbp.data import front_loaded_trains

    return front_loaded_trains(intensity, n_steps, mean_rate, rng)


#: input_profile -> the input trains (Ts, n_in) of one sample's intensities
INPUT_TRAINS = {"front_loaded": _front_loaded_trains, "uniform": _uniform_trains}


@register
class SSNNBP(Algorithm):
    name = "ssnnbp"
    title = "SSNN-BP: composite-neuron backprop with local stochastic updates (Biswas et al. 2023)"
    encoding = "front-loaded Poisson trains of pixel/255 over Ts steps; label train at rate 0.5; dropout masks"
    headline = "argmax_counts"
    measures = ("argmax_counts",)
    devices = devices_for("ieee_float", "pre_reads")  # float composite units that read presynaptic flags
    options = {
        "Ts": Option(100, int, "steps per sample (the paper: 50 to 200)", 1, 10_000),
        "form": Option("stochastic", str, "weight update: stochastic (spike coincidences) or rate (counts; eta "
                       "multiplies count x count, so for the stochastic form's step give about eta / Ts)",
                       choices=("stochastic", "rate")),
        "eta": Option(ETA, float, "learning rate (chosen on digits: see the README)", 0.0, 10.0),
        "eta_decay": Option(1.0, float, "the learning rate is multiplied by this after every epoch: epoch e trains "
                            "with eta x eta_decay^(e - 1) (1: constant)", 0.0, 1.0),
        "mean_rate": Option(0.4, float, "mean input spike probability per step of a white pixel (paper 0.3-0.5)",
                            1e-6, 0.5),
        "input_profile": Option("front_loaded", str, "the inputs' spike probability over a sample: front_loaded "
                                "(falling linearly from twice its mean to 0, the paper's) or uniform (its mean at "
                                "every step; the stochastic form's coincidences then do not depend on when a "
                                "gradient spike comes)", choices=("front_loaded", "uniform")),
        "label_rate": Option(0.5, float, "spike probability per step of the correct class's label unit", 0.0, 1.0),
        "dropout_input": Option(0.2, float, "probability that an input pixel is silenced for a sample", 0.0, 0.999),
        "dropout_hidden": Option(0.3, float, "probability that a hidden unit is dropped for a sample", 0.0, 0.999),
        "theta_hidden": Option(0.5, float, "hidden gradient threshold theta_b (not given by the paper)", 1e-9, 1e3),
        "theta_output": Option(1.0, float, "output error threshold theta_N (not given by the paper)", 1e-9, 1e3),
        "w_inh": Option(2.5, float, "winner-take-all inhibition per rival spike (not given by the paper)", 0.0, 1e3),
        "saturation_steps": Option(0, int, "a hidden unit's gradient spikes are held back while its forward unit "
                                   "fired in each of this many steps before, the upper kink of clip(., 0, Ts) that the "
                                   "rule's [count > 0] gate lacks (0: off, the paper's rule)", 0, 10_000),
        "hold_gradient": Option(False, bool, "a hidden gradient unit whose drive crosses its threshold before its "
                                "forward unit has fired keeps that drive and emits it once the gate opens (False: the "
                                "spec's product form [sum_t s_x > 0] f(...), where those crossings reset silently and "
                                "their drive is lost)"),
        "mirror_reset": Option(False, bool, "a neuron's d+ and d- units as one signed integrator: a spike of "
                                  "either takes its threshold off both, so that their net count follows the net drive "
                                  "(False: the spec's two units f(eps x) and f(-eps x), each with its own reset, whose "
                                  "net count also counts the drive's excursions)"),
        "gradient_kernel": Option(True, bool, "the gradient units d+ and d- see their drive through the kernel "
                                  "1 - exp(-n / tau), as the forward units do (the spec); False: their potential is "
                                  "their drive, so a drive reaches threshold in the step it arrives and none is left "
                                  "undelivered at the sample's end"),
        "test_scale": Option(False, bool, "at test time scale each matrix by its presynaptic layer's keep probability "
                             "(W0 x (1 - dropout_input), W_l x (1 - dropout_hidden)), the usual dropout compensation "
                             "(the paper does not say)"),
        "init_gain": Option(5.0, float, "initial weights N(0, 2 / fan_in) times this (5 = the forward threshold: "
                            "He initialisation in units of the threshold, so that spike counts pass layer to layer)",
                            1e-9, 1e3),
    }
    default_hidden = (1280,)
    figures = "spikingbp.experiments.ssnnbp:run_figures"
    nir_graph = "spikingbp.nirgraph:ssnn_graph"
    paper_results = {"mnist": "98.65 +- 0.04 % (full MNIST)", "fashion-mnist": "90.5 +- 0.2 %", "digits": "not reported"}

    # --------------------------------------------------------------------------------------- setup
    def settings(self, eta: float | None = None, epoch: int = 1):
        """The settings (circuit and reference) with learning rate ``eta`` (None: that of training epoch ``epoch``,
        from 1)."""
        from spikingbp.models.ssnn import SSNNSettings

        v = self.values
        return SSNNSettings(Ts=v["Ts"], theta_hidden=v["theta_hidden"], theta_output=v["theta_output"],
                            w_inh=v["w_inh"], eta=epoch_eta(v, epoch) if eta is None else eta, form=v["form"],
                            saturation_steps=v["saturation_steps"], hold_gradient=v["hold_gradient"],
                            mirror_reset=v["mirror_reset"], gradient_kernel=v["gradient_kernel"])

    def check_sizes(self, sizes: Sizes) -> None:
        if not sizes.hidden or any(n < 1 for n in sizes.hidden):
            raise ConfigError(f"ssnnbp needs at least one hidden layer of positive size; got {list(sizes.hidden)}, "
                              f"give e.g. --hidden 1280")

    def encode(self, images):
        """Intensities pixel/255 in [0, 1], flattened (N, H*W)."""
        from spikingbp.data import rate_encode

        return rate_encode(images, 1.0)

    def init_params(self, sizes: Sizes, seed: int):
        """He initialisation in units of the threshold: W_l ~ init_gain N(0, 2 / fan_in), stored as ``WEIGHT_DTYPE``."""
        from spikingbp.models.ssnn import stored

        self.check_sizes(sizes)
        rng = np.random.default_rng(seed)
        layers = [sizes.n_in, *sizes.hidden, sizes.n_out]
        return {f"W{l}": stored(self.values["init_gain"] * rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)))
                for l, (n_in, n_out) in enumerate(zip(layers, layers[1:]))}

    def trains(self, X, T, indices, seed_words, hidden, *, train: bool):
        """The inputs (N, Ts, n_in), labels (N, Ts, n_out) bool trains and keep masks [(N, n_h)] of the samples
        ``indices``, each from ``numpy.random.default_rng([*seed_words, index])`` (evaluation: no dropout and
        no labels)."""
        v = self.values
        input_trains = INPUT_TRAINS[v["input_profile"]]
        Ts, n_in, n_out = v["Ts"], X.shape[1], T.shape[1]
        inputs = np.zeros((len(indices), Ts, n_in), bool)
        labels = np.zeros((len(indices), Ts, n_out), bool)
        keep = [np.ones((len(indices), n), bool) for n in hidden]
        for row, index in enumerate(indices):
            rng = np.random.default_rng([*seed_words, int(index)] + ([] if train else [EVALUATION]))
            inputs[row] = input_trains(X[index], Ts, v["mean_rate"], rng)
            if train:
                inputs[row] &= rng.random(n_in) >= v["dropout_input"]
                labels[row, :, int(np.argmax(T[index]))] = rng.random(Ts) < v["label_rate"]
                for mask, n in zip(keep, hidden):
                    mask[row] = rng.random(n) >= v["dropout_hidden"]
        return inputs, labels, keep

    @staticmethod
    def _weights(params):
        return [params[f"W{l}"] for l in range(len(params))]

    # --------------------------------------------------------------------------------------- running
    def plan(self, phase, params, X, T=None, epoch=0):
        """SSNN-BP's circuits: training (state: the params; each run returns them learned) and test (each run
        returns the output units' forward spike counts (n, n_out), with ``test_weights``). A batch is (weights,
        inputs, labels, keep), the trains of ``trains``."""
        from spikingbp.circuits import ssnnbp as circuit
        from spikingbp.execution import Plan, Records
        from spikingbp.reference import ssnnbp as reference

        train = self._check_phase(phase) == "train"
        if train and T is None:
            raise ConfigError("the ssnnbp training circuit needs targets T")
        weights = self._weights(params)
        shapes = [W.shape for W in weights]
        sizes = [shapes[0][0]] + [shape[1] for shape in shapes]
        hidden = sizes[1:-1]
        settings = self.settings(epoch=epoch) if train else self.settings(eta=0.0)
        Ts = settings.Ts
        targets = T if train else np.zeros((len(X), sizes[-1]))
        projections = circuit.weight_projections(len(weights))

        def prepare(p, indices, ctx):
            seed_words = [ctx.seed, ctx.epoch] if train else [ctx.seed, 0]
            return ((self._weights(p) if train else self.test_weights(p)),
                    *self.trains(X, targets, indices, seed_words, hidden, train=train))

        common = dict(shape={"circuit": "ssnnbp", "sizes": sizes, "settings": settings.__dict__},
                      label=f"{'-'.join(map(str, sizes))} {'training' if train else 'inference'}",
                      steps=lambda n: circuit.run_steps(n, Ts), prepare=prepare,
                      build=lambda batch: circuit.ssnn_circuit(*batch, settings),
                      inputs=lambda batch: circuit.run_inputs(*batch, Ts))
        if train:
            def learned(w):
                return {f"W{l}": W for l, W in enumerate(w)}

            return Plan(phase, **common, records=Records(weights=projections, variable=projections),
                        read=lambda result, batch: learned(circuit.learned(result, shapes)),
                        reference=lambda batch, advance: learned(reference.train(
                            *batch, settings, on_sample=lambda _: advance(1))))

        def counts(batch, advance):
            result = reference.output_counts(batch[0], batch[1], settings)
            advance(len(batch[1]))
            return result

        return Plan(phase, **common, records=Records(states=circuit.READOUT_STATES, variable=projections),
                    read=lambda result, batch: circuit.output_counts(result, len(batch[1]), Ts), reference=counts)

    def ideal_updates(self, params, X, T, index, ctx):
        """On the sample's own spikes (its reference run, drawn as ``train_epoch`` draws it): ``rate_form`` =
        eta/2 (input counts) x (d+ - d- counts), the update the stochastic form approximates; ``ideal`` = the rate
        network's update with unquantised deltas, delta_out = label count - output count, delta_hidden =
        W_{l+1} delta_above gated by [count > 0] (the rule's derivative); ``bp`` = the same gated by
        [0 < count < ceiling], the gradient of the clipped rate network, whose units at one spike per step no
        longer change their output. A spike reaches the next layer one step later, so layer l (inputs: 0) fires
        in at most Ts - l of a sample's Ts steps: that is its ceiling (``spike_ceiling``), and ``saturated`` counts
        the units at it."""
        from spikingbp.algorithms.base import SampleUpdates
        from spikingbp.reference import ssnnbp as reference

        weights = self._weights(params)
        Ts = self.values["Ts"]
        hidden = [W.shape[1] for W in weights[:-1]]
        inputs, labels, keep = self.trains(X, T, [index], [ctx.seed, ctx.epoch], hidden, train=True)
        settings = self.settings(epoch=ctx.epoch).replace(form="rate")
        rate_form, record = reference.run_sample(weights, inputs[0], labels[0], [mask[0] for mask in keep], settings)
        counts = [inputs[0].sum(axis=0).astype(float)] + [layer.x.sum(axis=0).astype(float) for layer in record]
        ceilings = [reference.spike_ceiling(Ts, layer) for layer in range(len(counts))]
        delta_ideal = [None] * len(weights)
        delta_bp = [None] * len(weights)
        delta_ideal[-1] = delta_bp[-1] = labels[0].sum(axis=0) - counts[-1]
        for l in range(len(weights) - 2, -1, -1):
            h = counts[l + 1]
            delta_ideal[l] = (weights[l + 1] @ delta_ideal[l + 1]) * (h > 0)
            delta_bp[l] = (weights[l + 1] @ delta_bp[l + 1]) * ((h > 0) & (h < ceilings[l + 1]))
        directions, stats = {}, {}
        for l in range(len(weights)):
            directions[f"W{l}"] = {"rate_form": rate_form[l], "ideal": np.outer(counts[l], delta_ideal[l]),
                                   "bp": np.outer(counts[l], delta_bp[l])}
            fired = counts[l + 1]
            signal = delta_ideal[-1] if l == len(weights) - 1 else weights[l + 1] @ delta_ideal[l + 1]
            stats[f"W{l}"] = {"silent": float(np.mean(fired == 0)), "saturated": float(np.mean(fired >= ceilings[l + 1])),
                              "error_scale": float(np.sqrt(np.mean(np.square(signal))))}
        return SampleUpdates(directions, stats)

    def test_weights(self, params) -> list:
        """The weights the test network runs with: the learned ones, or with ``test_scale`` each times the keep
        probability of the layer feeding it (training saw only that fraction of its inputs)."""
        weights = self._weights(params)
        if not self.values["test_scale"]:
            return weights
        keep = [1.0 - self.values["dropout_input"]] + [1.0 - self.values["dropout_hidden"]] * (len(weights) - 1)
        return [W * p for W, p in zip(weights, keep)]

    def output_counts(self, params, X, ctx):
        """Forward spikes of every output unit per sample (N, n_out) on ``ctx.device``."""
        from spikingbp.execution import collect

        return np.concatenate(collect(self.plan("inference", params, X), params, np.arange(len(X)), ctx))

    def predict(self, params, X, ctx):
        """The output unit with most forward spikes (the first of equals)."""
        return np.argmax(self.output_counts(params, X, ctx), axis=1)

    def evaluate(self, params, X, T, ctx):
        counts = self.output_counts(params, X, ctx)
        accuracy = float(np.mean(np.argmax(counts, axis=1) == np.argmax(T, axis=1)))
        return {"accuracy": accuracy, "argmax_counts": accuracy}

    def circuit(self, params, X, T=None, phase="inference"):
        from spikingbp.circuits import ssnnbp as circuit

        train = self._check_phase(phase) == "train"
        if train and T is None:
            raise ConfigError("the ssnnbp training circuit needs targets T")
        weights = self._weights(params) if train else self.test_weights(params)
        targets = T if T is not None else np.zeros((len(X), weights[-1].shape[1]))
        inputs, labels, keep = self.trains(X, targets, np.arange(len(X)), [0, 0], [W.shape[1] for W in weights[:-1]],
                                           train=train)
        settings = self.settings(eta=None if train else 0.0)
        return CircuitRun(circuit.ssnn_circuit(weights, inputs, labels, keep, settings),
                          circuit.run_steps(len(X), settings.Ts), len(X), settings.Ts, 0,
                          readout=None)

    def learned_params(self, params, weights):
        from spikingbp.models.ssnn import stored

        return {name: stored(weights[name]).reshape(params[name].shape) for name in params}
