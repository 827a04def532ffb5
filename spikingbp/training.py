"""Train any registered algorithm and keep everything about the run in one directory.

``train(config)`` runs one training job described by a ``TrainConfig`` (or a mapping of its fields) and
returns a ``RunResult``. The algorithm (``spikingbp.algorithms.REGISTRY``) supplies the encoding, the
parameters, one epoch of training and the measures; this module is the one loop around it: the run
directory, the configuration record, checkpoints, resuming, metrics and progress.

The run directory (``config.out``) holds::

    config.json           every parameter, the layer sizes, a digest of the data and spikingbp.__version__
    weights_initial.npz   the algorithm's params before training (sBP: W1 (n_in, n_hidden), W2 (n_hidden, n_out))
    weights_final.npz     the same after the last epoch
    order.npy             indices into the training split, in presentation order over all epochs
    metrics.csv           one row per epoch: train_accuracy (on the first ``eval_train`` training samples,
                          all by default), test_accuracy (the algorithm's headline measure), train_/test_
                          of each of its own measures, samples_per_second (of the training runs alone)
                          and epoch_seconds (wall clock, evaluation included)
    learning_curves.png   the measures per epoch
    checkpoint.npz        the state after the last finished chunk: params, epochs done, samples of the
                          next epoch done (``position``), order, metrics
    build/<device>/       the per-epoch builds of genn and cuda (cpp_standalone programs live in the
                          shared cache of ``spikingbp.circuits.program``)
    tools.log             what compilers, make, GeNN's scripts and Brian2 printed while training (the
                          terminal keeps the progress bar and the results; a failure shows the log's tail)

plus the figures the algorithm writes at the start (sBP: ``training_cycle.png``). Every file is written
under a temporary name and renamed, so an interrupted run never leaves a half-written file. Nothing is
written before the configuration, the device and the data have been checked. Rerunning with the same
configuration into the same directory resumes from the checkpoint (``epochs`` may grow) and ends with the
params of an uninterrupted run; a different configuration, or other data (by digest), is refused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import numpy as np
from tqdm.auto import tqdm

import spikingbp
from spikingbp.algorithms import REFERENCE, REGISTRY, Algorithm, RunContext, Sizes, algorithm_class, create
from spikingbp.algorithms.base import recorded_options
from spikingbp.circuits.program import RERUNNABLE_DEVICES, ProgramCache
from spikingbp.errors import ConfigError, DataError, DeviceError
from spikingbp.io import atomic_open, check_creatable_dir, make_dir, tool_output_to, write_json

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: Configuration fields that may change between a run and its resumption: ``epochs`` (a resumed run may
#: train longer), and fields that do not change the result (where the data lies, where the run goes,
#: whether a progress bar is shown).
RESUMABLE_CHANGES = ("epochs", "out", "data_dir", "progress", "chunk", "cache")
#: Devices on which an epoch runs as chunks of ``chunk`` samples (nothing to compile, or a compiled program
#: that reruns: ``spikingbp.circuits.program``); on genn and cuda an epoch is one build and one run.
CHUNKED_DEVICES = (REFERENCE, "runtime", *RERUNNABLE_DEVICES)
#: Configuration fields in which the runs of one ensemble (``train_ensemble``) may differ.
ENSEMBLE_PER_RUN = ("out", "seed", "eval_train", "progress")

CONFIG_FILE = "config.json"
WEIGHTS_INITIAL_FILE = "weights_initial.npz"
WEIGHTS_FINAL_FILE = "weights_final.npz"
WEIGHTS_BEST_FILE = "weights_best.npz"   # the params after the epoch of the highest test accuracy (the first)
EPOCH_WEIGHTS_DIR = "epochs"              # weights_epoch_<e>.npz: the params after each epoch
ORDER_FILE = "order.npy"
METRICS_FILE = "metrics.csv"
TOOLS_LOG = "tools.log"  # what compilers, make and device tools printed during the run
CURVES_FILE = "learning_curves.png"
CHECKPOINT_FILE = "checkpoint.npz"
PARAM_PREFIX = "param_"   # params are stored in checkpoint.npz under this prefix


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training job. The constructor checks every field and fills in the algorithm's defaults
    (``hidden``, ``crop`` per dataset, ``options``)."""

    out: Path                       #: run directory (created if missing)
    algorithm: str = "sbp"          #: learning algorithm (``spikingbp.algorithms.REGISTRY``)
    device: str = REFERENCE         #: where it runs: ``reference`` (numpy) or a Brian2 device of the algorithm
    dataset: str = "digits"         #: digits | mnist | fashion-mnist
    data_dir: str | None = None     #: where an IDX dataset lies (see ``spikingbp.data.datasets``)
    epochs: int = 10                #: passes over the training samples
    limit: int | None = None        #: train on the first ``limit`` training samples (None: all)
    limit_test: int | None = None   #: test on the first ``limit_test`` test samples (None: all)
    eval_train: int | None = None   #: measure train_accuracy on the first ``eval_train`` training samples (None: all)
    hidden: tuple | None = None     #: hidden layer sizes (None: the algorithm's default; an int is one layer)
    seed: int = 0                   #: seeds the initial params and the per-epoch presentation order
    split_seed: int = 0             #: seeds the train/test split of ``digits`` (IDX datasets come split)
    crop: int | None = None         #: pixels cut from each image side (None: the algorithm's default)
    options: dict = dataclasses.field(default_factory=dict)  #: the algorithm's own options
    progress: bool = True           #: show a progress bar over samples
    chunk: int = 1000               #: samples per compiled run and per checkpoint (CHUNKED_DEVICES)
    resample: int | None = None     #: train each epoch on this many class-balanced draws with replacement
    #:                                 (None: every training sample once, in a new order)
    init_from: str | None = None    #: start from the final params of this finished run (None: drawn from seed)
    cache: str | None = None        #: where compiled programs are kept (None: $SPIKINGBP_CACHE or ~/.cache)

    def __post_init__(self):
        from spikingbp.data import dataset_names

        if self.out is None or str(self.out).strip() == "":
            raise ConfigError("--out is missing; give the run directory, e.g. --out runs/sbp-digits")
        self._set("out", Path(self.out).expanduser())
        cls = algorithm_class(self.algorithm)
        self._set("algorithm", cls.name)
        self._set("device", _choice(self.device, "device", cls.devices, f"for --algorithm {cls.name}"))
        self._set("dataset", _choice(str(self.dataset).replace("_", "-"), "dataset", dataset_names()))
        if self.data_dir is not None:
            self._set("data_dir", str(self.data_dir))
        self._set("epochs", _integer(self.epochs, "epochs", minimum=1, example="--epochs 10"))
        self._set("seed", _integer(self.seed, "seed", minimum=0, example="--seed 0"))
        self._set("split_seed", _integer(self.split_seed, "split_seed", minimum=0, example="split_seed=0"))
        for name, flag in (("limit", "--limit"), ("limit_test", "--limit-test"), ("eval_train", "--eval-train"),
                           ("resample", "--resample")):
            value = getattr(self, name)
            if value is not None:
                self._set(name, _integer(value, name, minimum=1, example=f"{flag} 1000 (or leave it out for all)"))
        hidden = cls.default_hidden if self.hidden is None else self.hidden
        hidden = tuple(hidden) if isinstance(hidden, (list, tuple)) else (hidden,)
        if not hidden:
            raise ConfigError("--hidden needs at least one layer size, e.g. --hidden 400")
        self._set("hidden", tuple(_integer(n, "hidden", minimum=1, example="--hidden 400") for n in hidden))
        crop = cls().default_crop(self.dataset) if self.crop is None else self.crop
        self._set("crop", _integer(crop, "crop", minimum=0, example="--crop 4"))
        if not isinstance(self.options, Mapping):
            raise ConfigError(f"options must be a mapping of option names to values, got {self.options!r}")
        self._set("options", dict(cls(**dict(self.options)).values))
        if not isinstance(self.progress, bool):
            raise ConfigError(f"progress={self.progress!r} must be True or False")
        self._set("chunk", _integer(self.chunk, "chunk", minimum=1, example="--chunk 1000"))
        if self.cache is not None:
            self._set("cache", str(self.cache))
        if self.init_from is not None:
            if str(self.init_from).strip() == "":
                raise ConfigError("--init-from is empty; give the --out directory of a finished run")
            self._set("init_from", str(self.init_from))

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def make_algorithm(self) -> Algorithm:
        return create(self.algorithm, self.options)

    def to_dict(self) -> dict:
        """Every field as JSON-ready values (``out`` as a string, ``hidden`` as a list)."""
        values = dataclasses.asdict(self)
        values["out"] = str(self.out)
        values["hidden"] = list(self.hidden)
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
    """What ``train`` returns: the final params, the metrics table and where everything lies."""

    out: Path
    config: TrainConfig
    params: dict
    metrics: pd.DataFrame
    epochs_done: int
    resumed_from_epoch: int   #: epochs found in the checkpoint when this call started (0: fresh run)
    resumed_from_sample: int = 0  #: samples of the next epoch found trained in the checkpoint (0: none)

    def path(self, name: str) -> Path:
        """The path of a file of the run directory, e.g. ``result.path('metrics.csv')``."""
        return self.out / name


