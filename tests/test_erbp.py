"""eRBP: the circuit reproduces the numpy reference spike for spike and weight for weight on runtime and
cpp_standalone; the data units fire as Auryn's SRM0Group; the initial weights are the authors'; bad settings
are refused before anything is written."""
from pathlib import Path

import numpy as np
import pytest

from spikingbp.algorithms import create
from spikingbp.algorithms.erbp import data_background, hazard, label_background
from spikingbp.circuits import erbp as circuit
from spikingbp.data.encoders import escape_noise_trains
from spikingbp.errors import ConfigError
from spikingbp.reference import erbp as reference
from spikingbp.training import load_data

HIDDEN = 12
# short samples with a fast rule, so that five samples learn visibly: 40 ms, learning after 10 ms
FAST = {"train_ms": 40.0, "test_ms": 30.0, "learn_after_ms": 10.0, "eta": 0.05}


def problem(n_samples, seed=0, **options):
    """Streams and initial params of ``n_samples`` digits, drawn once for circuit and reference."""
    algorithm = create("erbp", {**FAST, **options})
    data = load_data(algorithm, "digits", limit_train=n_samples, limit_test=n_samples)
    params = algorithm.init_params(data.sizes((HIDDEN,)), seed)
    weights, feedback = algorithm._split(params)
    streams = algorithm.streams(data.X_train, data.T_train, np.arange(n_samples), [seed, 1], HIDDEN + 10, train=True)
    return algorithm, data, params, weights, feedback, streams


@pytest.mark.parametrize("device, noise_order", [("runtime", "after_check"), ("runtime", "before_check"),
                                                 pytest.param("cpp_standalone", "after_check", marks=pytest.mark.slow)])
@pytest.mark.stacks   # the compiled-rerun path, bit for bit, on both stacks
def test_circuit_spikes_and_learns_as_the_reference_does(device, noise_order):
    n_samples = 5
    algorithm, _, _, weights, feedback, streams = problem(n_samples, noise_order=noise_order)
    settings = algorithm.settings(train=True)
    built = circuit.erbp_circuit(weights, feedback, *streams[:3], settings)
    options = {"target": "numpy"} if device == "runtime" else {}
    result = built.run(n_samples * settings.T, device, record_spikes=True, record_weights=("W0", "W1"), **options)
    expected, samples = [np.array(W) for W in weights], []
    for c in range(n_samples):
        sample = reference.run_sample(expected, feedback, *(s[c] for s in streams[:3]),
                                      algorithm.settings(True))
        expected = sample.weights
        samples.append(sample)
    for population, flags in (("h1", [s.hidden[0] for s in samples]), ("o", [s.output for s in samples]),
                              ("e", [s.error for s in samples])):
        np.testing.assert_array_equal(result.spike_matrix(population), np.concatenate(flags), err_msg=population)
    learned = circuit.learned(result, [W.shape for W in weights])
    for name, got, want, start in zip(("W0", "W1"), learned, expected, weights):
        np.testing.assert_array_equal(got, want, err_msg=name)   # the same operations in the same order
        assert (got != start).mean() > 0.5, f"{name} barely changed: the test exercised no learning"
    hidden, errors = sum(s.hidden[0].sum() for s in samples), sum(s.error.sum() for s in samples)
    assert hidden > 200 and errors > 20, (hidden, errors)
    assert sum(s.error[:, :10].sum() for s in samples) and sum(s.error[:, 10:].sum() for s in samples), \
        "both signs of the error should fire"


