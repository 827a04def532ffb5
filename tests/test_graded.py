"""Graded, gated transfer in synfire-gated synfire chains (spikingbp.circuits.graded, spec sgsc.md):
the mean-field chain against its closed form, the spiking chain (graded transfer, routing, readout),
the job in quick mode, rasters, and brian2genn code generation of every builder.

Runs on Brian2's runtime device with the numpy target (nothing to compile)."""
import json

import numpy as np
import pytest
from brian2 import ms

from spikingbp.analysis.raster import Phase, Row, plot_raster
from spikingbp.circuits.circuit import CircuitResult
from spikingbp.circuits.graded import (SpikingConfig, exact_strength, meanfield_chain, routed_sgsc, run_graded,
                                       spiking_sgsc, stage_gain, stage_gains)
from spikingbp.errors import ConfigError
from spikingbp.experiments.sgsc import run_sgsc
from conftest import assert_genn_matches_circuit

PA = 1e-12
NUMPY = dict(device="runtime", target="numpy")
SMALL = SpikingConfig(n=30, n_gate=20, warmup=100)


# ---------------------------------------------------------------------------------------------------
# Mean-field chain.

def test_closed_form_stage_gain():
    T = tau = 5 * ms
    assert exact_strength(T, tau) == pytest.approx(np.e)
    assert stage_gain(2.0, T, tau) == pytest.approx(0.736, abs=1e-3)    # spec: S = 2 -> 0.736
    assert stage_gain(3.0, T, tau) == pytest.approx(1.104, abs=1e-3)    # spec: S = 3 -> 1.104
    assert stage_gain(exact_strength(T, tau), T, tau) == pytest.approx(1.0, abs=1e-12)
    # T != tau: gain 1 exactly at (tau / T) exp(T / tau)
    assert stage_gain(exact_strength(2 * tau, tau), 2 * tau, tau) == pytest.approx(1.0, abs=1e-12)
    assert exact_strength(2 * tau, tau) == pytest.approx(np.exp(2) / 2)


@pytest.mark.parametrize("T_over_tau", [1.0, 2.0])
def test_meanfield_chain_gains_below_at_above(T_over_tau):
    """Simulated stage gains match S (T/tau) exp(-T/tau) for every amplitude: < 1, = 1, > 1 for S below,
    at and above (tau/T) exp(T/tau)."""
    tau = 5 * ms
    T = T_over_tau * tau
    critical = exact_strength(T, tau)
    strengths = np.repeat([0.8 * critical, critical, 1.1 * critical], 2)
    amplitudes = np.tile([0.1, 0.3], 3)
    circuit = meanfield_chain(5, strengths, amplitudes, T=T, tau=tau)
    gains = stage_gains(circuit.layout.amplitudes_of(run_graded(circuit, **NUMPY)))
    expected = stage_gain(strengths, T, tau)
    np.testing.assert_allclose(gains, expected[:, None] * np.ones_like(gains), rtol=2e-3)
    below, at, above = gains[0::2].mean(axis=1)
    assert below < 0.85 and abs(at - 1) < 2e-3 and above > 1.08
    assert np.ptp(gains[2:4]) < 1e-9                    # graded: the same gain for every amplitude


def test_meanfield_spec_numbers_simulated():
    circuit = meanfield_chain(3, [2.0, 3.0], [0.2, 0.2])
    gains = stage_gains(circuit.layout.amplitudes_of(run_graded(circuit, **NUMPY)))
    assert gains[0] == pytest.approx(0.736, abs=2e-3)
    assert gains[1] == pytest.approx(1.104, abs=2e-3)


def test_meanfield_amplitude_above_offset_leaks():
    """An amplitude above g0 makes an ungated stage fire: the transfer is no longer exact."""
    circuit = meanfield_chain(2, np.e, [0.3, 1.5])
    gains = stage_gains(circuit.layout.amplitudes_of(run_graded(circuit, **NUMPY)))
    np.testing.assert_allclose(gains[0], 1.0, atol=2e-3)
    assert gains[1, 1] > 1.05                            # stage 1 exceeds g0 before its gate opens


