"""eRBP (Neftci et al. 2017) on the Algorithm interface: an adapter over ``spikingbp.circuits.erbp`` (the
circuit) and ``spikingbp.reference.erbp`` (the numpy model, device ``reference``).

Params: ``W0`` (n_in, n_h1), ``W1`` ... (the learned weights) and ``G1`` ... (n_out, n_hl), the fixed random
feedback from the error units to each hidden layer, initialised as the authors' ``init_rbp1h_parameters``:
uniform in +-sqrt(std_weight / (fan_in + fan_out)), G with its mean over classes removed.

Every sample's random streams (the data and label units' spikes, the noise events) are drawn here from a
generator seeded by (run seed, epoch, sample index), so that the circuit and the reference, in runs of any size,
resumed or not, see the same ones; test samples draw from (run seed, 0, sample index, 1), the same every
epoch. Data unit i fires as Auryn's ``SRM0Group``: 100 Hz x exp((bg_i - theta) / 50 mV) with
bg_i = (x_i - 0.43) x 0.5 (x_i = grey level / 256), -1 V (silent) where the pixel is 0, refractory 4 ms; label
unit j the same with bg = p - 0.5, p = 0.98 for the sample's class and 1e-5 for the others (the authors'
``max_p``, ``min_p``), silent in test samples. Each of these choices is an option (``label_encoding``,
``silent_background``, ``pixel_scale``, ``noise_order``, ``std_weight``, ``label_fan_in``) whose default is
what the authors' drivers ran (``HBPNeurorobotics/auryn``, ``run_classification_mnist_dual.py``,
``experimentLib.py``) and whose ``legacy`` value is what runs recorded before the option existed.
"""
from __future__ import annotations

import numpy as np

from spikingbp.algorithms import register
from spikingbp.algorithms.base import REFERENCE, Algorithm, CircuitRun, Option, Sizes, epoch_eta
from spikingbp.errors import ConfigError
from spikingbp.execution import devices_for
from spikingbp.models.erbp import B_MAX, B_MIN, DATA_REFRACTORY_MS, DT_MS, ETA, LEARN_AFTER_MS, SIGMA, ERBPSettings

EVALUATION = 1  # the last seed word of test-sample streams (training streams have none)
KEY_SEED = 20170324  # seeds the blank-out synapses' keys (any constant: the runs' seeds vary the draws)
NOISE_EVENTS_PER_RUN = 4_000_000
MAX_SAMPLE_MS = 10_000.0  # the longest sample (100,000 steps; the paper's are 250 and 500 ms)  # how many noise events one compiled run holds at most (memory)
NOISE_ORDERS = ("after_check", "before_check")   # noise_order's values, as the units' noise_carry 1 and 0


def whole_steps(milliseconds: float, name: str) -> int:
    """``milliseconds`` as steps of 0.1 ms; a time that is not a whole number of steps is refused."""
    steps = milliseconds / DT_MS
    if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
        raise ConfigError(f"option {name}={milliseconds!r} ms is not a whole number of {DT_MS} ms steps; "
                          f"give e.g. --option {name}={round(steps) * DT_MS:g}")
    return int(round(steps))


