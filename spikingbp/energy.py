"""What a trained network costs per sample on chip: operations counted in the simulation, energy estimated from
published per-operation costs, beside the papers' measured figures. ``spikingbp energy RUN_DIR``.

``measure(run_dir)`` rebuilds the run's training circuit (on its first ``samples`` training samples, with the
final weights) and its inference circuit (on its first ``samples`` test samples), runs both on a Brian2 device
recording every spike, and counts what the runs did (``spikingbp.circuits.counts``): spikes, synaptic events,
plastic-synapse updates, neuron updates (active and not). ``estimate`` prices the counts per sample on each
platform of ``PLATFORMS``, and the multiply-accumulates of the equivalent dense network (the same layer sizes)
on a CPU and a GPU (``DENSE``). ``write`` puts both in ``RUN_DIR/energy.csv`` (and the measurement's parameters
in ``energy.json``).

An estimate from operation counts leaves out static (leakage) power, clocking, host and management traffic
and the chip's own scheduling; it is a lower bound of a different quantity than a chip's measured energy per
sample, and the report shows the papers' measured figures (their table in the report) beside ours, not in place of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spikingbp.circuits.counts import KINDS, OperationCounts, count_operations
from spikingbp.checks import whole
from spikingbp.errors import ConfigError
from spikingbp.execution import PHASES
from spikingbp.io import atomic_open, write_json

ENERGY_FILE = "energy.csv"
ENERGY_RECORD = "energy.json"


@dataclass(frozen=True)
class Platform:
    """Energy per operation, pJ, by count kind (``inactive_updates``: neuron updates that are not active), and
    the time of one step, seconds, per phase (None: the model time of a step, real time), each with its source."""

    title: str
    pj: dict
    source: str
    step_seconds: dict | None = None
    step_source: str = ""


#: Renner et al. 2024 (sBP on Loihi): 1.5 ms per training sample, 0.17 ms per inference, measured; their circuit
#: takes 12 steps per training and 4 per inference sample (``spikingbp.circuits.sbp``), so a Loihi step took
#: 125 us in training and 42.5 us in inference there.
LOIHI_STEP_SECONDS = {"train": 1.5e-3 / 12, "inference": 0.17e-3 / 4}

PLATFORMS = {
    "loihi1": Platform(
        "Loihi 1 (pre-silicon per-operation energies)",
        {"synaptic_events": 23.6, "plastic_updates": 120.0, "active_updates": 81.0, "inactive_updates": 52.0,
         "spikes": 1.7},
        "Davies et al. 2018, IEEE Micro 38(1), Table 2: 23.6 pJ per synaptic spike op, 120 pJ per synaptic "
        "update, 81 / 52 pJ per active / inactive neuron update, 1.7 pJ per within-tile spike",
        LOIHI_STEP_SECONDS,
        "step time of sBP on Loihi (Renner et al. 2024: 1.5 ms per 12-step training sample, 0.17 ms per 4-step "
        "inference)"),
    "synop20": Platform(
        "20 pJ per SynOp",
        {"synaptic_events": 20.0},
        "Neftci et al. 2017 (eRBP), 20 pJ per synaptic operation, after Merolla et al. 2014 (TrueNorth)",
        None, "real time: a step lasts its model time (eRBP: 0.1 ms)"),
}


@dataclass(frozen=True)
class DenseCost:
    """Energy per multiply-accumulate of a dense network on a processor, pJ, and where the number comes from."""

    title: str
    pj_per_mac: float
    source: str


#: Peak fp32 throughput at the thermal design power: the least energy a MAC can cost on the whole chip, reached
#: only at full utilisation (a 784-100-10 network does not reach it), so these are lower bounds.
DENSE = {
    "cpu": DenseCost("CPU, dense fp32 (AMD EPYC 7763)", 2 * 280.0 / (64 * 2.45e9 * 32) * 1e12,
                     "280 W TDP / (64 cores x 2.45 GHz x 32 fp32 FLOP per cycle, two 256-bit FMA units), "
                     "2 FLOP per MAC: 111.6 pJ"),
    "gpu": DenseCost("GPU, dense fp32 (NVIDIA A100 SXM)", 2 * 400.0 / 19.5e12 * 1e12,
                     "400 W TDP / 19.5 TFLOPS fp32 (datasheet), 2 FLOP per MAC: 41 pJ"),
}
#: MACs of a dense training step per MAC of inference: forward, error backward, weight gradient.
TRAINING_MAC_FACTOR = 3

def paper_figures() -> tuple:
    """The papers' figures per sample, measured on chip or estimated there (``kind`` says which): each registered
    algorithm's ``paper_energy``, with its name."""
    from spikingbp.algorithms import REGISTRY

    return tuple({"algorithm": name, **figure} for name, cls in REGISTRY.items() for figure in cls.paper_energy)


