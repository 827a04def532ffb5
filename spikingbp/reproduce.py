"""Every figure and table of the source papers this package covers, regenerated into one HTML report:
``spikingbp reproduce --out REPORT_DIR [--quick]``.

The report is a list of sections (``SECTIONS``), each a function of the report's profile that trains or reuses
the runs it needs, draws its figures with ``spikingbp.analysis`` and returns a ``Section``: figures, tables with
the paper's number in a column beside ours, and the command and configuration of every run behind them. A run
(``RunSpec``) is reused where a finished copy exists (``reuse``: e.g. the committed ``reproductions/``), and is
otherwise trained into ``REPORT_DIR/runs/NAME``, which resumes when the report is rerun; a finished section is
recorded in ``REPORT_DIR/SECTION/section.json`` and not redone unless it shows a run still under way. ``index.html`` is written last, from the
records of every section, so that it references only what exists.

``FULL`` is the papers' networks on mnist-10k and Fashion-MNIST: it reads the data under a data root
(``--data-root``, else ``$SPIKINGBP_DATA``, else the ``shared/data`` beside the package's checkout) and reuses
finished runs under a reuse directory (``--reuse``, else the checkout's ``reproductions/``), so that it runs
from any directory. Without the runs it reuses, the eRBP and SSNN-BP Fashion-MNIST runs take hours each.
``QUICK`` is the same sections on small networks and a few hundred digits samples (the embedded data; what
the tests run).
"""
from __future__ import annotations

import dataclasses
import html
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from spikingbp.errors import ConfigError
from spikingbp.io import atomic_open, check_creatable_dir, make_dir, write_json

if TYPE_CHECKING:
    import pandas as pd  # imported where used: printing --help loads no pandas

SECTION_FILE = "section.json"
INDEX = "index.html"
RUNS_DIR = "runs"
INLINE_ROWS = 40   # longer tables are linked from index.html, not inlined


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """A training run of the report: ``config`` (``TrainConfig`` fields but ``out``; its ``data_dir`` a dataset
    directory under the report's data root), and run directories under the reuse directory that may stand in
    for it; ``partial``: a run of many hours that the report shows as far as its run in ``reuse`` has got (its
    epochs so far), instead of training it."""

    name: str
    config: dict
    reuse: tuple = ()
    partial: bool = False


@dataclasses.dataclass
class Section:
    """What a section shows: figures (file, caption), tables (csv file, caption) and the runs behind them."""

    key: str
    title: str
    text: str = ""
    figures: list = dataclasses.field(default_factory=list)
    tables: list = dataclasses.field(default_factory=list)
    runs: list = dataclasses.field(default_factory=list)     # {"name", "directory", "command", "config", "reused"}
    commands: list = dataclasses.field(default_factory=list)  # other commands that made something here
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        """Whether it shows a run still under way (then a rerun of the report redoes it, with the newer epochs)."""
        return any("epochs_done" in run for run in self.runs)


@dataclasses.dataclass(frozen=True)
class Profile:
    """The runs and sizes of one kind of report."""

    name: str
    sbp: tuple                   # RunSpecs of sBP learning curves
    ssnn_accuracy: tuple         # SSNN-BP runs of its accuracy table
    ssnn_Ts: tuple               # SSNN-BP runs at several Ts (figure 6)
    erbp: tuple                  # eRBP runs of its error table
    energy_samples: int
    quick: bool


def _spec(name, reuse=(), partial=False, **config) -> RunSpec:
    return RunSpec(name, {"progress": True, **config}, tuple(reuse), partial)


MNIST = "mnist-10k"          # dataset directories under the data root
FASHION = "fashion-mnist"

