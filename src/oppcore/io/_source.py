"""Reading CSV rows safely: bounded lines, strict decoding that names the row, limits."""

import codecs
import csv
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from oppcore._errors import ConfigError, ImportDataError
from oppcore._serde_codec import refuse_constant

from ._report import Limits, RowError

__all__ = [
    "CsvRows", "InputSource", "OutputTarget", "check_encoding", "decoded_lines", "open_dest",
    "open_source", "refuse_constant",
]

InputSource = str | os.PathLike[str] | IO[bytes] | IO[str]
"""A path, a binary file object (decoded with ``encoding``) or a text file object."""

OutputTarget = str | os.PathLike[str] | IO[str]
"""A path (created or overwritten) or a text file object (left open)."""


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name, or raise :class:`~oppcore.ConfigError`."""
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise ConfigError([("encoding", f"unknown text encoding {encoding!r}")],
                          source="import") from None


@contextmanager
def open_source(source: InputSource) -> Iterator[tuple[IO[Any], bool]]:
    """Yield ``(stream, is_text)``; a path is opened (binary) and closed afterwards."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            yield stream, False
    elif isinstance(source, io.TextIOBase):
        yield source, True
    elif hasattr(source, "readline"):
        yield source, isinstance(source.read(0), str)
    else:
        raise TypeError(f"expected a path or a file object, got {type(source).__name__}")


@contextmanager
def open_dest(dest: OutputTarget, *, encoding: str, newline: str) -> Iterator[IO[str]]:
    """Yield a text stream for ``dest``; a path is opened for writing and closed afterwards."""
    if isinstance(dest, (str, os.PathLike)):
        with open(dest, "w", encoding=encoding, newline=newline) as stream:
            yield stream
    else:
        yield dest


def _fail(row: int, message: str, column: str | None = None) -> ImportDataError:
    return ImportDataError([RowError(row=row, column=column, message=message)])


def decoded_lines(
    stream: IO[Any], *, is_text: bool, encoding: str, limits: Limits,
    where: Callable[[], int],
) -> Iterator[str]:
    """Yield the text lines of ``stream``, bounded and strictly decoded.

    Lines end with ``\\n``, ``\\r\\n`` or a bare ``\\r`` (old Mac exports); each keeps its
    ending. ``where()`` gives the row number reported in errors (called only on failure).
    """
    limit = limits.max_line_bytes
    readline = stream.readline
    decoder = None if is_text else codecs.getincrementaldecoder(encoding)()
    line = 1  # the physical line being read, for messages
    pending = ""
    while True:
        raw = readline(limit + 1)
        if not raw:
            break
        if decoder is None:
            text = raw
        else:
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise _fail(where(), f"undecodable bytes on line {line} for encoding "
                            f"{encoding!r} ({exc.reason}); pass the file's encoding= "
                            "explicitly") from None
        if not pending and text.endswith("\n") and text.find("\r") in (-1, len(text) - 2):
            # The common case: one whole line, no bare CR inside.
            if len(raw) > limit:
                raise _too_long(where(), line, limit)
            line += 1
            yield text
            continue
        # A bare CR ends a line too, and multi-byte encodings (UTF-16) split a newline
        # across two byte chunks: re-cut the decoded text so the csv module always gets
        # whole lines. A trailing CR waits for the next chunk (it may start with LF).
        pending += text
        cut = 0
        for match in _LINE_END.finditer(pending):
            if match.end() == len(pending) and match.group() == "\r":
                break
            yield pending[cut:match.end()]
            cut = match.end()
            line += 1
        pending = pending[cut:]
        if len(pending) > limit:
            raise _too_long(where(), line, limit)
    if decoder is not None:
        try:
            pending += decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _fail(where(), f"truncated character at the end of the file for "
                        f"encoding {encoding!r} ({exc.reason})") from None
    if pending:
        yield pending


_LINE_END = re.compile(r"\r\n|\r|\n")


def _too_long(row: int, line: int, limit: int) -> ImportDataError:
    return _fail(row, f"line {line} is longer than {limit} bytes (Limits.max_line_bytes)")


# Python 3.10's csv reader refuses any line holding a NUL character ("line contains NUL")
# where 3.11+ reads NUL as an ordinary character. On 3.10 such lines are escaped before the
# csv module sees them and the cells unescaped after, so every supported Python reads the
# same rows (and oppcore's own exports, which may carry NUL in a note, read back).
_READER_REFUSES_NUL = sys.version_info < (3, 11)
_ESC = "\uffff"  # noncharacters: never a delimiter or a quote, rare in real text
_ESCAPED_NUL = "\ufffe"
_UNESCAPE = re.compile(_ESC + "(.)", re.DOTALL)


def _unescape(match: re.Match[str]) -> str:
    return "\0" if match.group(1) == _ESCAPED_NUL else match.group(1)


