"""spikingbp sweep: points from a grid or a random draw, one resumable run directory per point, the results
frame, local processes and Dask (a real LocalCluster, a real worker killed in the middle of a point)."""
import json
import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from spikingbp.cli import main
from spikingbp.errors import ConfigError
from spikingbp.sweep import (Distribution, Sweep, grid_points, parse_param, point_name, random_points, run_sweep)
from spikingbp.training import TrainConfig, train

#: small sBP trainings on the embedded digits (numpy reference): a few seconds a point
BASE = {"algorithm": "sbp", "dataset": "digits", "epochs": 1, "limit": 300, "limit_test": 100}


def test_param_values_are_lists_ranges_or_distributions():
    assert parse_param("hidden=16,32") == ("hidden", [16, 32])
    assert parse_param("seed=0:4") == ("seed", [0, 1, 2, 3])
    assert parse_param("seed=0:8:3") == ("seed", [0, 3, 6])
    assert parse_param("eta=0.5,1e-3") == ("eta", [0.5, 0.001])
    assert parse_param("form=rate,stochastic") == ("form", ["rate", "stochastic"])
    assert parse_param("hidden=200-200,400") == ("hidden", ["200-200", 400])
    assert parse_param("eta=log:1e-4:1e-2") == ("eta", Distribution("log", 1e-4, 1e-2))
    for spec, message in (("seed", "must be NAME=VALUES"), ("seed=4:0", "holds no value"),
                          ("eta=log:0:1", "positive low bound"), ("eta=uniform:1", "takes two numbers")):
        with pytest.raises(ConfigError, match=message):
            parse_param(spec)


def test_grid_is_every_combination_and_a_random_draw_is_seeded():
    points = grid_points({"hidden": [16, 32], "seed": [0, 1, 2]})
    assert points == [{"hidden": h, "seed": s} for h in (16, 32) for s in (0, 1, 2)]
    assert [point_name(p) for p in points[:2]] == ["hidden=16,seed=0", "hidden=16,seed=1"]
    space = {"eta": Distribution("log", 1e-4, 1e-2), "seed": [0, 1]}
    drawn = random_points(space, 50, seed=3)
    assert drawn == random_points(space, 50, seed=3) and drawn != random_points(space, 50, seed=4)
    etas = np.array([p["eta"] for p in drawn])
    assert etas.min() >= 1e-4 and etas.max() <= 1e-2 and (etas < 1e-3).sum() > 10   # log-uniform: half below 1e-3
    assert {p["seed"] for p in drawn} == {0, 1}
    with pytest.raises(ConfigError, match="needs --random N"):
        grid_points(space)
    long = point_name({"data_dir": "/a/very/long/path/" * 8, "seed": 1})
    assert len(long) <= 80 and "/" not in long


def test_dask_local_sweep_writes_one_row_per_point_and_epoch_and_a_rerun_trains_nothing(tmp_path, capsys):
    out = tmp_path / "S"
    args = ["sweep", "--algorithm", "sbp", "--dataset", "digits", "--param", "seed=0:2", "--param", "hidden=16,32",
            "--epochs", "1", "--limit", "300", "--limit-test", "100", "--dask-local", "2", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert "4 run, 0 found finished" in capsys.readouterr().out
    frame = pd.read_parquet(out / "results.parquet")
    assert len(frame) == 4 and sorted(zip(frame["seed"], frame["hidden"])) == [(0, 16), (0, 32), (1, 16), (1, 32)]
    for column in ("point", "algorithm", "device", "dataset", "epochs", "limit", "hidden", "seed", "threshold",
                   "spikingbp_version", "epoch", "train_accuracy", "test_accuracy"):
        assert column in frame, column
    assert (frame["limit"] == 300).all() and (frame["algorithm"] == "sbp").all() and (frame["epoch"] == 1).all()
    # (pandas 3 reads an empty field as NaN where the frame holds None: both are "not given")
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), frame.fillna(np.nan), check_dtype=False)
    # each point is the run `spikingbp train` makes of its values
    single = train(TrainConfig(out=tmp_path / "single", **BASE, hidden=32, seed=1, progress=False))
    point = out / "points" / "seed=1,hidden=32"
    with np.load(point / "weights_final.npz") as swept:
        for name, value in single.params.items():
            np.testing.assert_array_equal(swept[name], value)
    assert (out / "figures" / "test_accuracy_vs_hidden.png").is_file()
    stamp = (point / "weights_final.npz").stat().st_mtime_ns
    assert main(args) == 0
    assert "0 run, 4 found finished" in capsys.readouterr().out
    assert (point / "weights_final.npz").stat().st_mtime_ns == stamp
    assert len(pd.read_parquet(out / "results.parquet")) == 4