FULL = Profile(
    "full",
    # sBP's reference is the circuit's contract, weight for weight (tests/test_sbp_circuit.py, and the README's
    # 5-epoch Fashion-MNIST circuit run): the accuracy runs use it, the energy section runs the circuit
    sbp=(_spec("sbp-mnist10k", algorithm="sbp", dataset="mnist", data_dir=MNIST, epochs=10, seed=1,
               device="reference"),
         _spec("sbp-fashion", algorithm="sbp", dataset="fashion-mnist", data_dir=FASHION, epochs=5,
               device="reference")),
    ssnn_accuracy=(_spec("ssnn-mnist10k", algorithm="ssnnbp", dataset="mnist", data_dir=MNIST, epochs=10,
                         device="cpp_standalone"),
                   _spec("ssnn-fashion", ("ssnn-fashion-annealed", "ssnn-fashion"), True, algorithm="ssnnbp", dataset="fashion-mnist",
                         data_dir=FASHION, epochs=10, eval_train=10000, options={"eta": 0.0007, "eta_decay": 0.75},
                         device="cpp_standalone")),
    ssnn_Ts=tuple(_spec(f"ssnn-digits-Ts{Ts}", algorithm="ssnnbp", dataset="digits", epochs=3, hidden=(64,),
                        options={"Ts": Ts}, device="cpp_standalone") for Ts in (50, 100, 150, 200)),
    erbp=tuple(_spec(f"erbp-mnist10k-{h}", (f"erbp-mnist10k-{h}",), algorithm="erbp", dataset="mnist",
                     data_dir=MNIST, hidden=(h,), epochs=10, eval_train=2000, device="cpp_standalone")
               for h in (100, 200)),
    energy_samples=20, quick=False)

QUICK = Profile(
    "quick",
    sbp=(_spec("sbp-digits", algorithm="sbp", dataset="digits", hidden=(40,), epochs=2, device="reference"),),
    # the circuits equal their references (tests/test_ssnnbp.py): the quick runs take the faster engine
    ssnn_accuracy=(_spec("ssnn-digits", algorithm="ssnnbp", dataset="digits", hidden=(32,), epochs=1, limit=300,
                         limit_test=100, options={"Ts": 50}, device="reference"),),
    ssnn_Ts=tuple(_spec(f"ssnn-digits-Ts{Ts}", algorithm="ssnnbp", dataset="digits", hidden=(16,), epochs=2, limit=100,
                        limit_test=60, options={"Ts": Ts}, device="reference") for Ts in (25, 50)),
    erbp=(_spec("erbp-digits", algorithm="erbp", dataset="digits", hidden=(20,), epochs=1, limit=30, limit_test=20,
                eval_train=20, options={"train_ms": 100.0, "test_ms": 100.0}, device="reference"),),
    energy_samples=3, quick=True)

PROFILES = {"full": FULL, "quick": QUICK}

def paper(algorithm: str) -> dict:
    """The paper's numbers the tables put beside ours (the algorithm's ``paper_results``)."""
    from spikingbp.algorithms import algorithm_class

    return algorithm_class(algorithm).paper_results


