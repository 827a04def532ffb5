"""Train any registered algorithm and keep everything about the run in one directory.

``train(config)`` runs one training job described by a ``TrainConfig`` (``spikingbp.config``) and returns a
``RunResult``. The algorithm (``spikingbp.algorithms.REGISTRY``) supplies the encoding, the parameters, its plans
and the measures; this module is the one loop around it: data, the presentation orders, checkpoints after every
chunk, resuming, metrics and progress. The run directory's files and how a run is read back are
``spikingbp.rundir``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Mapping

import numpy as np
from spikingbp.progress import bar as progress_bar

import spikingbp
from spikingbp.algorithms import REFERENCE, REGISTRY, Algorithm, RunContext, Sizes
from spikingbp.circuits.program import ProgramCache
from spikingbp.config import ENSEMBLE_PER_RUN, RESUMABLE_CHANGES, TrainConfig, upgraded_config  # noqa: F401
from spikingbp.errors import ConfigError, DataError, DeviceError
from spikingbp.execution import executor
from spikingbp.io import check_creatable_dir, make_dir, tool_output_to, write_json
from spikingbp.rundir import (CHECKPOINT_FILE, CONFIG_FILE, CURVES_FILE, EPOCH_WEIGHTS_DIR, METRICS_FILE,  # noqa: F401
                              ORDER_FILE, TOOLS_LOG, WEIGHTS_BEST_FILE, WEIGHTS_FINAL_FILE, WEIGHTS_INITIAL_FILE,
                              FinishedRun, RunResult, _metrics_frame, _resume_state, _write_checkpoint,
                              check_run_directory, run_lock,
                              _write_epoch_files, _write_npz, finished_runs, load_run, load_test_run,
                              metrics_columns, result_summary)

logger = logging.getLogger(__name__)

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
    directory: str | None = None   #: where the IDX files were read (a parent --data-dir resolved); None: embedded

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
                [height - 2 * crop, width - 2 * crop], digest.hexdigest()[:16],
                None if data.directory is None else str(data.directory))


def _config_data(config: TrainConfig, algorithm: Algorithm) -> Data:
    return load_data(algorithm, config.dataset, config.data_dir, crop=config.crop, split_seed=config.split_seed,
                     limit_train=config.limit, limit_test=config.limit_test)


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------

def train(config: TrainConfig | Mapping) -> RunResult:
    """Run (or resume) one training job.

    After every chunk the params, the presentation order and the metrics are checkpointed in the run directory
    (:doc:`/guide/running`); calling ``train`` again with the same configuration (``epochs`` may be larger)
    continues from there to the weights an uninterrupted run reaches.

    Parameters
    ----------
    config : TrainConfig or mapping
        The job; a mapping is passed to ``TrainConfig(**config)``.

    Returns
    -------
    RunResult
        The final params, the per-epoch metrics (a pandas DataFrame) and the run directory.

    Raises
    ------
    ConfigError
        A configuration that is refused (the run directory holds another configuration or other data, a device
        that cannot run here).
    DataError
        A dataset that cannot be found or read.
    """
    return train_ensemble([config])[0]


def train_ensemble(configs) -> list:
    """Train several runs at once, as one ensemble.

    One circuit of K blocks on a Brian2 device (the copies one after the other on the reference), for runs that
    differ only in ``seed`` (initial params and presentation order), ``out`` and ``eval_train``. Each run
    directory is the one ``train`` writes, with the same params, and resumes alone or in the ensemble; runs whose
    checkpoints stand at different points are trained one by one.

    Parameters
    ----------
    configs : list of TrainConfig or mapping
        The runs.

    Returns
    -------
    list of RunResult
        One per run, in order.

    Raises
    ------
    ConfigError
        Runs that differ in more than the fields above.
    """
    loaded = {}   # runs that agree but for ENSEMBLE_PER_RUN read and encode one dataset: load it once
    runs = [_prepare(config, loaded) for config in configs]
    if len(runs) > 1:
        _check_ensemble(runs)
        if len({(run.state or {}).get("epochs_done", 0) for run in runs}) > 1 or \
                len({(run.state or {}).get("position", 0) for run in runs}) > 1:
            logger.info("the runs' checkpoints stand at different points: training them one by one")
            return [train(run.config) for run in runs]
    with contextlib.ExitStack() as held:
        for run in runs:
            held.enter_context(run_lock(run.config.out))
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
    check_run_directory(config.out)
    if config.cache is not None:   # made now, so that a cache that cannot be made leaves no run files behind
        make_dir(config.cache, "--cache")
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
    run, which must be of the same algorithm and shapes (every name and shape of a fresh draw), in the dtypes of a
    fresh draw."""
    fresh = algorithm.init_params(sizes, config.seed)
    if config.init_from is None:
        return fresh
    source = load_run(config.init_from)
    if source.algorithm.name != algorithm.name:
        raise ConfigError(f"--init-from {config.init_from} holds a run of {source.algorithm.name}; give a run of "
                          f"{algorithm.name}")
    shapes = {name: np.shape(value) for name, value in source.final.items()}
    wanted = {name: np.shape(value) for name, value in fresh.items()}
    if shapes != wanted:
        raise ConfigError(f"--init-from {config.init_from} has params {shapes}, this run needs {wanted} "
                          f"({sizes.label}); give a run of the same network")
    return {name: np.asarray(value).astype(fresh[name].dtype) for name, value in source.final.items()}


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
    chunk = config.chunk if executor(config.device).chunked else n_train   # a checkpoint after every chunk
    position, train_seconds, wall_seconds = first.state["position"], first.state["train_seconds"], \
        first.state["wall_seconds"]
    with tool_output_to(first.config.out / TOOLS_LOG) as terminal, \
            progress_bar(total=K * remaining_epochs * n_train, initial=K * position, unit="sample",
                         disable=not config.progress, file=terminal) as bar:
        def on_compile(label: str) -> None:
            message = f"compiling the {label} program, once per shape (kept in {programs.root})"
            bar.write(message, file=terminal)
            # the log too: Brian2 silences make and the compiler unless they fail, so a compile left no line there
            os.write(1, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n".encode())   # fd 1: the log

        programs = ProgramCache(config.cache, on_compile=on_compile)
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
                started, compiling = time.perf_counter(), programs.compile_seconds
                if K == 1:
                    params = [algorithm.train_epoch(params[0], data.X_train, data.T_train, parts[0], contexts[0])]
                else:
                    params = algorithm.train_ensemble_epoch(params, data.X_train, data.T_train, parts, contexts)
                # samples_per_second counts the training runs alone, not the compiling of their programs
                train_seconds += time.perf_counter() - started - (programs.compile_seconds - compiling)
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
            _restore_best(run.config.out, result_summary(rows, run.record)["best_epoch"])
        results.append(RunResult(out=run.config.out, config=run.config, params=run_params,
                                 metrics=_metrics_frame(rows, run.columns), epochs_done=run.config.epochs,
                                 resumed_from_epoch=resumed_from_epoch, resumed_from_sample=resumed_from_sample,
                                 algorithm=algorithm))
    return results


def _restore_best(out: Path, best_epoch: int | None) -> None:
    """A finished run without its ``weights_best.npz`` gets it back from the snapshot of ``best_epoch`` (config.json's
    result) in ``epochs/``, where that is kept."""
    best_file = out / WEIGHTS_BEST_FILE
    if best_file.exists() or best_epoch is None:
        return
    snapshot = out / EPOCH_WEIGHTS_DIR / f"weights_epoch_{best_epoch}.npz"
    if snapshot.is_file():
        with np.load(snapshot) as stored:
            _write_npz(best_file, **{name: stored[name] for name in stored.files})


def _evaluate(algorithm: Algorithm, params, X, T, context: RunContext, label: str, terminal, progress: bool) -> dict:
    """``algorithm.evaluate`` with a progress bar of its own (an evaluation can take as long as training)."""
    with progress_bar(total=len(X), desc=f"evaluating the {label}", unit="sample", leave=False,
                      disable=not progress, file=terminal) as bar:
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
                 "digest": data.digest, "directory": data.directory},
    }


def _check_device(device: str, algorithm: Algorithm | None = None) -> None:
    """Refuse a device that is not one of ``algorithm``'s (where given) or a Brian2 device that cannot build and
    run here, before anything is written."""
    from spikingbp.devices import available_devices

    if algorithm is not None and device not in algorithm.devices:
        raise ConfigError(f"--device {device} is not a device of {algorithm.name}; choose one of "
                          f"{', '.join(algorithm.devices)}")
    if device == REFERENCE:
        return
    usable, reason = available_devices((device,))[device]
    if not usable:
        raise DeviceError(f"--device {device} cannot run here: {reason}; choose another --device "
                          f"(spikingbp info lists the usable ones)")


__all__ = ["TrainConfig", "RunResult", "Data", "FinishedRun", "train", "train_ensemble", "load_data", "load_run",
           "epoch_order", "metrics_columns", "REGISTRY"]
