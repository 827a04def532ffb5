"""What differs between the stacks spikingbp supports, in one place.

Two stacks are tested (``docs/guide/install.md``): Python 3.11-3.13 with Brian2 2.9-2.11 and numpy 2 (the core,
and brian2cuda 1.0b1 on Python 3.12+), and Python 3.10 with Brian2 2.5.4 and numpy 1.26, the stack the optional
back ends need (brian2genn 1.7 generates code only with Brian2 2.5.4; lava-nc 0.10 runs only on Python 3.10 with
numpy < 2). The package decides by what an installation does, not by version numbers, where it can.
"""
from __future__ import annotations

import importlib.util
import sys

RESULTS_DIR = "results/"   # where a compiled program writes its final values, relative to its working directory

#: The optional back ends: the module that provides each, and what a user without it is told.
BACKENDS = {
    "genn": ("brian2genn", "the genn device needs brian2genn, which generates code only with Brian2 2.5.4 on "
                           "Python 3.10: pip install 'spikingbp[genn]' in a Python 3.10 environment"),
    "lava": ("lava", "Lava needs lava-nc 0.10, which runs only on Python 3.10 with numpy < 2: "
                     "pip install 'spikingbp[lava]' in a Python 3.10 environment"),
    "cuda": ("brian2cuda", "the cuda device needs brian2cuda: pip install 'spikingbp[cuda]' (brian2cuda 1.0b1 on "
                           "Python 3.12 or newer, 1.0a3 on 3.10) and a CUDA toolkit with nvcc"),
}


def has_backend(name: str) -> bool:
    """Whether the optional back end ``name`` (``BACKENDS``) is installed."""
    return importlib.util.find_spec(BACKENDS[name][0]) is not None


def missing_backend(name: str) -> str:
    """What to install, and on which Python, for the back end ``name``; says which Python this is."""
    return f"{BACKENDS[name][1]} (this is Python {sys.version_info.major}.{sys.version_info.minor})"


def results_file(device, variable) -> str:
    """The file, relative to a compiled program's working directory, that it writes ``variable``'s final value
    to: Brian2 < 2.6 names it with the results directory (``results/_array_...``), later versions without."""
    name = device.get_array_filename(variable)
    return name if name.startswith(RESULTS_DIR) else RESULTS_DIR + name
