"""Gradient alignment: does the weight change a circuit makes on real samples point where its algorithm says it
should?

For each learned matrix and each of a run's weight snapshots (the initial params, the params after each epoch
where the run kept them, the checkpoint of a run under way, the final params), on ``samples`` training samples:

- the **change**: the params after training on that one sample alone, from the snapshot, minus the snapshot
  (``Algorithm.train_epoch`` on ``device``: the circuit, or the reference that it reproduces bit for bit);
- the **references** (``Algorithm.ideal_updates``): the updates of the algorithm's rate (ANN) equivalent at the
  same params on the same sample (sBP: the binary model's exact update; eRBP: the random-feedback and the
  true-backprop updates; SSNN-BP: the rate form, the ideal rate network and its gradient);
- per sample the cosine of the change with each reference, and of the first reference with each other one
  (eRBP's rbp against bp is the classic feedback-alignment angle); ``cos_<ref>`` is their mean over the
  samples whose vectors are not zero (``sd_cos_<ref>`` the spread), ``cos_<ref>_sum`` the cosine of the
  changes summed over the samples with the summed reference (what an epoch of small steps follows);
  ``scale_<ref>``, the mean over the samples of the change's norm over the reference's (how large the steps are
  beside the update they follow: 1 for an exact update, about 1 / Ts for SSNN-BP's stochastic form against its
  rate form at the same eta);
- the units the matrix feeds: ``silent`` and ``saturated`` fractions and the ``error_scale`` reaching them,
  each a mean over the samples; ``zero_change``, the fraction of samples that left the matrix unchanged.

``alignment(run_dir)`` writes ``alignment.csv`` (a row per snapshot and matrix) and ``alignment.png`` (the
cosines across training, and the unit fractions) and returns the table.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from spikingbp.checks import whole
from spikingbp.errors import DataError
from spikingbp.io import atomic_open, make_dir

CSV_FILE = "alignment.csv"
FIGURE_FILE = "alignment.png"
EPOCH_WEIGHTS = re.compile(r"weights_epoch_(\d+)\.npz$")


def cosine(a, b) -> float:
    """The cosine of two arrays as vectors; NaN where either is zero."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norm) if norm > 0 else float("nan")


def snapshots(run) -> list:
    """The weight snapshots of a run directory, in training order: (label, epoch, params). Epoch 0 is the initial
    params; ``epochs/weights_epoch_<e>.npz`` (kept by runs since they existed) give the epochs; a run under way
    adds its checkpoint (epoch = epochs done plus the fraction of the next one trained), a finished run its final
    params where no epoch file holds them."""
    import json

    from spikingbp.training import CHECKPOINT_FILE, CONFIG_FILE, EPOCH_WEIGHTS_DIR, WEIGHTS_FINAL_FILE

    run_dir = Path(run.out)
    record = json.loads((run_dir / CONFIG_FILE).read_text())
    found = [("initial", 0.0, run.initial)]
    kept = {int(EPOCH_WEIGHTS.search(path.name).group(1)): path
            for path in (run_dir / EPOCH_WEIGHTS_DIR).glob("weights_epoch_*.npz")}
    found += [(f"epoch {epoch}", float(epoch), _load(kept[epoch])) for epoch in sorted(kept)]
    epochs = {epoch for _, epoch, _ in found}
    if (run_dir / WEIGHTS_FINAL_FILE).is_file():
        last = float(record.get("result", {}).get("epochs_done") or record["config"]["epochs"])
        if last not in epochs:
            found.append(("final", last, run.final))
    elif (run_dir / CHECKPOINT_FILE).is_file():   # under way: run.final holds the checkpoint's params
        with np.load(run_dir / CHECKPOINT_FILE, allow_pickle=False) as checkpoint:
            done, position = int(checkpoint["epochs_done"]), int(checkpoint["position"])
        per_epoch = record["config"].get("resample") or record["data"]["n_train"]
        epoch = done + position / per_epoch
        if epoch not in epochs:
            found.append((f"checkpoint ({done} epochs + {position} samples)", epoch, run.final))
    return found


