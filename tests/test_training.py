"""spikingbp.training: the run directory, resuming, refusing a mismatched config, atomic writes."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spikingbp
from spikingbp.analysis.curves import plot_learning_curves
from spikingbp.errors import ConfigError, DataError
from spikingbp.algorithms import create
from spikingbp.data import write_idx
from spikingbp.errors import DeviceError
from spikingbp.training import TrainConfig, epoch_order, load_run, metrics_columns, train

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
    assert names == ["checkpoint.npz", "config.json", "epochs", "learning_curves.png", "metrics.csv", "order.npy",
                     "tools.log", "training_cycle.png", "weights_best.npz", "weights_final.npz", "weights_initial.npz"]
    assert sorted(path.name for path in (out / "epochs").iterdir()) == ["weights_epoch_1.npz", "weights_epoch_2.npz"]
    with np.load(out / "epochs" / "weights_epoch_2.npz") as last:
        np.testing.assert_array_equal(last["W0"], finished_run.params["W0"])

    record = json.loads((out / "config.json").read_text())
    assert record["spikingbp_version"] == spikingbp.__version__
    assert record["config"] == finished_run.config.to_dict()
    assert record["config"]["crop"] == 0 and record["config"]["options"] == {"threshold": 127}  # digits defaults
    assert record["config"]["device"] == "reference" and record["config"]["hidden"] == [24]
    assert record["network"] == {"n_in": 64, "hidden": [24], "n_out": 10, "label": "64-24-10"}
    assert record["data"]["n_train"] == 300 and record["data"]["n_test"] == 100
    assert len(record["data"]["digest"]) == 16

    for name in ("weights_initial.npz", "weights_final.npz"):
        with np.load(out / name) as weights:
            assert sorted(weights.files) == ["W0", "W1"]
            assert weights["W0"].shape == (64, 24) and weights["W1"].shape == (24, 10)
            assert weights["W0"].dtype == np.int32 and weights["W1"].dtype == np.int32
            for array in (weights["W0"], weights["W1"]):
                assert np.all(array % 2 == 0) and np.abs(array).max() <= 254
    with np.load(out / "weights_final.npz") as final:
        np.testing.assert_array_equal(final["W0"], finished_run.params["W0"])
        np.testing.assert_array_equal(final["W1"], finished_run.params["W1"])
    with np.load(out / "weights_initial.npz") as initial:
        assert not np.array_equal(initial["W0"], finished_run.params["W0"])   # it learned something

    order = np.load(out / "order.npy")
    assert order.shape == (600,) and np.issubdtype(order.dtype, np.integer)
    for epoch in (1, 2):  # a fresh permutation per epoch
        np.testing.assert_array_equal(np.sort(order[(epoch - 1) * 300:epoch * 300]), np.arange(300))
        np.testing.assert_array_equal(order[(epoch - 1) * 300:epoch * 300], epoch_order(5, epoch, 300))
    assert not np.array_equal(order[:300], order[300:])

    metrics = pd.read_csv(out / "metrics.csv")
    assert tuple(metrics.columns) == metrics_columns(create("sbp"))
    assert tuple(metrics.columns[:3]) == ("epoch", "train_accuracy", "test_accuracy")
    np.testing.assert_array_equal(metrics["test_accuracy"], metrics["test_argmax_potential"])  # sBP's headline
    assert list(metrics["epoch"]) == [1, 2]
    accuracies = metrics.drop(columns=["epoch", "samples_per_second", "epoch_seconds"]).to_numpy()
    assert np.all((0 <= accuracies) & (accuracies <= 1))
    assert np.all(metrics["samples_per_second"] > 0)
    assert np.all(metrics["epoch_seconds"] > 300 / metrics["samples_per_second"])  # wall time includes training
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
    np.testing.assert_array_equal(resumed.params["W0"], finished_run.params["W0"])
    np.testing.assert_array_equal(resumed.params["W1"], finished_run.params["W1"])
    np.testing.assert_array_equal(np.load(out / "order.npy"), np.load(finished_run.out / "order.npy"))
    metrics = pd.read_csv(out / "metrics.csv")
    reference = pd.read_csv(finished_run.out / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2]
    timing = ["samples_per_second", "epoch_seconds"]
    pd.testing.assert_frame_equal(metrics.drop(columns=timing), reference.drop(columns=timing))
    with np.load(out / "weights_final.npz") as final:
        np.testing.assert_array_equal(final["W0"], finished_run.params["W0"])

    again = train(small_config(out, epochs=2))                  # nothing left to do: same result
    assert again.resumed_from_epoch == 2
    np.testing.assert_array_equal(again.params["W0"], finished_run.params["W0"])
    assert not list(out.glob("*.tmp"))


def test_eval_train_measures_the_first_samples_and_changes_no_weight(tmp_path, finished_run):
    from spikingbp.algorithms.base import RunContext
    from spikingbp.training import load_run

    run = train(small_config(tmp_path / "eval50", eval_train=50))
    np.testing.assert_array_equal(run.params["W0"], finished_run.params["W0"])   # training is untouched
    pd.testing.assert_series_equal(run.metrics["test_accuracy"], finished_run.metrics["test_accuracy"])
    data = load_run(run.out).data()
    algorithm = run.config.make_algorithm()
    expected = algorithm.evaluate(run.params, data.X_train[:50], data.T_train[:50],
                                  RunContext("reference", tmp_path / "build", 5))["accuracy"]
    assert run.metrics["train_accuracy"].iloc[-1] == expected
    assert np.round(expected * 50) == expected * 50                              # a fraction of 50 samples
    assert run.metrics["train_accuracy"].iloc[-1] != finished_run.metrics["train_accuracy"].iloc[-1]
    with pytest.raises(ConfigError, match="eval_train=1000"):
        small_config(tmp_path / "bad", eval_train=0)


def _crash_at_call(monkeypatch, call: int, spoil: bool = False):
    """Make sBP's ``train_epoch`` (one chunk) raise KeyboardInterrupt at its ``call``-th call, after zeroing the
    params it was given with ``spoil``; returns the function that undoes the patch."""
    sbp_class = type(create("sbp"))
    real_train_epoch = sbp_class.train_epoch
    calls = []

    def crashing(self, params, X, T, order, ctx):
        calls.append(1)
        if len(calls) == call:
            if spoil:
                params["W0"][:] = 0                              # half-done work that must not survive
            raise KeyboardInterrupt
        return real_train_epoch(self, params, X, T, order, ctx)

    monkeypatch.setattr(sbp_class, "train_epoch", crashing)
    return lambda: monkeypatch.setattr(sbp_class, "train_epoch", real_train_epoch)


def test_resume_after_a_crash_inside_an_epoch(tmp_path, finished_run, monkeypatch):
    out = tmp_path / "crashed"
    restore = _crash_at_call(monkeypatch, 2, spoil=True)         # the first chunk of epoch 2
    with pytest.raises(KeyboardInterrupt):
        train(small_config(out))
    assert not (out / "weights_final.npz").exists()
    restore()
    resumed = train(small_config(out))
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.params["W0"], finished_run.params["W0"])
    np.testing.assert_array_equal(resumed.params["W1"], finished_run.params["W1"])


def test_a_run_part_of_the_way_into_an_epoch_ends_at_the_last_completed_one(tmp_path, finished_run, monkeypatch):
    """Rerun with --epochs 1 while its checkpoint is 100 samples into epoch 2: the run finishes with epoch 1's
    params (those of a 1-epoch run); rerun with --epochs 2 it trains epoch 2 again, to the weights of the
    uninterrupted 2-epoch run."""
    out = tmp_path / "stopped"
    restore = _crash_at_call(monkeypatch, 5)                     # 3 chunks of 100 an epoch: epoch 2's second
    with pytest.raises(KeyboardInterrupt):
        train(small_config(out, chunk=100))
    restore()
    ended = train(small_config(out, chunk=100, epochs=1))
    one_epoch = train(small_config(tmp_path / "one", epochs=1))
    assert ended.resumed_from_epoch == 1 and len(ended.metrics) == 1
    for name in ("W0", "W1"):
        np.testing.assert_array_equal(ended.params[name], one_epoch.params[name])
        np.testing.assert_array_equal(load_run(out).final[name], one_epoch.params[name])
    continued = train(small_config(out, chunk=100))
    assert (continued.resumed_from_epoch, continued.resumed_from_sample) == (1, 0)
    for name in ("W0", "W1"):
        np.testing.assert_array_equal(continued.params[name], finished_run.params[name])


def test_a_different_config_is_refused(tmp_path):
    out = tmp_path / "run"
    train(small_config(out, epochs=1))
    with pytest.raises(ConfigError, match=r"different configuration.*hidden.*new --out"):
        train(small_config(out, epochs=1, hidden=25))
    with pytest.raises(ConfigError, match="seed"):
        train(small_config(out, epochs=1, seed=6))
    train(small_config(out, epochs=2))                          # continuing to more epochs is allowed ...
    with pytest.raises(ConfigError, match="already holds 2 trained epochs.*--epochs 2 or more"):
        train(small_config(out, epochs=1))                      # ... going back to fewer is not


def idx_dataset(directory, n_train, seed=0):
    """A small MNIST-like IDX dataset (8x8 images, 19 % of pixels on) in ``directory``."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", n_train), ("t10k", 10)):
        images = np.where(rng.random((n, 8, 8)) < 0.19, 255, 0).astype(np.uint8)
        write_idx(directory / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(directory / f"{stem}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    return directory


def test_the_checkpoint_keeps_a_digest_of_the_order_and_resumes_older_checkpoints_with_the_order(tmp_path,
                                                                                                   finished_run):
    """The checkpoint keeps the presentation order's digest, not the order (which grew by an epoch of indices every
    epoch: 3.8 MB of the 5 MB of a Fashion-MNIST checkpoint after 9 epochs); a checkpoint of an older spikingbp,
    which stored the order itself, resumes to the uninterrupted weights; an order or digest that the seed does not
    give is refused."""
    out = tmp_path / "run"
    train(small_config(out, epochs=1))
    path = out / "checkpoint.npz"
    with np.load(path) as checkpoint:
        state = {name: checkpoint[name] for name in checkpoint.files}
    assert "order" not in state and len(str(state["order_digest"])) == 16

    def resume_with(**changes):
        np.savez(path, **{**{k: v for k, v in state.items() if k not in ("order", "order_digest")}, **changes})
        return train(small_config(out, epochs=2))

    for changes in ({"order": np.flip(np.load(out / "order.npy"))}, {"order_digest": np.asarray("0" * 16)}):
        with pytest.raises(DataError, match="records a presentation order or metrics that seed=5"):
            resume_with(**changes)
    resumed = resume_with(order=np.load(out / "order.npy"))   # an older spikingbp's checkpoint
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.params["W0"], finished_run.params["W0"])
    np.testing.assert_array_equal(resumed.params["W1"], finished_run.params["W1"])


def test_progress_and_data_dir_may_change_on_resume(tmp_path):
    out = tmp_path / "run"
    idx = dict(SMALL, dataset="mnist", crop=0, limit=None, limit_test=None, data_dir=str(idx_dataset(tmp_path / "a", 20)))
    train(TrainConfig(out=out, **{**idx, "epochs": 1}))
    copy = idx_dataset(tmp_path / "copy", 20)                   # the same files elsewhere
    result = train(TrainConfig(out=out, **{**idx, "epochs": 1, "progress": True, "data_dir": str(copy)}))
    assert result.resumed_from_epoch == 1


def test_resume_on_other_data_is_refused_and_changes_nothing(tmp_path):
    out = tmp_path / "run"
    idx = dict(SMALL, dataset="mnist", crop=0, limit=None, limit_test=None, data_dir=str(idx_dataset(tmp_path / "a", 20)))
    train(TrainConfig(out=out, **{**idx, "epochs": 1}))
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    other = idx_dataset(tmp_path / "b", 35, seed=1)
    with pytest.raises(ConfigError, match="other data.*20 training samples.*35 samples"):
        train(TrainConfig(out=out, **{**idx, "epochs": 2, "data_dir": str(other)}))
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before


def test_unusable_device_writes_nothing(tmp_path, monkeypatch):
    import spikingbp.devices as devices

    usable = devices.available_devices()
    monkeypatch.setattr(devices, "available_devices",
                        lambda names=devices.DEVICES: {**{name: usable[name] for name in names},
                                                       "genn": (False, "code generation only: GeNN 4.x not found "
                                                                       "(set GENN_PATH)")})
    out = tmp_path / "new" / "run"
    with pytest.raises(DeviceError, match="--device genn cannot run here: .*GENN_PATH"):
        train(small_config(out, device="genn"))
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("make_out, message", [
    (lambda tmp: tmp / "file.txt" / "run", "is a file"),
    (lambda tmp: tmp / "file.txt", "is a file"),
    (lambda tmp: Path("/proc/spikingbp-run"), "cannot be created"),
])
def test_out_that_cannot_be_created_is_a_config_error(tmp_path, make_out, message):
    (tmp_path / "file.txt").write_text("not a directory")
    with pytest.raises(ConfigError, match=message):
        train(small_config(make_out(tmp_path)))


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    train(small_config(out, epochs=1))
    checkpoint = out / "checkpoint.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    with pytest.raises(DataError, match=r"checkpoint .*checkpoint.npz cannot be read .*delete the run directory"):
        train(small_config(out, epochs=2))


@pytest.mark.parametrize("changes, message", [
    ({"epochs": 0}, "epochs=0 must be at least 1"),
    ({"hidden": 0}, "hidden=0 must be at least 1"),
    ({"hidden": 2.5}, "not a whole number"),
    ({"hidden": (100, 100)}, None),  # accepted by the config; refused by sbp when training (one hidden layer)
    ({"epochs": True}, "not a whole number"),
    ({"limit": 0}, "limit=0"),
    ({"seed": -1}, "seed=-1"),
    ({"options": {"threshold": 255}}, "threshold=255"),
    ({"options": {"treshold": 100}}, "sbp has no option treshold; its options: threshold"),
    ({"dataset": "cifar"}, "unknown dataset="),
    ({"device": "loihi"}, "unknown device='loihi' for algorithm=sbp; choose one of reference"),
    ({"algorithm": "backprop"}, "unknown algorithm"),
    ({"out": ""}, "out is missing"),
])
def test_config_validation(tmp_path, changes, message):
    if message is None:
        config = TrainConfig(**{"out": tmp_path / "run", **SMALL, **changes})
        with pytest.raises(ConfigError, match="sbp has exactly one hidden layer"):
            train(config)
        assert not (tmp_path / "run").exists()
        return
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{"out": tmp_path / "run", **SMALL, **changes})


