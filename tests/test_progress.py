"""Progress bars in a log file are plain lines, not a terminal's redraws."""
import io

from spikingbp.progress import bar


def test_a_bar_written_to_a_log_is_lines_without_redraws(monkeypatch):
    monkeypatch.setattr("spikingbp.progress.LOG_INTERVAL", 0.0)
    log = io.StringIO()
    with bar(total=50, desc="epoch 1/1", unit="sample", file=log) as progress:
        for _ in range(50):
            progress.update(1)
    text = log.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert any("50/50" in line for line in lines) and all(line.strip() for line in lines)


def test_a_bar_on_a_terminal_redraws_in_place():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    with bar(total=3, file=terminal, mininterval=0) as progress:
        progress.update(3)
    assert "\r" in terminal.getvalue()