def measure(run_dir, samples: int = 10, device: str | None = None, data_dir=None) -> dict:
    """Count the operations of a finished run's training and inference circuits on real samples.

    Parameters
    ----------
    run_dir : str or Path
        A finished run.
    samples : int
        Samples of each phase to run.
    device : str or None
        Where to run them (None: the run's device, or runtime for the reference).
    data_dir : str or None
        Where the run's dataset lies, if not where it was trained.

    Returns
    -------
    dict
        ``{phase: OperationCounts}`` (synaptic events, neuron updates, spikes per sample) and the circuits'
        time step ``dt``.
    """
    from spikingbp.algorithms import BRIAN_DEVICES
    from spikingbp.training import load_run

    whole(samples, "samples", minimum=1, hint="; give e.g. samples=10")
    run = load_run(run_dir)
    device = device or (run.config.device if run.config.device in BRIAN_DEVICES else "runtime")
    if device not in BRIAN_DEVICES or device not in run.algorithm.devices:
        raise ConfigError(f"--device {device}: the {run.algorithm.name} circuits run on "
                          f"{', '.join(d for d in run.algorithm.devices if d in BRIAN_DEVICES)}")
    data = run.data(data_dir, limit=samples)
    counts, dt = {}, {}
    for phase, X, T in (("train", data.X_train, data.T_train), ("inference", data.X_test, data.T_test)):
        circuit_run = run.algorithm.circuit(run.final, X, T, phase=phase)
        options = {"target": "numpy"} if device == "runtime" else {}
        result = circuit_run.circuit.run(circuit_run.steps, device, record_spikes=True, **options)
        learning = run.algorithm.learning_steps(circuit_run) if phase == "train" else np.zeros(circuit_run.steps, bool)
        counts[phase] = count_operations(circuit_run.circuit, result, circuit_run.samples, learning,
                                         steps_per_sample=circuit_run.steps_per_sample)
        dt[phase] = run.algorithm.step_seconds or float(circuit_run.circuit.dt)
    return {"counts": counts, "dt": dt, "sizes": _layer_sizes(run), "algorithm": run.algorithm.name,
            "device": device, "samples": int(samples)}


def _layer_sizes(run) -> list:
    """The run's layer sizes, inputs to outputs, from its learned weight matrices W0/W1... (sBP: W1, W2)."""
    names = sorted((name for name in run.final if name[:1] == "W" and name[1:].isdigit()), key=lambda n: int(n[1:]))
    weights = [run.final[name] for name in names]
    return [weights[0].shape[0]] + [W.shape[1] for W in weights]


def dense_macs(sizes) -> int:
    """Multiply-accumulates of one inference of the dense network with these layer sizes."""
    return int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))


def estimate(measured: dict) -> pd.DataFrame:
    """Energy per sample on every platform of the cost table, from counted operations.

    Parameters
    ----------
    measured : dict
        What ``measure`` returned.

    Returns
    -------
    pandas.DataFrame
        One row per phase and platform: energy per sample in uJ, and the delay and energy-delay product where
        a step time is known (:doc:`/guide/energy`).
    """
    rows = []
    for phase, counts in measured["counts"].items():
        per_sample = {kind: counts.per_sample(kind) for kind in KINDS}
        per_sample["inactive_updates"] = per_sample["neuron_updates"] - per_sample["active_updates"]
        for key, platform in PLATFORMS.items():
            energy = sum(platform.pj.get(kind, 0.0) * value for kind, value in per_sample.items()) * 1e-6
            step = (platform.step_seconds or {}).get(phase, measured["dt"][phase])
            delay_ms = counts.steps_per_sample * step * 1e3
            rows.append({"phase": phase, "platform": key, "title": platform.title, "energy_uJ": energy,
                         "delay_ms": delay_ms, "edp_uJ_ms": energy * delay_ms, "source": platform.source,
                         "delay_source": platform.step_source})
        macs = dense_macs(measured["sizes"]) * (TRAINING_MAC_FACTOR if phase == "train" else 1)
        for key, cost in DENSE.items():
            rows.append({"phase": phase, "platform": key, "title": cost.title, "energy_uJ": macs * cost.pj_per_mac * 1e-6,
                         "delay_ms": np.nan, "edp_uJ_ms": np.nan, "source": f"{macs:,} MACs per sample; {cost.source}",
                         "delay_source": "not modelled"})
    return pd.DataFrame(rows)


def table(measured: dict) -> pd.DataFrame:
    """``energy.csv``: the counts (section ``counts``: phase, kind, name, total, per sample) and the estimates
    (section ``estimate``: phase, platform, uJ per sample, delay, energy-delay product, source)."""
    count_rows = [{"section": "counts", "phase": phase, **row} for phase, counts in measured["counts"].items()
                  for row in counts.rows()]
    estimate_rows = [{"section": "estimate", **row} for row in estimate(measured).to_dict("records")]
    return pd.DataFrame(count_rows + estimate_rows)


def summary(measured: dict) -> pd.DataFrame:
    """Per phase and sample: spikes, synaptic events, plastic updates, neuron updates, and uJ on each platform."""
    estimates = estimate(measured)
    rows = []
    for phase, counts in measured["counts"].items():
        row = {"phase": phase, **{kind: counts.per_sample(kind) for kind in KINDS}}
        for record in estimates[estimates.phase == phase].to_dict("records"):
            row[f"uJ_{record['platform']}"] = record["energy_uJ"]
        rows.append(row)
    return pd.DataFrame(rows)


def write(run_dir, measured: dict) -> Path:
    """``energy.csv`` and ``energy.json`` (what was measured, how) into ``run_dir``, each written whole."""
    path = Path(run_dir) / ENERGY_FILE
    frame = table(measured)
    with atomic_open(path, "w") as stream:
        frame.to_csv(stream, index=False)
    write_json(Path(run_dir) / ENERGY_RECORD, {
        "algorithm": measured["algorithm"], "device": measured["device"], "samples": measured["samples"],
        "layer_sizes": measured["sizes"], "steps_per_sample": {p: c.steps_per_sample for p, c in measured["counts"].items()},
        "platforms": {k: {"pJ": p.pj, "source": p.source} for k, p in PLATFORMS.items()},
        "dense": {k: {"pJ_per_MAC": d.pj_per_mac, "source": d.source} for k, d in DENSE.items()},
        "note": __doc__.split("\n\n")[-1].strip()})
    return path


__all__ = ["measure", "estimate", "table", "summary", "write", "dense_macs", "PLATFORMS", "DENSE", "paper_figures",
           "Platform", "DenseCost", "OperationCounts"]
