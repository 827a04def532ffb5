"""Parameter exploration: one job (a training run of any algorithm, or the SGSC experiment) at many points of
its parameters, each point a resumable run directory of its own, the results gathered into one tidy frame.

A sweep is a dict of parameter values and one function, as in Brian2's Brunel_2000 example::

    from spikingbp.sweep import Sweep, run_sweep

    sweep = Sweep("train", base={"algorithm": "sbp", "dataset": "digits", "epochs": 1},
                  grid={"hidden": [16, 32], "seed": [0, 1]})
    frame = run_sweep(sweep, "runs/sweep-hidden", workers=2).frame

The sweep directory holds::

    sweep.json        the job, its base parameters, the swept values and the points, in order
    points/<name>/    one run directory per point (``name`` spells its values, e.g. ``hidden=16,seed=0``)
    results.parquet   one row per point and epoch (SGSC: per point): every parameter of the job (algorithm
                      options by their own names), the device, the package version, then the measures
    results.csv       the same rows as CSV

Points run where the caller says (``EXECUTORS``): one after the other, in a local process pool
(``workers``), or on a Dask cluster (``scheduler`` address, or ``dask_local`` workers started on 127.0.0.1).
A point whose run directory is finished is not run again; an unfinished one resumes from its checkpoint, so
a rerun of a stopped sweep, or a point retried after its Dask worker died, loses at most one chunk.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

import spikingbp
from spikingbp.checks import optional_whole, whole
from spikingbp.errors import ConfigError

SWEEP_FILE = "sweep.json"
POINTS_DIR = "points"
RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
NAME_LIMIT = 80   # a point's directory name longer than this is shortened to its first part and a digest


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------

def parse_value(text: str):
    """One value as typed: an integer, a float, True/False, or else the text itself."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_param(spec: str) -> tuple:
    """``--param NAME=VALUES``: ``hidden=16,32`` (these values), ``seed=0:8`` (the integers 0 .. 7) or
    ``seed=0:8:2`` (a step); for ``--random`` also ``eta=log:1e-4:1e-2`` (log-uniform) and
    ``rate=uniform:0.3:0.5``. Returns (name, values): a list, or a ``Distribution``."""
    name, separator, values = spec.partition("=")
    name, values = name.strip(), values.strip()
    if not separator or not name or not values:
        raise ConfigError(f"--param {spec!r} must be NAME=VALUES, e.g. --param hidden=100,200,400 or "
                          f"--param seed=0:8")
    kind, _, rest = values.partition(":")
    if kind in DISTRIBUTIONS:
        bounds = rest.split(":")
        try:
            low, high = (float(b) for b in bounds)
        except ValueError:
            raise ConfigError(f"--param {spec!r}: {kind} takes two numbers, e.g. {name}={kind}:0.001:0.1") from None
        return name, Distribution(kind, low, high)
    if re.fullmatch(r"-?\d+:-?\d+(:-?\d+)?", values):
        start, stop, *step = (int(v) for v in values.split(":"))
        step = step[0] if step else 1
        if step == 0 or not range(start, stop, step):
            raise ConfigError(f"--param {spec!r}: the range {values} holds no value; give START:STOP with "
                              f"STOP > START, e.g. {name}=0:8 for 0 .. 7")
        return name, list(range(start, stop, step))
    return name, [parse_value(v) for v in values.split(",") if v.strip()]


@dataclasses.dataclass(frozen=True)
class Distribution:
    """A continuous range to sample from: ``uniform`` or ``log`` (log-uniform) between ``low`` and ``high``."""

    kind: str
    low: float
    high: float

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high)) or self.low >= self.high:
            raise ConfigError(f"{self.kind}:{self.low}:{self.high} needs low < high")
        if self.kind == "log" and self.low <= 0:
            raise ConfigError(f"log:{self.low}:{self.high} needs a positive low bound (log-uniform)")

    def sample(self, rng: np.random.Generator) -> float:
        return float(DISTRIBUTIONS[self.kind](rng, self.low, self.high))