# --------------------------------------------------------------------------------------------------- runs
class Runs:
    """Finds or trains the runs of a report (``RunSpec``), and records how each was obtained: reused from
    ``reuse`` (a directory of run directories, or None), else trained into ``out/runs/NAME`` with the data under
    ``data_root``."""

    def __init__(self, out: Path, say: Callable[[str], None], data_root: Path | None = None,
                 reuse: Path | None = None):
        self.out, self.say, self.data_root, self.reuse = out, say, data_root, reuse

    def config(self, spec: RunSpec) -> dict:
        """The spec's training configuration with its dataset directory under the data root."""
        if spec.config.get("data_dir") is None:
            return dict(spec.config)
        if self.data_root is None:
            raise ConfigError(f"the report's run {spec.name} needs the {spec.config['data_dir']} data; pass "
                              f"--data-root DIR (the directory holding {spec.config['data_dir']}/) or set "
                              f"SPIKINGBP_DATA, or build the --quick report, which needs no data")
        return {**spec.config, "data_dir": str(self.data_root / spec.config["data_dir"])}

    def get(self, spec: RunSpec, needs_weights: bool = False) -> dict:
        """The run of ``spec``: reused, shown as far as it got (``partial``), or trained. ``needs_weights``: the
        caller reads its final weights, which a committed run may have dropped (then the error says how to
        make them again)."""
        import pandas as pd

        from spikingbp.training import TrainConfig, train

        for candidate in spec.reuse if self.reuse is not None else ():
            path = self.reuse / candidate
            if self._complete(path, spec):
                self.say(f"{spec.name}: reusing the finished run {path}")
                return self._weights_checked(self._record(spec, path, reused=True), needs_weights)
            if spec.partial and (path / "metrics.csv").is_file():
                done = len(pd.read_csv(path / "metrics.csv"))
                self.say(f"{spec.name}: showing the {done} epochs the run {path} has done so far (it resumes with "
                         f"its own command)")
                return {**self._record(spec, path, reused=True), "epochs_done": done}
        directory = self.out / RUNS_DIR / spec.name
        if self._complete(directory, spec):
            return self._weights_checked(self._record(spec, directory, reused=False), needs_weights)
        self.say(f"{spec.name}: training into {directory} (resumes where a previous report stopped)")
        train(TrainConfig(out=directory, **self.config(spec)))
        return self._record(spec, directory, reused=False)

    @staticmethod
    def _weights_checked(record: dict, needs_weights: bool) -> dict:
        if needs_weights and not (Path(record["directory"]) / "weights_final.npz").is_file():
            raise ConfigError(f"the finished run {record['directory']} keeps no weights_final.npz (dropped from the "
                              f"repository for its size); make it again with: {record['command']}; then rerun the "
                              f"report")
        return record

    @staticmethod
    def _complete(path: Path, spec: RunSpec) -> bool:
        """Whether ``path`` holds the run's every epoch (its metrics; a kept run may have dropped its weights)."""
        import pandas as pd

        if not (path / "metrics.csv").is_file():
            return False
        return len(pd.read_csv(path / "metrics.csv")) >= spec.config.get("epochs", 10)

    @staticmethod
    def _record(spec: RunSpec, directory: Path, reused: bool) -> dict:
        """How a run was obtained; a reused run's command and configuration are its own (its ``config.json``).
        Its directory is shown relative to the working directory where it lies below it."""
        from spikingbp.config import command_line, recorded_command

        shown = Path(os.path.relpath(directory)) if Path(directory).resolve().is_relative_to(Path.cwd()) else directory
        config = {k: v for k, v in spec.config.items() if k != "progress"}
        command = f"spikingbp train {command_line(config)} --out {shown}"
        if reused and (directory / "config.json").is_file():
            config = json.loads((directory / "config.json").read_text())["config"]
            command = recorded_command({**config, "out": str(shown)})
        return {"name": spec.name, "directory": str(shown), "command": command,
                "config": json.loads(json.dumps(config, default=list)), "reused": reused}


def default_roots(data_root=None, reuse=None) -> tuple:
    """The report's data root and reuse directory: the arguments, else ``$SPIKINGBP_DATA`` and, in a checkout of
    the package, its ``../shared/data`` and ``reproductions/`` (None where there is none)."""
    from spikingbp.data.datasets import ENV_VAR

    checkout = Path(__file__).resolve().parents[1]
    shared, committed = checkout.parent / "shared" / "data", checkout / "reproductions"
    if data_root is None:
        data_root = os.environ.get(ENV_VAR) or (shared if shared.is_dir() else None)
    if reuse is None:
        reuse = committed if committed.is_dir() else None
    for name, path in (("--data-root", data_root), ("--reuse", reuse)):
        if path is not None and not Path(path).is_dir():
            raise ConfigError(f"{name} {path} is not a directory; give an existing one")
    return (None if data_root is None else Path(data_root).resolve(), None if reuse is None else Path(reuse).resolve())


def _final(directory) -> pd.Series:
    import pandas as pd

    return pd.read_csv(Path(directory) / "metrics.csv").iloc[-1]


def _best(directory) -> pd.Series:
    """The epoch of the highest test accuracy (the first of equals: the one ``weights_best.npz`` holds)."""
    import pandas as pd

    metrics = pd.read_csv(Path(directory) / "metrics.csv")
    return metrics.loc[metrics["test_accuracy"].idxmax()]


def _best_text(directory, percent: bool) -> str:
    """The best epoch's test accuracy (or error, in percent) and which epoch it was."""
    best = _best(directory)
    value = f"{100 * (1 - float(best['test_accuracy'])):.2f} %" if percent else f"{float(best['test_accuracy']):.4f}"
    return f"{value} (epoch {int(best['epoch'])})"


def _network(directory) -> str:
    return json.loads((Path(directory) / "config.json").read_text())["network"]["label"]


def _table(section_dir: Path, name: str, frame: pd.DataFrame, caption: str) -> tuple:
    from spikingbp.io import write_csv

    write_csv(section_dir / f"{name}.csv", frame)
    return (f"{name}.csv", caption)


def _copy(source: Path, target: Path) -> str:
    shutil.copyfile(source, target)
    return target.name


