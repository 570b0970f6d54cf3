"""Progress display: a bar on a terminal, nothing when piped, a plain fallback without rich."""

import io
import sys

import pytest

from oppcore._cli._progress import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress("importing", total=10, stream=stream) as bar:
        for _ in range(10):
            bar.advance()
    assert stream.getvalue() == ""


def test_plain_counter_on_a_terminal_without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)  # make "import rich..." fail
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    monkeypatch.setitem(sys.modules, "rich.console", None)
    stream = FakeTerminal()
    with progress("importing", total=1500, stream=stream) as bar:
        for _ in range(3):
            bar.advance(500)
    out = stream.getvalue()
    assert out.startswith("\rimporting: ")
    assert out.rstrip().endswith("importing: 1,500/1,500")
    assert out.endswith("\n")


def test_rich_bar_on_a_terminal_when_installed() -> None:
    stream = FakeTerminal()
    with progress("scoring", total=3, stream=stream) as bar:
        for _ in range(3):
            bar.advance()
    assert "scoring" in stream.getvalue()