def _load(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError) as error:
        raise DataError(f"{path} cannot be read ({error}); rerun the training into a new --out") from None


def measure(algorithm, params, X, T, indices, ctx) -> list:
    """Rows (one per learned matrix) of the alignment of ``params`` on the samples ``indices``: see the module
    docstring. ``ctx`` says where the change is made (its ``epoch`` which draws are used)."""
    per_sample, units, names = {}, {}, None
    for index in indices:
        ideal = algorithm.ideal_updates(params, X, T, int(index), ctx)
        after = algorithm.train_epoch({k: np.array(v) for k, v in params.items()}, X, T,
                                      np.array([index], np.int64), ctx)
        names = list(ideal.directions)
        for name in names:
            change = np.asarray(after[name], float) - np.asarray(params[name], float)
            references = ideal.directions[name]
            first = next(iter(references))
            entry = per_sample.setdefault(name, {"change": [], "sums": {}, "zero": []})
            entry["zero"].append(not np.any(change))
            entry["sums"]["change"] = entry["sums"].get("change", 0.0) + change
            row = {}
            for ref, direction in references.items():
                row[f"cos_{ref}"] = cosine(change, direction)
                size = np.linalg.norm(np.ravel(direction))
                row[f"scale_{ref}"] = float(np.linalg.norm(np.ravel(change)) / size) if size > 0 else float("nan")
                entry["sums"][ref] = entry["sums"].get(ref, 0.0) + direction
                if ref != first:
                    row[f"cos_{first}_{ref}"] = cosine(references[first], direction)
            entry["change"].append(row)
            for key, value in ideal.units[name].items():
                units.setdefault(name, {}).setdefault(key, []).append(value)
    rows = []
    for name in names or []:
        entry = per_sample[name]
        row = {"matrix": name, "samples": len(indices), "zero_change": float(np.mean(entry["zero"]))}
        for key in entry["change"][0]:
            values = np.array([sample[key] for sample in entry["change"]], float)
            finite = values[np.isfinite(values)]
            row[key] = float(finite.mean()) if finite.size else float("nan")
            row[f"sd_{key}"] = float(finite.std()) if finite.size else float("nan")
        for ref in entry["sums"]:
            if ref != "change":
                row[f"cos_{ref}_sum"] = cosine(entry["sums"]["change"], entry["sums"][ref])
        row.update({key: float(np.mean(values)) for key, values in units[name].items()})
        rows.append(row)
    return rows