@register
class ERBP(Algorithm):
    name = "erbp"
    title = "eRBP: event-driven random backprop with error units and a boxcar (Neftci et al. 2017)"
    encoding = ("stochastic data units, 100 Hz x exp((bg - 100 mV) / 50 mV), bg = (pixel/255 - 0.43) x 0.5, "
                "refractory 4 ms; label units the same at 0.95 (class) / 1e-4; 1 kHz noise events on every unit")
    headline = "argmax_counts"
    measures = ("argmax_counts", "synops", "synops_first_spike")
    devices = devices_for("ieee_float")  # float units: equal to the reference only where floats run as written
    options = {
        "eta": Option(ETA, float, "learning rate (the paper: 6e-4 with noise)", 0.0, 1.0),
        "sigma": Option(SIGMA, float, "jump of V per noise event, nA x 1 GOhm (the paper: 50e-3; 0: no noise)",
                        0.0, 10.0),
        "eta_decay": Option(1.0, float, "the learning rate is multiplied by this after every epoch: epoch e trains "
                            "with eta x eta_decay^(e - 1) (1: constant, the paper's)", 0.0, 1.0),
        "noise_hz": Option(1000.0, float, "noise events per second per unit (Auryn's PoissonStimulator)", 0.0,
                           1.0 / (DT_MS * 1e-3)),
        "b_min": Option(B_MIN, float, "boxcar lower edge on the post current, nA", -100.0, 100.0),
        "b_max": Option(B_MAX, float, "boxcar upper edge on the post current, nA", -100.0, 100.0),
        "train_ms": Option(250.0, float, "training sample length, ms (a whole number of 0.1 ms steps)", 0.2,
                           MAX_SAMPLE_MS),
        "test_ms": Option(500.0, float, "test sample length, ms", 0.2, MAX_SAMPLE_MS),
        "learn_after_ms": Option(LEARN_AFTER_MS, float, "no learning in the first this many ms of a training sample", 0.0,
                                 MAX_SAMPLE_MS),
        "p": Option(1.0, float, "transmission probability of the learned weights: 1 is eRBP with noise, 0.45 the "
                    "paper's blank-out variant (give it with eta=1e-3 sigma=0)", 0.0, 1.0),
        "std_weight": Option(7.0, float, "initial W and G uniform in +-sqrt(std_weight / (fan_in + fan_out)) (the "
                             "authors' MNIST drivers: 7.0; init_rbp1h_parameters' default, used here before: 0.2)",
                             1e-12, 1e4),
        "label_fan_in": Option(True, bool, "W0's initial bound counts the label units in its fan-in, "
                               "sqrt(std_weight / (n_in + n_out + n_h1)), as Auryn's nv = 784 + 10 does", legacy=False),
        "label_encoding": Option("auryn", str, "label units' drive: auryn (p = 0.98 for the class, 1e-5 for the "
                                 "others, bg = p - 0.5: the class unit fires at its refractory limit, 250 Hz) or "
                                 "pixel (0.95 / 1e-4 through the pixel map, about 227 Hz)",
                                 choices=("auryn", "pixel"), legacy="pixel"),
        "silent_background": Option(True, bool, "pixels equal to 0 get bg = -1 V and stay silent (Auryn's "
                                    "create_data_rbp); false: the pixel map, 0.18 Hz", legacy=False),
        "pixel_scale": Option(256.0, float, "a pixel's value is grey level / pixel_scale (Auryn's load_mnist: 256)",
                              255.0, 256.0, legacy=255.0),
        "noise_order": Option("after_check", str, "after_check: a noise jump lands after the threshold check and "
                              "enters the next Euler step, scaled by 1 - dt/tau_mem there (Auryn); before_check: "
                              "added to V after the Euler step, before the check", choices=NOISE_ORDERS,
                              legacy="before_check"),
    }
    step_seconds = DT_MS * 1e-3
    default_hidden = (100,)
    figures = "spikingbp.experiments.erbp:run_figures"
    nir_graph = "spikingbp.nirgraph:erbp_graph"
    paper_results = {100: "3.94 %", 200: "3.53 %", 500: "2.76 %"}   # test error on full MNIST, by hidden size
    paper_energy = ({"phase": "inference", "energy_uJ": 2.0, "time_ms": None,
                     "kind": "estimated: about 100k SynOps until the first output spike at 20 pJ each",
                     "source": "Neftci et al. 2017 (eRBP)"},)

    # --------------------------------------------------------------------------------------- setup
    def __init__(self, **values):
        super().__init__(**values)
        v = self.values
        if v["b_min"] >= v["b_max"]:
            raise ConfigError(f"option b_min={v['b_min']} must lie below b_max={v['b_max']} (the boxcar is "
                              f"b_min < I < b_max)")
        self.train_steps = whole_steps(v["train_ms"], "train_ms")
        self.test_steps = whole_steps(v["test_ms"], "test_ms")
        self.learn_after = whole_steps(v["learn_after_ms"], "learn_after_ms")
        if self.learn_after >= self.train_steps:
            raise ConfigError(f"option learn_after_ms={v['learn_after_ms']} leaves no learning in a "
                              f"{v['train_ms']} ms training sample; give a smaller one")

    def settings(self, train: bool, epoch: int = 1) -> ERBPSettings:
        """The settings (circuit and reference) for training in ``epoch`` (from 1; its learning rate) or for
        testing."""
        v = self.values
        return ERBPSettings(T=self.train_steps if train else self.test_steps, learn_after=self.learn_after,
                            eta=epoch_eta(v, epoch) if train else 0.0, b_min=v["b_min"], b_max=v["b_max"],
                            sigma=v["sigma"], p=v["p"],
                            noise_carry=int(v["noise_order"] == "after_check"))

    @property
    def blank_out(self) -> bool:
        return self.values["p"] < 1.0

    @staticmethod
    def keys(weights) -> list:
        """The blank-out synapses' generator keys, one integer matrix like each weight matrix: fixed (drawn from
        one constant seed), so that every run of one shape shares its compiled program; the run's seed enters
        through the sample seeds."""
        from spikingbp.lehmer import MODULUS

        return [np.random.default_rng([KEY_SEED, layer]).integers(1, MODULUS, size=np.shape(W))
                for layer, W in enumerate(weights)]

    def check_sizes(self, sizes: Sizes) -> None:
        if not sizes.hidden or any(n < 1 for n in sizes.hidden):
            raise ConfigError(f"erbp needs at least one hidden layer of positive size; got {list(sizes.hidden)}, "
                              f"give e.g. --hidden 100 or --hidden 200,200")

    def encode(self, images):
        """Values grey level / pixel_scale in [0, 1], flattened (N, H*W)."""
        from spikingbp.data import rate_encode

        return rate_encode(images, 255.0 / self.values["pixel_scale"])

    def init_params(self, sizes: Sizes, seed: int):
        self.check_sizes(sizes)
        rng = np.random.default_rng(seed)
        s = self.values["std_weight"]
        layers = [sizes.n_in, *sizes.hidden, sizes.n_out]
        params = {}
        # Auryn's visible layer holds the label units too (nv = 784 + 10), with zero weights to the hidden layer
        fan_in = [sizes.n_in + sizes.n_out * self.values["label_fan_in"], *layers[1:-1]]
        for l, (n_in, n_out) in enumerate(zip(layers, layers[1:])):
            bound = np.sqrt(s / (fan_in[l] + n_out))
            params[f"W{l}"] = rng.uniform(-bound, bound, size=(n_in, n_out))
        for l, n_hidden in enumerate(sizes.hidden, start=1):
            bound = np.sqrt(s / (sizes.n_out + n_hidden))
            G = rng.uniform(-bound, bound, size=(sizes.n_out, n_hidden))
            params[f"G{l}"] = G - G.mean(axis=0)   # each hidden unit's feedback sums to 0 over the classes
        return params

    @staticmethod
    def _split(params):
        weights = [params[f"W{l}"] for l in range(sum(k.startswith("W") for k in params))]
        feedback = [params[f"G{l}"] for l in range(1, len(weights))]
        return weights, feedback

    def streams(self, X, T, indices, seed_words, units: int, *, train: bool, sparse: bool = False):
        """The data (N, T, n_in), labels (N, T, n_out) and noise (N, T, units) bool streams and the blank-out seeds
        (N,) of the samples ``indices``, each from ``numpy.random.default_rng([*seed_words, index])`` (test
        samples: silent labels). With blank-out the data units are silent in a sample's first step, when its seed
        arrives. With ``sparse``: (``StreamEvents`` of the three streams, seeds), the same spikes as index arrays,
        for the circuit."""
        from spikingbp.circuits.erbp import StreamEvents
        from spikingbp.data.encoders import escape_noise_events
        from spikingbp.lehmer import MODULUS

        v = self.values
        steps = self.train_steps if train else self.test_steps
        n_in, n_out = X.shape[1], T.shape[1]
        generators = [np.random.default_rng([*seed_words, int(index)] + ([] if train else [EVALUATION]))
                      for index in indices]
        refractory = whole_steps(DATA_REFRACTORY_MS, "data refractory")
        data = escape_noise_events(hazard(data_background(X[indices], v["silent_background"])), steps, refractory,
                                   generators)
        if train:   # each generator draws its sample's data, then labels, then noise, then seed
            labels = escape_noise_events(hazard(label_background(T[indices], v["label_encoding"])), steps,
                                         refractory, generators)
        else:
            labels = tuple(np.zeros(0, np.int64) for _ in range(3))
        noise = [[], [], []]
        seeds = np.zeros(len(indices), np.int64)
        for row, rng in enumerate(generators):
            if v["sigma"] > 0:
                step, unit = np.nonzero(rng.random((steps, units)) < v["noise_hz"] * DT_MS * 1e-3)
                noise[0].append(np.full(step.size, row, np.int64))
                noise[1].append(step)
                noise[2].append(unit)
            if self.blank_out:
                seeds[row] = rng.integers(1, MODULUS)
        if self.blank_out:   # the seed arrives in the first step: no data spike then
            data = tuple(part[data[1] > 0] for part in data)
        noise = tuple(np.concatenate(part).astype(np.int64) if part else np.zeros(0, np.int64) for part in noise)
        events = StreamEvents(len(indices), steps, data, labels, noise)
        if sparse:
            return events, seeds
        return events.dense("data", n_in), events.dense("labels", n_out), events.dense("noise", units), seeds

    def most_samples(self, units: int, train: bool) -> int:
        """The most samples one run may hold: as many as keep its noise events within NOISE_EVENTS_PER_RUN
        (memory)."""
        steps = self.train_steps if train else self.test_steps
        events = max(1.0, self.values["noise_hz"] * DT_MS * 1e-3 * steps * units) if self.values["sigma"] else 1.0
        return int(max(1, NOISE_EVENTS_PER_RUN // events))

    # --------------------------------------------------------------------------------------- running
    def plan(self, phase, params, X, T=None, epoch=0):
        """eRBP's circuits: training (state: the params; each run returns them learned) and test (each run
        returns its output units' spike flags (n, T, n_out) and the forward SynOps per step (n, T): spikes x
        fan-out of the data and every hidden layer). A batch is (weights, feedback, ``StreamEvents``, seeds);
        a run holds at most ``most_samples``."""
        from spikingbp.circuits import erbp as circuit
        from spikingbp.execution import Plan, Records
        from spikingbp.reference import erbp as reference

        train = self._check_phase(phase) == "train"
        if train and T is None:
            raise ConfigError("the erbp training circuit needs targets T")
        weights, feedback = self._split(params)
        shapes = [W.shape for W in weights]
        sizes = [shapes[0][0]] + [shape[1] for shape in shapes]
        n_in, n_out, units = sizes[0], sizes[-1], sum(sizes[1:])
        settings = self.settings(train, epoch)
        targets = T if train else np.zeros((len(X), n_out))
        seed_words = (lambda ctx: [ctx.seed, ctx.epoch]) if train else (lambda ctx: [ctx.seed, 0])
        keys = self.keys(weights) if self.blank_out else None
        names = circuit.layer_names(len(weights) - 1)
        fan_out = np.array([shape[1] for shape in shapes], float)

        def prepare(p, indices, ctx):
            w, g = self._split(p)
            events, seeds = self.streams(X, targets, indices, seed_words(ctx), units, train=train, sparse=True)
            return w, g, events, seeds

        def build(batch):
            w, g, events, seeds = batch
            blank_out = dict(seeds=seeds, keys=keys) if self.blank_out else {}
            return circuit.erbp_circuit(w, g, events, None, None, settings, **blank_out)

        def inputs(batch):
            w, g, events, seeds = batch
            return circuit.event_inputs(w, g, events, seeds if self.blank_out else None)

        def dense(batch):
            events = batch[2]
            return events.dense("data", n_in), events.dense("labels", n_out), events.dense("noise", units)

        def blank_out_of(batch) -> dict:
            return dict(seeds=batch[3], keys=keys) if self.blank_out else {}

        variable = circuit.weight_projections(len(weights)) + circuit.feedback_projections(len(feedback))
        common = dict(shape={"circuit": "erbp", "sizes": sizes, "settings": settings.__dict__},
                      label=f"{'-'.join(map(str, sizes))} {'training' if train else 'inference'}",
                      steps=lambda n: n * settings.T, prepare=prepare, build=build, inputs=inputs,
                      most_samples=self.most_samples(units, train))
        if train:
            def learned(batch, w):
                return {**{f"W{l}": W for l, W in enumerate(w)}, **{f"G{l}": G for l, G in enumerate(batch[1], 1)}}

            return Plan(phase, **common, records=Records(weights=circuit.weight_projections(len(weights)),
                                                         variable=variable),
                        read=lambda result, batch: learned(batch, circuit.learned(result, shapes)),
                        reference=lambda batch, advance: learned(batch, reference.train(
                            batch[0], batch[1], *dense(batch), settings, on_sample=lambda _: advance(1),
                            **blank_out_of(batch))))

        def synops(data_per_step, trains):
            return data_per_step * fan_out[0] + sum(train.sum(axis=2) * fan_out[l + 1]
                                                    for l, train in enumerate(trains[:-1]))

        def read(result, batch):
            n = batch[2].samples
            trains = [result.spike_matrix(name)[:n * settings.T].reshape(n, settings.T, -1) for name in names]
            return trains[-1], synops(batch[2].counts("data"), trains)

        def run_reference(batch, advance):
            data, labels, noise = dense(batch)
            blank_out = blank_out_of(batch)
            samples = []
            for c in range(len(data)):
                samples.append(reference.run_sample(batch[0], batch[1], data[c], labels[c], noise[c],
                                                    settings, blank_out["seeds"][c] if blank_out else None,
                                                    blank_out.get("keys")))
                advance(1)
            trains = [np.stack([sample.hidden[l] for sample in samples]) for l in range(len(weights) - 1)]
            trains.append(np.stack([sample.output for sample in samples]))
            return trains[-1], synops(data.sum(axis=2), trains)

        return Plan(phase, **common, read=read, reference=run_reference,
                    records=Records(spikes=tuple(names), variable=variable))

    def test_runs(self, params, X, ctx):
        """The test samples run by run on ``ctx.device``: yields (sample indices, output spike flags (n, T, n_out),
        forward SynOps per step (n, T): spikes x fan-out of the data and every hidden layer)."""
        from spikingbp.execution import each_run

        for part, (output, per_step) in each_run(self.plan("inference", params, X), params, np.arange(len(X)), ctx):
            yield part, output, per_step

    def ideal_updates(self, params, X, T, index, ctx):
        """The rate forms of the update on the sample's own spikes (the reference run of the sample, drawn as
        ``train_epoch`` draws it, over the learning phase): x, h counts of the presynaptic units, e = e+ - e-
        the error units' counts (the label minus the output, as the output dendrite sees it), g the fraction of
        the learning phase each post unit's current spends inside the boxcar (the rule's derivative). Per
        matrix: ``rbp`` = pre x (feedback e * g), the random-feedback network's update (feedback: G^T for a
        hidden layer, 1 for the output); ``bp`` = the same with the true backward path W_{l+1} (e * g above),
        the gradient of the squared error 1/2 |label - output|^2 of that rate network; for the output layer
        the two are the same."""
        from scipy.signal import lfilter

        from spikingbp.algorithms.base import SampleUpdates
        from spikingbp.reference import erbp as reference

        weights, feedback = self._split(params)
        n_out = weights[-1].shape[1]
        units = sum(W.shape[1] for W in weights)
        data, labels, noise, seeds = self.streams(X, T, [index], [ctx.seed, ctx.epoch], units, train=True)
        s = self.settings(True, ctx.epoch)
        sample = reference.run_sample(weights, feedback, data[0], labels[0], noise[0], s.replace(eta=0.0),
                                      **({"seed": seeds[0], "keys": self.keys(weights)} if self.blank_out else {}))
        learning = slice(s.learn_after + 1, s.T)
        pre = [data[0]] + sample.hidden                       # spike flags (T, n) into each matrix
        post = sample.hidden + [sample.output]
        error = (sample.error[:, :n_out].astype(float) - sample.error[:, n_out:])[learning].sum(axis=0)
        counts = [train[learning].sum(axis=0).astype(float) for train in pre]
        gates = []
        for W, train in zip(weights, pre):                    # the post current, I = I decay + W^T spikes before
            drive = np.vstack([np.zeros((1, W.shape[1])), train[:-1].astype(float) @ W])
            current = lfilter([1.0], [1.0, -s.decay_syn], drive, axis=0)[learning]
            gates.append(((current > s.b_min) & (current < s.b_max)).mean(axis=0))
        deltas = [None] * len(weights)                        # bp: e * g at the output, then W_{l+1} backwards
        deltas[-1] = error * gates[-1]
        for l in range(len(weights) - 2, -1, -1):
            deltas[l] = (weights[l + 1] @ deltas[l + 1]) * gates[l]
        directions, stats = {}, {}
        refractory_max = (s.T - s.learn_after - 1) / (s.ref_steps + 1)
        for l, W in enumerate(weights):
            signal = error if l == len(weights) - 1 else feedback[l].T @ error
            rbp = np.outer(counts[l], signal * gates[l])
            directions[f"W{l}"] = {"rbp": rbp, "bp": np.outer(counts[l], deltas[l])}
            fired = post[l][learning].sum(axis=0)
            stats[f"W{l}"] = {"silent": float(np.mean(fired == 0)),
                              "saturated": float(np.mean(fired >= 0.9 * refractory_max)),
                              "outside_boxcar": float(np.mean(gates[l] == 0)),
                              "error_scale": float(np.sqrt(np.mean(np.square(signal))))}
        return SampleUpdates(directions, stats)

    def training_synops(self, params, X, T, indices, ctx) -> dict:
        """Synaptic events per training sample (mean over ``indices``, counted from the spikes of a run of the
        training circuit on ``ctx.device``, without changing ``params``): the forward path (data and hidden
        spikes x fan-out), the error path (label and output spikes into the error units, error spikes into the
        output and hidden dendrites) and their sum."""
        import dataclasses

        from spikingbp.circuits import erbp as circuit
        from spikingbp.execution import Records, run_once

        if ctx.device == REFERENCE:
            raise ConfigError("training SynOps are counted from a circuit's spikes: give a Brian2 device (spikingbp "
                              "info lists them)")
        weights, feedback = self._split(params)
        hidden = [W.shape[1] for W in weights[:-1]]
        names = circuit.layer_names(len(hidden))
        plan = dataclasses.replace(self.plan("train", params, X, T, 1), records=Records(spikes=(*names, "e")),
                                   read=lambda result, batch: (result, batch[2]))
        result, events = run_once(plan, params, np.asarray(indices), ctx)
        spikes = {name: int(result.spike_matrix(name).sum()) for name in (*names, "e")}
        forward = len(events.data[0]) * hidden[0] + sum(spikes[name] * W.shape[1]
                                                        for name, W in zip(names[:-1], weights[1:]))
        error = 2 * len(events.labels[0]) + 2 * spikes["o"] + spikes["e"] * (1 + sum(hidden))
        n = len(indices)
        return {"forward": forward / n, "error_path": error / n, "total": (forward + error) / n, "samples": n}

    def test_spikes(self, params, X, ctx):
        """Per test sample: output spike counts (N, n_out), forward SynOps over the sample and through the step
        of its first output spike (NaN where the output never fires)."""
        counts, synops, first = [], [], []
        for part, output, per_step in self.test_runs(params, X, ctx):
            counts.append(output.sum(axis=1))
            synops.append(per_step.sum(axis=1))
            fired = output.any(axis=2)
            first_step = fired.argmax(axis=1)
            cumulative = np.cumsum(per_step, axis=1)
            first.append(np.where(fired.any(axis=1), cumulative[np.arange(len(part)), first_step], np.nan))
        return np.concatenate(counts), np.concatenate(synops), np.concatenate(first)

    def error_vs_synops(self, params, X, T, ctx, steps) -> dict:
        """Test error and mean forward SynOps per classification when each test sample is read out after each of
        ``steps`` steps (the output unit with most spikes so far; none so far counts as an error)."""
        steps = np.asarray(steps, np.int64)
        wrong, synops, n = np.zeros(len(steps)), np.zeros(len(steps)), 0
        for part, output, per_step in self.test_runs(params, X, ctx):
            counts = np.cumsum(output, axis=1)[:, steps - 1]              # (n, len(steps), n_out)
            correct = (np.argmax(counts, axis=2) == np.argmax(T[part], axis=1)[:, None]) & (counts.sum(axis=2) > 0)
            wrong += (~correct).sum(axis=0)
            synops += np.cumsum(per_step, axis=1)[:, steps - 1].sum(axis=0)
            n += len(part)
        return {"steps": steps.tolist(), "error": (wrong / n).tolist(), "synops": (synops / n).tolist(), "samples": n}

    def predict(self, params, X, ctx):
        """The output unit with most spikes; -1 where no output unit fires (a silent output decides nothing)."""
        counts = self.test_spikes(params, X, ctx)[0]
        return np.where(counts.sum(axis=1) > 0, np.argmax(counts, axis=1), -1)

    def evaluate(self, params, X, T, ctx):
        counts, synops, first = self.test_spikes(params, X, ctx)
        # the output unit with most spikes; a silent output decides nothing and counts as an error
        accuracy = float(np.mean((np.argmax(counts, axis=1) == np.argmax(T, axis=1)) & (counts.sum(axis=1) > 0)))
        return {"accuracy": accuracy, "argmax_counts": accuracy, "synops": float(np.mean(synops)),
                "synops_first_spike": float(np.nanmean(first)) if np.isfinite(first).any() else float("nan")}

    def circuit(self, params, X, T=None, phase="inference"):
        from spikingbp.circuits import erbp as circuit

        train = self._check_phase(phase) == "train"
        if train and T is None:
            raise ConfigError("the erbp training circuit needs targets T")
        weights, feedback = self._split(params)
        targets = T if T is not None else np.zeros((len(X), weights[-1].shape[1]))
        units = sum(W.shape[1] for W in weights)
        data, labels, noise, seeds = self.streams(X, targets, np.arange(len(X)), [0, 0], units, train=train)
        settings = self.settings(train)
        blank_out = dict(seeds=seeds, keys=self.keys(weights)) if self.blank_out else {}
        return CircuitRun(circuit.erbp_circuit(weights, feedback, data, labels, noise, settings, **blank_out),
                          len(X) * settings.T, len(X), settings.T, 0, readout=None)

    def learning_steps(self, run):
        """No learning in the first ``learn_after_ms`` of each training sample."""
        return np.tile(np.arange(run.steps_per_sample) >= self.learn_after, run.samples)

    def _blank_out(self, streams, weights) -> dict:
        """The reference's blank-out arguments: the streams' seeds and the keys (none without blank-out)."""
        return dict(seeds=streams[3], keys=self.keys(weights)) if self.blank_out else {}

    def learned_params(self, params, weights):
        return {name: (np.asarray(weights[name], float).reshape(params[name].shape) if name in weights
                       else params[name]) for name in params}


def data_background(values, silent_background: bool = True) -> np.ndarray:
    """The data units' background bg (V) for pixel values in [0, 1]: Auryn's create_data_rbp,
    bg = (value - input_thr) x input_scale with input_thr = 0.43, input_scale = 0.5; with ``silent_background``
    a pixel equal to 0 gets bg = -1 V (Auryn's -10000 in its units), which keeps it silent."""
    values = np.asarray(values, float)
    background = (values - 0.43) * 0.5
    return np.where(values > 0, background, -1.0) if silent_background else background


def label_background(targets, encoding: str = "auryn") -> np.ndarray:
    """The label units' bg (V) for one-hot ``targets``: ``auryn`` maps the firing probabilities max_p = 0.98
    (the class) and min_p = 1e-5 as bg = p - 0.5 (create_data_rbp); ``pixel`` (before the fidelity review)
    put 0.95 / 1e-4 through the data units' map."""
    on = np.asarray(targets) > 0.5
    if encoding == "auryn":
        return np.where(on, 0.98, 1e-5) - 0.5
    return data_background(np.where(on, 0.95, 1e-4), silent_background=False)


def hazard(background) -> np.ndarray:
    """Expected spikes per 0.1 ms step of data (or label) units with background ``bg`` (V): Auryn's SRM0Group
    at rest, dt rho0 exp((bg - theta) / delta_u), rho0 = 100 Hz, theta = 100 mV, delta_u = 50 mV."""
    return DT_MS * 1e-3 * 100.0 * np.exp((np.asarray(background, float) - 0.1) / 0.05)
