"""The run directory of ``spikingbp.training``: its files, the checkpoint, resuming, and reading finished runs.

The run directory (``config.out``) holds::

    config.json           every parameter, the layer sizes, a digest of the data and spikingbp.__version__
    weights_initial.npz   the algorithm's params before training (sBP: W0 (n_in, n_hidden), W1 (n_hidden, n_out))
    weights_final.npz     the same after the last epoch
    order.npy             indices into the training split, in presentation order over all epochs
    metrics.csv           one row per epoch: train_accuracy (on the first ``eval_train`` training samples,
                          all by default), test_accuracy (the algorithm's headline measure), train_/test_
                          of each of its own measures, samples_per_second (of the training runs alone)
                          and epoch_seconds (wall clock, evaluation included)
    learning_curves.png   the measures per epoch
    checkpoint.npz        the state after the last finished chunk: params, epochs done, samples of the
                          next epoch done (``position``), a digest of the order, metrics
    build/<device>/       the per-epoch builds of genn and cuda (cpp_standalone programs live in the
                          shared cache of ``spikingbp.circuits.program``)
    run.lock              the process training into the directory, while it does (a second one is refused)
    tools.log             what compilers, make, GeNN's scripts and Brian2 printed while training (the
                          terminal keeps the progress bar and the results; a failure shows the log's tail)

plus the figures the algorithm writes at the start (sBP: ``training_cycle.png``). Every file is written
under a temporary name and renamed, so an interrupted run never leaves a half-written file. Nothing is
written before the configuration, the device and the data have been checked. Rerunning with the same
configuration into the same directory resumes from the checkpoint (``epochs`` may grow) and ends with the
params of an uninterrupted run; a different configuration, or other data (by digest), is refused.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spikingbp.algorithms import Algorithm, RunContext, Sizes
from spikingbp.circuits.program import array_digest
from spikingbp.config import RESUMABLE_CHANGES, TrainConfig, upgraded_config
from spikingbp.errors import ConfigError, DataError
from spikingbp.io import atomic_open, make_dir, write_json

if TYPE_CHECKING:
    import pandas as pd

    from spikingbp.training import Data

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
LOCK_FILE = "run.lock"    # the process training into the directory (removed when it stops)
PARAM_PREFIX = "param_"   # params are stored in checkpoint.npz under this prefix



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
    algorithm: Algorithm | None = None  #: the algorithm the run trained with (its options)

    def path(self, name: str) -> Path:
        """The path of a file of the run directory, e.g. ``result.path('metrics.csv')``."""
        return self.out / name


def metrics_columns(algorithm: Algorithm) -> tuple:
    """The columns of ``metrics.csv`` for ``algorithm``."""
    return (("epoch", "train_accuracy", "test_accuracy") + tuple(f"train_{m}" for m in algorithm.measures)
            + tuple(f"test_{m}" for m in algorithm.measures) + ("samples_per_second", "epoch_seconds"))


# --------------------------------------------------------------------------------------------------
# Ownership
# --------------------------------------------------------------------------------------------------

def check_run_directory(out: Path) -> None:
    """Refuse an existing, non-empty directory that holds no spikingbp run (no config.json): training into it
    would write its files among someone else's (``--out /``, a directory with a metrics.csv of one's own)."""
    out = Path(out)
    ours = (CONFIG_FILE, LOCK_FILE)   # a run, or one that is starting
    if out.is_dir() and not any((out / name).is_file() for name in ours) and any(out.iterdir()):
        raise ConfigError(f"out={out} is a non-empty directory that holds no spikingbp run (no {CONFIG_FILE}); give "
                          f"a new or empty directory")


@contextlib.contextmanager
def run_lock(out: Path):
    """Hold ``out`` for this process while the block runs: a ``run.lock`` naming it, created exclusively; a run
    directory in use by a live process is refused, naming that process; a lock left by a process that died is
    taken over."""
    out = make_dir(out)
    path = out / LOCK_FILE
    for _ in range(2):
        try:
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _lock_owner(path)
            if owner is not None and owner != os.getpid() and _alive(owner):
                raise ConfigError(f"out={out} is in use by process {owner} (another training into it); wait for it "
                                  f"to end or give another directory") from None
            path.unlink(missing_ok=True)   # stale: its process is gone
            continue
        with os.fdopen(descriptor, "w") as stream:
            stream.write(f"{os.getpid()}\n")
        break
    else:
        raise ConfigError(f"out={out}: could not take {path}; remove it if no training runs into {out}")
    try:
        yield
    finally:
        if _lock_owner(path) == os.getpid():
            path.unlink(missing_ok=True)


def _lock_owner(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # alive, someone else's
        return True
    return True


# --------------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------------

def _resume_state(out: Path, config: TrainConfig, record: dict, columns: tuple, labels: np.ndarray) -> dict | None:
    """The checkpointed state of the run in ``out``, or ``None`` when there is none to resume. A checkpoint part of
    the way into the epoch after ``config.epochs`` finishes the run with the params of that last completed epoch
    (``epochs/weights_epoch_<e>.npz``): a run is ended early by rerunning it with fewer epochs.

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
        from spikingbp.training import presentation_order

        order = np.concatenate([np.zeros(0, np.int64)] + [presentation_order(config, epoch, labels)
                                                          for epoch in range(1, epochs_done + 1)])
        # older checkpoints stored the order itself ("order"), which grew by an epoch's indices every epoch
        same_order = (np.array_equal(state["order"], order) if "order" in state
                      else str(state.get("order_digest")) == array_digest(order))
        if len(metrics) != epochs_done or not same_order:
            raise DataError(
                f"checkpoint {checkpoint_path} records a presentation order or metrics that seed={config.seed} and "
                f"{epochs_done} epochs do not give; the run directory was changed by hand or by another spikingbp "
                f"version. Delete {out} or give a new --out")
        position = int(state.get("position", 0))
        if not 0 <= position <= n_train:  # n_train: the epoch is trained, its evaluation is not done
            raise DataError(f"checkpoint {checkpoint_path} says {position} samples of epoch {epochs_done + 1} are done, "
                            f"outside 0..{n_train}; delete {out} or give a new --out")
        finished_epoch = out / EPOCH_WEIGHTS_DIR / f"weights_epoch_{epochs_done}.npz"
        if epochs_done == config.epochs and position and finished_epoch.is_file():
            # asked to end at the last completed epoch: finish with its params (the partial epoch after it is
            # dropped; a rerun with more epochs trains it again, to the same weights)
            with np.load(finished_epoch, allow_pickle=False) as stored:
                params = {name: stored[name] for name in stored.files}
            position = 0
            state["train_seconds"] = state["wall_seconds"] = 0.0
        if epochs_done > config.epochs or (epochs_done == config.epochs and position):
            raise ConfigError(
                f"{out} already holds {epochs_done} trained epochs, more than --epochs {config.epochs}; ask for "
                f"--epochs {epochs_done} or more to continue it, or give a new --out (or delete {out})")
        return {"params": _upgraded(config, params), "epochs_done": epochs_done, "order": order,
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
        if (out / WEIGHTS_FINAL_FILE).is_file() and (out / METRICS_FILE).is_file():
            return _finished_state(out, config, columns, labels)
    return None


def _finished_state(out: Path, config: TrainConfig, columns: tuple, labels: np.ndarray) -> dict:
    """The state of a finished run, which keeps no checkpoint (``reproductions/`` drops them): its final params
    after the epochs of its metrics, their presentation orders drawn again from the seed (and checked against
    ``order.npy`` where it is kept). Rerun with as many epochs it trains nothing; with more, it continues."""
    import pandas as pd

    from spikingbp.training import presentation_order

    try:
        metrics = pd.read_csv(out / METRICS_FILE, float_precision="round_trip")
        with np.load(out / WEIGHTS_FINAL_FILE, allow_pickle=False) as final:
            params = {name: final[name] for name in final.files}
    except Exception as error:  # a damaged zip or csv raises many kinds
        raise DataError(f"{out} holds a finished run whose files cannot be read ({type(error).__name__}: {error}); "
                        f"delete {out} or give a new --out") from None
    if tuple(metrics.columns) != tuple(columns):
        raise DataError(f"{out / METRICS_FILE} has the columns {list(metrics.columns)}, this spikingbp writes "
                        f"{list(columns)}; give a new --out")
    epochs_done = len(metrics)
    if epochs_done > config.epochs:
        raise ConfigError(f"{out} already holds {epochs_done} trained epochs, more than --epochs {config.epochs}; ask "
                          f"for --epochs {epochs_done} or more to continue it, or give a new --out (or delete {out})")
    order = np.concatenate([np.zeros(0, np.int64)] + [presentation_order(config, epoch, labels)
                                                      for epoch in range(1, epochs_done + 1)])
    if (out / ORDER_FILE).is_file() and not np.array_equal(np.load(out / ORDER_FILE), order):
        raise DataError(f"{out / ORDER_FILE} is not the presentation order that seed={config.seed} gives; the run "
                        f"directory was changed by hand. Delete {out} or give a new --out")
    return {"params": _upgraded(config, params), "epochs_done": epochs_done, "order": order,
            "metrics": metrics.to_numpy(dtype=np.float64).tolist(), "position": 0, "train_seconds": 0.0,
            "wall_seconds": 0.0}


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
    """checkpoint.npz: the params after ``epochs_done`` epochs and ``position`` samples of the next one. The
    presentation order is redrawn from the seed on resuming; the checkpoint keeps its digest to check it."""
    _write_npz(out / CHECKPOINT_FILE, **{PARAM_PREFIX + name: value for name, value in params.items()},
               epochs_done=np.int64(epochs_done), position=np.int64(position), train_seconds=np.float64(train_seconds),
               wall_seconds=np.float64(wall_seconds), order_digest=np.asarray(array_digest(order)),
               metrics=np.asarray(metrics_rows, dtype=np.float64).reshape(-1, len(columns)),
               metrics_columns=np.asarray(columns), config=np.asarray(json.dumps(record)))


def _metrics_frame(rows: list, columns: tuple) -> pd.DataFrame:
    import pandas as pd  # here: a chunk of a compiled program starts without pandas (or Brian2) loaded

    frame = pd.DataFrame(np.asarray(rows, dtype=np.float64).reshape(-1, len(columns)), columns=list(columns))
    frame["epoch"] = frame["epoch"].astype(np.int64)
    return frame


def _write_npz(path: Path, **arrays) -> None:
    # compressed: sBP's integer weights shrink about 3x, float weights a little; loading is unchanged
    with atomic_open(path, "wb") as stream:
        np.savez_compressed(stream, **arrays)


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
        from spikingbp.training import load_data

        return load_data(self.algorithm, self.config.dataset, data_dir or self.config.data_dir, crop=self.config.crop,
                         split_seed=self.config.split_seed, limit_train=limit, limit_test=limit)

    def predict(self, X, device: str | None = None, params: str = "final") -> np.ndarray:
        """The classes the trained network gives the encoded samples ``X`` (as ``data().X_test`` holds them), on
        ``device`` (default: the one it trained on), with its ``final``, ``best`` or ``initial`` params; -1 where
        its readout decides nothing."""
        from spikingbp.circuits.program import ProgramCache

        context = RunContext(device or self.config.device, None, self.config.seed, chunk=self.config.chunk,
                             programs=ProgramCache(self.config.cache))
        return self.algorithm.predict(self.params(params), np.asarray(X), context)

    def test_limit(self, most: int | None = None) -> int | None:
        """How many test samples the run tested (None: all), at most ``most``."""
        limit = self.config.limit_test
        return limit if most is None else most if limit is None else min(limit, most)

    def params(self, which: str = "final") -> dict:
        """The run's ``final``, ``best`` (``weights_best.npz``: the best test epoch's) or ``initial`` params."""
        chosen = {"final": lambda: self.final, "initial": lambda: self.initial, "best": self._best}.get(which)
        if chosen is None:
            raise ConfigError(f"params={which!r}: choose final, best or initial")
        return chosen()

    def _best(self) -> dict:
        path = self.out / WEIGHTS_BEST_FILE
        if not path.is_file():
            raise DataError(f"{self.out} keeps no {WEIGHTS_BEST_FILE}; give params='final'")
        with np.load(path, allow_pickle=False) as stored:
            return self.algorithm.upgrade_params({name: stored[name] for name in stored.files})


def finished_runs(paths, algorithm: str) -> list:
    """``paths`` as Paths, each checked to be a run directory of ``algorithm`` with its metrics (else a
    ConfigError naming it): a figure of one algorithm never draws another's run."""
    runs = [Path(path) for path in paths]
    for path in runs:
        if not (path / METRICS_FILE).is_file() or not (path / CONFIG_FILE).is_file():
            raise ConfigError(f"{path} is not a finished run of {algorithm} (no {METRICS_FILE} or {CONFIG_FILE}); give "
                              f"the --out of 'spikingbp train --algorithm {algorithm}'")
        try:
            recorded = json.loads((path / CONFIG_FILE).read_text())["config"]["algorithm"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(f"{path / CONFIG_FILE} cannot be read ({error}); give a run directory of 'spikingbp "
                            f"train'") from None
        if recorded != algorithm:
            raise ConfigError(f"{path} holds a run of {recorded}; give a run of {algorithm}")
    return runs


def load_test_run(run_dir, algorithm: str, most: int | None = None):
    """A finished run of ``algorithm`` (else a ConfigError naming it), its test set as it was tested (at most
    ``most`` samples) and a ``RunContext`` on the device it trained on: (run, data, context)."""
    from spikingbp.circuits.program import ProgramCache

    run = load_run(run_dir)
    if run.algorithm.name != algorithm:
        raise ConfigError(f"--run {run_dir} holds a run of {run.algorithm.name}; give a run of {algorithm}")
    limit = run.test_limit(most)
    context = RunContext(run.config.device, None, run.config.seed, chunk=run.config.chunk, programs=ProgramCache())
    return run, run.data(limit=limit), context


def load_run(path, under_way: bool = False) -> FinishedRun:
    """Read a finished run directory.

    Parameters
    ----------
    path : str or Path
        The ``out`` directory of ``spikingbp train``.
    under_way : bool
        Also read a run that has not finished: its checkpoint's params stand for the final ones.

    Returns
    -------
    FinishedRun
        Its configuration, algorithm, initial and final params; ``data`` reads its dataset and ``predict``
        classifies samples.

    Raises
    ------
    DataError
        A missing or unreadable file, named.
    """
    from spikingbp.training import initial_params

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
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:   # a truncated npz: BadZipFile
        raise DataError(f"{run}: cannot read the run files ({type(error).__name__}: {error}); rerun 'spikingbp train' "
                        f"into a new --out") from None
    return FinishedRun(run, config, algorithm, algorithm.upgrade_params(params[0]), algorithm.upgrade_params(params[1]))


def _upgraded(config: TrainConfig, params: dict) -> dict:
    """``params`` as read from a run directory, under today's names (``Algorithm.upgrade_params``)."""
    from spikingbp.algorithms import algorithm_class

    return algorithm_class(config.algorithm).upgrade_params(params)


__all__ = ["RunResult", "FinishedRun", "load_run", "load_test_run", "finished_runs", "metrics_columns", "result_summary",
           "CONFIG_FILE", "WEIGHTS_INITIAL_FILE", "WEIGHTS_FINAL_FILE", "WEIGHTS_BEST_FILE", "EPOCH_WEIGHTS_DIR",
           "ORDER_FILE", "METRICS_FILE", "TOOLS_LOG", "CURVES_FILE", "CHECKPOINT_FILE"]
