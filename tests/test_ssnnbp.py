"""SSNN-BP: the composite-neuron circuit reproduces the numpy reference spike for spike and weight for weight,
on runtime and cpp_standalone, in both update forms; bad settings are refused."""
import numpy as np
import pandas as pd
import pytest

from spikingbp.algorithms import RunContext, create
from spikingbp.circuits import ssnnbp as circuit
from spikingbp.errors import ConfigError
from spikingbp.reference import ssnnbp as reference
from spikingbp.training import load_data

HIDDEN = 20


def problem(n_samples, Ts, seed=0, **options):
    """Trains, masks and He weights of ``n_samples`` digits, drawn once for circuit and reference."""
    algorithm = create("ssnnbp", {"Ts": Ts, "eta": 0.01, **options})
    data = load_data(algorithm, "digits", limit_train=n_samples, limit_test=1)
    params = algorithm.init_params(data.sizes((HIDDEN,)), seed)
    inputs, labels, keep = algorithm.trains(data.X_train, data.T_train, np.arange(n_samples), [seed, 1], [HIDDEN],
                                            train=True)
    return algorithm, [params["W0"], params["W1"]], inputs, labels, keep


def run_both(n_samples, Ts, form, device, **options):
    algorithm, weights, inputs, labels, keep = problem(n_samples, Ts, form=form, **options)
    built = circuit.ssnn_circuit(weights, inputs, labels, keep, algorithm.settings())
    options = {"target": "numpy"} if device == "runtime" else {}
    states = {population: ("fx", "fp", "fm") for population in ("h1", "o")}
    result = built.run(circuit.run_steps(n_samples, Ts), device, record_spikes=(), record_states=states,
                       record_weights=("W0", "W1"), **options)
    settings = algorithm.settings()
    expected, records = [np.array(W) for W in weights], []
    for c in range(n_samples):
        changes, record = reference.run_sample(expected, inputs[c], labels[c], [keep[0][c]], settings)
        expected = [reference.apply(W, dW) for W, dW in zip(expected, changes)]
        records.append(record)
    return weights, result, expected, records


def assert_circuit_is_the_reference(weights, result, expected, records, Ts) -> int:
    """Every forward, d+ and d- flag of every unit at every step of every sample, and the learned weights bit for
    bit; returns the number of reference spikes compared."""
    spikes = 0
    for c, record in enumerate(records):
        for population, layer in (("h1", record[0]), ("o", record[1])):
            for flag, reference_flags in (("fx", layer.x), ("fp", layer.d_plus), ("fm", layer.d_minus)):
                circuit_flags = result.states[population][flag][c * Ts:(c + 1) * Ts] > 0.5
                np.testing.assert_array_equal(circuit_flags, reference_flags,
                                              err_msg=f"sample {c}, {population}.{flag}")
                spikes += int(reference_flags.sum())
    learned = circuit.learned(result, [W.shape for W in weights])
    for name, got, want in zip(("W0", "W1"), learned, expected):
        # the same operations in the same order, compiled without fused multiply-adds: bit for bit
        np.testing.assert_array_equal(got, want, err_msg=name)
    return spikes


@pytest.mark.stacks   # the compiled-rerun path, bit for bit, on both stacks
@pytest.mark.parametrize("device, form", [
    ("runtime", "stochastic"), ("runtime", "rate"),
    # compiled, the stochastic form is checked spike for spike with its saturation gate (the gate test below)
    # and weight for weight without it (test_train_on_cpp_standalone...): one compile fewer
    pytest.param("cpp_standalone", "rate", marks=pytest.mark.slow)])
def test_circuit_spikes_and_learns_as_the_reference_does(form, device):
    n_samples, Ts = 20, 50
    weights, result, expected, records = run_both(n_samples, Ts, form, device)
    spikes = assert_circuit_is_the_reference(weights, result, expected, records, Ts)
    for name, learned, start in zip(("W0", "W1"), expected, weights):
        assert (learned != start).sum() > 20, f"{name} barely changed: the test exercised no learning"
    assert spikes > 1000
    gradient_spikes = sum(int(r[0].d_plus.sum() + r[0].d_minus.sum()) for r in records)
    assert gradient_spikes > 100  # the hidden gradient units switched on and fired