def metrics_columns(algorithm: Algorithm) -> tuple:
    """The columns of ``metrics.csv`` for ``algorithm``."""
    return (("epoch", "train_accuracy", "test_accuracy") + tuple(f"train_{m}" for m in algorithm.measures)
            + tuple(f"test_{m}" for m in algorithm.measures) + ("samples_per_second", "epoch_seconds"))


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Data:
    """Encoded inputs and one-hot bool targets of both splits, the layer sizes and a digest of the data."""

    X_train: np.ndarray
    T_train: np.ndarray
    X_test: np.ndarray
    T_test: np.ndarray
    n_in: int
    n_out: int
    image_shape: list
    digest: str

    def sizes(self, hidden) -> Sizes:
        return Sizes(self.n_in, tuple(hidden), self.n_out)

    @property
    def train_labels(self) -> np.ndarray:
        """The class of each training sample (what ``--resample`` balances)."""
        return np.argmax(self.T_train, axis=1)


def load_data(algorithm: Algorithm, dataset: str, data_dir=None, *, crop: int = 0, split_seed: int = 0,
              limit_train: int | None = None, limit_test: int | None = None) -> Data:
    """Load ``dataset``, crop ``crop`` pixels from each side and encode both splits for ``algorithm``."""
    from spikingbp.data import load_dataset, one_hot

    data = load_dataset(dataset, data_dir, split_seed, limit_train=limit_train, limit_test=limit_test)
    if data.n_train == 0 or data.n_test == 0:
        raise DataError(f"{data!r} has an empty training or test part; check the dataset files")
    height, width = data.image_shape
    if 2 * crop >= min(height, width):
        raise ConfigError(f"--crop {crop} removes the whole {height}x{width} image; give a crop below "
                          f"{(min(height, width) + 1) // 2}")
    window = (slice(None), slice(crop, height - crop), slice(crop, width - crop))
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    X_train = algorithm.encode(data.x_train[window])
    X_test = algorithm.encode(data.x_test[window])
    return Data(X_train, one_hot(data.y_train, data.n_classes, dtype=bool), X_test,
                one_hot(data.y_test, data.n_classes, dtype=bool), X_train.shape[1], data.n_classes,
                [height - 2 * crop, width - 2 * crop], digest.hexdigest()[:16])