DISTRIBUTIONS = {"uniform": lambda rng, low, high: rng.uniform(low, high),
                 "log": lambda rng, low, high: np.exp(rng.uniform(np.log(low), np.log(high)))}


def grid_points(grid: Mapping) -> list:
    """Every combination of the values of ``grid`` (name -> list), the last name varying fastest."""
    for name, values in grid.items():
        if isinstance(values, Distribution) or not list(values):
            raise ConfigError(f"--param {name}: a grid needs values or a range (e.g. {name}=1,2,3); "
                              f"a distribution needs --random N")
    names = list(grid)
    return [dict(zip(names, combination)) for combination in itertools.product(*(list(grid[n]) for n in names))]


def random_points(space: Mapping, n: int, seed: int) -> list:
    """``n`` points drawn from ``space`` (name -> list of values to choose from, or a ``Distribution``)."""
    whole(n, "random", minimum=1, hint=" (a number of points)")
    rng = np.random.default_rng(seed)
    draw = {name: (values.sample if isinstance(values, Distribution)
                   else lambda rng, values=list(values): values[int(rng.integers(len(values)))])
            for name, values in space.items()}
    return [{name: _plain(sample(rng)) for name, sample in draw.items()} for _ in range(n)]


def point_name(values: Mapping) -> str:
    """The directory name of a point: ``hidden=16,seed=0``, shortened with a digest when long."""
    name = ",".join(f"{key}={_text(value)}" for key, value in values.items())
    name = re.sub(r"[^A-Za-z0-9=,._+-]", "_", name) or "base"
    if len(name) > NAME_LIMIT:
        digest = hashlib.sha1(json.dumps(values, sort_keys=True).encode()).hexdigest()[:10]
        name = f"{name[:NAME_LIMIT - 11]}-{digest}"
    return name


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(map(str, value))
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _plain(value):
    """numpy scalars as Python ones (for JSON)."""
    return value.item() if isinstance(value, np.generic) else value


# --------------------------------------------------------------------------------------------------
# Jobs: what a point runs
# --------------------------------------------------------------------------------------------------