def test_a_local_process_pool_runs_the_points_and_a_longer_sweep_resumes_them(tmp_path):
    sweep = Sweep("train", base=dict(BASE, hidden=16), grid={"seed": [0, 1]})
    first = run_sweep(sweep, tmp_path, workers=2, progress=False)
    assert sorted(first.ran) == ["seed=0", "seed=1"] and len(first.frame) == 2
    assert all(report == {"resumed_from_epoch": 0, "resumed_from_sample": 0} for report in first.runs.values())
    # the same sweep with two epochs is another sweep: refused, nothing changed
    longer = Sweep("train", base=dict(BASE, hidden=16, epochs=2), grid={"seed": [0, 1]})
    with pytest.raises(ConfigError, match="holds another sweep"):
        run_sweep(longer, tmp_path, progress=False)
    assert json.loads((tmp_path / "sweep.json").read_text())["base"]["epochs"] == 1


@pytest.mark.slow
def test_points_that_differ_in_their_seed_train_as_one_ensemble(tmp_path, sbp_ensemble_base, capsys):
    """--ensemble 4: the four seeds are one task, one compiled ensemble (test_ensemble checks it against single
    runs); each point is a finished run directory of its own, and a rerun trains nothing."""
    base = dict(sbp_ensemble_base, epochs=1)
    result = run_sweep(Sweep("train", base=base, grid={"seed": [0, 1, 2, 3]}), tmp_path, ensemble=4, progress=False)
    assert result.groups == [["seed=0", "seed=1", "seed=2", "seed=3"]] and len(result.frame) == 4
    alone = train(TrainConfig(out=tmp_path / "alone", seed=2, epochs=1, progress=False,
                              **dict(sbp_ensemble_base, device="reference")))
    with np.load(tmp_path / "points" / "seed=2" / "weights_final.npz") as swept:
        np.testing.assert_array_equal(swept["W0"], alone.params["W0"])
    assert run_sweep(Sweep("train", base=base, grid={"seed": [0, 1, 2, 3]}), tmp_path, ensemble=4,
                     progress=False).ran == []
    for extra, message in ((["--ensemble", "0"], "--ensemble 0 must be at least 1"),):
        args = ["sweep", "--param", "seed=0:2", "--epochs", "1", "--ensemble", "2", "--out", str(tmp_path / "x")]
        assert main(args + extra) == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_erbp_points_train_as_one_compiled_ensemble_each_as_its_own_run(tmp_path, _program_cache):
    """The execution layer's ensembles need no algorithm code: eRBP's two seeds (own weights, feedback, streams)
    train as one compiled program, and each point's weights equal those of its own run (on the reference, which
    the circuit equals bit for bit: test_erbp)."""
    out = tmp_path / "S"
    short = {"train_ms": 50.0, "test_ms": 50.0, "learn_after_ms": 10.0}   # the reference runs below: 5x faster
    args = ["sweep", "--algorithm", "erbp", "--dataset", "digits", "--hidden", "12", "--epochs", "1", "--limit", "40",
            "--limit-test", "20", "--device", "cpp_standalone", "--ensemble", "2", "--param", "seed=0:2", "--quiet",
            "--out", str(out)] + [f"--option={key}={value}" for key, value in short.items()]
    assert main(args) == 0
    shapes = [json.loads(index.read_text())["shape"] for index in (_program_cache / "shapes").iterdir()]
    assert [s["sizes"] for s in shapes if s.get("circuit") == "erbp" and s.get("copies") == 2] == [[64, 12, 10]]
    for seed in (0, 1):
        alone = train(TrainConfig(algorithm="erbp", dataset="digits", hidden=12, epochs=1, limit=40, limit_test=20,
                                  seed=seed, device="reference", progress=False, out=tmp_path / f"alone{seed}",
                                  options=short))
        with np.load(out / "points" / f"seed={seed}" / "weights_final.npz") as swept:
            assert set(swept.files) == set(alone.params)
            for name, value in alone.params.items():
                np.testing.assert_array_equal(swept[name], value)
        assert (alone.params["W0"] != np.load(tmp_path / f"alone{seed}" / "weights_initial.npz")["W0"]).sum() > 20


def test_bad_sweeps_are_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "S"
    for extra, message in ((["--param", "bogus=1,2"], "--param bogus: not a parameter of train for --algorithm sbp"),
                           (["--param", "eta=log:1e-3:1e-1"], "needs --random N"),
                           (["--param", "seed=0:2", "--workers", "2", "--dask-local", "2"], "give one of them"),
                           (["--param", "seed=0:2", "--seed", "1"], "given both as a fixed value and as --param"),
                           (["--param", "hidden=0,4"], "point 'hidden=0': --hidden 0 must be at least 1")):
        assert main(["sweep", "--algorithm", "sbp", "--epochs", "1", "--quiet", "--out", str(out)] + extra) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()
    assert main(["sweep", "--job", "sgsc", "--epochs", "1", "--param", "sigma=4,6", "--out", str(out)]) == 2
    assert "--job sgsc takes --seed and --quick, not --epochs" in capsys.readouterr().err
    assert main(["sweep", "--job", "sgsc", "--param", "bogus=4,6", "--out", str(out)]) == 2
    assert "not a parameter of the SGSC experiment" in capsys.readouterr().err
    assert not out.exists()


def _processing_worker(client, point: str):
    """The address of the Dask worker running the task of ``point``, or None."""
    for address, keys in client.processing().items():
        if any(f"spikingbp-point-{point}-" in str(key) for key in keys):
            return address
    return None


