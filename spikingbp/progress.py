"""Progress bars that stay readable in a log: on a terminal, tqdm's bar redrawn in place; elsewhere (a file, a
pipe, ``nohup``) plain lines without carriage returns or cursor codes: one every ``LOG_INTERVAL`` seconds of
progress, and one whenever the caller refreshes the bar (the training loop does after each chunk)."""
from __future__ import annotations

import sys

LOG_INTERVAL = 60.0   # seconds between two lines of a bar written to a log


class _Lines:
    """A stream that turns tqdm's in-place redraws into whole lines."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        for line in text.replace("\r", "\n").split("\n"):
            line = line.replace("\x1b[A", "").rstrip()   # the cursor-up code of nested bars
            if line:
                self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def bar(*, file=None, **kwargs):
    """A ``tqdm`` bar on ``file`` (default: standard error), in the form that suits it (module docstring)."""
    from tqdm.auto import tqdm

    stream = file if file is not None else sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        return tqdm(file=stream, dynamic_ncols=True, **kwargs)
    return tqdm(file=_Lines(stream), mininterval=LOG_INTERVAL, ncols=110, ascii=True, **kwargs)