@pytest.mark.parametrize("device", ["runtime"])   # compiled: test_train_on_cpp_standalone..., which blanks out
def test_blank_out_circuit_draws_and_learns_as_the_reference_does(device):
    """Blank-out (p = 0.45): each synapse's generator, restarted per sample from its key and the sample seed,
    draws the same numbers in Brian2 as in numpy; spikes and weights equal bit for bit, and about p of the
    transmissions pass."""
    n_samples = 4
    algorithm, _, _, weights, feedback, streams = problem(n_samples, p=0.45)
    data, labels, noise, seeds = streams
    assert len(set(seeds.tolist())) == n_samples and not data[:, 0].any()
    settings = algorithm.settings(train=True)
    keys = algorithm.keys(weights)
    built = circuit.erbp_circuit(weights, feedback, data, labels, noise, settings, seeds=seeds, keys=keys)
    options = {"target": "numpy"} if device == "runtime" else {}
    result = built.run(n_samples * settings.T, device, record_spikes=True, record_weights=("W0", "W1"), **options)
    expected = reference.train(weights, feedback, data, labels, noise, algorithm.settings(True),
                               seeds=seeds, keys=keys)
    plain = reference.train(weights, feedback, data, labels, noise, algorithm.settings(True).replace(p=1.0))
    for name, got, want, start, full, least in zip(("W0", "W1"), circuit.learned(result, [W.shape for W in weights]),
                                                   expected, weights, plain, (200, 5)):
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert (got != start).sum() >= least, f"{name} barely changed"
        assert not np.array_equal(got, full), f"{name}: blank-out changed nothing"
    first = (16807 * reference._start_states(np.asarray(keys[0], np.int64), int(seeds[0]))) % reference.M
    second = (16807 * first) % reference.M
    passed = np.mean(np.concatenate([first, second]) < 0.45 * reference.M)
    assert abs(passed - 0.45) < 0.05, passed     # the draws pass about p (1,536 draws: sd 0.013)
    assert result.spike_matrix("h1").sum() > 50


def test_training_synops_are_the_spikes_times_their_fan_out():
    """Counted from the circuit's spikes: the forward path is data spikes x 12 + hidden spikes x 10, the error
    path label spikes x 2 + output spikes x 2 + error spikes x (1 + 12), as the reference's spikes give them."""
    from spikingbp.algorithms import RunContext

    algorithm, data, params, weights, feedback, streams = problem(3)
    counts = algorithm.training_synops(params, data.X_train, data.T_train, np.arange(3),
                                       RunContext("runtime", seed=0, epoch=1))
    current, hidden, output, error = [np.array(W) for W in weights], 0, 0, 0
    for c in range(3):
        sample = reference.run_sample(current, feedback, *(s[c] for s in streams[:3]),
                                      algorithm.settings(True))
        current = sample.weights
        hidden, output, error = hidden + sample.hidden[0].sum(), output + sample.output.sum(), error + sample.error.sum()
    data_spikes, labels = streams[0].sum(), streams[1].sum()
    assert counts["samples"] == 3 and hidden > 100 and error > 10
    assert counts["forward"] * 3 == pytest.approx(data_spikes * HIDDEN + hidden * 10, rel=1e-12)   # means of counts
    assert counts["error_path"] * 3 == pytest.approx(2 * labels + 2 * output + error * (1 + HIDDEN), rel=1e-12)
    assert counts["total"] == counts["forward"] + counts["error_path"]
    with pytest.raises(ConfigError, match="give a Brian2 device"):
        algorithm.training_synops(params, data.X_train, data.T_train, np.arange(3), RunContext("reference"))


def test_learning_waits_for_the_learning_phase_and_the_boxcar():
    """No weight moves before learn_after; with a boxcar no current fits in, nothing moves at all."""
    algorithm, _, _, weights, feedback, streams = problem(2)
    settings = algorithm.settings(True)
    first = [s[0] for s in streams[:3]]
    early = settings.replace(learn_after=settings.T - 1)
    assert all(np.array_equal(a, b) for a, b in zip(reference.run_sample(weights, feedback, *first, early).weights,
                                                     weights))
    closed = settings.replace(b_min=5.0, b_max=6.0)
    assert all(np.array_equal(a, b) for a, b in zip(reference.run_sample(weights, feedback, *first, closed).weights,
                                                     weights))
    assert not np.array_equal(reference.run_sample(weights, feedback, *first, settings).weights[0], weights[0])


def test_test_circuit_counts_equal_the_reference():
    algorithm, data, params, weights, feedback, _ = problem(8)
    X = data.X_test[:8]
    streams = algorithm.streams(X, np.zeros((8, 10)), np.arange(8), [0, 0], HIDDEN + 10, train=False)
    settings = algorithm.settings(train=False)
    result = circuit.erbp_circuit(weights, feedback, *streams[:3], settings).run(
        8 * settings.T, "runtime", record_spikes=True, record_weights=("W0",), target="numpy")
    counts = circuit.output_counts(result, 8, settings.T)
    expected = reference.output_counts(weights, feedback, streams[0], streams[2], algorithm.settings(False))
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() > 8
    np.testing.assert_array_equal(result.weights["W0"], weights[0].ravel())   # the test circuit learns nothing


