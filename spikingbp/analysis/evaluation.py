"""Test a trained run again: its final, best or initial params on its test set, with test-time options changed
(SSNN-BP's dropout compensation ``test_scale``, a longer sample, another device) and nothing retrained.

With no option changed, the final params give the test accuracy of the run's last epoch to the last digit (the
test trains are drawn from the run's seed and the sample's index, the same every epoch). Every evaluation is
appended to ``evaluations.csv`` in the run directory, with what was changed, the device, the number of test
samples and when, so that a number quoted from it names its command.
"""
from __future__ import annotations

import datetime
from pathlib import Path

from spikingbp.rundir import METRICS_FILE

CSV_FILE = "evaluations.csv"


def evaluate_run(run_dir, params: str = "final", options: dict | None = None, device: str | None = None,
                 limit_test: int | None = None, data_dir=None, cache=None, progress: bool = True,
                 record: bool = True) -> dict:
    """Test the run in ``run_dir`` again.

    Parameters
    ----------
    run_dir : str or Path
        The ``out`` directory of ``spikingbp train``: a finished run, or one under way (its checkpoint's params
        stand for ``final``).
    params : str
        ``final``, ``best`` (``weights_best.npz``, the best test epoch) or ``initial``.
    options : dict or None
        Options of the algorithm changed for this test (the same weights): ``{"test_scale": "true"}``.
    device : str or None
        Where the test runs (default: the device the run trained on).
    limit_test : int or None
        Test on the first ``limit_test`` samples of the run's test set (default: as many as the run tested).
    data_dir : str or Path or None
        Directory of the IDX files (default: the run's).
    cache : str or Path or None
        Compiled-program cache (default: the run's, else the user's).
    progress : bool
        Show a progress bar.
    record : bool
        Append the result to ``evaluations.csv`` in the run directory.

    Returns
    -------
    dict
        ``run``, ``params``, ``epochs_done``, ``device``, ``n_test``, ``options`` (the changed ones, as the
        algorithm read them), ``accuracy`` and every measure of the algorithm.
    """
    import dataclasses

    from spikingbp.algorithms import RunContext, create
    from spikingbp.checks import whole
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.progress import bar as progress_bar
    from spikingbp.rundir import WEIGHTS_FINAL_FILE, load_run
    from spikingbp.training import _check_device

    if limit_test is not None:
        whole(limit_test, "limit_test", minimum=1, hint=" (test samples); give e.g. limit_test=1000")
    run = load_run(run_dir, under_way=True)
    finished = (Path(run_dir) / WEIGHTS_FINAL_FILE).is_file()
    algorithm = create(run.algorithm.name, {**run.config.options, **(options or {})})
    device = device or run.config.device
    _check_device(device, algorithm)
    chosen = run.params(params)
    data = run.data(data_dir, limit=run.test_limit(limit_test))
    X, T = data.X_test, data.T_test
    epochs_done = _epochs_done(run_dir)
    context = RunContext(device, None, run.config.seed, epoch=max(epochs_done, 1), chunk=run.config.chunk,
                         programs=ProgramCache(cache if cache is not None else run.config.cache))
    with progress_bar(total=len(X), desc="evaluating the test set", unit="sample", disable=not progress) as bar:
        scores = algorithm.evaluate(chosen, X, T, dataclasses.replace(context, on_samples=bar.update))
    changed = {name: algorithm.values[name] for name in (options or {})}
    result = {"run": str(run_dir), "params": params if finished or params != "final" else "checkpoint",
              "epochs_done": epochs_done, "device": device, "n_test": len(X), "options": changed,
              **{name: float(value) for name, value in scores.items()}}
    if record:
        _append(Path(run_dir) / CSV_FILE, result)
    return result


def _epochs_done(run_dir) -> int:
    """The epochs the run's metrics.csv records (0 before its first)."""
    import pandas as pd

    path = Path(run_dir) / METRICS_FILE
    return len(pd.read_csv(path)) if path.is_file() else 0


def _append(path: Path, result: dict) -> None:
    """Add ``result`` as a row of the CSV at ``path`` (written whole, atomically; options as NAME=VALUE)."""
    import pandas as pd

    from spikingbp.io import atomic_open

    row = {"when": datetime.datetime.now().isoformat(timespec="seconds"),
           **{key: value for key, value in result.items() if key not in ("run", "options")},
           "options": " ".join(f"{name}={value}" for name, value in result["options"].items())}
    frame = pd.DataFrame([row])
    if path.is_file():
        frame = pd.concat([pd.read_csv(path, keep_default_na=False), frame], ignore_index=True)
    with atomic_open(path, "w") as stream:
        frame.to_csv(stream, index=False)


__all__ = ["evaluate_run", "CSV_FILE"]
