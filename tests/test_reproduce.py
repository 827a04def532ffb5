"""``spikingbp reproduce --quick``: one HTML report whose every figure and table exists, with the papers'
numbers beside ours; a rerun keeps the finished sections."""
import json
import re
import time

import pandas as pd
import pytest

from spikingbp.cli import main
from spikingbp.reproduce import SECTIONS


def test_quick_report_references_only_what_exists(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)   # from any directory
    out = tmp_path / "report"
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    # a long table (the chain's per-stage amplitudes) is linked, not inlined
    assert re.search(r"\d+ rows: <a href='sgsc/sgsc/sgsc_results.csv'>", page)
    assert all(table.count("<tr") <= 41 for table in re.findall(r"<table.*?</table>", page, re.S))
    images = re.findall(r"<img src='([^']+)'", page)
    links = re.findall(r"<a href='([^'#][^']*)'", page)   # files (the contents' anchors are checked below)
    assert len(images) >= 12 and len(links) >= 7
    for path in images:
        data = (out / path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    for path in links:
        assert len(pd.read_csv(out / path)) > 0, path
    for key in SECTIONS:
        assert json.loads((out / key / "section.json").read_text())["title"] in page.replace("&#x27;", "'")
        assert f"<a href='#{key}'>" in page and f"<h2 id='{key}'>" in page   # the contents link every section
    assert "{" not in page.split("per-operation costs")[1].split("</table>")[0]   # costs in words, not a dict
    # the papers' numbers stand beside ours
    assert "test accuracy, paper" in page and "590" in page and "3.94 %" not in page  # quick: no 784-100-10 row
    assert "about 100,000" in page and "Davies et al. 2018" in page
    for command in ("spikingbp train --algorithm sbp", "spikingbp energy", "spikingbp figures ssnnbp",
                    "spikingbp figures erbp", "spikingbp sgsc"):
        assert command in page, command
    capsys.readouterr()

    started = time.perf_counter()
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0   # every section kept
    assert time.perf_counter() - started < 20
    assert capsys.readouterr().out.count("done before, kept") == len(SECTIONS)
    assert main(["reproduce", "--quick", "--out", str(out), "--section", "sgsc"]) == 0
    page = (out / "index.html").read_text()                            # one section asked for: the index keeps all
    assert all(json.loads((out / key / "section.json").read_text())["title"] in page.replace("&#x27;", "'")
               for key in SECTIONS)
    assert main(["reproduce", "--out", str(out)]) == 2                 # a full report is not mixed into it
    assert "holds a quick report" in capsys.readouterr().err


def test_a_long_run_under_way_is_shown_as_far_as_it_got(tmp_path):
    """A partial RunSpec (the Fashion-MNIST reproduction) is not trained by the report: its run in ``reuse`` is
    shown with the epochs it has; a finished run there is reused whole, and a missing one is trained."""
    from spikingbp.reproduce import Runs, RunSpec

    under_way = tmp_path / "under_way"
    under_way.mkdir()
    pd.DataFrame({"epoch": [1, 2], "test_accuracy": [0.5, 0.6]}).to_csv(under_way / "metrics.csv", index=False)
    said = []
    runs = Runs(tmp_path / "report", said.append, reuse=tmp_path)
    spec = RunSpec("long", {"algorithm": "sbp", "epochs": 10, "progress": False}, ("under_way",), partial=True)
    record = runs.get(spec)
    assert record["epochs_done"] == 2 and record["directory"] == str(under_way) and record["reused"]
    assert "showing the 2 epochs" in said[-1] and not (tmp_path / "report").exists()
    trained = runs.get(RunSpec("small", {"algorithm": "sbp", "hidden": (8,), "epochs": 1, "limit": 20, "limit_test": 10,
                                         "progress": False}, ("missing",)))
    assert not trained["reused"] and (tmp_path / "report" / "runs" / "small" / "weights_final.npz").is_file()


def test_the_full_report_says_where_its_data_must_be_given(tmp_path):
    from spikingbp.errors import ConfigError
    from spikingbp.reproduce import FULL, Runs

    with pytest.raises(ConfigError, match="--data-root DIR"):
        Runs(tmp_path / "report", print).config(FULL.erbp[0])
    config = Runs(tmp_path / "report", print, data_root=tmp_path).config(FULL.erbp[0])
    assert config["data_dir"] == str(tmp_path / "mnist-10k")
    assert main(["reproduce", "--out", str(tmp_path / "r"), "--data-root", str(tmp_path / "nowhere")]) == 2
    assert not (tmp_path / "r").exists()


def test_a_recorded_run_command_gives_back_its_configuration():
    """The report shows a reused run's own command (``recorded_command``): parsed again, it is the run's config."""
    import shlex
    from pathlib import Path

    from spikingbp.cli import _train_fields, build_parser
    from spikingbp.config import TrainConfig, recorded_command

    root = Path(__file__).resolve().parents[1] / "reproductions"
    for run in ("erbp-fidelity/legacy", "ssnn-fashion", "sbp-mnist"):
        recorded = json.loads((root / run / "config.json").read_text())["config"]
        words = shlex.split(recorded_command(recorded))
        assert words[:2] == ["spikingbp", "train"]
        args = build_parser().parse_args(words[1:])
        again = TrainConfig(out=args.out, **_train_fields(args)).to_dict()
        differ = {k for k in recorded if again[k] != recorded[k]} - {"progress", "cache", "chunk", "options"}
        assert not differ, (run, differ)
        # options added since the run was recorded take their defaults, which are what it ran with
        assert {k: again["options"][k] for k in recorded["options"]} == recorded["options"], run
