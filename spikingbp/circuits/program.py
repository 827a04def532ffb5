"""Compiled circuits: one cpp_standalone program per circuit shape, rerun with new spikes and weights.

Brian2 2.5.4 has no ``run_args`` for values (2.6 added them, and brian2genn needs < 2.6): a cpp_standalone
binary loads every initial value from the files in ``static_arrays/`` when it starts, and writes every
final value to ``results/``. A ``Program`` is such a built project plus a manifest (``manifest.json``):
which static-array files hold what changes from run to run (the spikes of all sources, the weights of the
projections named variable) and which results files hold what a run reports (spikes and states of
populations, final weights of projections). ``Program.run(sources, weights)`` writes a run's spikes and
variable weights into those files, calls the binary and reads the results: no Brian2 and no compiler
(this module imports neither).

Sizes are fixed when the program is built: the sources hold ``capacity`` spikes, the real ones followed by
padding spikes of one extra, unconnected source unit at steps after the run's end (never emitted), and
every other array keeps the size it was built with. ``signature(circuit)`` is what the generated code
depends on (populations, projections with their indices and constant weights, sources' sizes, steps,
records, versions); two circuits with one signature share a program.

``ProgramCache`` keeps programs in directories named by the signature's hash, under
``$SPIKINGBP_CACHE`` (default ``~/.cache/spikingbp``, or ``$XDG_CACHE_HOME/spikingbp``), shared by every run
directory, seed and sample count; each directory's ``manifest.json`` records its signature, its files and how
long it took to compile. Its ``headers/`` holds the standard headers that every generated C++ file includes,
precompiled once per compiler and flags (``precompiled_header``): parsing them is most of a file's compile time.
A signature needs the circuit, and building a circuit needs Brian2 (1.5-2 s to import); so the cache also
keeps a shape index (``shapes/``): what a caller calls the shape (e.g. sBP training, 400-400-10, 1000 samples
a run) together with a digest of spikingbp's own source files -> the program's directory. A run whose shape
is indexed finds its program without building a circuit; any change to the package's code misses the index
once, and the rebuilt circuit's signature finds the program again (or compiles one that differs).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np

from spikingbp.circuits.spikes import CircuitResult, SpikeSource
from spikingbp.compat import results_file
from spikingbp.errors import CircuitError, ConfigError
from spikingbp.io import atomic_open

if TYPE_CHECKING:
    from spikingbp.circuits.circuit import Circuit

CACHE_ENV = "SPIKINGBP_CACHE"
MANIFEST = "manifest.json"
SHAPES = "shapes"  # the shape index: one small JSON file per shape
HEADERS = "headers"  # precompiled standard headers, one directory per compiler and flags
PADDING = "_padding"  # the source unit that carries the padding spikes


def default_cache() -> Path:
    """``$SPIKINGBP_CACHE``, else ``$XDG_CACHE_HOME/spikingbp``, else ``~/.cache/spikingbp``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "spikingbp"


def array_digest(array) -> str:
    """A short digest of an array's values and dtype (what program keys and shape indices hash)."""
    array = np.ascontiguousarray(array)
    return hashlib.sha256(array.tobytes() + str(array.dtype).encode()).hexdigest()[:16]