def test_data_units_fire_as_srm0_units():
    """Rate dt rho0 exp((bg - theta) / delta_u) while far from the refractory limit; never two spikes within
    the 4 ms refractory period; a white pixel saturates near 1 / 4 ms."""
    rng = np.random.default_rng(0)
    rates = hazard(data_background(np.array([0.0, 0.3, 0.5, 1.0]), silent_background=False))
    np.testing.assert_allclose(rates[0], 1e-4 * 100 * np.exp((-0.215 - 0.1) / 0.05), rtol=1e-12)  # dt rho0 e^...)
    steps, copies = 50_000, 200
    trains = escape_noise_trains(np.repeat(rates, copies), steps, 40, rng)
    counts = trains.reshape(steps, 4, copies).sum(axis=(0, 2))
    expected = rates[:2] / (1 + 40 * rates[:2]) * steps * copies     # a renewal process with 40 dead steps
    assert np.all(np.abs(counts[:2] - expected) < 4 * np.sqrt(expected)), (counts[:2], expected)
    assert 0.8 / 40 < counts[3] / (steps * copies) < 1.0 / 40          # saturated by the refractory period
    gaps = np.diff(np.flatnonzero(trains[:, -1]))
    assert gaps.min() >= 40


def _escape_noise_one_step_at_a_time(hazard, n_steps, refractory_steps, rng):
    """The data units' process written plainly, one unit population and one step at a time (Auryn's order)."""
    lifetime = rng.exponential(1.0, hazard.shape)
    refractory = np.zeros(hazard.shape, np.int64)
    trains = np.zeros((n_steps, len(hazard)), bool)
    for step in range(n_steps):
        lifetime -= hazard
        refractory -= refractory > 0
        expired = np.flatnonzero(lifetime < 0)
        lifetime[expired] = rng.exponential(1.0, len(expired))
        fire = expired[refractory[expired] == 0]
        trains[step, fire] = True
        refractory[fire] = refractory_steps
    return trains


def test_data_units_of_many_samples_draw_as_one_sample_at_a_time():
    """One loop over the steps for many samples: each row equals its own sample drawn plainly, and leaves its
    generator where the plain loop leaves it (labels and noise are drawn from it next). Hazards from a black
    pixel to a white one (the white row outgrows its first pool of draws several times)."""
    hazards = hazard(data_background(np.random.default_rng(5).random((6, 50)) ** 3))
    hazards[2] = hazard(data_background(np.ones(50)))                    # the busiest row: far more renewals than the others
    hazards[4, ::2] = hazard(-1.0)                      # black pixels: silent units, left out of the loop
    hazards[5, :10] = 0.0
    seeds = [[7, row] for row in range(6)]
    batch = [np.random.default_rng(s) for s in seeds]
    trains = escape_noise_trains(hazards, 400, 40, batch)
    assert trains.shape == (6, 400, 50) and trains.sum() > 300
    for row, s in enumerate(seeds):
        plain = np.random.default_rng(s)
        np.testing.assert_array_equal(trains[row], _escape_noise_one_step_at_a_time(hazards[row], 400, 40, plain))
        np.testing.assert_array_equal(batch[row].random(4), plain.random(4))
    np.testing.assert_array_equal(escape_noise_trains(hazards[2], 400, 40, np.random.default_rng(seeds[2])),
                                  trains[2])
    with pytest.raises(ConfigError, match="give one numpy.random.Generator per row"):
        escape_noise_trains(hazards, 400, 40, np.random.default_rng(0))


def test_initial_weights_follow_the_authors():
    """init_rbp1h_parameters with the MNIST drivers' std_weight = 7: W0's fan-in counts the 10 label units
    (nv = 794), W1 and G use sqrt(7 / (nc + nh)), G's mean over classes is removed."""
    sizes = type("S", (), {"n_in": 784, "hidden": (100, 50), "n_out": 10})()
    params = create("erbp").init_params(sizes, 3)
    assert set(params) == {"W0", "W1", "W2", "G1", "G2"}
    for name, bound in (("W0", np.sqrt(7.0 / (794 + 100))), ("W1", np.sqrt(7.0 / 150)), ("W2", np.sqrt(7.0 / 60))):
        assert 0.95 * bound < np.abs(params[name]).max() <= bound, name
    assert np.abs(params["G1"]).max() > 0.8 * np.sqrt(7.0 / 110)
    np.testing.assert_allclose(params["G1"].sum(axis=0), 0, atol=1e-14)   # column mean removed
    assert params["G1"].shape == (10, 100) and params["G2"].shape == (10, 50)
    small = create("erbp", {"std_weight": 0.2, "label_fan_in": False}).init_params(sizes, 3)
    np.testing.assert_allclose(small["W0"], params["W0"] * np.sqrt(0.2 / 884) / np.sqrt(7.0 / 894), rtol=1e-9)