def alignment(run_dir, samples: int = 50, device: str | None = None, out=None, progress: bool = True,
              cache=None, data_dir=None, options: dict | None = None):
    """The alignment table of a run: per weight snapshot and learned matrix, the cosines of the circuit's change
    with the updates it should follow, and the state of the units the matrix feeds.

    Parameters
    ----------
    run_dir : str or Path
        The ``out`` directory of ``spikingbp train`` (finished or under way).
    samples : int
        The first ``samples`` training samples of the run's data, each trained on alone from every snapshot.
    device : str or None
        Where the change is made (default: ``reference``, which the circuits reproduce bit for bit).
    out : str or Path or None
        Where ``alignment.csv`` and ``alignment.png`` go (default: the run directory).
    progress : bool
        Show a progress bar.
    cache : str or Path or None
        Compiled-program cache of a Brian2 device (default: the user's).
    data_dir : str or Path or None
        Directory of the IDX files (default: the run's).
    options : dict or None
        Options of the algorithm changed for the measurement (the same weights, another rule: what an option
        would change, without training).

    Returns
    -------
    pandas.DataFrame
        A row per snapshot and matrix: ``cos_<reference>``, ``sd_cos_<reference>``, ``cos_<reference>_sum``,
        ``silent``, ``saturated``, ``error_scale``, ``zero_change`` (the module's docstring says what each is).
    """
    import pandas as pd
    from spikingbp.progress import bar as progress_bar

    from spikingbp.algorithms import REFERENCE, RunContext, create
    from spikingbp.circuits.program import ProgramCache
    from spikingbp.training import _check_device, load_run

    whole(samples, "samples", minimum=1, hint=" (training samples); give e.g. samples=50")
    run = load_run(run_dir, under_way=True)
    algorithm = create(run.algorithm.name, {**run.config.options, **(options or {})})
    device = device or REFERENCE
    _check_device(device, run.algorithm)
    found = snapshots(run)
    data = run.data(data_dir, limit=samples)
    indices = np.arange(min(samples, len(data.X_train)))
    out = Path(out) if out is not None else Path(run_dir)
    make_dir(out)
    rows = []
    # one sample per compiled run: each sample's change is made from the snapshot's weights
    ctx = RunContext(device, None, run.config.seed, epoch=1, chunk=1,
                     programs=ProgramCache(cache) if device != REFERENCE else None)
    with progress_bar(total=len(found), desc="alignment", unit="snapshot", disable=not progress) as bar:
        for label, epoch, params in found:
            for row in measure(algorithm, params, data.X_train, data.T_train, indices, ctx):
                rows.append({"snapshot": label, "epoch": epoch, **row})
            bar.update(1)
    table = pd.DataFrame(rows)
    for name, value in (options or {}).items():   # what was changed, in the table too
        table[f"option_{name}"] = algorithm.values[name]
    with atomic_open(out / CSV_FILE, "w") as stream:
        table.to_csv(stream, index=False)
    plot_alignment(table, out / FIGURE_FILE, title=f"{run.algorithm.name} {run.config.dataset}, "
                   f"{'-'.join(map(str, [data.n_in, *run.config.hidden, data.n_out]))}: {len(indices)} samples on {device}")
    return table


def plot_alignment(table, path, title: str = "") -> None:
    """Per matrix: the mean per-sample cosine of the change with each reference across training (solid), the
    cosine of the summed changes (dashed); below, the silent and saturated fractions of the units it feeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrices = list(dict.fromkeys(table["matrix"]))
    fig, axes = plt.subplots(2, len(matrices), figsize=(4.2 * len(matrices), 6), squeeze=False, sharex=True)
    for column, name in enumerate(matrices):
        part = table[table["matrix"] == name].sort_values("epoch")
        top, bottom = axes[0, column], axes[1, column]
        references = [c for c in part.columns if c.startswith("cos_") and not c.endswith("_sum")
                      and part[c].notna().any()]
        for k, key in enumerate(references):
            line, = top.plot(part["epoch"], part[key], "o-", label=key[4:], color=f"C{k}")
            if f"{key}_sum" in part and part[f"{key}_sum"].notna().any():
                top.plot(part["epoch"], part[f"{key}_sum"], "--", color=line.get_color())
        top.axhline(0, color="0.7", lw=0.8)
        top.set_ylim(-1.05, 1.05)
        top.set_title(name)
        top.set_ylabel("cosine (solid: per sample, dashed: summed)" if column == 0 else "")
        top.legend(fontsize=7)
        for k, key in enumerate(("silent", "saturated", "outside_boxcar", "zero_change")):
            if key in part and part[key].notna().any():
                bottom.plot(part["epoch"], part[key], "s-", label=key, color=f"C{k}")
        bottom.set_ylim(-0.02, 1.02)
        bottom.set_xlabel("epoch")
        bottom.set_ylabel("fraction" if column == 0 else "")
        bottom.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_open(path, "wb") as stream:
        fig.savefig(stream, format="png", dpi=110)
    plt.close(fig)


__all__ = ["alignment", "measure", "snapshots", "cosine", "plot_alignment", "CSV_FILE", "FIGURE_FILE"]