class TrainJob:
    """A ``spikingbp train`` run per point; its parameters are TrainConfig's fields and the algorithm's options
    (by their own names; ``options.NAME`` where a name is both)."""

    name = "train"

    def config(self, base: Mapping, values: Mapping, out: Path):
        from spikingbp.training import TrainConfig

        fields = {f.name for f in dataclasses.fields(TrainConfig)} - {"out", "options", "progress"}
        merged = {**base, **values}
        algorithm = _algorithm_class(merged.get("algorithm", "sbp"))
        settings = {"options": dict(merged.pop("options", {}) or {})}
        for key, value in merged.items():
            option = key[len("options."):] if key.startswith("options.") else key
            if key in fields and key == option:
                settings[key] = _hidden(value) if key == "hidden" else value
            elif option in algorithm.options:
                settings["options"][option] = value
            else:
                raise ConfigError(
                    f"--param {key}: not a parameter of train for --algorithm {algorithm.name}; sweep one of "
                    f"{', '.join(sorted(fields))} or an option of {algorithm.name} "
                    f"({', '.join(algorithm.options) or 'none'})")
        return TrainConfig(out=out, progress=False, **settings)

    def check(self, base: Mapping, points: list) -> None:
        for values in points:
            _checked(values, lambda: self.config(base, values, Path("unused")))

    def finished(self, base: Mapping, values: Mapping, out: Path) -> bool:
        from spikingbp.training import CONFIG_FILE, WEIGHTS_FINAL_FILE

        if not (out / WEIGHTS_FINAL_FILE).is_file() or not (out / CONFIG_FILE).is_file():
            return False
        epochs = json.loads((out / CONFIG_FILE).read_text())["config"]["epochs"]
        return epochs == self.config(base, values, out).epochs

    def run(self, base: Mapping, values: Mapping, out: Path) -> dict:
        from spikingbp.training import train

        result = train(self.config(base, values, out))
        return {"resumed_from_epoch": result.resumed_from_epoch, "resumed_from_sample": result.resumed_from_sample}

    def check_ensemble(self, base: Mapping, points: list) -> None:
        """Training runs of every algorithm and device train as ensembles (``spikingbp.execution``)."""

    def ensembles(self, base: Mapping, points: list, size: int) -> list:
        """``points`` ((name, values) pairs) in groups of at most ``size`` that can train as one ensemble:
        the same configuration but for the seed (and eval_train), in the sweep's order."""
        from spikingbp.training import ENSEMBLE_PER_RUN

        groups = {}
        for name, values in points:
            config = self.config(base, values, Path("unused")).to_dict()
            key = json.dumps({k: v for k, v in config.items() if k not in ENSEMBLE_PER_RUN}, sort_keys=True)
            groups.setdefault(key, []).append((name, values))
        return [members[start:start + size] for members in groups.values()
                for start in range(0, len(members), size)]

    def run_ensemble(self, base: Mapping, values: list, outs: list) -> list:
        from spikingbp.training import train_ensemble

        results = train_ensemble([self.config(base, v, out) for v, out in zip(values, outs)])
        return [{"resumed_from_epoch": r.resumed_from_epoch, "resumed_from_sample": r.resumed_from_sample}
                for r in results]

    def rows(self, out: Path) -> list:
        """One row per epoch: the run's parameters (options by name), its data, the version, its metrics."""
        import pandas as pd

        from spikingbp.training import CONFIG_FILE, METRICS_FILE

        record = json.loads((out / CONFIG_FILE).read_text())
        config = dict(record["config"])
        options = config.pop("options")
        for key in ("out", "progress", "cache"):
            config.pop(key)
        hidden = config.pop("hidden")
        parameters = {**config, "hidden": hidden[0] if len(hidden) == 1 else "-".join(map(str, hidden)),
                      "network": record["network"]["label"], "n_train": record["data"]["n_train"],
                      "n_test": record["data"]["n_test"], "spikingbp_version": record["spikingbp_version"]}
        parameters.update({(f"options.{k}" if k in parameters else k): v for k, v in options.items()})
        metrics = pd.read_csv(out / METRICS_FILE)
        return [{**parameters, **row} for row in metrics.to_dict("records")]


class SGSCJob:
    """``spikingbp sgsc`` per point: its ``seed`` and ``quick``, and the fields of the spiking chain
    (``spikingbp.circuits.graded.SpikingConfig``), each a number in ms, mV, pA or pF by its dimension
    (``sigma=4``: 4 mV; ``dt=0.05``: 0.05 ms); the frame has them in the same units."""

    name = "sgsc"
    SUMMARY = "summary.json"

    def _split(self, base: Mapping, values: Mapping):
        from spikingbp.circuits.graded import SpikingConfig

        merged = {"seed": 0, "quick": False, **base, **values}
        defaults = SpikingConfig()
        fields = {f.name for f in dataclasses.fields(SpikingConfig)}
        unknown = sorted(set(merged) - fields - {"seed", "quick"})
        if unknown:
            raise ConfigError(f"--param {', '.join(unknown)}: not a parameter of the SGSC experiment; sweep seed, "
                              f"quick or a field of its spiking chain ({', '.join(sorted(fields))})")
        changes = {key: _in_unit_of(getattr(defaults, key), value, key)
                   for key, value in merged.items() if key in fields}
        return int(merged["seed"]), bool(merged["quick"]), defaults.replace(**changes)

    def check(self, base: Mapping, points: list) -> None:
        for values in points:
            _checked(values, lambda: self._split(base, values))

    def check_ensemble(self, base: Mapping, points: list) -> None:
        raise ConfigError("--ensemble trains training runs together; the SGSC experiment has none")

    def finished(self, base: Mapping, values: Mapping, out: Path) -> bool:
        return (out / self.SUMMARY).is_file()

    def run(self, base: Mapping, values: Mapping, out: Path) -> dict:
        from spikingbp.experiments.sgsc import run_sgsc

        seed, quick, config = self._split(base, values)
        run_sgsc(out, seed=seed, quick=quick, config=config, progress=None)
        return {}

    def rows(self, out: Path) -> list:
        from spikingbp.circuits.graded import SpikingConfig

        summary = json.loads((out / self.SUMMARY).read_text())
        config = json.loads((out / "config.json").read_text())
        defaults = SpikingConfig()
        units = {key: _unit_of(getattr(defaults, key)) for key in config["spiking"]}
        spiking = {key: value if units[key] is None else value / float(units[key]) for key, value in config["spiking"].items()}
        return [{"seed": summary["seed"], "quick": summary["quick"], **spiking, "device": config["device"]["device"],
                 "spikingbp_version": spikingbp.__version__, "calibrated_S": summary["calibrated_S"],
                 "max_deviation": summary["max_deviation"], "gain_stages": summary["gain_stages"],
                 "routing_correct": all(summary["routing"][r]["correct"] for r in ("a", "b")),
                 "wall_time_s": summary["wall_time_s"]}]


