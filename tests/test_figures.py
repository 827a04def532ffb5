"""The figures say what they show: every unit or a stated subset, integer epochs, and the same transfers as
the printed summary."""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from spikingbp.analysis.curves import LABELS, draw_learning_curves
from spikingbp.analysis.raster import Row, draw_raster
from spikingbp.analysis.sbp_figures import CYCLE_ROWS, GATES, plot_training_cycle, with_gate_band
from spikingbp.analysis.sgsc_figures import plot_amplitude_vs_stage
from spikingbp.circuits.spikes import CircuitResult


def random_result(sizes: dict, steps: int = 30, seed: int = 0) -> CircuitResult:
    rng = np.random.default_rng(seed)
    spikes = {}
    for name, size in sizes.items():
        step, unit = np.nonzero(rng.random((steps, size)) < 0.2)
        spikes[name] = (step, unit, size)
    return CircuitResult(steps, spikes, {}, {})


def drawn_points(axes) -> int:
    return sum(len(collection.get_offsets()) for collection in axes.collections if collection.get_offsets().size)


def test_a_raster_draws_every_unit_and_says_when_it_shows_fewer():
    result = random_result({"big": 784, "small": 3})
    axes = Figure().add_subplot()
    draw_raster(axes, result, ["big", "small"], band_height=(10, 40), unit_ticks=True)
    assert drawn_points(axes) == sum(len(step) for step, _, _ in result.spikes.values())
    assert [t.get_text() for t in axes.get_yticklabels()] == ["big", "small"]
    low, high = axes.get_ylim()
    assert high > low  # rows are drawn top down within the limits
    thinned = Figure().add_subplot()
    draw_raster(thinned, result, ["big", "small"], max_units=16)
    assert [t.get_text() for t in thinned.get_yticklabels()] == ["big\n16 of 784 units", "small"]


def test_unit_index_ticks_of_thin_bands_do_not_meet():
    """A 10-unit band beside 400-unit bands (sBP's output rows) gets one "0-9" tick instead of two that overlap."""
    result = random_result({"hidden": 400, "output": 10, "target": 10})
    axes = Figure(figsize=(6, 3)).add_subplot()
    draw_raster(axes, result, ["hidden", "output", "target"], band_height=(10, 300), unit_ticks=True)
    right = [other for other in axes.figure.axes if other is not axes][0]
    assert [t.get_text() for t in right.get_yticklabels()] == ["0", "399", "0-9", "0-9"]


def test_band_heights_stay_within_the_limits_whatever_the_size():
    result = random_result({"one": 1, "many": 784, "fixed": 5})
    bands = draw_raster(Figure().add_subplot(), result, ["one", "many", Row("fixed", height=30)], band_height=(12, 40))
    heights = {name: high - low for name, (low, high) in bands.items()}
    assert heights == {"one": 12.0, "many": 40.0, "fixed": 30.0}


def test_the_training_cycle_shows_every_unit_of_every_population(tmp_path):
    sizes = {**{gate: 1 for gate in GATES}, "x": 784, "m_x": 784, "h": 40, "h_lt": 40, "h_gt": 40, "m_h": 40,
             "c_h": 40, "hT": 40, "o": 10, "o_lt": 10, "o_gt": 10, "t": 10, "d_plus": 10, "d_minus": 10,
             "oT_minus": 10}
    result = random_result(sizes, steps=40)
    merged = with_gate_band(result)
    assert merged.spikes["gates"][2] == 12
    for k, gate in enumerate(GATES):  # unit k of the band is gate gKK, spike for spike
        step, unit, _ = merged.spikes["gates"]
        np.testing.assert_array_equal(np.sort(step[unit == k]), np.sort(result.spikes[gate][0]))
    axes = Figure().add_subplot()
    draw_raster(axes, merged, CYCLE_ROWS, band_height=(14, 40))
    assert drawn_points(axes) == sum(len(merged.spikes[row.population][0]) for row in CYCLE_ROWS)
    assert not any(" of " in t.get_text() for t in axes.get_yticklabels())
    path = plot_training_cycle(result, tmp_path / "cycle.png", first_phase_step=14)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_learning_curves_of_one_epoch_have_integer_ticks_and_distinct_markers():
    MEASURES = ("exact", "argmax_spikes", "argmax_potential")
    row = {"epoch": 1, "train_accuracy": 0.5, **{f"{split}_{m}": 0.5 for split in ("train", "test") for m in MEASURES}}
    axes = draw_learning_curves(Figure().add_subplot(), pd.DataFrame([row]))
    low, high = axes.get_xlim()
    assert [t for t in axes.get_xticks() if low <= t <= high] == [1.0]
    lines = axes.get_lines()
    assert len({line.get_marker() for line in lines}) == len(MEASURES)
    assert len({(line.get_marker(), line.get_markerfacecolor()) for line in lines}) == 2 * len(MEASURES)
    assert sorted(line.get_label() for line in lines) == sorted(f"{s}: {LABELS[m]}" for s in ("train", "test")
                                                                  for m in MEASURES)