def test_config_defaults_by_dataset(tmp_path):
    assert (TrainConfig(out=tmp_path, dataset="mnist").crop, TrainConfig(out=tmp_path, dataset="mnist").options) \
        == (4, {"threshold": 127})
    assert TrainConfig(out=tmp_path, dataset="fashion-mnist").crop == 0
    assert TrainConfig(out=tmp_path, dataset="digits").crop == 0
    assert TrainConfig(out=tmp_path, dataset="mnist", crop=2).crop == 2


def test_train_accepts_a_mapping_and_refuses_unknown_fields(tmp_path):
    result = train({"out": str(tmp_path / "run"), **SMALL, "epochs": 1})
    assert result.epochs_done == 1
    with pytest.raises(ConfigError, match="unknown config field.*learning_rate"):
        train({"out": str(tmp_path / "other"), "learning_rate": 0.1})


def test_crop_that_removes_the_image_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--crop 4 removes the whole 8x8 image"):
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
    circuit = train(small_config(tmp_path / "circuit", device="runtime", **tiny))
    np.testing.assert_array_equal(circuit.params["W0"], reference.params["W0"])
    np.testing.assert_array_equal(circuit.params["W1"], reference.params["W1"])
    accuracy_columns = [c for c in reference.metrics.columns if c.startswith(("train_", "test_"))]
    np.testing.assert_array_equal(circuit.metrics[accuracy_columns], reference.metrics[accuracy_columns])
    resumed_dir = tmp_path / "resumed"
    train(small_config(resumed_dir, device="runtime", **{**tiny, "epochs": 1}))
    resumed = train(small_config(resumed_dir, device="runtime", **tiny))
    assert resumed.resumed_from_epoch == 1
    np.testing.assert_array_equal(resumed.params["W0"], circuit.params["W0"])
    np.testing.assert_array_equal(resumed.params["W1"], circuit.params["W1"])