def _config_data(config: TrainConfig, algorithm: Algorithm) -> Data:
    return load_data(algorithm, config.dataset, config.data_dir, crop=config.crop, split_seed=config.split_seed,
                     limit_train=config.limit, limit_test=config.limit_test)


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def train(config: TrainConfig | Mapping) -> RunResult:
    """Run (or resume) the training job ``config`` and return its ``RunResult``.

    The run directory is described in the module docstring. After every chunk the params, the
    presentation order and the metrics are checkpointed; calling ``train`` again with the same config
    (``epochs`` may be larger) continues from there.
    """
    return train_ensemble([config])[0]


def train_ensemble(configs) -> list:
    """Train several runs at once, as one ensemble circuit (``Algorithm.train_ensemble_epoch``): runs that
    differ only in ``seed`` (initial params and presentation order), ``out`` and ``eval_train``, on a device of
    the algorithm's ``ensemble_devices``. Each run directory is the one ``train`` writes, with the same params,
    and resumes alone or in the ensemble. Runs whose checkpoints stand at different points are trained one by
    one. Returns their ``RunResult``s."""
    loaded = {}   # runs that agree but for ENSEMBLE_PER_RUN read and encode one dataset: load it once
    runs = [_prepare(config, loaded) for config in configs]
    if len(runs) > 1:
        _check_ensemble(runs)
        if len({(run.state or {}).get("epochs_done", 0) for run in runs}) > 1 or \
                len({(run.state or {}).get("position", 0) for run in runs}) > 1:
            logger.info("the runs' checkpoints stand at different points: training them one by one")
            return [train(run.config) for run in runs]
    for run in runs:
        _open(run)
    return _train_together(runs)


@dataclasses.dataclass
class _Run:
    """A run about to be trained: everything checked, nothing written yet."""

    config: TrainConfig
    algorithm: Algorithm
    data: Data
    record: dict
    columns: tuple
    initial: dict
    state: dict | None   #: the checkpoint to resume from (None: a fresh run)


def _prepare(config: TrainConfig | Mapping, loaded: dict) -> _Run:
    """Check ``config``, its device, its data and its run directory (resuming: the checkpoint), writing nothing.
    ``loaded``: data already loaded for other runs, by the configuration fields they share."""
    config = config if isinstance(config, TrainConfig) else TrainConfig.from_mapping(config)
    algorithm = config.make_algorithm()
    _check_device(config.device)
    check_creatable_dir(config.out)
    key = json.dumps({k: v for k, v in config.to_dict().items() if k not in ENSEMBLE_PER_RUN}, sort_keys=True)
    if key not in loaded:
        loaded[key] = _config_data(config, algorithm)
    data = loaded[key]
    sizes = data.sizes(config.hidden)
    algorithm.check_sizes(sizes)
    record = _config_record(config, data, sizes)
    columns = metrics_columns(algorithm)
    state = _resume_state(config.out, config, record, columns, data.train_labels)
    return _Run(config, algorithm, data, record, columns, initial_params(config, algorithm, sizes), state)