def test_predictions_on_200_test_samples_equal_the_reference():
    algorithm = create("ssnnbp", {"Ts": 20})
    data = load_data(algorithm, "digits", limit_train=1, limit_test=200)
    params = algorithm.init_params(data.sizes((HIDDEN,)), 3)
    on_circuit = algorithm.output_counts(params, data.X_test, RunContext("runtime", chunk=200, seed=3))
    on_reference = algorithm.output_counts(params, data.X_test, RunContext("reference", chunk=200, seed=3))
    np.testing.assert_array_equal(on_circuit, on_reference)
    assert on_circuit.shape == (200, 10) and on_circuit.sum() > 200


def test_input_profile_front_loads_the_input_spikes_or_spreads_them_evenly():
    """front_loaded (the paper's): three quarters of a sample's input spikes in its first half; uniform: half."""
    halves = {}
    for profile in ("front_loaded", "uniform"):
        _, _, inputs, _, _ = problem(100, 50, input_profile=profile)
        halves[profile] = inputs[:, :25].sum() / inputs.sum()
    assert abs(halves["front_loaded"] - 0.75) < 0.01 and abs(halves["uniform"] - 0.5) < 0.01
    assert create("ssnnbp").values["input_profile"] == "front_loaded"


@pytest.mark.parametrize("options, message", [
    ({"Ts": 0}, "Ts=0 must be in"),
    ({"dropout_input": 1.0}, "dropout_input=1.0 must be in"),
    ({"dropout_hidden": -0.1}, "dropout_hidden=-0.1 must be in"),
    ({"mean_rate": 0.6}, "mean_rate=0.6 must be in"),
    ({"label_rate": 1.5}, "label_rate=1.5 must be in"),
    ({"form": "batch"}, "form='batch' is not one of stochastic, rate"),
])
def test_bad_options_are_refused_with_the_fix(options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        create("ssnnbp", options)


def test_bad_sizes_and_trains_are_refused():
    algorithm = create("ssnnbp")
    from spikingbp.algorithms.base import Sizes

    with pytest.raises(ConfigError, match="at least one hidden layer"):
        algorithm.check_sizes(Sizes(64, (), 10))
    with pytest.raises(ConfigError, match="grey levels must lie in 0..255"):
        algorithm.encode(np.full((1, 8, 8), 300))
    with pytest.raises(ConfigError, match="Ts=0 must be a whole number"):
        circuit.SSNNSettings(Ts=0)
    weights = [np.zeros((4, 3)), np.zeros((3, 2))]
    with pytest.raises(ConfigError, match=r"inputs must be bool trains \(N, Ts, 4\)"):
        circuit.check_trains(weights, np.zeros((1, 5, 3)), np.zeros((1, 5, 2)), [np.ones((1, 3))])
    with pytest.raises(ConfigError, match="keep must be one bool mask"):
        circuit.check_trains(weights, np.zeros((1, 5, 4)), np.zeros((1, 5, 2)), [])


@pytest.mark.slow
def test_train_on_cpp_standalone_writes_the_run_directory_and_ends_with_the_references_weights(tmp_path):
    """`spikingbp train --algorithm ssnnbp --device cpp_standalone`: the standard run directory, test_accuracy
    per epoch, and, chunk by chunk through compiled programs, the very weights of --device reference."""
    import pandas as pd

    from spikingbp.cli import main

    common = ["train", "--algorithm", "ssnnbp", "--dataset", "digits", "--epochs", "2", "--limit", "150",
              "--limit-test", "60", "--hidden", "16", "--option", "Ts=20", "--chunk", "100", "--quiet"]
    assert main(common + ["--device", "cpp_standalone", "--out", str(tmp_path / "circuit")]) == 0
    assert main(common + ["--device", "reference", "--out", str(tmp_path / "reference")]) == 0
    metrics = pd.read_csv(tmp_path / "circuit" / "metrics.csv")
    assert list(metrics.epoch) == [1, 2] and metrics.test_accuracy.between(0, 1).all()
    for name in ("config.json", "weights_initial.npz", "weights_final.npz", "order.npy", "learning_curves.png"):
        assert (tmp_path / "circuit" / name).is_file(), name
    with np.load(tmp_path / "circuit" / "weights_final.npz") as circuit_final, \
            np.load(tmp_path / "reference" / "weights_final.npz") as reference_final, \
            np.load(tmp_path / "circuit" / "weights_initial.npz") as initial:
        for name in ("W0", "W1"):
            np.testing.assert_array_equal(circuit_final[name], reference_final[name], err_msg=name)
            assert (circuit_final[name] != initial[name]).sum() > 50  # it learned
            assert circuit_final[name].dtype == reference_final[name].dtype == np.float32   # as the circuit stores them
    np.testing.assert_array_equal(metrics.test_accuracy, pd.read_csv(tmp_path / "reference" / "metrics.csv").test_accuracy)


@pytest.mark.slow
def test_sigterm_stops_the_running_compiled_program_too(tmp_path):
    """SIGTERM to `spikingbp train` while its compiled program runs: exit 143, one line, and the program
    (a child process of its own) killed with it rather than left running (the shape of the test above: its
    program is in the session's cache)."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    args = ["train", "--algorithm", "ssnnbp", "--dataset", "digits", "--epochs", "1", "--limit", "1400",
            "--limit-test", "10", "--hidden", "16", "--option", "Ts=20", "--chunk", "100", "--quiet",
            "--device", "cpp_standalone", "--out", str(tmp_path / "run")]
    process = subprocess.Popen([sys.executable, "-m", "spikingbp.cli", *args], stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    program, deadline = None, time.monotonic() + 300
    while program is None and process.poll() is None and time.monotonic() < deadline:
        for pid in children.read_text().split() if children.exists() else ():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "main":
                    program = int(pid)
            except OSError:
                pass
    if program is None:
        process.kill()
        pytest.fail(f"the compiled program was never seen running (exit {process.wait()})")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == "spikingbp train: stopped by SIGTERM; run the same command again to resume"
    assert not Path(f"/proc/{program}").exists() or "(main) Z" in Path(f"/proc/{program}/stat").read_text()


def test_figures_command_writes_the_paper_figures_from_runs(tmp_path):
    """`spikingbp figures ssnnbp`: figure 4's error sd falls as 1/sqrt(Ts); figure 5 from a run's test set
    (its outcome fractions add up to 1); figure 6 labels each run by its Ts; a raster of one sample."""
    import json

    from spikingbp.cli import main

    runs = []
    for Ts in (10, 20):
        out = tmp_path / f"run-Ts{Ts}"
        assert main(["train", "--algorithm", "ssnnbp", "--dataset", "digits", "--epochs", "1", "--limit", "30",
                     "--limit-test", "20", "--hidden", "8", "--option", f"Ts={Ts}", "--quiet", "--out", str(out)]) == 0
        runs.append(str(out))
    figures = tmp_path / "figures"
    assert main(["figures", "ssnnbp", "--out", str(figures), "--run", runs[0], "--runs", *runs, "--quick"]) == 0
    summary = json.loads((figures / "summary.json").read_text())
    for name in ("product_error.png", "sample_raster.png", "output_distributions.png", "accuracy_vs_Ts.png"):
        assert (figures / name).read_bytes()[:4] == b"\x89PNG", name
    table = pd.read_csv(figures / "product_error.csv")   # a summary per (Ts, p, q), not the raw draws
    assert len(table) == 4 * 2500 and set(table["repeats"]) == {5}
    assert {"error_mean", "error_sd", "predicted_sd"} <= set(table.columns)
    sd = {int(Ts): entry["error_sd"] for Ts, entry in summary["product_error"].items()}
    assert sd[25] > sd[50] > sd[100] > sd[200]
    assert abs(sd[25] / sd[100] - 2.0) < 0.2 and abs(sd[50] / sd[200] - 2.0) < 0.2  # 1 / sqrt(Ts)
    outcome = summary["output_distributions"]
    assert outcome["samples"] == 20
    assert abs(sum(v for k, v in outcome.items() if k not in ("samples", "accuracy_argmax")) - 1.0) < 1e-9
    assert sorted(summary["accuracy_vs_Ts"]) == ["10", "20"]


def test_circuit_reference_and_adapter_share_one_settings_object_without_brian2():
    """One settings class (spikingbp.models.ssnn, plain numbers): the reference imports it, and neither it nor the
    models module loads Brian2."""
    import subprocess
    import sys

    assert reference.Settings is circuit.SSNNSettings
    assert isinstance(create("ssnnbp").settings(), reference.Settings)
    code = ("import sys; import spikingbp.reference.ssnnbp, spikingbp.reference.erbp, spikingbp.models.ssnn; "
            "print('brian2' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"


def test_test_scale_runs_the_test_network_with_weights_times_the_keep_probabilities():
    """--option test_scale=true: evaluation (and the inference circuit) use W0 x 0.8 and W1 x 0.7 (the default
    dropout rates), exactly the counts of unscaled evaluation of those weights; training is unchanged."""
    plain = create("ssnnbp", {"Ts": 30})
    scaled = create("ssnnbp", {"Ts": 30, "test_scale": True})
    data = load_data(plain, "digits", limit_train=20, limit_test=20)
    params = plain.init_params(data.sizes((24,)), 1)
    by_hand = {"W0": params["W0"] * 0.8, "W1": params["W1"] * 0.7}
    ctx = RunContext("reference", seed=1)
    np.testing.assert_array_equal(scaled.output_counts(params, data.X_test, ctx),
                                  plain.output_counts(by_hand, data.X_test, ctx))
    assert not np.array_equal(scaled.output_counts(params, data.X_test, ctx), plain.output_counts(params, data.X_test, ctx))
    run = scaled.circuit(params, data.X_test[:2])
    np.testing.assert_array_equal(np.ravel(run.circuit.projections["W0"].weight), by_hand["W0"].ravel())
    order = np.arange(5)
    trained = [a.train_epoch(params, data.X_train, data.T_train, order, RunContext("reference", seed=1, epoch=1))
               for a in (plain, scaled)]
    assert all(np.array_equal(trained[0][k], trained[1][k]) for k in params)


@pytest.mark.parametrize("device", ["runtime", pytest.param("cpp_standalone", marks=pytest.mark.slow)])
def test_the_saturation_gate_holds_back_the_gradient_of_units_at_one_spike_per_step(device):
    """saturation_steps = 3: circuit and reference agree spike for spike and weight for weight; a hidden unit emits
    no gradient spike in a step after three forward spikes in a row (checked on the reference's flags), some
    were held back (the gated run emits fewer than the ungated one), and the weights differ from the ungated
    run's."""
    n_samples, Ts = 20, 50
    weights, result, expected, records = run_both(n_samples, Ts, "stochastic", device, saturation_steps=3,
                                                  init_gain=9.0)
    for c, record in enumerate(records):
        for flag, reference_flags in (("fx", record[0].x), ("fp", record[0].d_plus), ("fm", record[0].d_minus)):
            np.testing.assert_array_equal(result.states["h1"][flag][c * Ts:(c + 1) * Ts] > 0.5, reference_flags)
        x, gradient = record[0].x, record[0].d_plus | record[0].d_minus
        in_a_row = x[:-3] & x[1:-2] & x[2:-1]                # fired in steps t-3, t-2, t-1
        assert not (in_a_row & gradient[3:]).any()
    for got, want in zip(circuit.learned(result, [W.shape for W in weights]), expected):
        np.testing.assert_array_equal(got, want)
    _, _, ungated, ungated_records = run_both(n_samples, Ts, "stochastic", "runtime", init_gain=9.0)
    emitted = [sum(int((r[0].d_plus | r[0].d_minus).sum()) for r in rs) for rs in (records, ungated_records)]
    assert 0 < emitted[0] < emitted[1], emitted
    assert not np.array_equal(expected[0], ungated[0])


@pytest.mark.parametrize("form", ["stochastic", "rate"])
def test_hold_gradient_keeps_the_drive_that_arrives_before_the_gate_opens(form):
    """hold_gradient: circuit and reference agree spike for spike and weight for weight; a hidden gradient unit
    still emits nothing before its forward unit's first spike, but the drive it crossed with meanwhile is emitted
    after it (more hidden gradient spikes than the default, which resets those crossings silently), the output's
    error spikes of the first sample are unchanged (its gate is always open) and the weights differ."""
    n_samples, Ts = 20, 50
    weights, result, expected, records = run_both(n_samples, Ts, form, "runtime", hold_gradient=True)
    assert_circuit_is_the_reference(weights, result, expected, records, Ts)
    for record in records:
        x, gradient = record[0].x, record[0].d_plus | record[0].d_minus
        opened = np.cumsum(x, axis=0) - x > 0             # the forward unit fired in a step before
        assert not (gradient & ~opened).any()
    _, _, reset, reset_records = run_both(n_samples, Ts, form, "runtime")
    emitted = [sum(int((r[0].d_plus | r[0].d_minus).sum()) for r in rs) for rs in (records, reset_records)]
    assert emitted[0] > emitted[1] > 0, emitted
    for flag in ("d_plus", "d_minus"):
        np.testing.assert_array_equal(getattr(records[0][1], flag), getattr(reset_records[0][1], flag))
    assert not np.array_equal(expected[0], reset[0])


@pytest.mark.parametrize("form", ["stochastic", "rate"])
def test_mirror_reset_makes_the_error_units_net_count_follow_their_net_drive(form):
    """mirror_reset: circuit and reference agree spike for spike and weight for weight; d+ and d- are one signed
    integrator, so that each output unit's net error count is its filtered drive (label minus own forward spikes as
    delivered, each weighted by how much of it reached the potential by the sample's end) in thresholds to within
    one; with two independent units (the default) the early surplus of label spikes is counted and the net count
    strays further."""
    n_samples, Ts = 20, 50
    # strong outputs without inhibition overtake a sparse label within the sample: an excursion of the error
    overtaking = dict(init_gain=12.0, w_inh=0.0, label_rate=0.2)
    weights, result, expected, records = run_both(n_samples, Ts, form, "runtime", mirror_reset=True, **overtaking)
    assert_circuit_is_the_reference(weights, result, expected, records, Ts)
    _, _, _, independent = run_both(n_samples, Ts, form, "runtime", **overtaking)
    arrived = 1.0 - (1.0 - reference.kernel_step(Ts)) ** (Ts - np.arange(Ts))
    strays = [error_count_stray(runs, arrived, form, overtaking) for runs in (records, independent)]
    assert strays[0] <= 1.0 + 1e-9 < strays[1], strays


def error_count_stray(runs, arrived, form, options) -> float:
    """The largest distance, in thresholds, between an output unit's net error count (d+ - d-) in a sample and its
    drive (label spikes minus own forward spikes, each delivered a step later), weighted per step by ``arrived``
    (how much of a drive added then has reached the potential by the sample's end)."""
    Ts = len(arrived)
    algorithm, _, _, labels, _ = problem(len(runs), Ts, form=form, **options)
    worst = 0.0
    for c, (_, output) in enumerate(runs):
        drive = np.zeros((Ts, output.x.shape[1]))
        drive[1:] = labels[c][:-1].astype(float) - output.x[:-1]
        net = output.d_plus.sum(axis=0).astype(float) - output.d_minus.sum(axis=0)
        delivered = (arrived[:, None] * drive).sum(axis=0) / algorithm.settings().theta_output
        worst = max(worst, float(np.abs(delivered - net).max()))
    return worst


@pytest.mark.parametrize("form", ["stochastic", "rate"])
def test_without_the_gradient_kernel_the_error_units_count_all_of_their_drive(form):
    """gradient_kernel=False: circuit and reference agree spike for spike and weight for weight; with one signed
    integrator (mirror_reset) each output unit's net error count is its whole drive of the sample in thresholds,
    to within one, where through the kernel (the default) the drive of the sample's last steps is still on its way
    when the sample ends."""
    n_samples, Ts = 20, 50
    overtaking = dict(init_gain=12.0, w_inh=0.0, label_rate=0.2, mirror_reset=True)
    weights, result, expected, records = run_both(n_samples, Ts, form, "runtime", gradient_kernel=False, **overtaking)
    assert_circuit_is_the_reference(weights, result, expected, records, Ts)
    _, _, through_kernel, filtered = run_both(n_samples, Ts, form, "runtime", **overtaking)
    whole = np.ones(Ts)
    strays = [error_count_stray(runs, whole, form, overtaking) for runs in (records, filtered)]
    assert strays[0] <= 1.0 + 1e-9 < strays[1], strays
    assert not np.array_equal(expected[1], through_kernel[1])


def test_a_unit_at_one_spike_per_step_reaches_its_layers_ceiling_and_the_diagnostic_counts_it_saturated():
    """A spike reaches the next layer one step later, so hidden units fire at most Ts - 1 times in a sample
    (``spike_ceiling``): strongly driven, every hidden unit fires exactly that often, and the alignment
    statistics count all of them saturated (against Ts, none would be)."""
    Ts, n_in, n_h = 20, 6, 4
    algorithm = create("ssnnbp", {"Ts": Ts, "dropout_input": 0.0, "dropout_hidden": 0.0})
    params = {"W0": np.full((n_in, n_h), 50.0, np.float32), "W1": np.zeros((n_h, 10), np.float32)}
    X, T = np.ones((1, n_in)), np.eye(10)[[3]]
    inputs, labels, keep = algorithm.trains(X, T, [0], [0, 1], [n_h], train=True)
    _, record = reference.run_sample([params["W0"], params["W1"]], inputs[0], labels[0], [keep[0][0]],
                                     algorithm.settings(epoch=1))
    assert reference.spike_ceiling(Ts, 1) == Ts - 1
    np.testing.assert_array_equal(record[0].x.sum(axis=0), Ts - 1)
    units = algorithm.ideal_updates(params, X, T, 0, RunContext("reference", seed=0, epoch=1)).units
    assert units["W0"]["saturated"] == 1.0 and units["W0"]["silent"] == 0.0