# --------------------------------------------------------------------------------------------------- sections
def section_sbp(profile: Profile, runs: Runs, directory: Path) -> Section:
    """Renner et al. 2024: a training-cycle raster, learning curves, accuracy / energy / time against the paper."""
    import pandas as pd

    from spikingbp import energy
    from spikingbp.analysis.curves import plot_runs_per_epoch

    section = Section("sbp", "sBP (Renner et al. 2024): exact backprop with binary spikes on Loihi-style units",
                      "The training-cycle raster is the circuit's second training cycle (12 phases), drawn when the "
                      "run starts. Energy: operations counted in the circuit, priced with Loihi 1's per-operation "
                      "energies (an estimate without static power; the paper's figures are measured on Loihi).")
    records = [runs.get(spec, needs_weights=True) for spec in profile.sbp]
    section.runs = records
    section.figures.append((_copy(Path(records[0]["directory"]) / "training_cycle.png", directory / "training_cycle.png"),
                            f"one training cycle of {_network(records[0]['directory'])}"))
    plot_runs_per_epoch([r["directory"] for r in records], directory / "learning_curves.png",
                        label=lambda run: f"{json.loads((run / 'config.json').read_text())['config']['dataset']} "
                                          f"{_network(run)}",
                        value=lambda metrics: metrics["test_accuracy"], ylabel="test accuracy (argmax of potential)",
                        title="sBP learning curves", ylim=(0, 1))
    section.figures.append(("learning_curves.png", "test accuracy per epoch"))
    rows = []
    for record in records:
        config = json.loads((Path(record["directory"]) / "config.json").read_text())["config"]
        measured = energy.measure(record["directory"], samples=profile.energy_samples,
                                  device="runtime" if profile.quick else None)
        estimates = energy.estimate(measured).set_index(["phase", "platform"])["energy_uJ"]
        final = _final(record["directory"])
        rows.append({"data": config["dataset"], "network": _network(record["directory"]),
                     "epochs": int(final["epoch"]), "test accuracy, ours (last epoch)": round(float(final["test_accuracy"]), 4),
                     "test accuracy, ours (best epoch)": _best_text(record["directory"], percent=False),
                     "test accuracy, paper": paper("sbp").get(config["dataset"], "not reported"),
                     "uJ per training sample, ours (Loihi 1 estimate)": round(estimates["train", "loihi1"], 3),
                     "uJ per training sample, paper (Loihi, measured)": 590.0,
                     "uJ per inference, ours (Loihi 1 estimate)": round(estimates["inference", "loihi1"], 4),
                     "uJ per inference, paper (Loihi, measured)": 2.5,
                     "trained on (device)": config["device"],
                     # a simulation's speed on a CPU, not a chip's: shown for what a run costs, not as a comparison
                     "training samples/s, ours (simulated on a CPU; not a chip's speed)":
                         round(float(final["samples_per_second"]), 1),
                     "training samples/s, paper (on the Loihi chip)": round(1 / 1.5e-3, 0)})
        section.commands.append(f"spikingbp energy {record['directory']} --samples {profile.energy_samples}")
    section.tables.append(_table(directory, "accuracy_energy_time", pd.DataFrame(rows),
                                 "accuracy, energy and time per sample beside Renner et al. 2024 (400-400-10 MNIST)"))
    return section


def section_sgsc(profile: Profile, runs: Runs, directory: Path) -> Section:
    """Synfire-gated synfire chains: graded transfer and routing."""
    from spikingbp.experiments.sgsc import run_sgsc

    summary = run_sgsc(directory / "sgsc", seed=0, quick=profile.quick, progress=None)
    section = Section("sgsc", "Synfire-gated synfire chains: graded transfer and routing",
                      "Graded amplitudes pass from stage to stage at the calibrated synaptic strength; a gate "
                      "routes the packet to one branch or the other.")
    for key, caption in (("raster", "raster of the chain"), ("amplitude_vs_stage", "amplitude against stage"),
                         ("routing", "routing by gating")):
        section.figures.append((str(Path(summary["files"][key]).relative_to(directory)), caption))
    section.tables.append((str(Path(summary["files"]["results"]).relative_to(directory)), "stage amplitudes"))
    section.commands.append(f"spikingbp sgsc --out {directory / 'sgsc'}" + (" --quick" if profile.quick else ""))
    return section