def initial_params(config: TrainConfig, algorithm: Algorithm, sizes: Sizes) -> dict:
    """The params a run starts from: drawn from its seed, or with ``init_from`` the final params of that finished
    run, which must be of the same algorithm and shapes (every name and shape of a fresh draw)."""
    fresh = algorithm.init_params(sizes, config.seed)
    if config.init_from is None:
        return fresh
    source = load_run(config.init_from)
    if source.algorithm.name != algorithm.name:
        raise ConfigError(f"--init-from {config.init_from} holds a {source.algorithm.name} run; give a "
                          f"{algorithm.name} run")
    shapes = {name: np.shape(value) for name, value in source.final.items()}
    wanted = {name: np.shape(value) for name, value in fresh.items()}
    if shapes != wanted:
        raise ConfigError(f"--init-from {config.init_from} has params {shapes}, this run needs {wanted} "
                          f"({sizes.label}); give a run of the same network")
    return {name: np.array(value) for name, value in source.final.items()}


def _check_ensemble(runs: list) -> None:
    """Refuse runs that cannot train as one ensemble."""
    first = runs[0]
    for run in runs[1:]:
        differences = [name for name, value in first.config.to_dict().items()
                       if name not in ENSEMBLE_PER_RUN and run.config.to_dict()[name] != value]
        if differences or run.data.digest != first.data.digest:
            raise ConfigError(f"the runs of an ensemble may differ in {', '.join(ENSEMBLE_PER_RUN)} only; "
                              f"{run.config.out} differs from {first.config.out} in "
                              f"{', '.join(differences) or 'its data'}")
    if len({str(run.config.out.resolve()) for run in runs}) != len(runs):
        raise ConfigError("two runs of the ensemble have the same --out; give each its own directory")
    if first.config.device not in first.algorithm.ensemble_devices:
        raise ConfigError(f"{first.algorithm.name} trains ensembles on "
                          f"{', '.join(first.algorithm.ensemble_devices) or 'no device'}, not on --device "
                          f"{first.config.device}")


def _open(run: _Run) -> None:
    """Create the run directory and write what a run starts with (config.json, the initial params)."""
    out = run.config.out
    make_dir(out)
    if run.state is None:
        run.state = {"params": run.initial, "epochs_done": 0, "order": np.zeros(0, np.int64), "metrics": [],
                     "position": 0, "train_seconds": 0.0, "wall_seconds": 0.0}
    else:
        logger.info("resuming %s after epoch %d of %d", out, run.state["epochs_done"], run.config.epochs)
    if not (out / WEIGHTS_INITIAL_FILE).is_file():
        _write_npz(out / WEIGHTS_INITIAL_FILE, **run.initial)
    run.record["result"] = result_summary(run.state["metrics"], run.record)
    write_json(out / CONFIG_FILE, run.record)
    if run.state["epochs_done"] < run.config.epochs:  # weights_final.npz marks a finished run; this one is not yet
        (out / WEIGHTS_FINAL_FILE).unlink(missing_ok=True)