# ---------------------------------------------------------------------------------------------------
# Spiking chain.

def test_spiking_readout_equals_recorded_current():
    """The amplitudes rebuilt from spikes equal the synaptic current the units hold."""
    circuit = spiking_sgsc(2, 2.95, [15 * PA, 25 * PA], config=SMALL)
    layout = circuit.layout
    names = ("x00", "x01", "x02")
    result = run_graded(circuit, seed=3, record_states={name: ["I_syn"] for name in names}, **NUMPY)
    amplitudes = layout.amplitudes_of(result)
    assert amplitudes[:, 1:].min() > 5 * PA  # the later stages carry a real current, not zeros
    for j, name in enumerate(names):
        recorded = result.states[name]["I_syn"][layout.readout_step(j)]
        np.testing.assert_allclose(recorded.reshape(2, SMALL.n).mean(axis=1), amplitudes[:, j], rtol=1e-9)
    np.testing.assert_allclose(amplitudes[:, 0], [15 * PA, 25 * PA], rtol=1e-12)  # stage 0 holds the input


def test_spiking_same_seed_same_run():
    circuit = spiking_sgsc(1, 2.95, [20 * PA], config=SMALL)
    first = circuit.layout.amplitudes_of(run_graded(circuit, seed=7, **NUMPY))
    second = circuit.layout.amplitudes_of(run_graded(circuit, seed=7, **NUMPY))
    other = circuit.layout.amplitudes_of(run_graded(circuit, seed=8, **NUMPY))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_gates_are_square_and_silent_outside():
    """Each stage fires inside its gate and (almost) never outside; the gating chain fires one volley
    of all its units per period."""
    circuit = spiking_sgsc(3, 2.95, [20 * PA], config=SpikingConfig(warmup=100))
    layout = circuit.layout
    result = run_graded(circuit, seed=1, **NUMPY)
    for name in layout.stages["main"]:
        inside, outside = layout.spike_counts(result, name)[0]
        assert inside > 100 and outside <= 0.02 * inside
    for j, gate in enumerate(layout.gate_populations["main"]):
        steps, units, size = result.spikes[gate]
        assert np.all(steps == layout.start_step + j * layout.period) and len(units) == size


def test_full_job_gives_the_readme_numbers(tmp_path):
    """The README's figures of ``spikingbp sgsc --out DIR`` (seed 0): S = 2.966, stage gains within 0.020 of 1
    over 8 stages, routing by gate."""
    summary = run_sgsc(tmp_path, seed=0, progress=None)
    assert summary["calibrated_S"] == pytest.approx(2.966, abs=5e-4)
    assert summary["gain_stages"] == 8 and summary["max_deviation"] <= 0.0205
    assert all(summary["routing"][route]["correct"] for route in ("a", "b"))


@pytest.fixture(scope="module")
def quick_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("sgsc_quick")
    return out, run_sgsc(out, seed=0, quick=True, progress=None)


def test_quick_job_writes_everything(quick_job):
    out, summary = quick_job
    for name in ("raster.png", "amplitude_vs_stage.png", "routing.png", "sgsc_results.csv", "config.json",
                 "calibration.csv", "summary.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.tmp"))
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 0 and config["quick"] is True and config["spiking"]["g0"] == pytest.approx(51.4e-12)
    assert json.loads((out / "summary.json").read_text())["calibrated_S"] == summary["calibrated_S"]


