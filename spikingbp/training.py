"""Train a network and keep everything about the run in one directory.

``train(config)`` runs one training job described by a ``TrainConfig`` (or a mapping of its fields) and
returns a ``RunResult``. Algorithms and engines are looked up in ``ENGINES``; today there is the sBP
algorithm (spec ``sbp.md``) on the ``reference`` engine (plain numpy, ``spikingbp.reference.sbp``) and as
the spiking circuit (``spikingbp.circuits.sbp``) on the Brian2 devices runtime, cpp_standalone, genn, cuda.

The run directory (``config.out``) holds::

    config.json           every parameter, the derived sizes and spikingbp.__version__
    weights_initial.npz   W1 (n_in, n_hidden) and W2 (n_hidden, n_out), int32
    weights_final.npz     the same after the last epoch
    order.npy             indices into the training split, in presentation order over all epochs
    metrics.csv           one row per epoch: accuracies three ways on train and test, samples per second
    learning_curves.png   the accuracies per epoch
    training_cycle.png    a raster of one training cycle of the spiking circuit (12 phases, figure 2 layout)
    checkpoint.npz        the state after the last finished epoch (weights, epochs done, order, metrics)

Every file is written under a temporary name in the same directory and then renamed over its final name,
so an interrupted run never leaves a half-written file. Rerunning with the same configuration into the
same directory resumes from the checkpoint (and may ask for more epochs than before); the final weights are
identical to those of an uninterrupted run. A different configuration into a directory that holds a run is
refused with a ``ConfigError``.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import spikingbp
from spikingbp.errors import ConfigError, DataError
from spikingbp.io import atomic_open

logger = logging.getLogger(__name__)

ALGORITHMS = ("sbp",)

#: Per dataset, the default image crop (pixels cut from each side) and binarisation threshold (uint8 > t).
DATASET_DEFAULTS = {
    "mnist": {"crop": 4, "threshold": 127},          # 28x28 -> 20x20 = 400 inputs
    "fashion-mnist": {"crop": 0, "threshold": 127},  # 28x28 = 784 inputs
    "digits": {"crop": 0, "threshold": 127},         # 8x8 = 64 inputs
}

#: Configuration fields that may change between a run and its resumption: ``epochs`` (a resumed run may
#: train longer), and fields that do not change the result (where the data lies, where the run goes,
#: whether a progress bar is shown).
RESUMABLE_CHANGES = ("epochs", "out", "data_dir", "progress")

CONFIG_FILE = "config.json"
WEIGHTS_INITIAL_FILE = "weights_initial.npz"
WEIGHTS_FINAL_FILE = "weights_final.npz"
ORDER_FILE = "order.npy"
METRICS_FILE = "metrics.csv"
CURVES_FILE = "learning_curves.png"
CYCLE_FILE = "training_cycle.png"
CHECKPOINT_FILE = "checkpoint.npz"

MEASURES = ("exact", "argmax_spikes", "argmax_potential")
METRICS_COLUMNS = (("epoch",) + tuple(f"train_{m}" for m in MEASURES) + tuple(f"test_{m}" for m in MEASURES)
                   + ("samples_per_second",))


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training job. ``crop`` and ``threshold`` default per dataset (``DATASET_DEFAULTS``); the
    constructor checks every field and fills those defaults in."""

    out: Path                       #: run directory (created if missing)
    algorithm: str = "sbp"          #: learning algorithm (``ALGORITHMS``)
    engine: str = "reference"       #: what runs it (``engines(algorithm)``)
    dataset: str = "digits"         #: digits | mnist | fashion-mnist
    data_dir: str | None = None     #: where an IDX dataset lies (see ``spikingbp.data.datasets``)
    epochs: int = 10                #: passes over the training samples
    limit: int | None = None        #: train on the first ``limit`` training samples (None: all)
    limit_test: int | None = None   #: test on the first ``limit_test`` test samples (None: all)
    hidden: int = 400               #: hidden units
    seed: int = 0                   #: seeds the initial weights and the per-epoch presentation order
    split_seed: int = 0             #: seeds the train/test split of ``digits`` (IDX datasets come split)
    crop: int | None = None         #: pixels cut from each image side (None: dataset default)
    threshold: int | None = None    #: a pixel is on when uint8 > threshold (None: dataset default)
    progress: bool = True           #: show a progress bar over samples

    def __post_init__(self):
        from spikingbp.data import dataset_names

        if self.out is None or str(self.out).strip() == "":
            raise ConfigError("out is missing; give the run directory, e.g. out='runs/sbp-digits'")
        self._set("out", Path(self.out).expanduser())
        self._set("algorithm", _choice(self.algorithm, "algorithm", ALGORITHMS))
        self._set("engine", _choice(self.engine, "engine", engines(self.algorithm)))
        self._set("dataset", _choice(str(self.dataset).replace("_", "-"), "dataset", dataset_names()))
        if self.data_dir is not None:
            self._set("data_dir", str(self.data_dir))
        self._set("epochs", _integer(self.epochs, "epochs", minimum=1, example="epochs=10"))
        self._set("hidden", _integer(self.hidden, "hidden", minimum=1, example="hidden=400"))
        self._set("seed", _integer(self.seed, "seed", minimum=0, example="seed=0"))
        self._set("split_seed", _integer(self.split_seed, "split_seed", minimum=0, example="split_seed=0"))
        for name in ("limit", "limit_test"):
            value = getattr(self, name)
            if value is not None:
                self._set(name, _integer(value, name, minimum=1, example=f"{name}=1000 or {name}=None for all"))
        defaults = DATASET_DEFAULTS[self.dataset]
        crop = defaults["crop"] if self.crop is None else self.crop
        self._set("crop", _integer(crop, "crop", minimum=0, example="crop=4"))
        threshold = defaults["threshold"] if self.threshold is None else self.threshold
        threshold = _integer(threshold, "threshold", minimum=0, example="threshold=127")
        if threshold > 254:
            raise ConfigError(f"threshold={threshold} leaves every uint8 pixel off; give a value in 0..254, e.g. 127")
        self._set("threshold", threshold)
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress={self.progress!r} must be True or False")

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict:
        """Every field as JSON-ready values (``out`` as a string)."""
        values = dataclasses.asdict(self)
        values["out"] = str(self.out)
        return values

    @classmethod
    def from_mapping(cls, values: Mapping) -> "TrainConfig":
        """A config from a mapping of field names (e.g. parsed JSON); unknown names are refused."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}")
        return cls(**dict(values))


@dataclasses.dataclass
class RunResult:
    """What ``train`` returns: the final weights, the metrics table and where everything lies."""

    out: Path
    config: TrainConfig
    W1: np.ndarray
    W2: np.ndarray
    metrics: pd.DataFrame
    epochs_done: int
    resumed_from_epoch: int   #: epochs found in the checkpoint when this call started (0: fresh run)

    def path(self, name: str) -> Path:
        """The path of a file of the run directory, e.g. ``result.path('metrics.csv')``."""
        return self.out / name


# --------------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Engine:
    """How one algorithm runs: ``train_epoch(X, T, W1, W2, order, on_sample)`` trains on every sample of
    X (N, n_in) with one-hot targets T (N, n_out) in ``order``, calls ``on_sample(i)`` after the i-th
    sample and returns the new (W1, W2); ``evaluate(X, T, W1, W2)`` returns the three accuracies."""

    train_epoch: Callable[..., "tuple[np.ndarray, np.ndarray]"]
    evaluate: Callable[..., object]


def _reference_sbp(config: TrainConfig) -> Engine:
    from spikingbp.reference import sbp

    return Engine(lambda X, T, W1, W2, order, on_sample: sbp.train_epoch(X, T, W1, W2, order=order,
                                                                           on_sample=on_sample),
                  sbp.accuracy)


def _circuit_sbp(config: TrainConfig) -> Engine:
    """The spiking sBP circuit on a Brian2 device: one compiled run per epoch (all samples, all phases),
    built in ``RUN_DIR/build/<device>`` so that later epochs and reruns reuse the compiled program."""
    from spikingbp.circuits import sbp as circuit
    from spikingbp.reference import sbp as reference

    build = config.out / "build" / config.engine
    device_options = {"target": "numpy"} if config.engine == "runtime" else {}

    def directory(name):
        return None if config.engine == "runtime" else str(build / name)

    def train_epoch(X, T, W1, W2, order, on_sample):
        W1, W2 = circuit.train(W1, W2, X[order], T[order], config.engine, directory("train"), **device_options)
        if on_sample is not None:
            for position in range(len(order)):
                on_sample(position)
        return W1, W2

    def evaluate(X, T, W1, W2):
        spikes, potentials = circuit.infer(W1, W2, X, config.engine, directory("infer"), **device_options)
        return reference.score(reference.Prediction(spikes, np.argmax(spikes, axis=1), np.argmax(potentials, axis=1)), T)

    return Engine(train_epoch, evaluate)


#: (algorithm, engine) -> a function of the config that returns the ``Engine``. ``reference`` is the plain
#: numpy model; the device names run the spiking circuit on that Brian2 device.
ENGINES: dict[tuple[str, str], Callable[[TrainConfig], Engine]] = {
    ("sbp", "reference"): _reference_sbp,
    **{("sbp", device): _circuit_sbp for device in ("runtime", "cpp_standalone", "genn", "cuda")},
}


def engines(algorithm: str) -> tuple[str, ...]:
    """The engines that can run ``algorithm``."""
    return tuple(engine for known_algorithm, engine in ENGINES if known_algorithm == algorithm)


def _engine(config: TrainConfig) -> Engine:
    try:
        return ENGINES[(config.algorithm, config.engine)](config)
    except KeyError:
        raise ConfigError(
            f"engine {config.engine!r} cannot run algorithm {config.algorithm!r}; choose one of "
            f"{', '.join(engines(config.algorithm))}") from None


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def train(config: TrainConfig | Mapping) -> RunResult:
    """Run (or resume) the training job ``config`` and return its ``RunResult``.

    The run directory is described in the module docstring. After every epoch the weights, the
    presentation order and the metrics are checkpointed; calling ``train`` again with the same config
    (``epochs`` may be larger) continues from there.
    """
    from spikingbp.reference import sbp

    config = config if isinstance(config, TrainConfig) else TrainConfig.from_mapping(config)
    engine = _engine(config)
    data = _load_data(config)
    record = _config_record(config, data)

    out = config.out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out={out} is a file; give a directory for the run")
    out.mkdir(parents=True, exist_ok=True)
    state = _resume_state(out, config)
    if state is None:
        W1, W2 = sbp.init_weights(data["n_in"], config.hidden, data["n_out"], rng=config.seed)
        _write_npz(out / WEIGHTS_INITIAL_FILE, W1=W1, W2=W2)
        _plot_training_cycle(out / CYCLE_FILE, data, W1, W2, epoch_order(config.seed, 1, len(data["X_train"])))
        state = {"W1": W1, "W2": W2, "epochs_done": 0, "order": np.zeros(0, np.int64), "metrics": []}
    else:
        logger.info("resuming %s after epoch %d of %d", out, state["epochs_done"], config.epochs)
        if not (out / WEIGHTS_INITIAL_FILE).is_file():
            W1_initial, W2_initial = sbp.init_weights(data["n_in"], config.hidden, data["n_out"], rng=config.seed)
            _write_npz(out / WEIGHTS_INITIAL_FILE, W1=W1_initial, W2=W2_initial)
    _write_json(out / CONFIG_FILE, record)

    resumed_from_epoch = state["epochs_done"]
    if resumed_from_epoch < config.epochs:  # weights_final.npz marks a finished run; this one is not yet
        (out / WEIGHTS_FINAL_FILE).unlink(missing_ok=True)
    W1, W2 = state["W1"], state["W2"]
    orders = [state["order"]]
    metrics_rows = list(state["metrics"])
    remaining_epochs = config.epochs - resumed_from_epoch
    n_train = len(data["X_train"])
    with tqdm(total=remaining_epochs * n_train, unit="sample", disable=not config.progress,
              dynamic_ncols=True) as bar:
        advance_bar = (lambda _: bar.update(1)) if config.progress else None
        for epoch in range(resumed_from_epoch + 1, config.epochs + 1):
            bar.set_description(f"epoch {epoch}/{config.epochs}")
            order = epoch_order(config.seed, epoch, n_train)
            started = time.perf_counter()
            W1, W2 = engine.train_epoch(data["X_train"], data["T_train"], W1, W2, order, advance_bar)
            seconds = time.perf_counter() - started
            train_accuracy = engine.evaluate(data["X_train"], data["T_train"], W1, W2)
            test_accuracy = engine.evaluate(data["X_test"], data["T_test"], W1, W2)
            metrics_rows.append([epoch, *train_accuracy, *test_accuracy, n_train / max(seconds, 1e-12)])
            orders.append(order)
            bar.set_postfix(test_potential=f"{test_accuracy.argmax_potential:.3f}")
            _write_epoch_files(out, record, W1, W2, epoch, np.concatenate(orders), metrics_rows)

    metrics = _metrics_frame(metrics_rows)
    _write_npz(out / WEIGHTS_FINAL_FILE, W1=W1, W2=W2)
    if remaining_epochs == 0:  # nothing was trained; make sure the derived files exist all the same
        _write_epoch_files(out, record, W1, W2, config.epochs, np.concatenate(orders), metrics_rows)
    return RunResult(out=out, config=config, W1=W1, W2=W2, metrics=metrics, epochs_done=config.epochs,
                     resumed_from_epoch=resumed_from_epoch)


def _plot_training_cycle(path: Path, data: dict, W1, W2, order) -> None:
    """The raster of the second training cycle (the first two samples of the order, initial weights),
    recorded from the spiking circuit on the runtime device."""
    from spikingbp.analysis.sbp_figures import plot_training_cycle
    from spikingbp.circuits import sbp as circuit

    first = order[:2]
    training = circuit.training_circuit(W1, W2, data["X_train"][first], data["T_train"][first])
    result = training.run(circuit.training_steps(len(first)), "runtime", target="numpy")
    plot_training_cycle(result, path, int(circuit.phase_step(0, len(first) - 1)),
                        title=f"sBP training cycle, sample {int(first[-1])} of the training split")


def epoch_order(seed: int, epoch: int, n_samples: int) -> np.ndarray:
    """The presentation order (a permutation of 0..n_samples-1, int64) of epoch ``epoch`` (from 1).

    It depends only on (seed, epoch): the generator is seeded with ``SeedSequence(seed,
    spawn_key=(epoch,))``, a stream independent of the initial weights' ``default_rng(seed)``. So a
    resumed run needs no saved generator state to continue with the same order."""
    sequence = np.random.SeedSequence(seed, spawn_key=(epoch,))
    return np.random.default_rng(sequence).permutation(n_samples).astype(np.int64)


def _load_data(config: TrainConfig) -> dict:
    """Binary inputs and one-hot bool targets of the training and test parts, and their sizes."""
    from spikingbp.data import binarize, load_dataset, one_hot

    dataset = load_dataset(config.dataset, config.data_dir, config.split_seed,
                           limit_train=config.limit, limit_test=config.limit_test)
    if dataset.n_train == 0 or dataset.n_test == 0:
        raise DataError(f"{dataset!r} has an empty training or test part; check the dataset files")
    X_train = binarize(dataset.x_train, threshold=config.threshold, crop=config.crop)
    X_test = binarize(dataset.x_test, threshold=config.threshold, crop=config.crop)
    return {
        "X_train": X_train, "T_train": one_hot(dataset.y_train, dataset.n_classes, dtype=bool),
        "X_test": X_test, "T_test": one_hot(dataset.y_test, dataset.n_classes, dtype=bool),
        "n_in": X_train.shape[1], "n_out": dataset.n_classes,
        "image_shape": list(dataset.image_shape),
    }


def _config_record(config: TrainConfig, data: dict) -> dict:
    """The content of config.json."""
    return {
        "spikingbp_version": spikingbp.__version__,
        "config": config.to_dict(),
        "network": {"n_in": data["n_in"], "n_hidden": config.hidden, "n_out": data["n_out"]},
        "data": {"n_train": len(data["X_train"]), "n_test": len(data["X_test"]),
                 "image_shape": data["image_shape"]},
    }


# --------------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------------

def _resume_state(out: Path, config: TrainConfig) -> dict | None:
    """The checkpointed state of the run in ``out``, or ``None`` when there is none to resume.

    Raises ``ConfigError`` when ``out`` holds a run of a different configuration, or one that already
    trained more epochs than ``config.epochs``."""
    checkpoint_path = out / CHECKPOINT_FILE
    config_path = out / CONFIG_FILE
    if checkpoint_path.is_file():
        try:
            with np.load(checkpoint_path, allow_pickle=False) as checkpoint:
                state = {name: checkpoint[name] for name in checkpoint.files}
            previous = json.loads(str(state["config"]))["config"]
        except (OSError, ValueError, KeyError) as error:
            raise DataError(
                f"checkpoint {checkpoint_path} cannot be read ({error}); delete the run directory {out} or "
                f"give a new --out") from error
        _check_same_config(previous, config, out)
        epochs_done = int(state["epochs_done"])
        n_train = len(state["order"]) // max(epochs_done, 1)
        expected_order = [epoch_order(config.seed, epoch, n_train) for epoch in range(1, epochs_done + 1)]
        if epochs_done and not np.array_equal(state["order"], np.concatenate(expected_order)):
            raise DataError(
                f"checkpoint {checkpoint_path} records a presentation order that seed={config.seed} does not "
                f"give; the run directory was changed by hand or by another spikingbp version. Delete {out} "
                f"or give a new --out")
        if epochs_done > config.epochs:
            raise ConfigError(
                f"{out} already holds {epochs_done} trained epochs, more than epochs={config.epochs}; ask for "
                f"epochs >= {epochs_done} to continue it, or give a new --out (or delete {out})")
        return {"W1": state["W1"].astype(np.int32), "W2": state["W2"].astype(np.int32),
                "epochs_done": epochs_done, "order": state["order"].astype(np.int64),
                "metrics": state["metrics"].tolist()}
    if config_path.is_file():  # a run that stopped before its first checkpoint: start over, if it is ours
        try:
            previous = json.loads(config_path.read_text())["config"]
        except (OSError, ValueError, KeyError) as error:
            raise DataError(
                f"{config_path} cannot be read ({error}); delete the run directory {out} or give a new --out"
            ) from error
        _check_same_config(previous, config, out)
    return None


def _check_same_config(previous: dict, config: TrainConfig, out: Path) -> None:
    current = config.to_dict()
    differences = [f"{name}: {previous.get(name)!r} there, {current[name]!r} now"
                   for name in current if name not in RESUMABLE_CHANGES and previous.get(name) != current[name]]
    if differences:
        raise ConfigError(
            f"{out} holds a run with a different configuration ({'; '.join(differences)}); it can only be "
            f"resumed with the same settings. Give a new --out, or delete {out} to start over")


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

def _write_epoch_files(out: Path, record: dict, W1, W2, epochs_done: int, order: np.ndarray,
                       metrics_rows: list) -> None:
    """metrics.csv, order.npy, the learning curves and, last, the checkpoint that makes them count."""
    from spikingbp.analysis.curves import plot_learning_curves

    metrics = _metrics_frame(metrics_rows)
    with atomic_open(out / METRICS_FILE, "w") as stream:
        metrics.to_csv(stream, index=False)
    with atomic_open(out / ORDER_FILE, "wb") as stream:
        np.save(stream, order)
    plot_learning_curves(metrics, out / CURVES_FILE, title=f"{record['config']['algorithm']} on "
                         f"{record['config']['dataset']}, {record['network']['n_in']}-"
                         f"{record['network']['n_hidden']}-{record['network']['n_out']}")
    _write_npz(out / CHECKPOINT_FILE, W1=W1, W2=W2, epochs_done=np.int64(epochs_done), order=order,
               metrics=np.asarray(metrics_rows, dtype=np.float64).reshape(-1, len(METRICS_COLUMNS)),
               metrics_columns=np.asarray(METRICS_COLUMNS), config=np.asarray(json.dumps(record)))


def _metrics_frame(rows: list) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(rows, dtype=np.float64).reshape(-1, len(METRICS_COLUMNS)),
                         columns=list(METRICS_COLUMNS))
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return frame


def _write_npz(path: Path, **arrays) -> None:
    with atomic_open(path, "wb") as stream:
        np.savez(stream, **arrays)


def _write_json(path: Path, value) -> None:
    with atomic_open(path, "w") as stream:
        json.dump(value, stream, indent=2)
        stream.write("\n")


# --------------------------------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------------------------------

def _integer(value, name: str, minimum: int, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name}={value!r} is not an integer; give e.g. {example}")
    if value < minimum:
        raise ConfigError(f"{name}={value} is below {minimum}; give e.g. {example}")
    return int(value)


def _choice(value, name: str, choices) -> str:
    key = str(value).strip().lower()
    if key not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")
    return key