def test_input_units_are_driven_as_the_authors_drive_them():
    """Pixels: bg = (x - 0.43) / 2 with x = grey / 256, a black pixel bg = -1 V (silent); labels: bg = p - 0.5 with
    p = 0.98 for the class (its unit fires at the 4 ms refractory limit) and 1e-5 for the others; the legacy
    encodings stay available."""
    algorithm = create("erbp")
    X = algorithm.encode(np.array([[[0, 128, 255]]], np.uint8))
    np.testing.assert_allclose(X, [[0.0, 0.5, 255 / 256]])
    np.testing.assert_allclose(data_background(X), [[-1.0, 0.035, (255 / 256 - 0.43) / 2]])
    assert hazard(-1.0) < 1e-11                                            # under one spike in 10^4 hours
    np.testing.assert_allclose(label_background(np.array([1, 0])), [0.48, 1e-5 - 0.5])
    assert hazard(0.48) > 10                                               # many renewals per 0.1 ms step
    legacy = create("erbp", {"label_encoding": "pixel", "silent_background": False, "pixel_scale": 255})
    np.testing.assert_allclose(legacy.encode(np.array([[[255]]], np.uint8)), [[1.0]])
    np.testing.assert_allclose(label_background(np.array([1, 0]), "pixel"), [(0.95 - 0.43) / 2, (1e-4 - 0.43) / 2])
    T = np.eye(10, dtype=bool)[[3]]
    _, labels, _, _ = algorithm.streams(np.full((1, 4), 0.5), T, [0], [0, 1], 4, train=True)
    rate = labels[0].sum(axis=0) / (algorithm.train_steps * 1e-4)   # at most one spike per 40 steps, from step 0
    assert 240 < rate[3] <= 256 and rate[np.arange(10) != 3].sum() == 0, rate


@pytest.mark.parametrize("options, message", [
    ({"b_min": 1.0, "b_max": 1.0}, "b_min=1.0 must lie below b_max=1.0"),
    ({"train_ms": 250.05}, "train_ms=250.05 ms is not a whole number of 0.1 ms steps"),
    ({"test_ms": 30.05}, "test_ms=30.05 ms is not a whole number"),
    ({"learn_after_ms": 300.0}, "leaves no learning"),
    ({"eta": -1.0}, r"eta=-1.0 must be in"),
    ({"p": 1.5}, r"p=1.5 must be in \[0, 1\]"),
    ({"noise_order": "later"}, "noise_order='later' is not one of after_check, before_check"),
    ({"label_encoding": "onehot"}, "is not one of auryn, pixel"),
    ({"silent_background": "yes"}, "must be true or false"),
])
def test_bad_options_are_refused_with_the_fix(options, message):
    with pytest.raises(ConfigError, match=message):
        create("erbp", options)


def test_bad_sizes_and_streams_are_refused():
    algorithm = create("erbp")
    with pytest.raises(ConfigError, match="at least one hidden layer of positive size"):
        algorithm.check_sizes(type("S", (), {"n_in": 4, "hidden": (0,), "n_out": 2})())
    weights, feedback = [np.zeros((4, 3)), np.zeros((3, 2))], [np.zeros((2, 3))]
    good = np.zeros((1, 5, 4)), np.zeros((1, 5, 2)), np.zeros((1, 5, 5))
    with pytest.raises(ConfigError, match="feedback must be one matrix"):
        circuit.check_streams(weights, [np.zeros((3, 2))], *good)
    with pytest.raises(ConfigError, match=r"noise must be bool trains \(N, T, 5\)"):
        circuit.check_streams(weights, feedback, good[0], good[1], np.zeros((1, 5, 4)))
    with pytest.raises(ConfigError, match="b_min=2 must lie below b_max=1"):
        circuit.ERBPSettings(b_min=2, b_max=1)


