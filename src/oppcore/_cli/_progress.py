"""Progress display for long CLI operations: a bar on a terminal, silence when piped.

``rich`` (the optional ``cli`` extra) draws the bar when it is installed; otherwise a plain
one-line counter is redrawn in place. Nothing is printed when stderr is not a terminal, so
pipes and log files stay clean.
"""

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO


class Progress(Protocol):
    """What a command calls while it works."""

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units of work done."""


class _Silent:
    def advance(self, n: int = 1) -> None:
        pass


class _Plain:
    """A counter redrawn in place at most ten times a second."""

    def __init__(self, label: str, total: int | None, stream: TextIO) -> None:
        self._label, self._total, self._stream = label, total, stream
        self._done = 0
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = time.monotonic()
        if now - self._last >= 0.1:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        of = f"/{self._total:,}" if self._total else ""
        self._stream.write(f"\r{self._label}: {self._done:,}{of}")
        self._stream.flush()

    def finish(self) -> None:
        self._draw()
        self._stream.write("\n")
        self._stream.flush()


class _Rich:
    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task = bar, task

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)


@contextmanager
def progress(label: str, total: int | None = None, *,
             stream: TextIO | None = None) -> Iterator[Progress]:
    """Show progress for ``label`` while the block runs (only on an interactive terminal)."""
    out = stream if stream is not None else sys.stderr
    if not out.isatty():
        yield _Silent()
        return
    try:
        from rich.console import Console
        from rich.progress import Progress as RichProgress
    except ImportError:
        plain = _Plain(label, total, out)
        try:
            yield plain
        finally:
            plain.finish()
        return
    with RichProgress(console=Console(file=out), transient=True) as bar:
        yield _Rich(bar, bar.add_task(label, total=total))
