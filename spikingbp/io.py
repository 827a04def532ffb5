"""Writing files so that nothing half-written is ever left behind."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_open(path, mode: str = "w"):
    """Open a fresh temporary file beside ``path`` for writing (``mode`` "w" or "wb"); when the block ends
    without error the file is flushed to disk and renamed over ``path`` (``os.replace``, atomic),
    otherwise it is removed. Readers see the old file or the complete new one, never a part."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, mode.replace("w", "x")) as stream:  # "x": never reuse an existing file
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_creatable_dir(path, flag: str = "--out") -> None:
    """Refuse (``ConfigError``) a directory that cannot be created or written, before anything is written:
    an existing file, a file among its parents, or an unwritable parent."""
    from spikingbp.errors import ConfigError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file; give a directory")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{flag} {path} cannot be created: {ancestor} is a file; give a path under a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} {path} cannot be created: {ancestor} is not writable; give a writable directory")


def make_dir(path, flag: str = "--out") -> Path:
    """``mkdir -p path``, an ``OSError`` turned into a ``ConfigError`` that names ``flag``."""
    from spikingbp.errors import ConfigError

    path = Path(path)
    check_creatable_dir(path, flag)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{flag} {path} cannot be created ({error.strerror}); give a writable directory") from None
    return path


__all__ = ["atomic_open", "check_creatable_dir", "make_dir"]