def section_ssnnbp(profile: Profile, runs: Runs, directory: Path) -> Section:
    """Biswas et al. 2023: figures 4-6, a training-sample raster, and the accuracy table."""
    import pandas as pd

    from spikingbp.experiments.ssnnbp import run_figures

    accuracy = [runs.get(spec) for spec in profile.ssnn_accuracy]
    by_Ts = [runs.get(spec) for spec in profile.ssnn_Ts]
    section = Section("ssnnbp", "SSNN-BP (Biswas et al. 2023): composite neurons, stochastic coincidence updates",
                      "Figure 4: the stochastic product's error; figure 5: output distributions of a trained run over "
                      "its test set; figure 6: test accuracy per epoch at several Ts.")
    section.runs = accuracy + by_Ts
    figures = run_figures(directory / "figures", run_dir=accuracy[0]["directory"],
                          runs=[r["directory"] for r in by_Ts], quick=profile.quick)
    captions = {"product_error.png": "figure 4: stochastic product error against Ts",
                "output_distributions.png": "figure 5: output distributions (counts, softmax, WTA)",
                "accuracy_vs_Ts.png": "figure 6: test accuracy per epoch at several Ts",
                "sample_raster.png": "one training sample: forward, d+ and d- units"}
    section.figures += [(f"figures/{name}", caption) for name, caption in captions.items() if name in figures["files"]]
    section.commands.append(f"spikingbp figures ssnnbp --out {directory / 'figures'} --run {accuracy[0]['directory']} "
                            f"--runs {' '.join(r['directory'] for r in by_Ts)}" + (" --quick" if profile.quick else ""))
    rows = []
    for record in accuracy:
        config = json.loads((Path(record["directory"]) / "config.json").read_text())["config"]
        final = _final(record["directory"])
        epochs = f"{int(final['epoch'])}" + (f" of {config['epochs']} (under way)" if "epochs_done" in record else "")
        rows.append({"data": config["dataset"], "network": _network(record["directory"]), "epochs": epochs,
                     "test accuracy, ours (last epoch)": round(float(final["test_accuracy"]), 4),
                     "test accuracy, ours (best epoch)": _best_text(record["directory"], percent=False),
                     "test accuracy, paper": paper("ssnnbp").get(config["dataset"], "not reported")})
    section.tables.append(_table(directory, "accuracy", pd.DataFrame(rows), "accuracy beside Biswas et al. 2023 "
                                 "(784-1280-10, softmax-CE with WTA and dropout)"))
    return section


def section_erbp(profile: Profile, runs: Runs, directory: Path) -> Section:
    """Neftci et al. 2017: the error table, error against SynOps, a raster of one training sample."""
    import pandas as pd

    from spikingbp.experiments.erbp import run_figures

    records = [runs.get(spec) for spec in profile.erbp]
    section = Section("erbp", "eRBP (Neftci et al. 2017): event-driven random backprop",
                      "SynOps are synaptic events (spikes x fan-out) counted from the circuit's spikes.")
    section.runs = records
    figures = run_figures(directory / "figures", run_dir=records[0]["directory"],
                          runs=[r["directory"] for r in records], quick=profile.quick)
    captions = {"test_error.png": "test error per epoch", "error_vs_synops.png": "test error against SynOps per "
                "classification", "sample_raster.png": "one training sample: data, hidden, output, label, error units"}
    section.figures += [(f"figures/{name}", caption) for name, caption in captions.items() if name in figures["files"]]
    section.commands.append(f"spikingbp figures erbp --out {directory / 'figures'} --run {records[0]['directory']} "
                            f"--runs {' '.join(r['directory'] for r in records)}" + (" --quick" if profile.quick else ""))
    rows = []
    for record in records:
        final = _final(record["directory"])
        hidden = json.loads((Path(record["directory"]) / "config.json").read_text())["config"]["hidden"][0]
        rows.append({"network": _network(record["directory"]), "epochs": int(final["epoch"]),
                     "test error, ours (last epoch)": f"{100 * (1 - float(final['test_accuracy'])):.2f} %",
                     "test error, ours (best epoch)": _best_text(record["directory"], percent=True),
                     "test error, paper (full MNIST)": paper("erbp").get(hidden, "not reported"),
                     "SynOps per test sample, ours": round(float(final["test_synops"])),
                     "SynOps until the first output spike, ours": round(float(final["test_synops_first_spike"])),
                     "SynOps until the first output spike, paper": "about 100,000"})
    section.tables.append(_table(directory, "error_synops", pd.DataFrame(rows), "test error and SynOps beside "
                                 "Neftci et al. 2017"))
    return section


