"""spikingbp.training: the run directory, resuming, refusing a mismatched config, atomic writes."""
import json

import numpy as np
import pandas as pd
import pytest

import spikingbp
from spikingbp.analysis.curves import plot_learning_curves
from spikingbp.errors import ConfigError, DataError
from spikingbp.training import METRICS_COLUMNS, TrainConfig, epoch_order, train

#: Small and fast: 64-24-10 on 300 of the 8x8 digits.
SMALL = dict(dataset="digits", hidden=24, limit=300, limit_test=100, seed=5, progress=False)


def small_config(out, **changes):
    return TrainConfig(out=out, **{**SMALL, "epochs": 2, **changes})


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """One uninterrupted 2-epoch run, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("runs") / "uninterrupted"
    return train(small_config(out))


def test_run_directory_contents(finished_run):
    out = finished_run.out
    names = sorted(path.name for path in out.iterdir())
    assert names == ["checkpoint.npz", "config.json", "learning_curves.png", "metrics.csv", "order.npy",
                     "training_cycle.png", "weights_final.npz", "weights_initial.npz"]

    record = json.loads((out / "config.json").read_text())
    assert record["spikingbp_version"] == spikingbp.__version__
    assert record["config"] == finished_run.config.to_dict()
    assert record["config"]["crop"] == 0 and record["config"]["threshold"] == 127   # digits defaults
    assert record["network"] == {"n_in": 64, "n_hidden": 24, "n_out": 10}
    assert record["data"]["n_train"] == 300 and record["data"]["n_test"] == 100

    for name in ("weights_initial.npz", "weights_final.npz"):
        with np.load(out / name) as weights:
            assert sorted(weights.files) == ["W1", "W2"]
            assert weights["W1"].shape == (64, 24) and weights["W2"].shape == (24, 10)
            assert weights["W1"].dtype == np.int32 and weights["W2"].dtype == np.int32
            for array in (weights["W1"], weights["W2"]):
                assert np.all(array % 2 == 0) and np.abs(array).max() <= 254
    with np.load(out / "weights_final.npz") as final:
        np.testing.assert_array_equal(final["W1"], finished_run.W1)
        np.testing.assert_array_equal(final["W2"], finished_run.W2)
    with np.load(out / "weights_initial.npz") as initial:
        assert not np.array_equal(initial["W1"], finished_run.W1)   # it learned something

    order = np.load(out / "order.npy")
    assert order.shape == (600,) and np.issubdtype(order.dtype, np.integer)
    for epoch in (1, 2):  # a fresh permutation per epoch
        np.testing.assert_array_equal(np.sort(order[(epoch - 1) * 300:epoch * 300]), np.arange(300))
        np.testing.assert_array_equal(order[(epoch - 1) * 300:epoch * 300], epoch_order(5, epoch, 300))
    assert not np.array_equal(order[:300], order[300:])

    metrics = pd.read_csv(out / "metrics.csv")
    assert tuple(metrics.columns) == METRICS_COLUMNS
    assert list(metrics["epoch"]) == [1, 2]
    accuracies = metrics.drop(columns=["epoch", "samples_per_second"]).to_numpy()
    assert np.all((0 <= accuracies) & (accuracies <= 1))
    assert np.all(metrics["samples_per_second"] > 0)
    assert metrics["test_argmax_potential"].iloc[-1] > 0.3      # well above chance (0.1) even this small

    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_temporary_files_are_left(finished_run):
    assert not list(finished_run.out.glob("*.tmp")) and not list(finished_run.out.glob(".*"))


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path, finished_run):
    out = tmp_path / "resumed"
    first = train(small_config(out, epochs=1))                  # "interrupted" after epoch 1
    assert first.epochs_done == 1 and first.resumed_from_epoch == 0
    resumed = train(small_config(out, epochs=2))
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.W1, finished_run.W1)
    np.testing.assert_array_equal(resumed.W2, finished_run.W2)
    np.testing.assert_array_equal(np.load(out / "order.npy"), np.load(finished_run.out / "order.npy"))
    metrics = pd.read_csv(out / "metrics.csv")
    reference = pd.read_csv(finished_run.out / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2]
    pd.testing.assert_frame_equal(metrics.drop(columns="samples_per_second"),
                                  reference.drop(columns="samples_per_second"))
    with np.load(out / "weights_final.npz") as final:
        np.testing.assert_array_equal(final["W1"], finished_run.W1)

    again = train(small_config(out, epochs=2))                  # nothing left to do: same result
    assert again.resumed_from_epoch == 2
    np.testing.assert_array_equal(again.W1, finished_run.W1)
    assert not list(out.glob("*.tmp"))


def test_resume_after_a_crash_inside_an_epoch(tmp_path, finished_run, monkeypatch):
    import spikingbp.training as training

    out = tmp_path / "crashed"
    real_engine = training.ENGINES[("sbp", "reference")]
    calls = []

    def crashing_engine(config):
        engine = real_engine(config)

        def crash_in_second_epoch(X, T, W1, W2, order, on_sample):
            calls.append(1)
            if len(calls) == 2:
                W1[:] = 0                                         # half-done work that must not survive
                raise KeyboardInterrupt
            return engine.train_epoch(X, T, W1, W2, order, on_sample)

        return training.Engine(crash_in_second_epoch, engine.evaluate)

    monkeypatch.setitem(training.ENGINES, ("sbp", "reference"), crashing_engine)
    with pytest.raises(KeyboardInterrupt):
        train(small_config(out))
    assert not (out / "weights_final.npz").exists()
    monkeypatch.setitem(training.ENGINES, ("sbp", "reference"), real_engine)
    resumed = train(small_config(out))
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.W1, finished_run.W1)
    np.testing.assert_array_equal(resumed.W2, finished_run.W2)


def test_a_different_config_is_refused(tmp_path):
    out = tmp_path / "run"
    train(small_config(out, epochs=1))
    with pytest.raises(ConfigError, match=r"different configuration.*hidden.*new --out"):
        train(small_config(out, epochs=1, hidden=25))
    with pytest.raises(ConfigError, match="seed"):
        train(small_config(out, epochs=1, seed=6))
    train(small_config(out, epochs=2))                          # continuing to more epochs is allowed ...
    with pytest.raises(ConfigError, match="already holds 2 trained epochs.*epochs >= 2"):
        train(small_config(out, epochs=1))                      # ... going back to fewer is not


def test_progress_and_data_dir_may_change_on_resume(tmp_path):
    out = tmp_path / "run"
    train(small_config(out, epochs=1))
    result = train(small_config(out, epochs=1, progress=True, data_dir=str(tmp_path / "elsewhere")))
    assert result.resumed_from_epoch == 1


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "epochs=0 is below 1"),
    ({"hidden": 0}, "hidden=0 is below 1"),
    ({"hidden": 2.5}, "not an integer"),
    ({"epochs": True}, "not an integer"),
    ({"limit": 0}, "limit=0"),
    ({"seed": -1}, "seed=-1"),
    ({"threshold": 255}, "threshold=255"),
    ({"dataset": "cifar"}, "unknown dataset"),
    ({"engine": "loihi"}, "unknown engine 'loihi'; choose one of reference"),
    ({"algorithm": "erbp"}, "unknown algorithm"),
    ({"out": ""}, "out is missing"),
])
def test_config_validation(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{"out": tmp_path / "run", **SMALL, **changes})


def test_config_defaults_by_dataset(tmp_path):
    assert (TrainConfig(out=tmp_path, dataset="mnist").crop, TrainConfig(out=tmp_path, dataset="mnist").threshold) \
        == (4, 127)
    assert TrainConfig(out=tmp_path, dataset="fashion-mnist").crop == 0
    assert TrainConfig(out=tmp_path, dataset="digits").crop == 0
    assert TrainConfig(out=tmp_path, dataset="mnist", crop=2).crop == 2


def test_train_accepts_a_mapping_and_refuses_unknown_fields(tmp_path):
    result = train({"out": str(tmp_path / "run"), **SMALL, "epochs": 1})
    assert result.epochs_done == 1
    with pytest.raises(ConfigError, match="unknown config field.*learning_rate"):
        train({"out": str(tmp_path / "other"), "learning_rate": 0.1})


def test_crop_that_removes_the_image_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="crop=4 removes the whole 8x8 image"):
        train(small_config(tmp_path / "run", crop=4))


def test_plot_learning_curves_from_csv(finished_run, tmp_path):
    out_png = plot_learning_curves(finished_run.out / "metrics.csv", tmp_path / "figures" / "curves.png")
    assert out_png.read_bytes()[:4] == b"\x89PNG"
    assert not list(out_png.parent.glob("*.tmp"))
    with pytest.raises(DataError, match="not found"):
        plot_learning_curves(tmp_path / "missing.csv", tmp_path / "x.png")
    with pytest.raises(DataError, match="no 'epoch' column"):
        plot_learning_curves(pd.DataFrame({"a": [1]}), tmp_path / "x.png")


def test_circuit_engine_equals_reference_and_resumes(tmp_path):
    """The spiking circuit (runtime device) gives the reference's weights and metrics, epoch by epoch, and
    a run resumed after its first epoch ends with the same weights as an uninterrupted one."""
    tiny = dict(limit=12, limit_test=10, hidden=8, progress=False)
    reference = train(small_config(tmp_path / "reference", **tiny))
    circuit = train(small_config(tmp_path / "circuit", engine="runtime", **tiny))
    np.testing.assert_array_equal(circuit.W1, reference.W1)
    np.testing.assert_array_equal(circuit.W2, reference.W2)
    accuracy_columns = [c for c in reference.metrics.columns if c.startswith(("train_", "test_"))]
    np.testing.assert_array_equal(circuit.metrics[accuracy_columns], reference.metrics[accuracy_columns])
    resumed_dir = tmp_path / "resumed"
    train(small_config(resumed_dir, engine="runtime", **{**tiny, "epochs": 1}))
    resumed = train(small_config(resumed_dir, engine="runtime", **tiny))
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.W1, circuit.W1)
    np.testing.assert_array_equal(resumed.W2, circuit.W2)
