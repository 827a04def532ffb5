"""Exceptions. Every error raised on bad user input names the problem and the fix."""


class SpikingBPError(Exception):
    """Base class of every error spikingbp raises on purpose."""

    exit_code = 1


class ConfigError(SpikingBPError, ValueError):
    """A parameter, shape, name or option is invalid."""

    exit_code = 2


class DataError(SpikingBPError):
    """A dataset is missing, corrupt or inconsistent."""

    exit_code = 3


class DeviceError(SpikingBPError):
    """A Brian2 device (backend) is unknown or cannot be used here."""

    exit_code = 4


class CircuitError(SpikingBPError):
    """A circuit left the behaviour its reference defines (e.g. a plastic copy diverged)."""

    exit_code = 1