# Python's csv module has its own, process-wide cell limit (csv.field_size_limit(), 131,072
# by default). Hitting it raised csv.Error mid-record, which stopped a whole import whatever
# the error mode, and a host had to change the global to read a longer cell. Setting it per
# read is not safe: the value is shared by every thread (a concurrent read would see another
# read's limit, and restoring it races). So oppcore lifts it once, the first time it reads a
# CSV, to the largest value (never lowering it, so concurrent lifts agree), and enforces
# ``Limits`` itself: a cell over ``max_field_size`` rejects its row, and a record that grows
# past what its cells could hold (an unterminated quote, say) is a file-level error, so the
# memory one row takes stays bounded. The lifted global is the one effect on the host: its
# own csv readers then accept long cells too.
_CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)  # a C long, 32 bits on Windows


def _lift_csv_field_limit() -> None:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


class CsvRows:
    """The rows of a CSV stream after its header, with their spreadsheet row numbers.

    Decoding is strict and incremental (one physical line at a time), so undecodable bytes
    are reported with the row they sit in; lines are read in bounded chunks.
    """

    def __init__(
        self,
        stream: IO[Any],
        *,
        is_text: bool,
        encoding: str,
        limits: Limits,
        delimiter: str = ",",
    ) -> None:
        self._stream = stream
        self._is_text = is_text
        self._encoding = encoding
        self._limits = limits
        self.row = 0  # spreadsheet number of the last record read (the header is row 1)
        self.rows_read = 0  # data rows read (blank lines not counted)
        self._escaped = False  # a line of the record being read was NUL-escaped (3.10)
        self._record_chars = 0  # characters fed to the csv reader for the current record
        self._width = 1  # cells per row, known once the header is read
        lines = decoded_lines(self._stream, is_text=self._is_text, encoding=self._encoding,
                              limits=self._limits, where=lambda: self.row + 1)
        if _READER_REFUSES_NUL and delimiter not in (_ESC, _ESCAPED_NUL):
            lines = self._nul_escaped(lines)
        _lift_csv_field_limit()
        self._reader = csv.reader(self._bounded(lines), delimiter=delimiter, strict=True)
        self.header = self._read_header()
        self._width = len(self.header)

    def _bounded(self, lines: Iterator[str]) -> Iterator[str]:
        """Stop a record that grows past what its cells could hold, lines included."""
        limits = self._limits
        for line in lines:
            self._record_chars += len(line)
            budget = limits.max_line_bytes + (self._width + 1) * (limits.max_field_size + 3)
            if self._record_chars > budget:
                raise _fail(self.row + 1, f"a row longer than {budget} characters: a cell "
                            "longer than Limits.max_field_size with no end (an unterminated "
                            "quote?)")
            yield line

    def _nul_escaped(self, lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            if "\0" in line or _ESC in line:
                self._escaped = True
                line = line.replace(_ESC, _ESC + _ESC).replace("\0", _ESC + _ESCAPED_NUL)
            yield line

    def _next(self) -> list[str] | None:
        try:
            values = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise _fail(self.row + 1, f"malformed CSV: {exc}") from None
        self.row += 1
        self._record_chars = 0
        if self._escaped:  # the csv reader stops at the end of a record: no read-ahead
            self._escaped = False
            values = [_UNESCAPE.sub(_unescape, v) if _ESC in v else v for v in values]
        return values

    def _read_header(self) -> tuple[str, ...]:
        while True:
            values = self._next()
            if values is None:
                raise _fail(0, "empty file: no header row")
            if values:
                break
        header = tuple(name.strip() for name in values)
        seen: set[str] = set()
        for name in header:
            if len(name) > self._limits.max_field_size:
                raise _fail(self.row, "header cell longer than Limits.max_field_size")
            if name in seen:
                raise _fail(self.row, f"duplicate column {name!r} in the header")
            seen.add(name)
        return header

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(row_number, values)`` for each non-blank row, checking the limits."""
        width = len(self.header)
        max_rows = self._limits.max_rows
        max_field = self._limits.max_field_size
        next_row = self._next
        while True:
            values = next_row()
            if values is None:
                return
            if not values:
                continue  # a blank line: no data, not counted
            self.rows_read += 1
            if self.rows_read > max_rows:
                raise _fail(self.row, f"more than {max_rows} rows (Limits.max_rows)")
            if len(values) != width or max(map(len, values)) > max_field:
                yield self.row, _shape_errors(self.row, values, self.header, max_field)
                continue
            yield self.row, values


class BadShape(list[str]):
    """Marker: a row whose shape is wrong; carries the errors instead of values."""

    errors: list[RowError]


def _shape_errors(row: int, values: list[str], header: tuple[str, ...],
                  max_field: int) -> BadShape:
    bad = BadShape()
    bad.errors = []
    if len(values) != len(header):
        bad.errors.append(RowError(row=row, column=None, message=(
            f"{len(values)} cell(s), the header has {len(header)}")))
    for name, value in zip(header, values, strict=False):
        if len(value) > max_field:
            bad.errors.append(RowError(row=row, column=name, message=(
                f"cell of {len(value)} characters exceeds Limits.max_field_size "
                f"({max_field})")))
    if not bad.errors:  # an extra cell beyond the header was too long
        bad.errors.append(RowError(row=row, column=None, message="cell exceeds "
                                   "Limits.max_field_size"))
    return bad
