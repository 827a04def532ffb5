"""Select and reset a Brian2 device (backend) by name.

``runtime``        Brian2's runtime mode; code target ``cython`` (default) or ``numpy``.
``cpp_standalone`` one C++ program per run, built in its own directory; OpenMP threads settable.
``genn``           brian2genn code generation; compiling and running needs GeNN 4.x (``GENN_PATH``).
``cuda``           brian2cuda (``pip install 'spikingbp[cuda]'`` and a CUDA toolkit).

The C++ of ``runtime`` (cython) and ``cpp_standalone`` is compiled with IEEE floating point
(``EXACT_FLOAT_FLAGS``: Brian2's defaults less ``-ffast-math``, and ``-ffp-contract=off``): a fused multiply-add
or a reassociated sum rounds differently from numpy, and the float circuits (SSNN-BP, eRBP) reproduce their
numpy references bit for bit only when the compiler keeps every operation as written.

Use it as a context manager, so that every run starts on a clean device::

    with use_device("cpp_standalone", directory=tmp, threads=2):
        circuit.run(100 * ms)
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from contextlib import contextmanager

from spikingbp.compat import has_backend, missing_backend
from spikingbp.errors import DeviceError

DEVICES = ("runtime", "cpp_standalone", "genn", "cuda")
RUNTIME_TARGETS = ("cython", "numpy")
#: Compiler flags of runtime (cython) and cpp_standalone: each float operation as written (module docstring).
EXACT_FLOAT_FLAGS = ["-w", "-O3", "-march=native", "-ffp-contract=off", "-std=c++11"]


def _cython_cache(flags) -> str | None:
    """Brian2's cython module cache, in a subdirectory named by the compiler flags."""
    import hashlib

    try:
        from Cython.Utils import get_cython_cache_dir
    except ImportError:  # no Cython: Brian2 falls back to numpy and never reads the cache
        return None
    digest = hashlib.sha256(" ".join(flags).encode()).hexdigest()[:12]
    return os.path.join(get_cython_cache_dir(), "brian_extensions", f"spikingbp-{digest}")


def find_genn() -> str | None:
    """The GeNN 4.x directory, from ``GENN_PATH``, ``prefs.devices.genn.path`` or ``genn-buildmodel.sh``
    on ``PATH`` (the order brian2genn itself uses), or ``None`` when GeNN is not installed."""
    candidates = [os.environ.get("GENN_PATH")]
    if has_backend("genn"):
        from brian2 import prefs
        import brian2genn  # noqa: F401  (registers prefs.devices.genn)

        candidates.insert(0, prefs.devices.genn.path)
    buildmodel = shutil.which("genn-buildmodel.sh")
    if buildmodel:
        candidates.append(os.path.normpath(os.path.join(os.path.dirname(buildmodel), "..")))
    for path in candidates:
        if path and os.path.isfile(os.path.join(path, "bin", "genn-buildmodel.sh")):
            return path
    return None


def genn_version(path: str) -> str | None:
    try:
        with open(os.path.join(path, "version.txt")) as f:
            return f.read().strip()
    except OSError:
        return None


def _runtime_status():
    return True, "numpy, and cython where a C compiler is present"


def _cpp_standalone_status():
    compiler = shutil.which("g++") or shutil.which("c++")
    return bool(compiler), "C++ compiler found" if compiler else "no C++ compiler (g++) on PATH"


def _genn_status():
    if not has_backend("genn"):
        return False, missing_backend("genn")
    genn = find_genn()
    if genn is not None:
        return True, f"GeNN {genn_version(genn)} at {genn}"
    if os.environ.get("GENN_PATH"):   # set, but not to a GeNN tree: name the value
        return False, (f"code generation only: GENN_PATH={os.environ['GENN_PATH']} holds no bin/genn-buildmodel.sh "
                       f"(give the GeNN 4.x directory)")
    return False, "code generation only: GeNN 4.x not found (set GENN_PATH)"