def test_quick_job_graded_transfer(quick_job):
    """At the calibrated S the output amplitude grows with the input amplitude at every stage, and the
    mean stage gain stays near 1; the mean-field gains match the closed form."""
    out, summary = quick_job
    import pandas as pd

    table = pd.read_csv(out / "sgsc_results.csv")
    spiking = table[(table.experiment == "spiking") & np.isclose(table.S, summary["calibrated_S"])]
    by_stage = spiking.pivot_table(index="stage", columns="input", values="amplitude")
    assert list(by_stage.columns) == [10, 20, 30]
    assert (np.diff(by_stage.to_numpy(), axis=1) > 0).all(), by_stage
    np.testing.assert_allclose(summary["meanfield"]["stage_gain_measured"],
                               summary["meanfield"]["stage_gain_closed_form"], rtol=2e-3)


def test_quick_job_routes_to_the_chosen_branch(quick_job):
    _, summary = quick_job
    for route, other in (("a", "b"), ("b", "a")):
        result = summary["routing"][route]
        assert result["correct"]
        assert min(result[route]["spikes_in_gate"]) > 50 and max(result[other]["spikes_in_gate"]) == 0
        # the routed branch carries the value on; the other branch's second stage receives nothing
        assert result[route]["amplitudes_pA"][-1] > 10 and result[other]["amplitudes_pA"][-1] == 0


def test_routing_none_opens_no_branch():
    circuit = routed_sgsc(1, 1, None, config=SMALL)
    result = run_graded(circuit, seed=0, **NUMPY)
    for branch in ("a", "b"):
        assert len(result.spikes[circuit.layout.gate_populations[branch][2]][0]) == 0
        assert circuit.layout.spike_counts(result, circuit.layout.stages[branch][2])[0, 0] == 0


def test_builder_errors():
    with pytest.raises(ConfigError, match="route"):
        routed_sgsc(route="c")
    with pytest.raises(ConfigError, match="whole number"):
        SpikingConfig(T=2.05 * ms)
    with pytest.raises(ConfigError, match="gate_drive"):
        SpikingConfig(gate_drive=2.5)
    with pytest.raises(ConfigError, match="one S or one per amplitude"):
        spiking_sgsc(2, [2.0, 3.0], [10 * PA, 20 * PA, 30 * PA])
    with pytest.raises(ConfigError, match="currents"):
        spiking_sgsc(2, 2.9, 20 * ms)


# ---------------------------------------------------------------------------------------------------
# Raster and code generation.

def test_raster_with_global_and_row_phases(tmp_path):
    """The raster takes rows, labels and phases from the caller (as the sBP cycle will)."""
    spikes = {"hidden": (np.array([1, 5, 9]), np.array([0, 3, 1]), 4),
              "output": (np.array([2, 12]), np.array([1, 0]), 2)}
    result = CircuitResult(20, spikes, {}, {})
    path = plot_raster(result, [Row("hidden", "h"), ("output", "o", [0, 1], "tab:red")], tmp_path / "r.png",
                       dt=1 * ms, phases=[Phase(0, 10, "forward"), (10, 20, "backward", "o")], title="cycle")
    assert path.is_file() and path.stat().st_size > 1000 and not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ConfigError, match="no spikes"):
        plot_raster(result, ["missing"], tmp_path / "x.png")


@pytest.mark.parametrize("builder", ["meanfield", "spiking", "routed"])
def test_genn_code_generation(builder, tmp_path):
    circuit = {"meanfield": lambda: meanfield_chain(2, [2.0, 3.0], [0.2, 0.2]),
               "spiking": lambda: spiking_sgsc(2, 2.95, [10 * PA, 20 * PA], config=SMALL),
               "routed": lambda: routed_sgsc(1, 1, "b", config=SMALL)}[builder]()
    record = {"x": ["I"]} if builder == "meanfield" else {"x00": ["I_syn"]}
    circuit.run(circuit.layout.steps_needed(), device="genn", directory=str(tmp_path / "genn"), compile=False,
                run=False, record_spikes=builder != "meanfield", record_states=record)
    assert_genn_matches_circuit(tmp_path / "genn", circuit)