def _checked(values: Mapping, make) -> None:
    """``make()``, its ConfigError prefixed with the point it is about."""
    try:
        make()
    except ConfigError as error:
        raise ConfigError(f"point {point_name(values)!r}: {error}") from None


#: job name -> what a point of it runs.
JOBS = {job.name: job for job in (TrainJob(), SGSCJob())}


def _algorithm_class(name):
    from spikingbp.algorithms import algorithm_class

    return algorithm_class(name)


def _hidden(value):
    """``hidden`` as swept: 100, "200-200" or [200, 200]."""
    if isinstance(value, str):
        try:
            return tuple(int(part) for part in value.replace(",", "-").split("-") if part)
        except ValueError:
            raise ConfigError(f"hidden={value!r} must be layer sizes, e.g. hidden=100,400 or hidden=200-200") from None
    return value


def _in_unit_of(default, value, name: str):
    """``value`` (a number) in the sweep unit of ``default`` (``_unit_of``); a Brian2 quantity as it is."""
    from brian2 import Quantity

    unit = _unit_of(default)
    if unit is None or isinstance(value, Quantity):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}={value!r} must be a number (in {unit}; the default is {default})")
    return value * unit


def _unit_of(default):
    """The unit a swept number of this SGSC parameter is in: ms, mV, pA or pF by its dimension (None: a plain
    number)."""
    from brian2 import Quantity, mV, ms, pA, pF

    if not isinstance(default, Quantity) or not default.dim:
        return None
    units = [unit for unit in (ms, mV, pA, pF) if unit.dim == default.dim]
    if not units:
        raise ConfigError(f"an SGSC parameter of dimension {default.dim} has no sweep unit; add one to _unit_of")
    return units[0]


# --------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Sweep:
    """A job, its base parameters, and the points: a ``grid`` (name -> values) or, with ``random`` = n, n
    points drawn (seed ``random_seed``) from ``grid``'s values and distributions."""

    job: str = "train"
    base: dict = dataclasses.field(default_factory=dict)
    grid: dict = dataclasses.field(default_factory=dict)
    random: int | None = None
    random_seed: int = 0

    def __post_init__(self):
        if self.job not in JOBS:
            raise ConfigError(f"unknown sweep job {self.job!r}; choose one of {', '.join(JOBS)}")
        if not self.grid:
            raise ConfigError("a sweep needs at least one --param NAME=VALUES, e.g. --param seed=0:4")
        overlap = sorted(set(self.grid) & set(self.base))
        if overlap:
            raise ConfigError(f"{', '.join(overlap)} given both as a fixed value and as --param; give it once")

    def points(self) -> list:
        if self.random is None:
            return grid_points(self.grid)
        return random_points(self.grid, self.random, self.random_seed)

    def record(self) -> dict:
        grid = {name: (dataclasses.asdict(values) if isinstance(values, Distribution) else [_plain(v) for v in values])
                for name, values in self.grid.items()}
        return {"spikingbp_version": spikingbp.__version__, "job": self.job, "base": _jsonable(self.base),
                "grid": grid, "random": self.random, "random_seed": self.random_seed,
                "points": [{"name": point_name(p), "values": _jsonable(p)} for p in self.points()]}