def section_energy(profile: Profile, runs: Runs, directory: Path) -> Section:
    """Operation counts and energy estimates of every algorithm's first run, beside the papers' figures."""
    import pandas as pd

    from spikingbp import energy

    section = Section("energy", "What a sample costs: operations counted in the circuits, energy estimated",
                      energy.__doc__.split("\n\n")[-1].strip())
    frames = []
    for spec in (profile.sbp[0], profile.ssnn_accuracy[0], profile.erbp[0]):
        record = runs.get(spec, needs_weights=True)
        measured = energy.measure(record["directory"], samples=profile.energy_samples,
                                  device="runtime" if profile.quick else None)
        summary = energy.summary(measured)
        summary.insert(0, "run", f"{measured['algorithm']} {'-'.join(map(str, measured['sizes']))}")
        frames.append(summary)
        section.commands.append(f"spikingbp energy {record['directory']} --samples {profile.energy_samples}")
    section.tables.append(_table(directory, "operations_per_sample", pd.concat(frames, ignore_index=True),
                                 "per sample: spikes, synaptic events, plastic-synapse updates, neuron updates, uJ"))
    section.tables.append(_table(directory, "paper_figures", pd.DataFrame(list(energy.paper_figures())),
                                 "the papers' figures per sample"))
    costs = [{"platform": key, "title": p.title, "source": p.source,
              "pJ per operation": "; ".join(f"{pj:g} per {OPERATION_NAMES[kind]}" for kind, pj in p.pj.items())}
             for key, p in energy.PLATFORMS.items()]
    costs += [{"platform": key, "title": d.title, "source": d.source, "pJ per operation": f"{d.pj_per_mac:.1f} per MAC"}
              for key, d in energy.DENSE.items()]
    section.tables.append(_table(directory, "costs", pd.DataFrame(costs), "per-operation costs and their sources"))
    return section


#: count kinds of ``spikingbp.energy`` in words, for the cost table
OPERATION_NAMES = {"synaptic_events": "synaptic event", "plastic_updates": "plastic update",
                   "active_updates": "active neuron update", "inactive_updates": "inactive neuron update",
                   "spikes": "spike"}


#: the report's sections in order: key -> function(profile, runs, section directory) -> Section
SECTIONS = {"sbp": section_sbp, "sgsc": section_sgsc, "ssnnbp": section_ssnnbp, "erbp": section_erbp,
            "energy": section_energy}


