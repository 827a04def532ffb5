"""What each Dask worker of a sweep does when it starts (imported only where Dask is installed)."""
from distributed.diagnostics.plugin import WorkerPlugin


class ImportBrian2(WorkerPlugin):
    """Import Brian2 when the worker starts. Brian2 2.9+ installs a Ctrl-C handler when first imported, which
    fails in a task's thread (only the main thread may set signal handlers), so that every point's first attempt
    would fail and use up a retry."""

    name = "spikingbp-import-brian2"

    def setup(self, worker):
        import brian2  # noqa: F401