def test_the_gain_panel_covers_the_transfers_the_summary_covers(tmp_path, monkeypatch):
    rows = [dict(experiment="spiking", S=3.0, input=10.0, copy=c, branch="main", stage=j,
                 amplitude=10.0 * 1.01 ** j, gain=np.nan if j == 0 else 1.01, unit="pA")
            for c in range(2) for j in range(11)]
    drawn = {}
    import spikingbp.analysis.sgsc_figures as figures

    def keep(figure, out_png):
        drawn["figure"] = figure
        return out_png
    monkeypatch.setattr(figures, "save_figure", keep)
    plot_amplitude_vs_stage(pd.DataFrame(rows), tmp_path / "a.png", calibrated_S=3.0, gain_stages=8)
    gain_axes = drawn["figure"].axes[2]
    data_line = gain_axes.containers[0].lines[0]  # the errorbar's line: mean gain per stage
    np.testing.assert_array_equal(data_line.get_xdata(), np.arange(1, 9))
    assert "first 8 transfers" in gain_axes.get_title()


def test_output_distributions_separate_the_correct_unit_from_the_others(tmp_path, monkeypatch):
    import spikingbp.analysis.ssnnbp_figures as figures

    drawn = {}
    monkeypatch.setattr(figures, "save_figure", lambda figure, out: drawn.setdefault("figure", figure))
    counts = np.array([[5, 0, 1], [4, 7, 0], [2, 2, 0], [0, 0, 0]])
    labels = np.array([0, 2, 1, 1])
    outcome = figures.plot_output_distributions(counts, labels, tmp_path / "o.png")
    assert outcome["right (single winner)"] == 0.25 and outcome["wrong (single winner)"] == 0.25
    assert outcome["tie"] == 0.25 and outcome["no output spike"] == 0.25
    correct, others = (patches for patches in drawn["figure"].axes[0].containers)
    heights = [np.array([p.get_height() for p in c]) for c in (correct, others)]
    assert len(heights[0]) == len(heights[1]) == 8  # one bin per count 0..7
    np.testing.assert_allclose(heights[0][[0, 2, 5]], [0.5, 0.25, 0.25])   # correct units: 0, 0, 2, 5 -> 0 twice
    np.testing.assert_allclose(heights[1][[0, 1, 2, 4, 7]], [4 / 8, 1 / 8, 1 / 8, 1 / 8, 1 / 8])  # the 8 others


def test_figures_refuse_runs_of_another_algorithm_before_writing(tmp_path, capsys):
    from spikingbp.cli import main

    run = tmp_path / "sbp-run"
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "8", "--limit", "40", "--limit-test",
                 "10", "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    for algorithm in ("erbp", "ssnnbp"):
        out = tmp_path / f"figures-{algorithm}"
        assert main(["figures", algorithm, "--out", str(out), "--runs", str(run), "--quick"]) == 2
        assert f"holds a run of sbp; give a run of {algorithm}" in capsys.readouterr().err and not out.exists()


def test_runs_of_one_architecture_stay_apart_in_a_per_epoch_figure(tmp_path):
    from spikingbp.analysis.curves import plot_runs_per_epoch

    runs = []
    for name, accuracy in (("seed0", [0.5, 0.6]), ("seed1", [0.4, 0.7])):
        (tmp_path / name).mkdir()
        pd.DataFrame({"epoch": [1, 2], "train_accuracy": accuracy, "test_accuracy": accuracy, "train_exact": accuracy,
                      "test_exact": accuracy}).to_csv(tmp_path / name / "metrics.csv", index=False)
        runs.append(tmp_path / name)
    curves = plot_runs_per_epoch(runs, tmp_path / "curves.png", label=lambda run: "64-100-10",
                                 value=lambda metrics: metrics["test_accuracy"], ylabel="accuracy", title="t")
    assert curves == {"64-100-10 (seed0)": [0.5, 0.6], "64-100-10 (seed1)": [0.4, 0.7]}