def _text_digest(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _versions() -> dict:
    import spikingbp

    return {"spikingbp": spikingbp.__version__, "brian2": importlib.metadata.version("brian2")}


@functools.lru_cache(maxsize=None)
def source_digest() -> str:
    """A digest of spikingbp's own Python source files: the circuits and models a shape stands for."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def signature(circuit: Circuit, steps: int, capacity: int, variable_weights=(), record_spikes=(),
              record_states=None, record_weights=(), threads: int = 0) -> dict:
    """What the generated program of ``circuit`` depends on: everything but the spikes of its sources and
    the weights of ``variable_weights``. Models enter with their whole description (equations, code,
    defaults), so that an edited model builds a new program."""
    def plain(value):
        return value.tolist() if isinstance(value, np.ndarray) else repr(value)

    return {
        "versions": _versions(),
        "steps": int(steps), "capacity": int(capacity), "dt": float(circuit.dt), "threads": int(threads),
        "sample_steps": circuit.sample_steps, "name": circuit.name,
        "populations": [[p.name, p.size, p.model.name, _text_digest(p.model),
                         sorted((k, plain(v)) for k, v in p.params.items())] for p in circuit.populations.values()],
        "sources": [[s.name, s.size] for s in circuit.sources.values()],
        "projections": [[p.name, p.pre, p.post, array_digest(p.i), array_digest(p.j), p.delay, p.synapse.name,
                         _text_digest(p.synapse), sorted((k, plain(v)) for k, v in p.params.items()), p.kind, p.target,
                         "variable" if p.name in variable_weights else array_digest(p.weight)]
                        for p in circuit.projections.values()],
        "records": {"spikes": list(record_spikes), "states": {k: list(v) for k, v in (record_states or {}).items()},
                    "weights": list(record_weights), "variable": list(variable_weights)},
    }


@dataclasses.dataclass
class Program:
    """A built cpp_standalone project of one circuit shape and its manifest (module docstring)."""

    directory: Path
    manifest: dict

    @classmethod
    def load(cls, directory) -> "Program":
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST).read_text())
        try:
            os.utime(directory)   # its last use, which ``prune`` goes by
        except OSError:
            pass
        return cls(directory, manifest)

    @property
    def steps(self) -> int:
        return int(self.manifest["signature"]["steps"])

    def run(self, sources: Mapping[str, SpikeSource], weights: Mapping[str, np.ndarray]) -> CircuitResult:
        """Run the program on the spikes of ``sources`` (every source of its circuit, by name) and the
        ``weights`` of its variable projections (by name, in the order of their synapses).

        The binary opens ``static_arrays/`` and ``results/`` relative to its working directory, so each run
        gets a scratch directory of its own: links to the program's files, the changed files written
        fresh. The program directory is never modified, so a run killed half-way leaves it intact and runs
        in parallel processes do not meet."""
        manifest = self.manifest
        scratch = Path(tempfile.mkdtemp(prefix="spikingbp-run-"))
        try:
            (scratch / "results").mkdir()
            (scratch / "static_arrays").mkdir()
            constant = self._constant_sources()
            changed = {place["file"] for name, place in manifest["sources"].items() if name not in constant} | \
                      {place["file"] for place in manifest["weights"].values()}
            for path in (self.directory / "static_arrays").iterdir():
                if f"static_arrays/{path.name}" not in changed:
                    (scratch / "static_arrays" / path.name).symlink_to(path)
            self._write_sources(sources, scratch, skip=constant)
            missing = sorted(set(manifest["weights"]) - set(weights))
            if missing:
                raise ConfigError(f"the program in {self.directory} needs the weights of {missing}")
            for file in {place["file"] for place in manifest["weights"].values()}:
                dtype = next(_dtype(place) for place in manifest["weights"].values() if place["file"] == file)
                values = np.fromfile(self.directory / file, dtype=dtype)  # the built values: constant parts
                for name, place in manifest["weights"].items():
                    if place["file"] == file:
                        if np.shape(weights[name]) != (place["stop"] - place["start"],):
                            raise ConfigError(f"projection {name!r} has {place['stop'] - place['start']} synapses "
                                              f"in the program; got weights of shape {np.shape(weights[name])}")
                        values[place["start"]:place["stop"]] = weights[name]
                values.tofile(scratch / file)
            started = time.perf_counter()
            done = subprocess.run([str(self.directory / "main")], cwd=scratch, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                if done.returncode == -signal.SIGINT:  # Ctrl-C reached the binary too
                    raise KeyboardInterrupt
                raise CircuitError(f"the compiled program in {self.directory} failed (exit {done.returncode}): "
                                   f"{done.stderr.strip()[-500:]}; delete that directory to rebuild it")
            self.last_run_seconds = time.perf_counter() - started
            return self._read_results(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _constant_sources(self) -> set:
        """The source arrays every run would write as the build wrote them: ``spike_number``, 0 .. capacity - 1
        (the spikes are sorted by time), is linked, not rewritten (a quarter of the bytes a run writes)."""
        if self.directory not in _CONSTANT_SOURCES:
            place = self.manifest["sources"].get("spike_number")
            capacity = int(self.manifest["signature"]["capacity"])
            built = np.fromfile(self.directory / place["file"], dtype=place["dtype"]) if place else None
            _CONSTANT_SOURCES[self.directory] = {"spike_number"} if built is not None and np.array_equal(
                built, np.arange(capacity)) else set()
        return _CONSTANT_SOURCES[self.directory]

    def _write_sources(self, sources: Mapping[str, SpikeSource], directory: Path, skip=()) -> None:
        files = self.manifest["sources"]
        steps = self.steps
        indices, times, offset = [], [], 0
        for name, size in self.manifest["source_sizes"]:
            if name not in sources:
                raise ConfigError(f"the program in {self.directory} needs the spikes of source {name!r}")
            source = sources[name]
            if source.size != size:
                raise ConfigError(f"source {name!r} has {source.size} units; the program was built for {size}")
            keep = source.steps < steps + 1
            indices.append(source.indices[keep] + offset)
            times.append(source.steps[keep])
            offset += size
        indices, times = np.concatenate(indices), np.concatenate(times)
        capacity = int(self.manifest["signature"]["capacity"])
        if len(indices) > capacity:
            raise CircuitError(f"{len(indices)} source spikes do not fit the program's capacity of {capacity}")
        # by step, then unit (what SpikeGeneratorGroup sorts them by; Brian2 then numbers them 0, 1, ...)
        order = np.argsort(times * offset + indices, kind="stable")
        padding = capacity - len(indices)
        indices = np.concatenate([indices[order], np.full(padding, offset, np.int64)])
        times = np.concatenate([times[order], steps + 2 + np.arange(padding)])
        dt = float(self.manifest["signature"]["dt"])
        seconds = times * dt
        values = {"neuron_index": indices, "spike_time": seconds, "spike_number": np.arange(capacity),
                  "_timebins": (seconds + 1e-3 * dt) / dt}  # timebins as SpikeGeneratorGroup.before_run makes them
        for name, place in files.items():
            if name not in skip:
                np.asarray(values[name]).astype(place["dtype"], copy=False).tofile(directory / place["file"])

    def _read_results(self, directory: Path) -> CircuitResult:
        manifest = self.manifest
        steps, dt = self.steps, float(manifest["signature"]["dt"])
        spikes = {}
        for name, place in manifest["spikes"].items():
            units = np.fromfile(directory / place["i"], dtype=np.int32).astype(np.int64)
            step = np.round(np.fromfile(directory / place["t"], dtype=np.float64) / dt).astype(np.int64)
            mine = (units >= place["offset"]) & (units < place["offset"] + place["size"])
            spikes[name] = (step[mine], units[mine] - place["offset"], place["size"])
        states = {}
        for name, variables in manifest["states"].items():
            states[name] = {variable: np.fromfile(directory / place["file"], dtype=np.float64).reshape(
                -1, place["units"]) for variable, place in variables.items()}
        weights = {name: np.fromfile(directory / place["file"], dtype=_dtype(place))[place["start"]:place["stop"]]
                   for name, place in manifest["results"].items()}
        return CircuitResult(steps, spikes, states, weights)


_CONSTANT_SOURCES: dict = {}   # program directory -> the source arrays its runs leave as built


def _dtype(place: dict) -> np.dtype:
    """The type a weight file holds (programs built before weights had a type of their own: float64)."""
    return np.dtype(place.get("dtype", "float64"))


class ProgramCache:
    """Programs by signature in ``root`` (default ``default_cache()``); ``get`` builds what is missing."""

    def __init__(self, root=None, *, on_compile=None):
        self.root = Path(root).expanduser() if root is not None else default_cache()
        self.on_compile = on_compile  # called with a description before a program is compiled
        self.compiled = 0             # programs this cache object compiled
        self.compile_seconds = 0.0    # the time they took (building the circuit included)

    def directory(self, key: dict) -> Path:
        return self.root / _key_hash(key)

    def program(self, shape: dict, circuit: Callable[[], "Circuit"], steps: int, capacity: int, *,
                variable_weights=(), record_spikes=(), record_states=None, record_weights=(), threads: int = 0,
                label: str | None = None) -> Program:
        """The program of ``shape``: a small JSON-able description of what ``circuit()`` builds, that
        determines the circuit up to the spikes of its sources and the weights of ``variable_weights``
        (e.g. ``{"circuit": "sbp.training", "sizes": [400, 400, 10]}``). Found in the shape index without
        building the circuit (and without Brian2); otherwise ``circuit()`` is built and ``get`` finds or
        compiles its program, which the index then records. The other arguments are those of ``get``."""
        key = {"shape": shape, "source": source_digest(), "versions": _versions(), "steps": int(steps),
               "capacity": int(capacity), "threads": int(threads), "variable": list(variable_weights),
               "records": [list(record_spikes), {k: list(v) for k, v in (record_states or {}).items()},
                           list(record_weights)]}
        index = self.root / SHAPES / f"{_key_hash(key)}.json"
        if index.is_file():
            directory = self.root / json.loads(index.read_text())["program"]
            if (directory / MANIFEST).is_file() and (directory / "main").is_file():
                return Program.load(directory)
        program = self.get(circuit(), steps, capacity, variable_weights=variable_weights, record_spikes=record_spikes,
                           record_states=record_states, record_weights=record_weights, threads=threads, label=label)
        index.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(index, "w") as stream:
            json.dump({"shape": shape, "program": program.directory.name}, stream)
        return program

    def get(self, circuit: Circuit, steps: int, capacity: int, *, variable_weights=(), record_spikes=(),
            record_states=None, record_weights=(), threads: int = 0, label: str | None = None) -> Program:
        key = signature(circuit, steps, capacity, variable_weights, record_spikes, record_states, record_weights,
                        threads)
        directory = self.directory(key)
        if (directory / MANIFEST).is_file() and (directory / "main").is_file():
            return Program.load(directory)
        if self.on_compile is not None:
            self.on_compile(label or circuit.name)
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        building = directory.with_name(f".{directory.name}.{os.getpid()}.building")
        shutil.rmtree(building, ignore_errors=True)
        try:
            manifest = _build(circuit, steps, capacity, building, key, variable_weights, record_spikes,
                              record_states or {}, record_weights, threads)
            with atomic_open(building / MANIFEST, "w") as stream:
                json.dump(manifest, stream, indent=1)
            if directory.exists():  # another process built it meanwhile
                shutil.rmtree(building, ignore_errors=True)
            else:
                os.replace(building, directory)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        self.compiled += 1
        self.compile_seconds += time.perf_counter() - started
        return Program.load(directory)


def cache_entries(root=None) -> list:
    """The programs in the cache ``root`` (default ``default_cache()``): dicts of ``directory``, ``megabytes``,
    ``last_used`` (seconds since the epoch) and ``shapes`` (what callers called it), newest use first."""
    root = Path(root).expanduser() if root is not None else default_cache()
    if not root.is_dir():
        return []
    shapes: dict = {}
    for _, entry in _shape_index(root):
        if entry is not None and "shape" in entry:
            shapes.setdefault(entry["program"], []).append(entry["shape"])
    entries = []
    for directory in root.iterdir():
        if not directory.is_dir() or directory.name in (SHAPES, HEADERS) or directory.name.startswith("."):
            continue
        size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file() and not path.is_symlink())
        entries.append({"directory": directory, "megabytes": size / 1e6, "last_used": directory.stat().st_mtime,
                        "shapes": shapes.get(directory.name, [])})
    return sorted(entries, key=lambda entry: -entry["last_used"])


def header_sets(root=None) -> list:
    """The precompiled standard header sets of the cache ``root`` (``precompiled_header``; default
    ``default_cache()``): dicts of ``directory``, ``megabytes`` and ``last_used``, one per compiler and flags."""
    root = Path(root).expanduser() if root is not None else default_cache()
    found = sorted(path for path in (root / HEADERS).glob("[!.]*") if path.is_dir())
    return [{"directory": path, "megabytes": sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 1e6,
             "last_used": path.stat().st_mtime} for path in found]


def _shape_index(root: Path) -> list:
    """The shape index of the cache ``root``: (index file, its entry, or None where it cannot be read or names
    no program)."""
    found = []
    for index in (root / SHAPES).glob("*.json") if (root / SHAPES).is_dir() else ():
        try:
            entry = json.loads(index.read_text())
        except (OSError, ValueError):
            entry = None
        found.append((index, entry if isinstance(entry, dict) and "program" in entry else None))
    return found


def prune_cache(root=None, older_than_days: float = 30.0) -> list:
    """Remove the programs of the cache ``root`` not used for ``older_than_days`` days (0: all), with their shape
    index entries; returns the removed directories. A removed program is compiled again when next needed."""
    root = Path(root).expanduser() if root is not None else default_cache()
    if older_than_days < 0 or not np.isfinite(older_than_days):
        raise ConfigError(f"older_than_days={older_than_days!r} must be a non-negative number of days")
    limit = time.time() - older_than_days * 86400
    removed = [entry["directory"] for entry in cache_entries(root) if entry["last_used"] <= limit]
    names = {directory.name for directory in removed}
    for index, entry in _shape_index(root):
        if entry is None or entry["program"] in names:   # unreadable: a missed index costs one circuit build
            index.unlink(missing_ok=True)
    for directory in removed:
        shutil.rmtree(directory, ignore_errors=True)
    for headers in header_sets(root):
        if headers["last_used"] <= limit:   # precompiled_header stamps each use
            shutil.rmtree(headers["directory"], ignore_errors=True)
    return removed


#: the standard headers that the C++ Brian2 generates includes in (nearly) every file, directly or through its
#: objects.h; with GCC 12 they are 0.35 of a code object's 0.55 s compile, and a program has 30-60 files
STANDARD_HEADERS = ("algorithm", "cassert", "chrono", "climits", "cmath", "cstddef", "cstring", "ctime", "fstream",
                    "iostream", "iterator", "limits", "random", "set", "type_traits", "utility", "vector", "stdint.h")


def precompiled_header(flags, root=None) -> list:
    """Compiler arguments that start every file of a cpp_standalone project from ``STANDARD_HEADERS``
    precompiled with ``flags`` (the project's own), by GCC, in ``root/headers/`` (``root``: default
    ``default_cache()``); built once per compiler, version and flags, in about a second. Where the compiler (``$CXX``,
    else make's ``g++``) is not GCC or the header cannot be built, none: the files then parse the headers
    themselves. The program is the same either way (the code objects' object files are byte for byte the same;
    GCC ignores a precompiled header built with other options and reads the header instead)."""
    import re
    import shlex

    compiler = shlex.split(os.environ.get("CXX") or "g++")
    identity = _gcc_identity(tuple(compiler))
    root = Path(root).expanduser() if root is not None else default_cache()
    if identity is None:
        return []
    text = "".join(f"#include <{name}>\n" for name in STANDARD_HEADERS)
    directory = root / HEADERS / _text_digest([identity, list(flags), text])
    header = directory / "spikingbp_std.h"
    if not re.fullmatch(r"[\w./+@=-]+", str(header)):   # the makefile passes it through the shell unquoted
        return []
    arguments = [f"-include{header}"]   # one argument: Brian2 tries each flag on its own and drops those that fail
    compiled = header.with_name(header.name + ".gch")
    if compiled.is_file() and header.is_file():
        try:
            os.utime(directory)   # used: prune_cache keeps it
        except OSError:           # a cache one may read but not write
            pass
        return arguments
    if directory.exists() and not (compiled.is_file() and header.is_file()):   # looked at again: another process
        shutil.rmtree(directory, ignore_errors=True)   # may have just put a whole set there; a part is damaged
    building = directory.with_name(f".{directory.name}.{os.getpid()}.building")
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir(parents=True)
        (building / header.name).write_text(text)
        done = subprocess.run([*compiler, "-x", "c++-header", *flags, header.name, "-o", compiled.name],
                              cwd=building, capture_output=True, timeout=600)
        if done.returncode != 0:
            return []
        try:
            os.replace(building, directory)
        except OSError:   # another process put it there meanwhile
            pass
    except (OSError, subprocess.SubprocessError):
        return []
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return arguments if compiled.is_file() else []


@functools.lru_cache(maxsize=None)
def _gcc_identity(compiler: tuple):
    """``compiler --version`` where ``compiler`` is GCC (whose precompiled headers ``precompiled_header``
    builds), else None."""
    try:
        macros = subprocess.run([*compiler, "-dM", "-E", "-x", "c++", os.devnull], capture_output=True, text=True,
                                timeout=60)
        version = subprocess.run([*compiler, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if macros.returncode != 0 or "__GNUC__" not in macros.stdout or "__clang__" in macros.stdout:
        return None
    return version.stdout


def _key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def _build(circuit: Circuit, steps: int, capacity: int, directory: Path, key: dict, variable_weights,
           record_spikes, record_states: dict, record_weights, threads: int) -> dict:
    """Build ``circuit`` (its sources padded to ``capacity`` spikes) as a cpp_standalone project in
    ``directory`` and return the manifest."""
    from brian2 import defaultclock, get_device

    from spikingbp.devices import compiler_interrupts, use_device

    template = _padded(circuit, steps, capacity)
    started = time.perf_counter()
    with use_device("cpp_standalone", str(directory), threads=threads, run=False,   # compiled, not simulated
                    cache=directory.parent):
        defaultclock.dt = template.dt
        built = template.build(list(record_spikes), record_states, tuple(record_weights) + tuple(
            name for name in variable_weights if name not in record_weights))
        with compiler_interrupts():
            built.network.run(steps * template.dt)
        device = get_device()
        static = {}  # Brian2 array name -> its static-array file (the last one set)
        for action, arguments in device.main_queue:
            if action == "set_by_array":
                static[arguments[0]] = arguments[1]

        def static_file(variable):
            return "static_arrays/" + static[device.get_array_name(variable, access_data=False)]

        def static_dtype(variable):
            return str(device.static_arrays[static[device.get_array_name(variable, access_data=False)]].dtype)

        group = built.source_group
        sources = {name: {"file": static_file(group.variables[name]), "dtype": static_dtype(group.variables[name])}
                   for name in ("neuron_index", "spike_time", "spike_number", "_timebins")
                   if device.get_array_name(group.variables[name], access_data=False) in static}
        weights, results = {}, {}
        for name in variable_weights:
            syn, part = built.projection_slices[name]
            weights[name] = {"file": static_file(syn.variables["w"]), "start": part.start, "stop": part.stop,
                             "dtype": static_dtype(syn.variables["w"])}   # the values' type, not the variable's
        for name in record_weights:
            syn, part = built.projection_slices[name]
            results[name] = {"file": results_file(device, syn.variables["w"]), "start": part.start,
                             "stop": part.stop, "dtype": np.dtype(syn.variables["w"].dtype).name}
        spikes = {}
        for name in record_spikes:
            group_of, offset = built.offsets[name]
            monitor = built.spike_monitors[group_of.name]
            spikes[name] = {"i": results_file(device, monitor.variables["i"]),
                            "t": results_file(device, monitor.variables["t"]), "offset": int(offset),
                            "size": template.populations[name].size}
        states = {name: {variable: {"file": results_file(device, monitor.variables[variable]),
                                    "units": template.populations[name].size} for variable in variables}
                  for name, (monitor, variables) in built.state_monitors.items()}
    return {"signature": key, "sources": sources, "source_sizes": [[s.name, s.size] for s in circuit.sources.values()],
            "weights": weights, "results": results, "spikes": spikes, "states": states,
            "compile_seconds": round(time.perf_counter() - started, 1)}


def _padded(circuit: Circuit, steps: int, capacity: int) -> Circuit:
    """A shallow copy of ``circuit`` with one more source unit whose spikes, after the run's end, fill the
    sources up to ``capacity`` spikes."""
    from spikingbp.circuits.circuit import Circuit

    real = sum(len(s.indices) for s in circuit.sources.values())
    if real > capacity:
        raise ConfigError(f"circuit {circuit.name!r} has {real} source spikes, more than the capacity {capacity}")
    template = Circuit(circuit.name, circuit.dt, sample_steps=circuit.sample_steps, layout=circuit.layout)
    template.populations = dict(circuit.populations)
    template.sources = dict(circuit.sources)
    template.projections = dict(circuit.projections)
    padding = capacity - real
    template.add_source(PADDING, 1, np.zeros(padding, np.int64), steps + 2 + np.arange(padding))
    return template


__all__ = ["Program", "ProgramCache", "signature", "source_digest", "default_cache", "cache_entries", "prune_cache", "CACHE_ENV"]
