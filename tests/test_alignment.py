"""spikingbp.analysis.alignment: the cosine of the circuit's weight change with the update it should follow is 1
where the answer is known (sBP's circuit against its exact binary update; SSNN-BP's rate form against itself;
eRBP's output layer, where random feedback and backprop coincide), well below 1 for a corrupted update, and
the command writes its table and figure for every algorithm."""
import numpy as np
import pandas as pd
import pytest

from spikingbp.algorithms import create
from spikingbp.analysis.alignment import alignment, cosine
from spikingbp.cli import main
from spikingbp.training import TrainConfig, train

TINY = dict(dataset="digits", hidden=(16,), epochs=1, limit=40, limit_test=20, seed=3, progress=False)
OPTIONS = {"sbp": {}, "ssnnbp": {"Ts": 30}, "erbp": {"train_ms": 40.0, "test_ms": 30.0, "learn_after_ms": 10.0}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("alignment")
    return {name: train(TrainConfig(out=root / name, algorithm=name, options=options, **TINY)).out
            for name, options in OPTIONS.items()}


def test_the_sbp_circuits_change_is_its_exact_update(runs, tmp_path):
    """On the Brian2 circuit (runtime), every sample's change equals the binary model's exact update."""
    table = alignment(runs["sbp"], samples=6, device="runtime", out=tmp_path, progress=False)
    assert list(table["snapshot"]) == ["initial", "initial", "epoch 1", "epoch 1"]
    assert list(table["matrix"]) == ["W0", "W1"] * 2
    np.testing.assert_allclose(table["cos_exact"], 1.0, atol=1e-12)
    np.testing.assert_allclose(table["cos_exact_sum"], 1.0, atol=1e-12)
    np.testing.assert_allclose(table["scale_exact"], 1.0, atol=1e-12)     # the same step, not only direction
    assert (table["zero_change"] < 1).all()            # some samples learned: the cosine measured something
    assert ((table["silent"] > 0) & (table["silent"] < 1)).all()
    assert (tmp_path / "alignment.png").stat().st_size > 10_000
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "alignment.csv"), table, check_dtype=False)


def test_a_corrupted_update_is_seen(runs, tmp_path, monkeypatch):
    """A circuit whose change is the right one with a third of its entries' signs flipped and a random term
    added scores well below 1."""
    sbp = type(create("sbp"))
    real = sbp.train_epoch

    def corrupted(self, params, X, T, order, ctx):
        after = real(self, params, X, T, order, ctx)
        rng = np.random.default_rng(int(order[0]))
        out = {}
        for name, W in after.items():
            change = (W - params[name]).astype(float)
            change[rng.random(change.shape) < 1 / 3] *= -1
            out[name] = params[name] + change + rng.normal(0, 0.5, change.shape) * np.abs(change).max()
        return out

    monkeypatch.setattr(sbp, "train_epoch", corrupted)
    table = alignment(runs["sbp"], samples=6, out=tmp_path, progress=False)
    assert (table["cos_exact"] < 0.8).all(), table["cos_exact"]


def test_ssnnbp_and_erbp_report_their_references(runs, tmp_path):
    """SSNN-BP (stochastic): its change against the rate form, the ideal and the gradient; eRBP: against random
    feedback and backprop, which coincide at the output. Cosines are cosines; the units' fractions are
    fractions."""
    ssnn = alignment(runs["ssnnbp"], samples=4, out=tmp_path / "ssnn", progress=False)
    for column in ("cos_rate_form", "cos_ideal", "cos_bp", "cos_rate_form_ideal", "cos_rate_form_sum"):
        assert ssnn[column].between(-1, 1).all() and ssnn[column].notna().all(), column
    assert (ssnn["cos_rate_form"] > 0.2).all()          # the stochastic form follows its rate form, noisily
    erbp = alignment(runs["erbp"], samples=3, out=tmp_path / "erbp", progress=False)
    output = erbp[erbp["matrix"] == "W1"]
    np.testing.assert_allclose(output["cos_rbp_bp"], 1.0, atol=1e-12)
    np.testing.assert_allclose(output["cos_rbp"], output["cos_bp"], atol=1e-12)
    for column in ("silent", "saturated", "outside_boxcar", "zero_change"):
        assert erbp[column].between(0, 1).all(), column
    assert (erbp["error_scale"] > 0).all()
    assert (tmp_path / "erbp" / "alignment.png").is_file()


def test_the_rate_form_circuit_makes_exactly_its_rate_form_update(tmp_path):
    out = tmp_path / "rate"
    train(TrainConfig(out=out, algorithm="ssnnbp", options={"Ts": 30, "form": "rate"}, **TINY))
    table = alignment(out, samples=4, progress=False)
    np.testing.assert_allclose(table["cos_rate_form"], 1.0, atol=1e-12)
    np.testing.assert_allclose(table["scale_rate_form"], 1.0, atol=1e-12)


def test_the_stochastic_forms_steps_are_about_one_ts_th_of_the_rate_forms(runs, tmp_path):
    """At the same eta the rate form multiplies counts, the stochastic form counts coincidences: about Ts times
    fewer (Ts = 30 here; front-loaded inputs and late gradient spikes make them rarer still)."""
    table = alignment(runs["ssnnbp"], samples=6, out=tmp_path, progress=False)
    assert ((table["scale_rate_form"] > 0.2 / 30) & (table["scale_rate_form"] < 3 / 30)).all(), table["scale_rate_form"]


def test_cosine_and_the_command_line(runs, tmp_path, capsys):
    assert cosine([1.0, 0.0], [0.0, 2.0]) == 0.0 and cosine([1, 1], [2, 2]) == pytest.approx(1.0)
    assert np.isnan(cosine([0.0, 0.0], [1.0, 0.0]))
    assert main(["alignment", str(runs["sbp"]), "--samples", "3", "--quiet", "--out", str(tmp_path)]) == 0
    assert "cos_exact" in capsys.readouterr().out and (tmp_path / "alignment.csv").is_file()
    assert main(["alignment", str(runs["sbp"]), "--samples", "0", "--quiet", "--out", str(tmp_path / "x")]) == 2
    assert "--samples 0 must be at least 1" in capsys.readouterr().err
    assert main(["alignment", str(tmp_path / "missing"), "--quiet"]) == 3


def test_an_option_changed_for_the_measurement_changes_the_rule_measured(runs, tmp_path, capsys):
    """The stochastic run's weights measured with form=rate: the change is then its own rate form, cosine 1; the
    table names the option."""
    assert main(["alignment", str(runs["ssnnbp"]), "--samples", "3", "--quiet", "--out", str(tmp_path),
                 "--option", "form=rate"]) == 0
    table = pd.read_csv(tmp_path / "alignment.csv")
    np.testing.assert_allclose(table["cos_rate_form"], 1.0, atol=1e-12)
    np.testing.assert_allclose(table["scale_rate_form"], 1.0, atol=1e-12)
    assert set(table["option_form"]) == {"rate"}
    assert main(["alignment", str(runs["ssnnbp"]), "--quiet", "--option", "form=dense"]) == 2