def _jsonable(values: Mapping) -> dict:
    return json.loads(json.dumps(dict(values), default=lambda v: _plain(v) if isinstance(v, np.generic) else
                                 list(v) if isinstance(v, tuple) else str(v)))


@dataclasses.dataclass
class SweepResult:
    out: Path
    frame: object            #: pandas DataFrame, as written to results.parquet
    ran: list                #: names of the points run (or resumed) by this call
    skipped: list            #: names of the points found finished
    runs: dict               #: point name -> what its run reported (e.g. where it resumed from)
    groups: list             #: the points run together, one list of names per task (an ensemble, or one point)


def run_points(job: str, base: dict, values: list, outs: list) -> list:
    """Run (or resume) points: one, or several as one ensemble (``TrainJob.run_ensemble``); a top-level
    function, so that process pools and Dask workers can call it. Returns what each run reported."""
    if len(values) == 1:
        return [JOBS[job].run(base, values[0], Path(outs[0]))]
    return JOBS[job].run_ensemble(base, values, [Path(o) for o in outs])


def run_sweep(sweep: Sweep, out, *, workers: int = 1, scheduler: str | None = None, dask_local: int | None = None,
              ensemble: int = 1, progress: bool = True) -> SweepResult:
    """Run every unfinished point of a sweep and gather the results (:doc:`/guide/sweeps`).

    Everything is checked before anything is written; a sweep directory of another sweep is refused; a rerun
    trains only the points that have not finished.

    Parameters
    ----------
    sweep : Sweep
        The points (a grid or random draws of configuration fields and options).
    out : str or Path
        The sweep directory: one run directory per point and ``results.csv``.
    workers : int
        Local worker processes (1: in this process).
    scheduler : str or None
        The address of a Dask scheduler to run the points on.
    dask_local : int or None
        Start a local Dask cluster of this many workers.
    ensemble : int
        K > 1: points that differ only in their seed train K at a time as one ensemble
        (``spikingbp.training.train_ensemble``), each still its own run directory.
    progress : bool
        Show a progress bar.

    Returns
    -------
    SweepResult
        The results frame (one row per point, as written to ``results.parquet``), and which points this call
        ran and which it found finished.
    """
    from spikingbp.io import check_creatable_dir, make_dir, write_json

    out = Path(out)
    job = JOBS[sweep.job]
    points = sweep.points()
    names = [point_name(p) for p in points]
    if len(set(names)) != len(names):
        raise ConfigError("two points of this sweep are the same; give distinct values")
    job.check(sweep.base, points)
    whole(ensemble, "ensemble", minimum=1, hint=" (1: no ensembles)")
    if ensemble > 1:
        job.check_ensemble(sweep.base, points)
    executor = _executor(workers, scheduler, dask_local)
    record = sweep.record()
    check_creatable_dir(out)
    if (out / SWEEP_FILE).is_file():
        before = json.loads((out / SWEEP_FILE).read_text())
        if {k: v for k, v in before.items() if k != "spikingbp_version"} != \
                {k: v for k, v in record.items() if k != "spikingbp_version"}:
            raise ConfigError(f"{out} holds another sweep (see {out / SWEEP_FILE}); rerun it with the same "
                              f"parameters to continue it, or give a new --out")
    make_dir(out / POINTS_DIR)
    write_json(out / SWEEP_FILE, record)
    directories = {name: out / POINTS_DIR / name for name in names}
    todo = [(name, values) for name, values in zip(names, points)
            if not job.finished(sweep.base, values, directories[name])]
    skipped = [name for name in names if name not in dict(todo)]
    groups = job.ensembles(sweep.base, todo, ensemble) if ensemble > 1 else [[point] for point in todo]
    tasks = [(sweep.job, dict(sweep.base), [dict(values) for _, values in group],
              [str(directories[name]) for name, _ in group]) for group in groups]
    runs = {}
    from spikingbp.progress import bar as progress_bar

    with progress_bar(total=len(points), initial=len(skipped), unit="point", desc="sweep", disable=not progress) as bar:
        def done(index: int, reports: list):
            runs.update({name: report for (name, _), report in zip(groups[index], reports)})
            bar.update(len(reports))

        if tasks:
            EXECUTORS[executor](tasks, done, workers=workers, scheduler=scheduler, dask_local=dask_local)
    frame = gather(out)
    return SweepResult(out=out, frame=frame, ran=[name for name, _ in todo], skipped=skipped, runs=runs,
                       groups=[[name for name, _ in group] for group in groups])