def _train_together(runs: list) -> list:
    """The training loop of one run, or of an ensemble of runs in step (the same epoch and position)."""
    first = runs[0]
    config, algorithm, data = first.config, first.algorithm, first.data
    K = len(runs)
    fresh = first.state["epochs_done"] == 0 and first.state["position"] == 0
    resumed_from_epoch, resumed_from_sample = first.state["epochs_done"], first.state["position"]
    params = [run.state["params"] for run in runs]
    orders = [[run.state["order"]] for run in runs]
    metrics_rows = [list(run.state["metrics"]) for run in runs]
    remaining_epochs = config.epochs - resumed_from_epoch
    n_train = config.resample or len(data.X_train)   # samples an epoch trains
    labels = data.train_labels
    chunk = config.chunk if config.device in CHUNKED_DEVICES else n_train
    position, train_seconds, wall_seconds = first.state["position"], first.state["train_seconds"], \
        first.state["wall_seconds"]
    with tool_output_to(first.config.out / TOOLS_LOG) as terminal, \
            tqdm(total=K * remaining_epochs * n_train, initial=K * position, unit="sample",
                 disable=not config.progress, dynamic_ncols=True, file=terminal) as bar:
        programs = ProgramCache(config.cache, on_compile=lambda label: bar.write(
            f"compiling the {label} program, once per shape (kept in {programs.root})", file=terminal))
        contexts = [RunContext(config.device, run.config.out / "build" / config.device, run.config.seed,
                               bar.update if config.progress else None, chunk=chunk, programs=programs)
                    for run in runs]
        for epoch in range(resumed_from_epoch + 1, config.epochs + 1):
            bar.set_description(f"epoch {epoch}/{config.epochs}" + (f" ({K} runs)" if K > 1 else ""))
            for context in contexts:
                context.epoch = epoch
            order = [presentation_order(run.config, epoch, labels) for run in runs]
            wall_started = time.perf_counter() - wall_seconds
            while position < n_train:  # one chunk at a time, each followed by a checkpoint
                parts = [o[position:position + chunk] for o in order]
                started = time.perf_counter()
                if K == 1:
                    params = [algorithm.train_epoch(params[0], data.X_train, data.T_train, parts[0], contexts[0])]
                else:
                    params = algorithm.train_ensemble_epoch(params, data.X_train, data.T_train, parts, contexts)
                train_seconds += time.perf_counter() - started
                position += len(parts[0])
                # the last chunk's checkpoint too: a run killed while evaluating resumes with the evaluation
                for run, run_params, done, rows in zip(runs, params, orders, metrics_rows):
                    _write_checkpoint(run.config.out, run.record, run_params, epoch - 1, np.concatenate(done), rows,
                                      run.columns, position=position, train_seconds=train_seconds,
                                      wall_seconds=time.perf_counter() - wall_started)
                if fresh:  # drawn after the first chunk, so that training starts at once
                    for run in runs:
                        first_samples = presentation_order(run.config, 1, labels)[:2]
                        algorithm.start_figures(run.config.out, run.initial, data.X_train[first_samples],
                                                data.T_train[first_samples])
                    fresh = False
            for k, run in enumerate(runs):
                n_data = len(data.X_train)
                n_eval_train = n_data if run.config.eval_train is None else min(run.config.eval_train, n_data)
                train_scores = _evaluate(algorithm, params[k], data.X_train[:n_eval_train],
                                         data.T_train[:n_eval_train], contexts[k], "training set", terminal,
                                         config.progress)
                test_scores = _evaluate(algorithm, params[k], data.X_test, data.T_test, contexts[k], "test set",
                                        terminal, config.progress)
                metrics_rows[k].append([epoch, train_scores["accuracy"], test_scores["accuracy"],
                                        *(train_scores[m] for m in algorithm.measures),
                                        *(test_scores[m] for m in algorithm.measures),
                                        n_train / max(train_seconds, 1e-12), time.perf_counter() - wall_started])
                orders[k].append(order[k])
                make_dir(run.config.out / EPOCH_WEIGHTS_DIR)   # before the checkpoint counts the epoch
                _write_npz(run.config.out / EPOCH_WEIGHTS_DIR / f"weights_epoch_{epoch}.npz", **params[k])
                if metrics_rows[k][-1][2] > max((row[2] for row in metrics_rows[k][:-1]), default=-np.inf):
                    _write_npz(run.config.out / WEIGHTS_BEST_FILE, **params[k])
                _write_epoch_files(run.config.out, run.record, params[k], epoch, np.concatenate(orders[k]),
                                   metrics_rows[k], run.columns)
            bar.set_postfix(test_accuracy=f"{metrics_rows[0][-1][2]:.3f}")
            position, train_seconds, wall_seconds = 0, 0.0, 0.0

    results = []
    for run, run_params, done, rows in zip(runs, params, orders, metrics_rows):
        _write_npz(run.config.out / WEIGHTS_FINAL_FILE, **run_params)
        if remaining_epochs == 0:  # nothing was trained; make sure the derived files exist all the same
            _write_epoch_files(run.config.out, run.record, run_params, run.config.epochs, np.concatenate(done), rows,
                               run.columns)
        results.append(RunResult(out=run.config.out, config=run.config, params=run_params,
                                 metrics=_metrics_frame(rows, run.columns), epochs_done=run.config.epochs,
                                 resumed_from_epoch=resumed_from_epoch, resumed_from_sample=resumed_from_sample))
    return results


def _evaluate(algorithm: Algorithm, params, X, T, context: RunContext, label: str, terminal, progress: bool) -> dict:
    """``algorithm.evaluate`` with a progress bar of its own (an evaluation can take as long as training)."""
    with tqdm(total=len(X), desc=f"evaluating the {label}", unit="sample", leave=False, disable=not progress,
              dynamic_ncols=True, file=terminal) as bar:
        return algorithm.evaluate(params, X, T, dataclasses.replace(context, on_samples=bar.update if progress
                                                                    else None))


def presentation_order(config: TrainConfig, epoch: int, labels: np.ndarray) -> np.ndarray:
    """The training samples of epoch ``epoch`` (from 1) in the order they are shown: a permutation of all of them
    (``epoch_order``), or with ``config.resample`` N, N class-balanced draws (``resample_order``)."""
    if config.resample is None:
        return epoch_order(config.seed, epoch, len(labels))
    return resample_order(config.seed, epoch, labels, config.resample)