def _cuda_status():
    nvcc = shutil.which("nvcc") or os.environ.get("CUDA_PATH")
    if has_backend("cuda") and nvcc:
        return True, "brian2cuda and nvcc found"
    return False, (missing_backend("cuda") if not has_backend("cuda")
                   else "brian2cuda installed, but no CUDA toolkit (nvcc) found")


#: How to tell whether each device can build and run here (only genn's check imports Brian2).
DEVICE_STATUS = {"runtime": _runtime_status, "cpp_standalone": _cpp_standalone_status, "genn": _genn_status,
                 "cuda": _cuda_status}


def available_devices(names=DEVICES) -> dict:
    """Which of the devices ``names`` (default: all) can build and run here: name -> (usable, reason)."""
    for name in names:
        _check_name(name)
    return {name: DEVICE_STATUS[name]() for name in names}


@contextmanager
def compiler_interrupts():
    """Turn Ctrl-C during compilation back into the ``KeyboardInterrupt`` it was. Brian2 runs ``make``
    through ``os.system``, which hides SIGINT from Python; the killed build then surfaces as
    ``RuntimeError: Project compilation failed (error code: 2)``, where 2 is the wait status of a process
    killed by SIGINT (a make that fails on its own exits with status 2, wait status 512)."""
    try:
        yield
    except RuntimeError as error:
        code = re.search(r"error code: (\d+)", str(error))
        status = int(code.group(1)) if code else 0
        if code and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
            raise KeyboardInterrupt from None
        raise


def _check_name(name: str):
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")


def _reset_brian():
    """Forget the previous device's state and return to runtime mode, keeping ``defaultclock.dt``."""
    from brian2 import defaultclock, set_device
    from brian2.devices.device import reinit_devices

    dt = defaultclock.dt
    reinit_devices()
    set_device("runtime")
    defaultclock.dt = dt


