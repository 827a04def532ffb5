"""The spikingbp command: each command's output and exit codes, and clear errors on bad input."""
import numpy as np
import pytest

from spikingbp.cli import main


def test_info_reports_the_stack(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for expected in ("brian2        2.5.4", "lava-nc       0.10.0", "brian2genn    1.7.0", "genn", "cpp_standalone",
                     "digits         embedded"):
        assert expected in out


def test_train_writes_a_run_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--dataset", "digits", "--epochs", "1", "--hidden", "20", "--quiet", "--out", str(out)]
    assert main(args) == 0
    assert "fresh run" in capsys.readouterr().out
    for name in ("config.json", "weights_initial.npz", "weights_final.npz", "order.npy", "metrics.csv",
                 "learning_curves.png", "training_cycle.png"):
        assert (out / name).is_file(), name
    assert main(args[:4] + ["2"] + args[5:]) == 0
    assert "resumed after epoch 1" in capsys.readouterr().out


@pytest.mark.parametrize("args, code, message", [
    (["train", "--dataset", "cifar", "--out", "X"], 2, "dataset"),
    (["train", "--epochs", "0", "--out", "X"], 2, "epochs"),
    (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/idx", "--out", "X"], 3, "SPIKINGBP_DATA"),
    (["export-lava", "/nonexistent/run"], 3, "not a finished training run"),
])
def test_bad_input_gives_a_named_error_and_exit_code(tmp_path, capsys, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SPIKINGBP_DATA", raising=False)
    assert main(args) == code
    err = capsys.readouterr().err
    assert "error" in err and message in err


def test_unknown_device_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--device", "loihi", "--out", "X"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_verify_lava_prints_identical_count(capsys):
    assert main(["verify-lava", "--circuit", "sgsc", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "identical: 3/3"


def test_verify_and_export_lava_on_a_trained_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "24", "--quiet", "--out", str(out)]) == 0
    assert main(["verify-lava", "--circuit", "sbp-inference", "--weights", str(out), "--limit", "12"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "identical: 12/12"
    assert main(["export-lava", str(out), "--limit", "4"]) == 0
    assert (out / "lava_export.json").is_file()
    assert np.load(out / "weights_final.npz")["W1"].shape == (64, 24)