@pytest.mark.slow
def test_train_on_cpp_standalone_writes_the_run_directory_and_ends_with_the_references_weights(tmp_path):
    """`spikingbp train --algorithm erbp --device cpp_standalone`: the standard run directory, test_accuracy and
    SynOps per epoch, and, run by compiled run, the very weights of --device reference; with blank-out (p = 0.45),
    so that the compiled synapses' generators draw as numpy's do (test_blank_out... checks it spike by spike on
    runtime)."""
    import pandas as pd

    from spikingbp.cli import main

    common = ["train", "--algorithm", "erbp", "--dataset", "digits", "--epochs", "2", "--limit", "12",
              "--limit-test", "6", "--hidden", "10", "--option", "train_ms=30", "--option", "test_ms=20",
              "--option", "learn_after_ms=5", "--option", "eta=0.05", "--option", "p=0.45", "--chunk", "5",
              "--quiet"]
    assert main(common + ["--device", "cpp_standalone", "--out", str(tmp_path / "circuit")]) == 0
    assert main(common + ["--device", "reference", "--out", str(tmp_path / "reference")]) == 0
    metrics = pd.read_csv(tmp_path / "circuit" / "metrics.csv")
    assert list(metrics.epoch) == [1, 2] and metrics.test_accuracy.between(0, 1).all()
    assert (metrics.test_synops > 0).all() and (metrics.train_synops > 0).all()
    with np.load(tmp_path / "circuit" / "weights_final.npz") as final, \
            np.load(tmp_path / "reference" / "weights_final.npz") as expected, \
            np.load(tmp_path / "circuit" / "weights_initial.npz") as initial:
        for name in ("W0", "W1"):
            np.testing.assert_array_equal(final[name], expected[name], err_msg=name)
            assert (final[name] != initial[name]).sum() > 50
        np.testing.assert_array_equal(final["G1"], initial["G1"])   # the feedback is fixed
    reference_metrics = pd.read_csv(tmp_path / "reference" / "metrics.csv")
    for column in ("test_accuracy", "test_synops", "test_synops_first_spike"):
        np.testing.assert_array_equal(metrics[column], reference_metrics[column], err_msg=column)


def test_figures_command_writes_the_paper_figures_from_runs(tmp_path):
    """`spikingbp figures erbp`: the raster of a training sample, the test error per architecture, and the error
    against SynOps, whose SynOps grow with the read-out time and end at the run's own test_synops."""
    import json

    import pandas as pd

    from spikingbp.cli import main

    runs = []
    for hidden in (8, 16):
        out = tmp_path / f"run-{hidden}"
        assert main(["train", "--algorithm", "erbp", "--dataset", "digits", "--epochs", "2", "--limit", "20",
                     "--limit-test", "10", "--hidden", str(hidden), "--option", "train_ms=40", "--option",
                     "test_ms=30", "--option", "learn_after_ms=10", "--option", "eta=0.05", "--quiet",
                     "--out", str(out)]) == 0
        runs.append(str(out))
    figures = tmp_path / "figures"
    assert main(["figures", "erbp", "--out", str(figures), "--run", runs[0], "--runs", *runs, "--quick"]) == 0
    for name in ("sample_raster.png", "error_vs_synops.png", "test_error.png"):
        assert (figures / name).read_bytes()[:4] == b"\x89PNG", name
    summary = json.loads((figures / "summary.json").read_text())
    assert sorted(summary["test_error"]) == ["64-16-10", "64-8-10"]
    table = pd.read_csv(figures / "error_vs_synops.csv")
    assert table["synops"].is_monotonic_increasing and table["ms"].iloc[-1] == 30
    metrics = pd.read_csv(Path(runs[0]) / "metrics.csv")
    assert table["synops"].iloc[-1] == pytest.approx(metrics["test_synops"].iloc[-1], rel=1e-12)
    assert table["error"].iloc[-1] == pytest.approx(1 - metrics["test_accuracy"].iloc[-1], abs=1e-12)


@pytest.mark.parametrize("p", [1.0, 0.45])
def test_genn_code_generation(p, tmp_path):
    """brian2genn generates the training circuit (without GeNN to compile it, which CI lacks); the genn
    device stays off the algorithm's list until a GeNN run has been compared with the reference."""
    algorithm, data, params, weights, feedback, streams = problem(2, p=p)
    run = algorithm.circuit(params, data.X_train[:2], data.T_train[:2], phase="train")
    run.circuit.run(run.steps, "genn", str(tmp_path), compile=False, run=False)
    model = (tmp_path / "magicnetwork_model.cpp").read_text()
    assert "erbp_w0" in model.lower() and ("16807" in model) == (p < 1)   # the blank-out generator
