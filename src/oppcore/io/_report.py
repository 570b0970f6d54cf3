"""Row errors, import reports and the limits that protect an import from hostile files."""

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, Literal, TypeVar

import attrs

from oppcore._errors import ImportDataError

__all__ = ["ErrorMode", "ImportReport", "Limits", "RowError"]

_T = TypeVar("_T")
_R = TypeVar("_R")

ErrorMode = Literal["raise", "collect"]
"""``"raise"``: stop at the first bad row; ``"collect"``: import the good rows, report the bad."""

_SHOWN = 60  # characters of a bad value quoted in a message


def shown(value: str) -> str:
    """Quote a (possibly huge or hostile) cell value for a message, truncated."""
    if len(value) > _SHOWN:
        return repr(value[:_SHOWN]) + f"... ({len(value)} chars)"
    return repr(value)


@attrs.frozen(kw_only=True)
class RowError:
    """One problem found in one row of an import.

    Args:
        row: Where the row sits. For CSV, the row number a spreadsheet shows: the header is
            row 1 and the first data row is row 2 (a quoted cell spanning several lines
            still counts as one row). For JSON Lines, the line number (the header line is
            line 1). For a single JSON document, the 1-based index of the record in its
            list. ``0`` for a problem with the file as a whole.
        column: The column (CSV header name) or field path the problem is in, or ``None``
            when it concerns the whole row.
        message: What is wrong, readable on its own.

    ``str(error)`` reads ``row 1234, close_value: invalid decimal '12,5'``.
    """

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "file"
        if self.column:
            return f"{where}, {self.column}: {self.message}"
        return f"{where}: {self.message}"


@attrs.frozen(kw_only=True)
class Limits:
    """Limits that keep a hostile or broken file from exhausting memory or time.

    Every limit is checked while streaming; exceeding one stops the import with
    :class:`~oppcore.ImportDataError` naming the row (a file-level problem cannot be skipped
    row by row).

    A cell over ``max_field_size`` is a row error (the row is rejected, ``"collect"`` mode
    goes on). The defaults are far above any real CRM text, so what oppcore writes reads
    back with them (a 1 MiB note in CSV or JSON Lines, say); the CSV writers take the same
    ``limits=`` and refuse a cell longer than ``max_field_size``, naming the record and
    field, rather than write a file their readers would refuse. A JSON Lines record is one
    line, so it must fit in ``max_line_bytes``.

    Args:
        max_field_size: Longest accepted cell, in characters (default 16 Mi). Python's
            ``csv`` module has a process-wide limit of its own (``csv.field_size_limit()``,
            131,072 by default): the first CSV read lifts it to its maximum (never
            lowering it) and oppcore enforces this limit itself, per cell.
        max_line_bytes: Longest accepted physical line, in bytes (characters for a text
            source); default 64 MiB, room for one longest cell of 4-byte UTF-8 characters.
            Lines are read in bounded chunks, so a file without newlines cannot be slurped
            into memory.
        max_rows: Most data rows (CSV) or records (JSON) read.
        max_errors: Most row errors collected in ``"collect"`` mode before giving up.
        max_depth: Deepest nesting of arrays/objects accepted in JSON.
        max_document_bytes: Largest single JSON document read whole (use JSON Lines for
            bigger files: it streams).
    """

    max_field_size: int = 16 << 20
    max_line_bytes: int = 64 << 20
    max_rows: int = 10_000_000
    max_errors: int = 1_000
    max_depth: int = 32
    max_document_bytes: int = 64 << 20

    def __attrs_post_init__(self) -> None:
        from oppcore._errors import ConfigError

        problems = [
            (a.name, f"must be a positive integer, got {getattr(self, a.name)!r}")
            for a in attrs.fields(Limits)
            if type(getattr(self, a.name)) is not int or getattr(self, a.name) < 1
        ]
        if problems:
            raise ConfigError(problems, source="Limits")


DEFAULT_LIMITS = Limits()


@attrs.frozen(kw_only=True)
class ImportReport(Generic[_T]):
    """What an import produced: the good records, and every bad row with its reason.

    Args:
        records: The records built from good rows, in file order. A bad row never yields a
            partial record: it is either complete here or listed in ``errors``.
        errors: The problems found, in file order (several per row are possible).
        rows_read: How many data rows (records) were read, good and bad.
    """

    records: tuple[_T, ...]
    errors: tuple[RowError, ...] = ()
    rows_read: int = 0

    @property
    def imported(self) -> int:
        """How many records were built."""
        return len(self.records)

    @property
    def rejected(self) -> int:
        """How many rows were rejected (rows with at least one error)."""
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        """Whether every row was imported."""
        return not self.errors

    def __str__(self) -> str:
        return (f"{self.rows_read} row(s) read, {self.imported} imported, "
                f"{self.rejected} rejected ({len(self.errors)} error(s))")


class RowFailed(Exception):
    """Internal: a row could not become a record; carries its errors."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


OnError = Callable[[RowError], None] | None


def drive(
    rows: Iterable[tuple[int, _R]],
    convert: Callable[[int, _R], _T],
    on_error: OnError,
    limits: Limits,
) -> Iterator[_T]:
    """Convert rows; yield good records, route row errors to ``on_error``.

    ``convert(row_number, row)`` returns a record or raises :class:`RowFailed`. With
    ``on_error=None`` the first bad row raises :class:`~oppcore.ImportDataError`;
    otherwise each error is passed to ``on_error`` and the row is skipped, up to
    ``limits.max_errors`` errors.
    """
    count = 0
    for number, row in rows:
        try:
            record = convert(number, row)
        except RowFailed as failed:
            if on_error is None:
                raise ImportDataError(failed.errors) from None
            for error in failed.errors:
                count += 1
                if count > limits.max_errors:
                    raise ImportDataError([
                        error,
                        RowError(row=0, column=None,
                                 message=f"more than {limits.max_errors} errors; import stopped"),
                    ]) from None
                on_error(error)
            continue
        yield record


def collect(
    run: Callable[[OnError], Iterator[_T]], errors: ErrorMode, counter: Callable[[], int]
) -> ImportReport[_T]:
    """Collect a streaming import into an :class:`ImportReport`."""
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    found: list[RowError] = []
    records = tuple(run(None if errors == "raise" else found.append))
    return ImportReport(records=records, errors=tuple(found), rows_read=counter())
