"""``spikingbp reproduce --quick``: one HTML report whose every figure and table exists, with the papers'
numbers beside ours; a rerun keeps the finished sections."""
import json
import re
import time

import pandas as pd

from spikingbp.cli import main
from spikingbp.reproduce import SECTIONS


def test_quick_report_references_only_what_exists(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0
    page = (out / "index.html").read_text()
    images = re.findall(r"<img src='([^']+)'", page)
    links = re.findall(r"<a href='([^']+)'", page)
    assert len(images) >= 12 and len(links) >= 7
    for path in images:
        data = (out / path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    for path in links:
        assert len(pd.read_csv(out / path)) > 0, path
    for key in SECTIONS:
        assert json.loads((out / key / "section.json").read_text())["title"] in page.replace("&#x27;", "'")
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
    runs = Runs(tmp_path / "report", said.append)
    spec = RunSpec("long", {"algorithm": "sbp", "epochs": 10, "progress": False}, (str(under_way),), partial=True)
    record = runs.get(spec)
    assert record["epochs_done"] == 2 and record["directory"] == str(under_way) and record["reused"]
    assert "showing the 2 epochs" in said[-1] and not (tmp_path / "report").exists()
    trained = runs.get(RunSpec("small", {"algorithm": "sbp", "hidden": (8,), "epochs": 1, "limit": 20, "limit_test": 10,
                                         "progress": False}, (str(tmp_path / "missing"),)))
    assert not trained["reused"] and (tmp_path / "report" / "runs" / "small" / "weights_final.npz").is_file()