def resample_order(seed: int, epoch: int, labels: np.ndarray, n_samples: int) -> np.ndarray:
    """``n_samples`` indices of epoch ``epoch``, class-balanced and drawn with replacement, as the eRBP authors'
    ``select_equal_n_labels`` does: ceil(n_samples / classes) uniform draws from each class's samples, shuffled
    together (then cut to ``n_samples``). Seeded by (seed, epoch) on a stream of its own, so a resumed run
    draws the same."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    per_class = -(-n_samples // len(classes))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(epoch, 1)))
    members = [np.flatnonzero(labels == c) for c in classes]
    drawn = np.concatenate([m[rng.integers(0, len(m), per_class)] for m in members])
    return rng.permutation(drawn)[:n_samples].astype(np.int64)


def epoch_order(seed: int, epoch: int, n_samples: int) -> np.ndarray:
    """The presentation order (a permutation of 0..n_samples-1, int64) of epoch ``epoch`` (from 1).

    It depends only on (seed, epoch): the generator is seeded with ``SeedSequence(seed,
    spawn_key=(epoch,))``, a stream independent of the initial params' ``default_rng(seed)``. So a
    resumed run needs no saved generator state to continue with the same order."""
    sequence = np.random.SeedSequence(seed, spawn_key=(epoch,))
    return np.random.default_rng(sequence).permutation(n_samples).astype(np.int64)


def _config_record(config: TrainConfig, data: Data, sizes: Sizes) -> dict:
    """The content of config.json."""
    return {
        "spikingbp_version": spikingbp.__version__,
        "config": config.to_dict(),
        "network": {"n_in": sizes.n_in, "hidden": list(sizes.hidden), "n_out": sizes.n_out, "label": sizes.label},
        "data": {"n_train": len(data.X_train), "n_test": len(data.X_test), "image_shape": data.image_shape,
                 "digest": data.digest},
    }


def _check_device(device: str) -> None:
    """Refuse a Brian2 device that cannot build and run here, before anything is written."""
    from spikingbp.devices import available_devices

    if device == REFERENCE:
        return
    usable, reason = available_devices((device,))[device]
    if not usable:
        raise DeviceError(f"--device {device} cannot run here: {reason}; choose another --device "
                          f"(spikingbp info lists the usable ones)")


# --------------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------------

def _resume_state(out: Path, config: TrainConfig, record: dict, columns: tuple, labels: np.ndarray) -> dict | None:
    """The checkpointed state of the run in ``out``, or ``None`` when there is none to resume.

    Raises ``ConfigError`` when ``out`` holds a run of a different configuration or other data, or one
    that already trained more epochs than ``config.epochs``; ``DataError`` when its files are corrupt."""
    checkpoint_path = out / CHECKPOINT_FILE
    config_path = out / CONFIG_FILE
    if checkpoint_path.is_file():
        try:
            with np.load(checkpoint_path, allow_pickle=False) as checkpoint:
                state = {name: checkpoint[name] for name in checkpoint.files}
            previous = json.loads(str(state["config"]))
            epochs_done = int(state["epochs_done"])
            metrics = state["metrics"].reshape(-1, len(columns)).tolist()
            params = {name[len(PARAM_PREFIX):]: value for name, value in state.items() if name.startswith(PARAM_PREFIX)}
        except Exception as error:  # a damaged zip raises many kinds (BadZipFile, EOFError, ValueError, ...)
            raise DataError(
                f"checkpoint {checkpoint_path} cannot be read ({type(error).__name__}: {error}); delete the run "
                f"directory {out} or give a new --out") from None
        _check_same_run(previous, record, out)
        n_train = config.resample or record["data"]["n_train"]   # samples an epoch trains
        expected_order = [presentation_order(config, epoch, labels) for epoch in range(1, epochs_done + 1)]
        if len(metrics) != epochs_done or not np.array_equal(state["order"], np.concatenate(
                [np.zeros(0, np.int64)] + expected_order)):
            raise DataError(
                f"checkpoint {checkpoint_path} records a presentation order or metrics that seed={config.seed} and "
                f"{epochs_done} epochs do not give; the run directory was changed by hand or by another spikingbp "
                f"version. Delete {out} or give a new --out")
        position = int(state.get("position", 0))
        if not 0 <= position <= n_train:  # n_train: the epoch is trained, its evaluation is not done
            raise DataError(f"checkpoint {checkpoint_path} says {position} samples of epoch {epochs_done + 1} are done, "
                            f"outside 0..{n_train}; delete {out} or give a new --out")
        if epochs_done > config.epochs or (epochs_done == config.epochs and position):
            raise ConfigError(
                f"{out} already holds {epochs_done} trained epochs, more than --epochs {config.epochs}; ask for "
                f"--epochs {epochs_done} or more to continue it, or give a new --out (or delete {out})")
        return {"params": params, "epochs_done": epochs_done, "order": state["order"].astype(np.int64),
                "metrics": metrics, "position": position, "train_seconds": float(state.get("train_seconds", 0.0)),
                "wall_seconds": float(state.get("wall_seconds", 0.0))}
    if config_path.is_file():  # a run that stopped before its first checkpoint: start over, if it is ours
        try:
            previous = json.loads(config_path.read_text())
        except (OSError, ValueError) as error:
            raise DataError(
                f"{config_path} cannot be read ({error}); delete the run directory {out} or give a new --out"
            ) from None
        _check_same_run(previous, record, out)
    return None


def upgraded_config(config: Mapping) -> dict:
    """A recorded ``config`` (config.json's "config") with every option added to its algorithm since then set to
    the value the run had (``Option.before``), and every field added since then to its default."""
    config = dict(config)
    if isinstance(config.get("options"), dict) and config.get("algorithm") in REGISTRY:
        config["options"] = recorded_options(config["options"], algorithm_class(config["algorithm"]).options)
    return config


def _check_same_run(previous: dict, record: dict, out: Path) -> None:
    """Refuse to resume a run of another configuration or on other data."""
    before, now = upgraded_config(previous.get("config", {})), record["config"]
    differences = [f"{name}: {before.get(name)!r} there, {now[name]!r} now"
                   for name in now if name not in RESUMABLE_CHANGES and before.get(name) != now[name]]
    if differences:
        raise ConfigError(
            f"{out} holds a run with a different configuration ({'; '.join(differences)}); it can only be "
            f"resumed with the same settings. Give a new --out, or delete {out} to start over")
    data_before, data_now = previous.get("data", {}), record["data"]
    if data_before.get("digest") != data_now["digest"]:
        raise ConfigError(
            f"{out} holds a run trained on other data ({data_before.get('n_train')} training samples, digest "
            f"{data_before.get('digest')}) than --data-dir now gives ({data_now['n_train']} samples, digest "
            f"{data_now['digest']}); resume with the run's data directory, or give a new --out")


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------

def _write_epoch_files(out: Path, record: dict, params: dict, epochs_done: int, order: np.ndarray,
                       metrics_rows: list, columns: tuple) -> None:
    """metrics.csv, order.npy, the learning curves and, last, the checkpoint that makes them count."""
    from spikingbp.analysis.curves import plot_learning_curves

    metrics = _metrics_frame(metrics_rows, columns)
    record["result"] = result_summary(metrics_rows, record)
    write_json(out / CONFIG_FILE, record)
    with atomic_open(out / METRICS_FILE, "w") as stream:
        metrics.to_csv(stream, index=False)
    with atomic_open(out / ORDER_FILE, "wb") as stream:
        np.save(stream, order)
    config = record["config"]
    plot_learning_curves(metrics, out / CURVES_FILE,
                         title=f"{config['algorithm']} on {config['dataset']}, {record['network']['label']}")
    _write_checkpoint(out, record, params, epochs_done, order, metrics_rows, columns)


def result_summary(metrics_rows: list, record: dict) -> dict:
    """config.json's "result": the last and the best epoch by test accuracy (the first of equals; its params are
    ``weights_best.npz``), on how many test samples, and how many samples each epoch trained."""
    test = [row[2] for row in metrics_rows]
    best = int(np.argmax(test)) if test else None
    config = record["config"]
    return {"epochs_done": len(test),
            "last_epoch": len(test) or None, "last_test_accuracy": test[-1] if test else None,
            "best_epoch": None if best is None else best + 1, "best_test_accuracy": None if best is None else test[best],
            "best_weights": WEIGHTS_BEST_FILE, "test_samples": record["data"]["n_test"],
            "samples_per_epoch": config.get("resample") or record["data"]["n_train"],
            "resampled": config.get("resample") is not None}


def _write_checkpoint(out: Path, record: dict, params: dict, epochs_done: int, order: np.ndarray, metrics_rows: list,
                      columns: tuple, *, position: int = 0, train_seconds: float = 0.0, wall_seconds: float = 0.0):
    """checkpoint.npz: the params after ``epochs_done`` epochs and ``position`` samples of the next one."""
    _write_npz(out / CHECKPOINT_FILE, **{PARAM_PREFIX + name: value for name, value in params.items()},
               epochs_done=np.int64(epochs_done), position=np.int64(position), train_seconds=np.float64(train_seconds),
               wall_seconds=np.float64(wall_seconds), order=order,
               metrics=np.asarray(metrics_rows, dtype=np.float64).reshape(-1, len(columns)),
               metrics_columns=np.asarray(columns), config=np.asarray(json.dumps(record)))


def _metrics_frame(rows: list, columns: tuple) -> pd.DataFrame:
    import pandas as pd  # here: a chunk of a compiled program starts without pandas (or Brian2) loaded

    frame = pd.DataFrame(np.asarray(rows, dtype=np.float64).reshape(-1, len(columns)), columns=list(columns))
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return frame


def _write_npz(path: Path, **arrays) -> None:
    with atomic_open(path, "wb") as stream:
        np.savez(stream, **arrays)


# --------------------------------------------------------------------------------------------------
# Finished runs
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class FinishedRun:
    """A finished run directory: its config, algorithm and initial and final params."""

    out: Path
    config: TrainConfig
    algorithm: Algorithm
    initial: dict
    final: dict

    def data(self, data_dir=None, limit: int | None = None) -> Data:
        """The run's data (its dataset, crop and encoding), the first ``limit`` samples of each split."""
        return load_data(self.algorithm, self.config.dataset, data_dir or self.config.data_dir, crop=self.config.crop,
                         split_seed=self.config.split_seed, limit_train=limit, limit_test=limit)