def gather(out) -> "object":
    """The results of the sweep in ``out`` as one frame (``point`` first), written to results.parquet and
    results.csv; points not yet finished are left out."""
    import pandas as pd

    from spikingbp.io import atomic_open, write_csv

    out = Path(out)
    record = json.loads((out / SWEEP_FILE).read_text())
    job = JOBS[record["job"]]
    rows = []
    for point in record["points"]:
        directory = out / POINTS_DIR / point["name"]
        if job.finished(record["base"], point["values"], directory):
            rows += [{"point": point["name"], **row} for row in job.rows(directory)]
    frame = pd.DataFrame(rows)
    with atomic_open(out / RESULTS_PARQUET, "wb") as stream:
        frame.to_parquet(stream, index=False)
    write_csv(out / RESULTS_CSV, frame)
    return frame


# --------------------------------------------------------------------------------------------------
# Where the points run
# --------------------------------------------------------------------------------------------------

def _executor(workers: int, scheduler: str | None, dask_local: int | None) -> str:
    whole(workers, "workers", minimum=1)
    optional_whole(dask_local, "dask_local", minimum=1, hint=" (workers)")
    chosen = [flag for flag, given in (("--workers", workers > 1), ("--scheduler", scheduler is not None),
                                       ("--dask-local", dask_local is not None)) if given]
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(chosen)} both say where to run; give one of them")
    if scheduler is not None or dask_local is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ConfigError(f"{chosen[0]} needs Dask: pip install 'spikingbp[dist]' (dask[distributed])") from None
        return "dask"
    return "processes" if workers > 1 else "serial"


def _serial(tasks: list, done: Callable, **_) -> None:
    for index, task in enumerate(tasks):
        done(index, run_points(*task))


def _processes(tasks: list, done: Callable, *, workers: int, **_) -> None:
    """A local pool of ``workers`` processes (spawned: Brian2 keeps its device per process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_points, *task): index for index, task in enumerate(tasks)}
        for future in as_completed(futures):
            done(futures[future], future.result())


#: how many times Dask may start a point again after an error in it (a worker that dies is separate:
#: the scheduler retries its task on another worker, up to distributed.scheduler.allowed-failures times).
DASK_RETRIES = 2


def _dask(tasks: list, done: Callable, *, scheduler: str | None, dask_local: int | None, **_) -> None:
    """The points as tasks on a Dask cluster: an existing one (``scheduler``) or a LocalCluster of
    ``dask_local`` single-threaded worker processes on 127.0.0.1."""
    from contextlib import ExitStack

    from distributed import Client, LocalCluster, as_completed

    with ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None))
            scheduler = cluster.scheduler_address
        try:
            client = stack.enter_context(Client(scheduler, timeout="30s"))
        except OSError as error:
            raise ConfigError(f"--scheduler {scheduler}: no Dask scheduler answers there ({error}); start one "
                              f"(dask scheduler) or use --dask-local N") from None
        from spikingbp.dask_worker import ImportBrian2

        client.register_plugin(ImportBrian2())
        futures = {}
        for index, task in enumerate(tasks):
            key = f"spikingbp-point-{Path(task[3][0]).name}-{time.time_ns()}"   # named by its first point
            futures[client.submit(run_points, *task, key=key, pure=False, retries=DASK_RETRIES)] = index
        for future in as_completed(futures):
            done(futures[future], future.result())


#: executor name -> the function that runs the tasks there.
EXECUTORS = {"serial": _serial, "processes": _processes, "dask": _dask}

__all__ = ["Sweep", "SweepResult", "run_sweep", "gather", "parse_param", "grid_points", "random_points",
           "point_name", "Distribution", "JOBS", "EXECUTORS", "run_points"]
