"""Writing files so that nothing half-written is ever left behind, and keeping tools' output off the terminal."""
from __future__ import annotations

import json
import os
import sys
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


def write_json(path, value, indent: int = 2) -> Path:
    """``value`` as JSON in ``path`` (atomically, ``atomic_open``), with a final newline; returns the path."""
    with atomic_open(path, "w") as stream:
        json.dump(value, stream, indent=indent)
        stream.write("\n")
    return Path(path)


def write_csv(path, frame) -> Path:
    """A pandas DataFrame as CSV in ``path`` (atomically, without the index); returns the path."""
    with atomic_open(path, "w") as stream:
        frame.to_csv(stream, index=False)
    return Path(path)


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


@contextmanager
def tool_output_to(log_path, tail_lines: int = 20):
    """Send everything written to file descriptors 1 and 2 in the block (compilers, make, GeNN's scripts,
    Brian2's messages) to the end of ``log_path``; yields a text stream to the terminal's stderr, for the
    progress bar and results. When the block raises, the last ``tail_lines`` lines it logged are shown on
    the terminal before the error goes on."""
    log_path = Path(log_path)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = os.fdopen(os.dup(saved[2]), "w", buffering=1)
    with open(log_path, "ab") as log:
        start = log.tell()
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        try:
            yield terminal
        except BaseException:
            _restore(saved)
            tail = log_path.read_bytes()[start:].decode(errors="replace").splitlines()[-tail_lines:]
            if tail and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
                terminal.write(f"last lines of {log_path}:\n" + "".join(f"  {line}\n" for line in tail))
            raise
        finally:
            _restore(saved)
            terminal.close()


def _restore(saved: dict) -> None:
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    for fd, copy in list(saved.items()):
        os.dup2(copy, fd)
        os.close(copy)
        del saved[fd]


__all__ = ["atomic_open", "write_json", "write_csv", "check_creatable_dir", "make_dir", "tool_output_to"]