def kill_at_first_checkpoint(args, out):
    """Start ``args`` (a training command into ``out``) and SIGKILL it, with its simulation binary, as soon
    as its first checkpoint exists."""
    import os
    import signal
    import subprocess
    import time

    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.npz").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read()


# ---------------------------------------------------------------------------------------------- chunks
TINY = dict(SMALL, hidden=8, limit=30, limit_test=12, epochs=2)


def assert_same_learning(result, expected):
    """``result`` learned (W1 moved from its initial values) and ends with ``expected``'s weights and measures."""
    for name in ("W0", "W1"):
        np.testing.assert_array_equal(result.params[name], expected.params[name])
    accuracy = [c for c in expected.metrics.columns if c.startswith(("train_", "test_"))]
    np.testing.assert_array_equal(result.metrics[accuracy], expected.metrics[accuracy])
    with np.load(result.path("weights_initial.npz")) as initial:
        assert not np.array_equal(result.params["W0"], initial["W0"])  # it learned


def test_chunked_equals_unchunked_bit_for_bit(tmp_path):
    """An epoch as chunks of 7 samples (the last one padded) equals one run of the epoch, and the reference."""
    settings = dict(TINY, epochs=1)   # the chunks' state across epochs: test_compiled_chunks..., the resume tests
    whole = train(TrainConfig(out=tmp_path / "whole", **settings, device="runtime", chunk=1000))
    chunked = train(TrainConfig(out=tmp_path / "chunked", **settings, device="runtime", chunk=7))
    reference = train(TrainConfig(out=tmp_path / "reference", **settings))
    assert_same_learning(chunked, whole)
    assert_same_learning(chunked, reference)