# --------------------------------------------------------------------------------------------------- report
def reproduce(out, quick: bool = False, say: Callable[[str], None] | None = print, sections=None,
              data_root=None, reuse=None) -> Path:
    """Build (or continue) the report.

    Parameters
    ----------
    out : str or Path
        The report directory (``index.html``, one folder per section, ``runs/``); a rerun continues it.
    quick : bool
        Small networks on a few hundred embedded digits samples (minutes) instead of the papers' networks.
    say : callable or None
        Where progress lines go (None: nowhere).
    sections : list of str or None
        Keys of ``SECTIONS`` to build (None: every section).
    data_root : str or Path or None
        The directory holding the datasets' directories (``mnist-10k/``, ``fashion-mnist/``); default
        ``$SPIKINGBP_DATA``, else ``../shared/data`` beside the package's checkout.
    reuse : str or Path or None
        A directory of finished run directories that stand in for the report's runs; default the checkout's
        ``reproductions/``.

    Returns
    -------
    Path
        The written ``index.html``.

    Raises
    ------
    ConfigError
        An unknown section, an ``out`` holding the other profile's report, a root that is not a directory, or
        a run that needs data when no data root is known.
    """
    from spikingbp.progress import bar as progress_bar

    profile = QUICK if quick else FULL
    keys = list(SECTIONS) if sections is None else list(sections)
    unknown = sorted(set(keys) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown report sections {unknown}; choose from {', '.join(SECTIONS)}")
    out = Path(out)
    check_creatable_dir(out)
    record_path = out / "report.json"
    if record_path.is_file() and json.loads(record_path.read_text()).get("profile") != profile.name:
        raise ConfigError(f"{out} holds a {json.loads(record_path.read_text())['profile']} report; give another "
                          f"--out (or the same --quick flag) to continue it")
    data_root, reuse = default_roots(data_root, reuse)
    make_dir(out)
    built = json.loads(record_path.read_text())["sections"] if record_path.is_file() else []
    write_json(record_path, {"profile": profile.name, "sections": [key for key in SECTIONS if key in keys + built],
                             "data_root": None if data_root is None else os.path.relpath(data_root),
                             "reuse": None if reuse is None else os.path.relpath(reuse)})
    say = say or (lambda *_: None)
    runs = Runs(out, say, data_root, reuse)
    with progress_bar(iterable=keys, desc="report", unit="section") as bar:
        for key in bar:
            bar.set_postfix_str(key)
            directory = out / key
            if (directory / SECTION_FILE).is_file() and not json.loads((directory / SECTION_FILE).read_text())["partial"]:
                say(f"{key}: done before, kept")
                continue
            started = time.perf_counter()
            make_dir(directory)
            section = SECTIONS[key](profile, runs, directory)
            section.seconds = round(time.perf_counter() - started, 1)
            write_json(directory / SECTION_FILE, {**dataclasses.asdict(section), "partial": section.partial})
            say(f"{key}: done in {section.seconds} s")
    index = out / INDEX
    with atomic_open(index, "w") as stream:
        stream.write(render(out, json.loads(record_path.read_text())["sections"], profile))  # every section built
    return index


def render(out: Path, keys, profile: Profile) -> str:
    """``index.html`` from the sections' records: figures as <img> of their PNG files, tables of up to
    ``INLINE_ROWS`` rows inline, longer ones linked."""
    import pandas as pd

    escape = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>spikingbp reproduction report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;"
             "font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}code{font-size:12px}"
             "</style></head><body>",
             f"<h1>spikingbp reproduction report ({escape(profile.name)})</h1>",
             "<p>Every figure and table of the source papers this package covers, from runs of this package. "
             "Energies are operation estimates (static power and host traffic left out), not measured chip figures; "
             "the papers' numbers stand beside ours.</p>"]
    records = {key: json.loads((out / key / SECTION_FILE).read_text()) for key in keys}
    parts.append("<nav><h2>Contents</h2><ol>" + "".join(f"<li><a href='#{escape(key)}'>{escape(record['title'])}</a></li>"
                                                          for key, record in records.items()) + "</ol></nav>")
    for key, record in records.items():
        parts.append(f"<h2 id='{escape(key)}'>{escape(record['title'])}</h2><p>{escape(record['text'])}</p>")
        for file, caption in record["figures"]:
            parts.append(f"<figure><img src='{escape(key)}/{escape(file)}' alt='{escape(caption)}'>"
                         f"<figcaption>{escape(caption)}</figcaption></figure>")
        for file, caption in record["tables"]:
            frame = pd.read_csv(out / key / file)
            link = f"<a href='{escape(key)}/{escape(file)}'>{escape(file)}</a>"
            if len(frame) > INLINE_ROWS:  # a long table is linked, not inlined
                parts.append(f"<h3>{escape(caption)}</h3><p>{len(frame):,} rows: {link}</p>")
                continue
            parts.append(f"<h3>{escape(caption)}</h3>{frame.to_html(index=False, float_format=lambda v: f'{v:,.4g}')}"
                         f"<p>{link}</p>")
        if record["runs"] or record["commands"]:
            parts.append("<h3>How it was made</h3><ul>")
            for run in record["runs"]:
                how = ("reused the run under way in" if "epochs_done" in run else "reused finished run" if run["reused"]
                       else "trained")
                parts.append(f"<li>{escape(run['name'])} ({how} {escape(run['directory'])}): "
                             f"<code>{escape(run['command'])}</code><br><small>{escape(json.dumps(run['config']))}"
                             f"</small></li>")
            parts += [f"<li><code>{escape(command)}</code></li>" for command in record["commands"]]
            parts.append(f"</ul><p><small>section time {record['seconds']} s</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["reproduce", "render", "SECTIONS", "PROFILES", "FULL", "QUICK", "RunSpec", "Section", "Profile"]
