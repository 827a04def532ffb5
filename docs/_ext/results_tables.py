"""Results tables generated from what the commands wrote, never typed by hand.

``.. run-results::`` (in MyST: a ``{run-results}`` block) lists run directories, one per line, relative to the
repository root, and renders per run its network, data, epochs, last and best test accuracy, training speed, the
command that trained it (from its ``config.json``) and the commit that last wrote its ``metrics.csv``.
``.. benchmark-table::`` lists benchmark JSON files and renders their ``:columns:``, one row each.
``.. benchmark-result:: benchmarks/results/NAME.json`` renders the chosen keys of a benchmark's JSON with its
command, machine and commit. A source file that is gone is an error, so the docs build fails.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

ROOT = Path(__file__).resolve().parents[2]


def last_commit(path: Path) -> str:
    """The short hash of the commit that last changed ``path`` ('not committed' where git does not know it)."""
    try:
        found = subprocess.run(["git", "log", "-1", "--format=%h %cs", "--", str(path)], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found = ""
    return found or "not committed"


def _table(header: list, rows: list) -> list:
    """A MyST list-table (the pages are Markdown, and so is what a directive's output is parsed as)."""
    lines = ["```{list-table}", ":header-rows: 1", ""]
    for row in [header] + rows:
        lines.append(f"* - {row[0]}")
        lines += [f"  - {cell}" for cell in row[1:]]
    return lines + ["```"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


class _Generated(Directive):
    def render(self, lines: list) -> list:
        from docutils import nodes

        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(ROOT)), self.content_offset, container)
        return [container]

    def source(self, relative: str) -> Path:
        path = ROOT / relative
        if not path.exists():
            raise self.error(f"{relative}: the results file this table is generated from is gone")
        return path


class RunResults(_Generated):
    has_content = True
    option_spec = {"machine": directives.unchanged_required, "percent": directives.flag}

    def run(self):
        import pandas as pd

        from spikingbp.config import recorded_command

        percent = "percent" in self.options
        measure = "test error" if percent else "test accuracy"
        rows, notes = [], []
        for number, relative in enumerate(line.strip() for line in self.content if line.strip()):
            directory = self.source(relative)
            metrics = pd.read_csv(self.source(f"{relative}/metrics.csv"))
            record = json.loads(self.source(f"{relative}/config.json").read_text())
            config = record["config"]
            last = metrics.iloc[-1]
            best = metrics.loc[metrics["test_accuracy"].idxmax()]
            show = (lambda a: f"{100 * (1 - a):.2f} %") if percent else (lambda a: f"{a:.4f}")
            finished = (directory / "weights_final.npz").is_file() or len(metrics) >= config["epochs"]
            epochs = f"{len(metrics)}" + ("" if finished else f" of {config['epochs']} (under way)")
            rows.append([f"``{relative}`` [{number + 1}]", record["network"]["label"],
                         f"{config['dataset']} ({record['data']['n_train']:,} / {record['data']['n_test']:,})",
                         epochs, show(float(last['test_accuracy'])),
                         f"{show(float(best['test_accuracy']))} (epoch {int(best['epoch'])})",
                         f"{float(last['samples_per_second']):.1f}" if "samples_per_second" in metrics else "",
                         last_commit(directory / "metrics.csv")])
            notes.append(f"[{number + 1}] ``{recorded_command({**config, 'out': relative})}``")
        lines = _table(["run", "network", "data (train / test)", "epochs", f"{measure}, last epoch",
                        f"{measure}, best epoch", "training samples/s", "commit"], rows)
        lines += ["", f"Machine: {self.options.get('machine', 'not recorded')}. Commands:", ""]
        lines += [f"- {note}" for note in notes]
        return self.render(lines)


class BenchmarkResult(_Generated):
    required_arguments = 1
    option_spec = {"keys": directives.unchanged_required, "machine": directives.unchanged,
                   "rows": directives.unchanged_required, "columns": directives.unchanged_required,
                   "command": directives.unchanged_required}  # for results files that do not record theirs

    def run(self):
        relative = self.arguments[0]
        path = self.source(relative)
        data = json.loads(path.read_text())
        if isinstance(data, list):
            data = {"rows": data}
        if "rows" in self.options:   # a list of records (e.g. one per network or sample count) as a table
            return self.render(self.records(relative, path, data) + self.stamp(relative, path, data))
        keys = [key.strip() for key in self.options.get("keys", "").split(",") if key.strip()] or [
            key for key, value in data.items() if not isinstance(value, (dict, list)) and key not in ("command", "machine")]
        rows = []
        for key in keys:
            value = data
            for part in key.split("."):
                if not isinstance(value, dict) or part not in value:
                    raise self.error(f"{relative} has no {key!r}: the table names a number the benchmark no longer writes")
                value = value[part]
            rows.append([key, f"``{json.dumps(value)}``" if isinstance(value, (dict, list)) else _cell(value)])
        return self.render(_table(["measure", "value"], rows) + self.stamp(relative, path, data))

    def records(self, relative: str, path: Path, data: dict) -> list:
        records = data.get(self.options["rows"])
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise self.error(f"{relative} has no list of records {self.options['rows']!r}")
        columns = [c.strip() for c in self.options.get("columns", "").split(",") if c.strip()] or list(records[0])
        missing = sorted({c for c in columns for r in records if c not in r})
        if missing:
            raise self.error(f"{relative}'s records lack {missing}: the table names numbers the benchmark no longer writes")
        return _table(columns, [[_cell(r[c]) for c in columns] for r in records])

    def stamp(self, relative: str, path: Path, data: dict) -> list:
        machine = data.get("machine", self.options.get("machine", "not recorded"))
        return ["", f"From ``{relative}``, commit {last_commit(path)}; machine: {machine}; command: "
                    f"``{data.get('command', self.options.get('command', 'not recorded'))}``."]


class BenchmarkTable(_Generated):
    """One row per benchmark JSON (listed one per line), the ``:columns:`` keys of each, and its command."""

    has_content = True
    option_spec = {"columns": directives.unchanged_required, "machine": directives.unchanged_required}

    def run(self):
        columns = [c.strip() for c in self.options["columns"].split(",") if c.strip()]
        rows, notes = [], []
        for number, relative in enumerate(line.strip() for line in self.content if line.strip()):
            path = self.source(relative)
            data = json.loads(path.read_text())
            missing = [c for c in columns if c not in data]
            if missing:
                raise self.error(f"{relative} has no {missing}: the table names numbers the benchmark no longer writes")
            rows.append([_cell(data[c]) for c in columns] + [f"{last_commit(path)} [{number + 1}]"])
            notes.append(f"[{number + 1}] ``{data.get('command', 'not recorded')}``")
        lines = _table(columns + ["commit"], rows)
        lines += ["", f"Machine: {self.options['machine']}. Commands:", ""] + [f"- {note}" for note in notes]
        return self.render(lines)


def setup(app):
    app.add_directive("benchmark-table", BenchmarkTable)
    app.add_directive("run-results", RunResults)
    app.add_directive("benchmark-result", BenchmarkResult)
    return {"parallel_read_safe": True, "version": "1"}