@pytest.mark.stacks   # the compiled-rerun path, bit for bit, on both stacks
@pytest.mark.slow
def test_compiled_chunks_equal_the_reference_bit_for_bit(tmp_path):
    """On cpp_standalone, 25 samples an epoch as chunks of 10 (the last one padded with empty samples) end with
    the reference's weights and every metric (chunk 10 and these sizes are test_a_cached_shape's programs, which
    the session's cache compiles once)."""
    settings = dict(TINY, limit=25)
    chunked = train(TrainConfig(out=tmp_path / "chunked", **settings, device="cpp_standalone", chunk=10))
    reference = train(TrainConfig(out=tmp_path / "reference", **settings))
    assert_same_learning(chunked, reference)


@pytest.mark.slow
def test_a_second_run_of_the_same_shape_compiles_nothing(tmp_path, _program_cache):
    """In the session's cache (where test_compiled_chunks... has built this shape's programs, or this first run
    builds them): a run of the same shape with other weights, data, seed and sample counts compiles nothing and
    rebuilds none of the programs of the shape (the test workers share the cache: others may add their own)."""
    def built():
        entries = [json.loads(index.read_text()) for index in (_program_cache / "shapes").iterdir()]
        mine = [entry["program"] for entry in entries if entry["shape"].get("sizes") == [64, 8, 10] and
                entry["shape"]["circuit"] in ("sbp.training", "sbp.inference") and "copies" not in entry["shape"]]
        return {name: (_program_cache / name / "main").stat().st_mtime_ns for name in mine}

    train(TrainConfig(out=tmp_path / "first", **TINY, device="cpp_standalone", chunk=10))
    before = built()
    assert len(before) >= 2   # at least this shape's training and inference programs
    other = dict(TINY, seed=9, limit=23, limit_test=17, epochs=1)          # other weights, data, seed, counts
    second = train(TrainConfig(out=tmp_path / "second", **other, device="cpp_standalone", chunk=10))
    assert "compiling" not in second.path("tools.log").read_text()
    after = built()
    assert {name: after.get(name) for name in before} == before   # its binaries untouched: nothing built again