def test_a_dask_worker_killed_in_the_middle_of_a_point_loses_nothing(tmp_path):
    """A real LocalCluster of two worker processes; while a point's run has checkpointed part of its epoch, its
    worker is killed (SIGKILL). The scheduler hands the point to a worker again, the run resumes from its
    checkpoint, and the sweep ends with every row and the weights of an uninterrupted run."""
    distributed = pytest.importorskip("distributed", reason="Dask (the dist extra) is not installed")
    base = dict(BASE, epochs=2, limit=600, chunk=25, hidden=32)
    sweep = Sweep("train", base=base, grid={"seed": [0, 1]})
    target = tmp_path / "S" / "points" / "seed=0"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        outcome = {}
        runner = threading.Thread(target=lambda: outcome.update(result=run_sweep(
            sweep, tmp_path / "S", scheduler=cluster.scheduler_address, progress=False)))
        runner.start()
        killed_at = None
        deadline = time.monotonic() + 120
        while killed_at is None and time.monotonic() < deadline and runner.is_alive():
            checkpoint = target / "checkpoint.npz"
            address = _processing_worker(client, "seed=0")
            if address and checkpoint.is_file():
                with np.load(checkpoint) as state:
                    position, epochs_done = int(state["position"]), int(state["epochs_done"])
                if position >= 50 and epochs_done == 0:
                    pid = client.run(os.getpid, workers=[address])[address]
                    os.kill(pid, signal.SIGKILL)
                    killed_at = position
            time.sleep(0.02)
        runner.join(timeout=300)
    assert killed_at is not None, "the point finished before its worker could be killed"
    result = outcome["result"]
    assert len(result.frame) == 4 and sorted(result.ran) == ["seed=0", "seed=1"]   # 2 points x 2 epochs
    report = result.runs["seed=0"]
    assert report["resumed_from_epoch"] > 0 or report["resumed_from_sample"] >= killed_at   # resumed, not restarted
    single = train(TrainConfig(out=tmp_path / "single", **base, seed=0, progress=False))
    with np.load(target / "weights_final.npz") as swept:
        for name, value in single.params.items():
            np.testing.assert_array_equal(swept[name], value)
    np.testing.assert_array_equal(result.frame[result.frame["seed"] == 0]["test_accuracy"],
                                  single.metrics["test_accuracy"])


def test_an_sgsc_sweep_gathers_one_row_per_point_in_the_units_it_was_given(tmp_path, capsys):
    assert main(["sweep", "--job", "sgsc", "--quick", "--param", "sigma=4", "--quiet", "--out", str(tmp_path)]) == 0
    frame = pd.read_parquet(tmp_path / "results.parquet")
    assert len(frame) == 1 and frame["sigma"].iloc[0] == 4.0 and frame["tau"].iloc[0] == 20.0    # mV, ms
    assert frame["n"].iloc[0] == 100 and frame["quick"].iloc[0]
    summary = json.loads((tmp_path / "points" / "sigma=4" / "summary.json").read_text())
    assert frame["calibrated_S"].iloc[0] == summary["calibrated_S"] and summary["quick"]
    assert json.loads((tmp_path / "points" / "sigma=4" / "config.json").read_text())["spiking"]["sigma"] == \
        pytest.approx(4e-3)


def test_figures_show_a_measure_against_a_parameter_and_a_heatmap_of_two(tmp_path):
    """From a frame of two parameters and two seeds (two epochs each): a line figure per parameter and a heatmap
    of the last epoch's mean over seeds."""
    from spikingbp.analysis.sweep_figures import final_rows, mean_table, plot_heatmap, sweep_figures

    rows = [{"point": f"h={h},eta={eta},seed={seed}", "hidden": h, "eta": eta, "seed": seed, "epoch": epoch,
             "test_accuracy": h / 100 + eta + seed / 1000 + epoch / 10}
            for h in (16, 32) for eta in (0.1, 0.2) for seed in (0, 1) for epoch in (1, 2)]
    frame = pd.DataFrame(rows)
    last = final_rows(frame)
    assert len(last) == 8 and (last["epoch"] == 2).all()
    files = sweep_figures(frame, ["hidden", "eta", "seed"], "test_accuracy", tmp_path)
    assert sorted(f.name for f in files) == ["test_accuracy_hidden_eta.png", "test_accuracy_vs_eta.png",
                                             "test_accuracy_vs_hidden.png"]
    assert all(f.stat().st_size > 5000 for f in files)
    table = mean_table(frame, "hidden", "eta", "test_accuracy")
    assert table.shape == (2, 2) and table.loc[0.2, 32] == pytest.approx(0.32 + 0.2 + 0.0005 + 0.2)  # last epoch,
    assert table.loc[0.1, 16] == pytest.approx(0.16 + 0.1 + 0.0005 + 0.2)                          # seeds' mean
    with pytest.raises(ConfigError, match="no column bogus"):
        plot_heatmap(frame, "hidden", "bogus", "test_accuracy", tmp_path / "x.png")