def finished_runs(paths, algorithm: str) -> list:
    """``paths`` as Paths, each checked to be a run directory with its metrics (else a ConfigError naming it)."""
    runs = [Path(path) for path in paths]
    for path in runs:
        if not (path / METRICS_FILE).is_file():
            raise ConfigError(f"{path} is not a finished {algorithm} run (no {METRICS_FILE}); give the --out of "
                              f"'spikingbp train --algorithm {algorithm}'")
    return runs


def load_test_run(run_dir, algorithm: str, most: int | None = None):
    """A finished run of ``algorithm`` (else a ConfigError naming it), its test set as it was tested (at most
    ``most`` samples) and a ``RunContext`` on the device it trained on: (run, data, context)."""
    from spikingbp.circuits.program import ProgramCache

    run = load_run(run_dir)
    if run.algorithm.name != algorithm:
        raise ConfigError(f"--run {run_dir} holds a {run.algorithm.name} run; give an {algorithm} run")
    limit = run.config.limit_test
    if most is not None:
        limit = most if limit is None else min(limit, most)
    context = RunContext(run.config.device, None, run.config.seed, chunk=run.config.chunk, programs=ProgramCache())
    return run, run.data(limit=limit), context


def load_run(path, under_way: bool = False) -> FinishedRun:
    """Read the finished run in ``path`` (``DataError`` naming what is missing or unreadable); with ``under_way``
    a run that has not finished yet is read too, its checkpoint's params standing for the final ones."""
    run = Path(path)
    # weights_initial.npz may be left out (reproductions/ does not commit it): it is redrawn from the seed
    last = WEIGHTS_FINAL_FILE
    if under_way and not (run / WEIGHTS_FINAL_FILE).is_file() and (run / CHECKPOINT_FILE).is_file():
        last = CHECKPOINT_FILE
    files = [run / name for name in (CONFIG_FILE, last)]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"{run} is not a finished training run: missing {', '.join(missing)}; give the --out "
                        f"directory of a completed 'spikingbp train'")
    try:
        record = json.loads(files[0].read_text())
        config = TrainConfig.from_mapping(upgraded_config(record["config"]))
        algorithm = config.make_algorithm()
        params = []
        for name in (run / WEIGHTS_INITIAL_FILE, files[1]):
            if not name.is_file():
                network = record["network"]
                params.append(initial_params(config, algorithm, Sizes(network["n_in"], tuple(network["hidden"]),
                                                                      network["n_out"])))
                continue
            with np.load(name, allow_pickle=False) as stored:
                keys = [key for key in stored.files if name.name != CHECKPOINT_FILE or key.startswith(PARAM_PREFIX)]
                params.append({key[len(PARAM_PREFIX):] if name.name == CHECKPOINT_FILE else key: stored[key]
                               for key in keys})
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{run}: cannot read the run files ({error}); rerun 'spikingbp train' into a new --out") from None
    return FinishedRun(run, config, algorithm, params[0], params[1])


# --------------------------------------------------------------------------------------------------
# Field checks
# --------------------------------------------------------------------------------------------------

def _integer(value, name: str, minimum: int, example: str) -> int:
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{flag} {value!r} is not an integer; give e.g. {example}")
    if value < minimum:
        raise ConfigError(f"{flag} {value} is below {minimum}; give e.g. {example}")
    return int(value)


def _choice(value, name: str, choices, context: str = "") -> str:
    key = str(value).strip().lower()
    if key not in choices:
        raise ConfigError(f"unknown --{name} {value!r}{' ' + context if context else ''}; choose one of "
                          f"{', '.join(choices)}")
    return key


__all__ = ["TrainConfig", "RunResult", "Data", "FinishedRun", "train", "load_data", "load_run", "epoch_order",
           "metrics_columns", "REGISTRY"]
