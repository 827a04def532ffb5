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


__all__ = ["atomic_open"]