@contextmanager
def use_device(name: str = "runtime", directory: str | None = None, *, target: str = "cython",
               threads: int | None = None, compile: bool = True, run: bool = True, use_GPU: bool = False,
               debug: bool = False, cache=None):
    """Select a Brian2 device for the enclosed code, and reset it afterwards (a context manager).

    Parameters
    ----------
    name : str
        ``runtime``, ``cpp_standalone``, ``genn`` or ``cuda`` (``available_devices()`` says which run here).
    directory : str or None
        Where a standalone device writes its project; None: a fresh temporary directory, removed on exit.
    target : str
        The runtime device's code generation target (``cython`` or ``numpy``).
    threads : int or None
        OpenMP threads of cpp_standalone (None: Brian2's default).
    compile, run : bool
        For the standalone devices: ``compile=False, run=False`` generates code only (genn and cuda need no
        installation for it); cpp_standalone with ``run=False`` compiles a program to be rerun later.
    use_GPU : bool
        GeNN on the GPU (else its CPU-only backend).
    debug : bool
        Build the standalone project with debugging on.
    cache : path or None
        cpp_standalone: the program cache whose precompiled standard headers its files start from (None:
        ``default_cache()``; ``spikingbp.circuits.program.precompiled_header``).

    Yields
    ------
    str or None
        The project directory (None for runtime).

    Raises
    ------
    DeviceError
        An unknown device or setting, or a device whose package is missing, with what it needs.
    """
    from brian2 import prefs, set_device

    _check_name(name)
    if name == "runtime" and target not in RUNTIME_TARGETS:
        raise DeviceError(f"unknown runtime code target {target!r}; choose one of {', '.join(RUNTIME_TARGETS)}")
    if threads is not None and (not isinstance(threads, int) or threads < 0):
        raise DeviceError(f"threads must be a non-negative integer (0: no OpenMP), got {threads!r}")
    if name in ("genn", "cuda") and not compile and run:
        raise DeviceError(f"device {name!r}: run=True needs compile=True")
    if name == "genn":
        if not has_backend("genn"):
            raise DeviceError(missing_backend("genn"))
        import brian2genn  # noqa: F401  (registers the 'genn' device)
        if compile and find_genn() is None:
            raise DeviceError(
                "GeNN 4.x was not found, so the genn device cannot compile or run. Fix: install GeNN 4.x "
                "(github.com/genn-team/genn, tag 4.9.0; CPU-only builds work) and set GENN_PATH to its "
                "directory, or put its bin/ on PATH (code generation alone needs no GeNN: from Python, "
                "use_device('genn', compile=False, run=False)).")
    if name == "cuda":
        if not has_backend("cuda"):
            raise DeviceError(missing_backend("cuda"))
        import brian2cuda  # noqa: F401  (registers the 'cuda_standalone' device)

    own_directory = directory is None and name != "runtime"
    if own_directory:
        directory = tempfile.mkdtemp(prefix=f"spikingbp_{name}_")
    _reset_brian()
    # brian2genn changes the last two of these and does not restore them.
    saved_prefs = {key: prefs[key] for key in ("codegen.target", "devices.cpp_standalone.openmp_threads",
                                                "codegen.loop_invariant_optimisations",
                                                "core.network.default_schedule",
                                                "codegen.cpp.extra_compile_args_gcc",
                                                "codegen.runtime.cython.cache_dir")}
    if name == "cuda":
        saved_prefs["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"] = \
            prefs["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"]
    try:
        if name == "runtime":
            prefs.codegen.target = target
            prefs.codegen.cpp.extra_compile_args_gcc = list(EXACT_FLOAT_FLAGS)
            # Brian2's cython cache is keyed by the code, not the flags: keep modules of these flags apart
            prefs.codegen.runtime.cython.cache_dir = _cython_cache(EXACT_FLOAT_FLAGS)
        elif name == "cpp_standalone":
            prefs.devices.cpp_standalone.openmp_threads = threads or 0
            set_device("cpp_standalone", directory=directory, build_on_run=True, compile=compile or run, run=run,
                       debug=debug)
            prefs.codegen.cpp.extra_compile_args_gcc = list(EXACT_FLOAT_FLAGS)
            if compile or run:   # the standard headers, parsed once per compiler and flags: half the compile time
                from spikingbp.circuits.program import precompiled_header

                prefs.codegen.cpp.extra_compile_args_gcc += precompiled_header(
                    EXACT_FLOAT_FLAGS + (["-fopenmp"] if threads else []), cache)
        elif name == "genn":
            set_device("genn", directory=directory, build_on_run=True, compile=compile, run=run,
                       use_GPU=use_GPU, debug=debug)
        else:
            set_device("cuda_standalone", directory=directory, build_on_run=True, compile=compile,
                       run=run, debug=debug)
            # brian2cuda 1.0a3 compiles as C++11; CUDA 12+ headers (thrust, cub) need C++17. nvcc takes
            # the last -std flag, so adding it after brian2cuda's own is enough (checked on CUDA 13.0).
            prefs.codegen.cpp.extra_compile_args_gcc = [
                "-std=c++17" if arg.startswith("-std=") else arg for arg in prefs.codegen.cpp.extra_compile_args_gcc]
            prefs.devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc = \
                list(prefs.devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc) + ["-std=c++17"]
        yield directory
    finally:
        _reset_brian()
        for key, value in saved_prefs.items():  # after the reset: brian2genn sets some while reinitialising
            prefs[key] = value
        # brian2genn also stores its preferences as Brian2's backup, which later restores bring back
        # (GeNN's schedule on the runtime device); make the restored values the backup instead.
        prefs._backup()
        if own_directory:
            shutil.rmtree(directory, ignore_errors=True)


__all__ = ["DEVICES", "EXACT_FLOAT_FLAGS", "use_device", "available_devices", "find_genn"]