@pytest.mark.slow
def test_sigkill_on_cpp_standalone_then_rerun_ends_with_the_uninterrupted_run(tmp_path):
    """The make-run path: a training process killed (SIGKILL, with its simulation binary) at its first checkpoint,
    inside the first of two epochs, then rerun, ends with the params, metrics and presentation orders of an
    uninterrupted run."""
    import subprocess
    import sys

    out = tmp_path / "killed"
    args = [sys.executable, "-m", "spikingbp.cli", "train", "--device", "cpp_standalone", "--epochs", "2",
            "--limit", "150", "--limit-test", "20", "--hidden", "8", "--seed", "5", "--chunk", "10", "--quiet",
            "--out", str(out)]   # the shape of the TINY runs in chunks of 10: programs the session has built
    kill_at_first_checkpoint(args, out)
    with np.load(out / "checkpoint.npz") as checkpoint:
        position = int(checkpoint["position"])
        assert int(checkpoint["epochs_done"]) == 0 and 10 <= position < 150  # killed inside the epoch
    assert not (out / "weights_final.npz").exists()
    rerun = subprocess.run(args, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    uninterrupted = train(TrainConfig(out=tmp_path / "whole", **dict(SMALL, hidden=8, limit=150, limit_test=20,
                                                                      epochs=2)))   # reference = circuit
    with np.load(out / "weights_final.npz") as final:
        for name in ("W0", "W1"):
            np.testing.assert_array_equal(final[name], uninterrupted.params[name])
    metrics = pd.read_csv(out / "metrics.csv")
    accuracy = [c for c in metrics.columns if c.startswith(("train_", "test_"))]
    np.testing.assert_array_equal(metrics[accuracy], pd.read_csv(uninterrupted.out / "metrics.csv")[accuracy])
    np.testing.assert_array_equal(np.load(out / "order.npy"), np.load(uninterrupted.out / "order.npy"))


@pytest.mark.slow
def test_a_cached_shape_trains_without_importing_brian2(tmp_path):
    """The chunk loop of an indexed shape finds its program and reruns it with numpy alone: no Brian2
    (1.5-2 s to import, most of a fresh run's wait for its first chunk) and no compiler."""
    import subprocess
    import sys

    train(TrainConfig(out=tmp_path / "first", **TINY, device="cpp_standalone", chunk=10))  # indexes the shape
    code = f"""
import sys
import numpy as np
from spikingbp.algorithms import RunContext, create
from spikingbp.circuits.program import ProgramCache
from spikingbp.reference import sbp as reference
from spikingbp.training import load_data

algorithm = create("sbp")
data = load_data(algorithm, {TINY["dataset"]!r}, limit_train=10)
params = algorithm.init_params(data.sizes(({TINY["hidden"]},)), 5)
cache = ProgramCache()
context = RunContext("cpp_standalone", None, 5, chunk=10, programs=cache)
order = np.arange(10)
learned = algorithm.train_epoch(params, data.X_train, data.T_train, order, context)
W1, W2 = reference.train_epoch(data.X_train, data.T_train, params["W0"], params["W1"], order=order)
print("brian2" in sys.modules, cache.compiled, np.array_equal(learned["W0"], W1), np.array_equal(learned["W1"], W2),
      int((learned["W0"] != params["W0"]).sum()))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    imported, compiled, same_W1, same_W2, changed = done.stdout.split()
    assert (imported, compiled, same_W1, same_W2) == ("False", "0", "True", "True"), done.stdout
    assert int(changed) > 0  # it learned


def test_tool_output_goes_to_the_run_log_and_its_tail_shows_on_failure(tmp_path, capfd, monkeypatch):
    """What compilers and device scripts print (at the file-descriptor level, as make and GeNN's shell
    scripts do) lands in RUN_DIR/tools.log; the terminal keeps the progress bar; a failure shows the tail."""
    import os

    from spikingbp.algorithms.sbp import SBP

    original = SBP.train_epoch

    def noisy(self, *args, **kwargs):
        os.system("echo 'g++ -O3 main.cpp (compiler noise)'; echo 'mkdir: cannot create directory' >&2")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SBP, "train_epoch", noisy)
    out = tmp_path / "run"
    train(small_config(out, epochs=1, progress=True))
    terminal = capfd.readouterr()
    assert "compiler noise" not in terminal.out + terminal.err
    assert "sample/s" in terminal.err  # the progress bar stayed on the terminal
    log = (out / "tools.log").read_text()
    assert "g++ -O3 main.cpp (compiler noise)" in log and "mkdir: cannot create directory" in log

    def failing(self, *args, **kwargs):
        os.system("echo 'make: *** [main] Error 1'")
        raise RuntimeError("Project compilation failed")

    monkeypatch.setattr(SBP, "train_epoch", failing)
    with pytest.raises(RuntimeError):
        train(small_config(tmp_path / "failed", epochs=1))
    shown = capfd.readouterr().err
    assert f"last lines of {tmp_path / 'failed' / 'tools.log'}:" in shown and "make: *** [main] Error 1" in shown
    os.system("echo 'after the run'")  # the descriptors are back on the terminal
    assert "after the run" in capfd.readouterr().out


def test_an_option_added_after_the_run_started_resumes_at_its_default(tmp_path):
    """A run checkpointed before an option existed (its recorded configuration lacks it) resumes when the
    option is at its default, as the run then was, and is refused at any other value."""
    import json

    def forget_threshold(path):
        with np.load(path) as checkpoint:
            state = {name: checkpoint[name] for name in checkpoint.files}
        record = json.loads(str(state["config"]))
        del record["config"]["options"]["threshold"]
        state["config"] = np.array(json.dumps(record))
        np.savez(path, **state)

    train(TrainConfig(out=tmp_path / "run", **dict(SMALL, epochs=1)))
    forget_threshold(tmp_path / "run" / "checkpoint.npz")
    with pytest.raises(ConfigError, match="different configuration"):
        train(TrainConfig(out=tmp_path / "run", **dict(SMALL, epochs=2, options={"threshold": 100})))
    resumed = train(TrainConfig(out=tmp_path / "run", **dict(SMALL, epochs=2)))
    assert resumed.resumed_from_epoch == 1 and resumed.epochs_done == 2


@pytest.mark.parametrize("name, options", [("erbp", {"eta": 0.05, "train_ms": 20.0, "test_ms": 20.0,
                                                     "learn_after_ms": 5.0}),
                                           ("ssnnbp", {"eta": 0.05, "Ts": 20})])
def test_eta_decay_scales_each_epochs_learning_rate(name, options):
    """Epoch e trains with eta x eta_decay^(e - 1): epoch 3 at decay 0.5 is epoch 3 at a quarter of eta (same
    draws: they depend on seed and epoch only), and at decay 0 nothing after epoch 1 learns."""
    from spikingbp.algorithms import RunContext, create
    from spikingbp.training import load_data

    algorithm = create(name, {**options, "eta_decay": 0.5})
    data = load_data(algorithm, "digits", limit_train=6, limit_test=1)
    params = algorithm.init_params(data.sizes((8,)), 0)
    order = np.arange(6)
    decayed = algorithm.train_epoch(params, data.X_train, data.T_train, order, RunContext(epoch=3))
    quarter = create(name, {**options, "eta": options["eta"] / 4}).train_epoch(
        params, data.X_train, data.T_train, order, RunContext(epoch=3))
    first = algorithm.train_epoch(params, data.X_train, data.T_train, order, RunContext(epoch=1))
    assert all(np.array_equal(decayed[k], quarter[k]) for k in params)
    assert any(not np.array_equal(decayed[k], first[k]) for k in params)   # epoch 1 learns at the full eta
    frozen = create(name, {**options, "eta_decay": 0.0})
    after = frozen.train_epoch(params, data.X_train, data.T_train, order, RunContext(epoch=2))
    assert all(np.array_equal(after[k], params[k]) for k in params)
    assert any(not np.array_equal(first[k], params[k]) for k in params)


def test_a_finished_run_without_its_initial_weights_loads_them_redrawn_from_the_seed(tmp_path):
    """reproductions/ commits no weights_initial.npz: load_run redraws it from the config's seed and sizes."""
    from spikingbp.training import TrainConfig, load_run, train

    out = tmp_path / "run"
    train(TrainConfig(out=out, algorithm="sbp", hidden=(8,), epochs=1, limit=20, limit_test=10, progress=False))
    saved = load_run(out).initial
    (out / "weights_initial.npz").unlink()
    redrawn = load_run(out)
    assert set(redrawn.initial) == set(saved) and all(np.array_equal(redrawn.initial[k], saved[k]) for k in saved)
    (out / "weights_final.npz").unlink()
    with pytest.raises(DataError, match="weights_final.npz"):
        load_run(out)


def test_a_resampled_run_draws_class_balanced_epochs_and_resumes_to_the_uninterrupted_weights(tmp_path):
    """--resample N: each epoch N draws with replacement, N / 10 of each class, new ones each epoch, recorded in
    order.npy; a run stopped after epoch 1 and one stopped inside epoch 2 (chunks of 40) both resume to the
    uninterrupted run's weights and order."""
    from spikingbp.training import resample_order

    whole = train(small_config(tmp_path / "whole", epochs=3, resample=200))
    order = np.load(whole.out / "order.npy")
    labels = np.argmax(load_data_labels(), axis=1)
    assert len(order) == 600
    for epoch in range(3):
        drawn = order[epoch * 200:(epoch + 1) * 200]
        assert np.array_equal(np.bincount(labels[drawn], minlength=10), np.full(10, 20)), epoch
        assert len(np.unique(drawn)) < 200                      # with replacement: 200 draws from 300 repeat
    assert not np.array_equal(order[:200], order[200:400])
    np.testing.assert_array_equal(order[:200], resample_order(5, 1, labels, 200))
    assert json.loads((whole.out / "config.json").read_text())["result"]["samples_per_epoch"] == 200

    train(small_config(tmp_path / "resumed", epochs=1, resample=200))
    resumed = train(small_config(tmp_path / "resumed", epochs=3, resample=200))
    chunked = small_config(tmp_path / "chunked", epochs=3, resample=200, chunk=40)
    sbp_class = type(create("sbp"))
    real_train_epoch, calls = sbp_class.train_epoch, []

    def stop_inside_epoch_two(self, params, X, T, order, ctx):
        calls.append(ctx.epoch)
        if calls.count(2) == 3:
            raise KeyboardInterrupt
        return real_train_epoch(self, params, X, T, order, ctx)

    sbp_class.train_epoch = stop_inside_epoch_two
    try:
        with pytest.raises(KeyboardInterrupt):
            train(chunked)
    finally:
        sbp_class.train_epoch = real_train_epoch
    after_stop = train(chunked)
    assert after_stop.resumed_from_epoch == 1 and after_stop.resumed_from_sample == 80
    for run in (resumed, after_stop):
        for name in whole.params:
            np.testing.assert_array_equal(run.params[name], whole.params[name])
        np.testing.assert_array_equal(np.load(run.out / "order.npy"), order)
    with pytest.raises(ConfigError, match="different configuration"):
        train(small_config(tmp_path / "whole", epochs=4, resample=300))
    with pytest.raises(ConfigError, match="resample=0"):
        small_config(tmp_path / "bad", resample=0)


def load_data_labels():
    from spikingbp.training import load_data

    return load_data(create("sbp"), "digits", limit_train=SMALL["limit"], limit_test=1).T_train


def test_the_best_epochs_params_are_kept_beside_the_last(tmp_path, monkeypatch):
    """weights_best.npz holds the params after the epoch of the highest test accuracy (here epoch 2 of 3, the
    first of two equal ones), config.json's result names it, and a run trained to that epoch ends with them."""
    import spikingbp.training as training

    real, scripted = training._evaluate, {1: 0.5, 2: 0.9, 3: 0.9}
    epochs = []

    def evaluate(algorithm, params, X, T, context, label, terminal, progress):
        scores = real(algorithm, params, X, T, context, label, terminal, progress)
        if label == "test set":
            epochs.append(context.epoch)
            scores["accuracy"] = scripted[context.epoch]
        return scores

    monkeypatch.setattr(training, "_evaluate", evaluate)
    run = train(small_config(tmp_path / "run", epochs=3))
    assert epochs == [1, 2, 3]
    result = json.loads((run.out / "config.json").read_text())["result"]
    assert (result["best_epoch"], result["best_test_accuracy"], result["last_epoch"]) == (2, 0.9, 3)
    assert result["test_samples"] == SMALL["limit_test"]
    monkeypatch.setattr(training, "_evaluate", real)
    two = train(small_config(tmp_path / "two", epochs=2))
    with np.load(run.out / "weights_best.npz") as best:
        for name in two.params:
            np.testing.assert_array_equal(best[name], two.params[name])
            assert not np.array_equal(best[name], run.params[name])
    (run.out / "weights_best.npz").unlink()   # lost: the finished run's rerun restores it from epochs/
    monkeypatch.setattr(training, "_evaluate", evaluate)
    train(small_config(tmp_path / "run", epochs=3))
    with np.load(run.out / "weights_best.npz") as best:
        for name in two.params:
            np.testing.assert_array_equal(best[name], two.params[name])


def test_an_erbp_run_recorded_before_the_fidelity_options_is_read_as_it_was_trained(tmp_path):
    """A config.json without the options added by the fidelity review reads as the legacy behaviour (pixel label
    encoding, no silent background, grey / 255, noise before the check), not as today's defaults."""
    from spikingbp.training import upgraded_config

    recorded = {"algorithm": "erbp", "options": {"eta": 6e-4, "std_weight": 0.2}}
    options = upgraded_config(recorded)["options"]
    assert options["label_encoding"] == "pixel" and options["noise_order"] == "before_check"
    assert options["silent_background"] is False and options["pixel_scale"] == 255.0
    assert options["label_fan_in"] is False and options["std_weight"] == 0.2
    assert create("erbp").values["noise_order"] == "after_check"


def test_init_from_starts_at_another_runs_final_params_and_is_recorded(tmp_path):
    """--init-from RUN_DIR: the new run's initial params are that run's final ones (recorded in config.json, and
    redrawn from it when weights_initial.npz is missing); another algorithm or network is refused, writing
    nothing."""
    from spikingbp.training import load_run

    first = train(small_config(tmp_path / "first", epochs=1))
    second = train(small_config(tmp_path / "second", epochs=1, init_from=str(first.out)))
    with np.load(second.out / "weights_initial.npz") as initial:
        for name in first.params:
            np.testing.assert_array_equal(initial[name], first.params[name])
    assert json.loads((second.out / "config.json").read_text())["config"]["init_from"] == str(first.out)
    assert not np.array_equal(second.params["W0"], first.params["W0"])          # it trained on from there
    (second.out / "weights_initial.npz").unlink()
    np.testing.assert_array_equal(load_run(second.out).initial["W0"], first.params["W0"])
    with pytest.raises(ConfigError, match="has params"):
        train(small_config(tmp_path / "wide", hidden=30, init_from=str(first.out)))
    with pytest.raises(ConfigError, match="holds a run of sbp; give a run of ssnnbp"):
        train(TrainConfig(out=tmp_path / "other", algorithm="ssnnbp", dataset="digits", hidden=24, limit=30,
                          limit_test=10, progress=False, init_from=str(first.out)))
    assert not (tmp_path / "wide").exists() and not (tmp_path / "other").exists()
    with pytest.raises(DataError, match="not a finished training run"):
        train(small_config(tmp_path / "none", init_from=str(tmp_path / "missing")))


def test_a_finished_run_without_checkpoint_or_order_is_finished_and_continues(tmp_path):
    """reproductions/ keeps no checkpoint or order of a finished run: its command rerun trains nothing (the final
    params stay, nothing is drawn again), and with more epochs it continues to an uninterrupted run's params."""
    config = TrainConfig(out=tmp_path / "run", epochs=2, **TINY_BASE)
    first = train(config)
    (config.out / "checkpoint.npz").unlink()
    (config.out / "order.npy").unlink()
    again = train(config)
    assert again.resumed_from_epoch == 2 and again.epochs_done == 2
    np.testing.assert_array_equal(again.params["W0"], first.params["W0"])
    pd.testing.assert_frame_equal(again.metrics, first.metrics)
    (config.out / "checkpoint.npz").unlink()
    longer = train(dataclasses.replace(config, epochs=3))
    uninterrupted = train(TrainConfig(out=tmp_path / "uninterrupted", epochs=3, **TINY_BASE))
    assert longer.resumed_from_epoch == 2
    np.testing.assert_array_equal(longer.params["W0"], uninterrupted.params["W0"])
    np.testing.assert_array_equal(longer.metrics["test_accuracy"], uninterrupted.metrics["test_accuracy"])
    (config.out / "checkpoint.npz").unlink()
    with pytest.raises(ConfigError, match="already holds 3 trained epochs"):
        train(dataclasses.replace(config, epochs=2))


TINY_BASE = {key: value for key, value in TINY.items() if key != "epochs"}


def test_a_directory_of_other_files_is_refused_and_a_directory_in_use_too(tmp_path):
    """--out into a non-empty directory without a run writes nothing there; a run directory locked by a live process
    is refused naming it; a lock left by a dead process is taken over."""
    import subprocess
    import sys

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "metrics.csv").write_text("my own numbers\n")
    with pytest.raises(ConfigError, match="non-empty directory that holds no spikingbp run"):
        train(TrainConfig(out=mine, epochs=1, **TINY_BASE))
    assert [p.name for p in mine.iterdir()] == ["metrics.csv"] and (mine / "metrics.csv").read_text() == "my own numbers\n"
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "run.lock").write_text(f"{sleeper.pid}\n")
        with pytest.raises(ConfigError, match=f"in use by process {sleeper.pid}"):
            train(TrainConfig(out=out, epochs=1, **TINY_BASE))
    finally:
        sleeper.kill()
        sleeper.wait()
    result = train(TrainConfig(out=out, epochs=1, **TINY_BASE))      # the lock's process is gone: taken over
    assert result.epochs_done == 1 and not (out / "run.lock").exists()


