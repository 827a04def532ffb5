"""The argument checks of the package's entry points, in one place: a value that is not what a parameter takes is
a ``ConfigError`` naming the parameter (``epochs=0 must be at least 1``), never quietly reinterpreted. The
command line shows the same messages in its flags (``spikingbp.cli.in_flags``: ``--epochs 0 ...``)."""
from __future__ import annotations

import numpy as np

from spikingbp.errors import ConfigError


def whole(value, name: str, minimum: int | None = None, maximum: int | None = None, hint: str = "") -> int:
    """``value`` as an int: an integer (a bool is not one, nor is 2.0) in [``minimum``, ``maximum``]; ``hint``
    follows the message (e.g. "; give e.g. epochs=10")."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name}={value!r} is not a whole number{hint}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}{hint}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name}={value} must be at most {maximum}{hint}")
    return int(value)


def optional_whole(value, name: str, minimum: int | None = None, maximum: int | None = None, hint: str = ""):
    """``whole``, or None where ``value`` is None (a limit that means "all")."""
    return None if value is None else whole(value, name, minimum, maximum, hint)


__all__ = ["whole", "optional_whole"]
