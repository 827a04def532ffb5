"""Registered learning algorithms: ``REGISTRY`` maps a name to its ``Algorithm`` class.

A new algorithm is a circuit module (``spikingbp.circuits``), a reference module (``spikingbp.reference``),
an adapter module here that decorates its class with ``@register``, and one import line below.
"""
from __future__ import annotations

from spikingbp.algorithms.base import (BRIAN_DEVICES, PHASES, REFERENCE, Algorithm, CircuitRun, Option, Params,
                                       RunContext, Sizes)
from spikingbp.errors import ConfigError

REGISTRY: dict = {}


def register(cls):
    """Class decorator: add an ``Algorithm`` subclass to ``REGISTRY`` under its ``name``.

    Parameters
    ----------
    cls : type
        The subclass.

    Returns
    -------
    type
        ``cls``, unchanged.
    """
    if cls.name in REGISTRY:
        raise ConfigError(f"an algorithm named {cls.name!r} is already registered")
    REGISTRY[cls.name] = cls
    return cls


def algorithm_class(name: str):
    key = str(name).strip().lower()
    if key not in REGISTRY:
        raise ConfigError(f"unknown algorithm {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[key]


def create(name: str, options: dict | None = None) -> Algorithm:
    """An instance of a registered algorithm, its options checked and defaults filled in.

    Parameters
    ----------
    name : str
        The algorithm's name (``REGISTRY``).
    options : dict or None
        Its options.

    Returns
    -------
    Algorithm

    Raises
    ------
    ConfigError
        An unknown algorithm or option, or a value outside an option's bounds.
    """
    return algorithm_class(name)(**(options or {}))


def all_devices() -> tuple:
    """Every device some registered algorithm runs on, reference first."""
    return tuple(dict.fromkeys(device for cls in REGISTRY.values() for device in cls.devices))


from spikingbp.algorithms import erbp, sbp, ssnnbp  # noqa: E402,F401  (registers erbp, sbp and ssnnbp)

__all__ = ["REGISTRY", "register", "algorithm_class", "create", "all_devices", "Algorithm", "Option", "Params",
           "Sizes", "RunContext", "CircuitRun", "REFERENCE", "BRIAN_DEVICES", "PHASES"]