@pytest.mark.slow
def test_samples_per_second_leaves_out_compiling(tmp_path, monkeypatch, _program_cache):
    """An epoch whose programs compile first reports the training runs' rate alone: a compile (here 5 s of waiting,
    then the session's copy of the program, so that no compiler's speed decides the outcome) does not show in
    samples_per_second; each compile leaves its line in the run's tools.log."""
    from conftest import build_by_copying
    from spikingbp.circuits import program

    settings = dict(TINY, epochs=1, device="cpp_standalone", chunk=10)
    train(TrainConfig(out=tmp_path / "first", **settings))   # the session's cache: its programs, built or found
    monkeypatch.setattr(program, "_build", build_by_copying(_program_cache, wait=5.0))
    result = train(TrainConfig(out=tmp_path / "run", cache=str(tmp_path / "cache"), **settings))
    assert TINY["limit"] / result.metrics["samples_per_second"].iloc[0] < 3.0
    log = (tmp_path / "run" / "tools.log").read_text()
    assert "compiling the 64-8-10 training" in log and "compiling the 64-8-10 inference" in log


def test_an_sbp_run_written_with_1_based_names_loads_and_resumes_under_0_based_names(tmp_path):
    """sBP's params are W0, W1 now (every algorithm names its layers from 0); a run directory written before, with
    W1, W2 in its weights files and checkpoint, loads and resumes under the new names to an uninterrupted run's."""
    config = TrainConfig(out=tmp_path / "old", epochs=1, **TINY_BASE)
    first = train(config)
    for name in ("weights_initial.npz", "weights_final.npz", "weights_best.npz"):
        with np.load(config.out / name) as stored:
            arrays = {"W1": stored["W0"], "W2": stored["W1"]}
        np.savez(config.out / name, **arrays)
    with np.load(config.out / "checkpoint.npz") as stored:
        checkpoint = {("param_W1" if key == "param_W0" else "param_W2" if key == "param_W1" else key): stored[key]
                      for key in stored.files}
    np.savez(config.out / "checkpoint.npz", **checkpoint)
    run = load_run(config.out)
    assert set(run.final) == {"W0", "W1"} and run.final["W0"].shape == first.params["W0"].shape
    np.testing.assert_array_equal(run.final["W1"], first.params["W1"])
    resumed = train(dataclasses.replace(config, epochs=2))
    uninterrupted = train(TrainConfig(out=tmp_path / "new", epochs=2, **TINY_BASE))
    for name in ("W0", "W1"):
        np.testing.assert_array_equal(resumed.params[name], uninterrupted.params[name])


