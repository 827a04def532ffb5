"""spikingbp.analysis.evaluation and ``spikingbp evaluate``: a run tested again with nothing changed gives its last
epoch's test accuracy to the last digit (and its best epoch's with ``best``); a test-time option changes the
result without touching the weights; every evaluation is appended to evaluations.csv; bad input is refused."""
import pandas as pd
import pytest

from spikingbp.analysis.evaluation import CSV_FILE, evaluate_run
from spikingbp.cli import main
from spikingbp.errors import ConfigError, DataError
from spikingbp.training import TrainConfig, train

TINY = dict(dataset="digits", hidden=(24,), limit=120, limit_test=60, seed=5, progress=False)


@pytest.fixture(scope="module")
def ssnn_run(tmp_path_factory):
    """Three epochs of SSNN-BP on the reference: a last and a best epoch (they differ at this seed)."""
    out = tmp_path_factory.mktemp("evaluation") / "ssnn"
    train(TrainConfig(out=out, algorithm="ssnnbp", epochs=3, options={"Ts": 30, "eta": 0.05}, **TINY))
    return out


def test_the_final_and_best_params_give_the_runs_own_test_accuracies(ssnn_run):
    metrics = pd.read_csv(ssnn_run / "metrics.csv")
    final = evaluate_run(ssnn_run, progress=False)
    assert final["params"] == "final" and final["epochs_done"] == 3 and final["n_test"] == 60
    assert final["accuracy"] == metrics["test_accuracy"].iloc[-1]
    best = evaluate_run(ssnn_run, params="best", progress=False)
    assert best["accuracy"] == metrics["test_accuracy"].max()
    initial = evaluate_run(ssnn_run, params="initial", progress=False)
    assert initial["accuracy"] < metrics["test_accuracy"].max()     # the run learned: the test measured something
    table = pd.read_csv(ssnn_run / CSV_FILE, keep_default_na=False)
    assert list(table["params"])[-3:] == ["final", "best", "initial"]
    assert list(table["accuracy"])[-3:] == [final["accuracy"], best["accuracy"], initial["accuracy"]]


def test_a_test_time_option_changes_the_test_not_the_weights(ssnn_run):
    weights = (ssnn_run / "weights_final.npz").read_bytes()
    plain = evaluate_run(ssnn_run, progress=False, record=False)
    scaled = evaluate_run(ssnn_run, options={"test_scale": "true"}, progress=False)
    assert scaled["options"] == {"test_scale": True}
    assert scaled["argmax_counts"] != plain["argmax_counts"]
    assert (ssnn_run / "weights_final.npz").read_bytes() == weights
    assert pd.read_csv(ssnn_run / CSV_FILE, keep_default_na=False)["options"].iloc[-1] == "test_scale=True"


def test_fewer_test_samples_and_another_device(ssnn_run):
    reference = evaluate_run(ssnn_run, limit_test=20, progress=False, record=False)
    runtime = evaluate_run(ssnn_run, limit_test=20, device="runtime", progress=False, record=False)
    assert reference["n_test"] == runtime["n_test"] == 20
    assert runtime["accuracy"] == reference["accuracy"]     # the circuit reproduces the reference spike for spike


def test_the_command_line(ssnn_run, capsys):
    rows = len(pd.read_csv(ssnn_run / CSV_FILE))
    assert main(["evaluate", str(ssnn_run), "--params", "best", "--option", "test_scale=true", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "best params after 3 epochs, 60 test samples on reference, options changed: test_scale=True" in out
    assert len(pd.read_csv(ssnn_run / CSV_FILE)) == rows + 1


@pytest.mark.parametrize("arguments, code, message", [
    (["--params", "latest"], 2, "invalid choice: 'latest'"),
    (["--option", "test_scale=maybe"], 2, "test_scale"),
    (["--option", "no_such_option=1"], 2, "no_such_option"),
    (["--limit-test", "0"], 2, "--limit-test 0"),
    (["--limit-test", "ten"], 2, "invalid int value: 'ten'"),
    (["--device", "no-such-device"], 2, "no-such-device"),
])
def test_bad_input_is_refused_and_nothing_is_appended(ssnn_run, arguments, code, message, capsys):
    rows = len(pd.read_csv(ssnn_run / CSV_FILE))
    try:
        returned = main(["evaluate", str(ssnn_run), "--quiet", *arguments])
    except SystemExit as stopped:       # argparse's own checks
        returned = stopped.code
    assert returned == code
    assert message in capsys.readouterr().err
    assert len(pd.read_csv(ssnn_run / CSV_FILE)) == rows


def test_a_directory_that_is_not_a_run_and_params_that_do_not_exist(ssnn_run, tmp_path):
    with pytest.raises(DataError, match="not a finished training run"):
        evaluate_run(tmp_path, progress=False)
    with pytest.raises(ConfigError, match="choose final, best or initial"):
        evaluate_run(ssnn_run, params="latest", progress=False)