@pytest.mark.parametrize("run_dir", ["reproductions/sbp-mnist", "reproductions/erbp-mnist10k-100",
                                     "reproductions/report/runs/ssnn-digits-Ts50"])
def test_committed_run_directories_written_before_the_execution_layer_load(run_dir):
    """Run directories committed before the execution layer (sBP's 1-based names, eRBP's legacy options, the
    report's SSNN-BP run) load as the runs they were."""
    root = Path(__file__).resolve().parents[1]
    run = load_run(root / run_dir)
    network = json.loads((root / run_dir / "config.json").read_text())["network"]
    sizes = [network["n_in"], *network["hidden"], network["n_out"]]
    assert [run.final[f"W{layer}"].shape for layer in range(len(sizes) - 1)] == list(zip(sizes, sizes[1:]))
    assert run.config.make_algorithm().name == run.algorithm.name


@pytest.mark.parametrize("algorithm, extra", [("sbp", {}), ("ssnnbp", {"options": {"Ts": 20}}),
                                               ("erbp", {"options": {"train_ms": 20.0, "test_ms": 20.0,
                                                                     "learn_after_ms": 5.0}})])
def test_a_finished_run_predicts_what_its_test_accuracy_counts(tmp_path, algorithm, extra):
    """``load_run(out).predict(X)``: the classes behind the run's last test accuracy, on its own device."""
    out = tmp_path / algorithm
    result = train(TrainConfig(out=out, algorithm=algorithm, dataset="digits", hidden=12, epochs=1, limit=40,
                               limit_test=30, progress=False, **extra))
    run = load_run(out)
    data = run.data(limit=30)
    labels = run.predict(data.X_test)
    assert labels.shape == (30,)
    accuracy = np.mean(labels == np.argmax(data.T_test, axis=1))
    assert accuracy == result.metrics["test_accuracy"].iloc[-1]
    with pytest.raises(ConfigError, match="choose final, best or initial"):
        run.predict(data.X_test, params="last")
