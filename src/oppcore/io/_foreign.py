"""CSV import of foreign exports (Salesforce, HubSpot, Odoo, any CRM) through a mapping.

:func:`read_csv` streams opportunities out of any CSV through a :class:`ColumnMapping`;
:func:`import_csv` collects them into an :class:`ImportReport`.
"""

from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo

from oppcore._models import Opportunity

from ._csv import UTC, _check_args, _Stats
from ._mapping import ColumnMapping
from ._report import (
    DEFAULT_LIMITS,
    ErrorMode,
    ImportReport,
    Limits,
    OnError,
    RowError,
    collect,
    drive,
)
from ._rows import OpportunityRows
from ._source import CsvRows, InputSource, open_source

__all__ = ["import_csv", "read_csv"]


def _mapped_rows(
    source: InputSource, mapping: ColumnMapping, *, zone: tzinfo, as_of: datetime | None,
    encoding: str, delimiter: str, limits: Limits, on_error: OnError, stats: _Stats,
) -> Iterator[Opportunity]:
    with open_source(source) as (stream, is_text):
        rows = CsvRows(stream, is_text=is_text, encoding=encoding, limits=limits,
                       delimiter=delimiter)
        convert = OpportunityRows(mapping, rows.header, zone=zone, as_of=as_of)
        try:
            yield from drive(rows, convert, on_error, limits)
        finally:
            stats.rows_read = rows.rows_read


def read_csv(
    source: InputSource,
    mapping: ColumnMapping,
    *,
    zone: tzinfo = UTC,
    as_of: datetime | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RowError], None] | None = None,
) -> Iterator[Opportunity]:
    """Stream opportunities from a CSV export, one row at a time (constant memory).

    Args:
        source: A path, a binary file (decoded with ``encoding``) or a text file.
        mapping: How columns map to fields (:func:`oppcore.io.preset` or your own).
        zone: The time zone of naive dates and datetimes in the file (a date becomes
            midnight in this zone). Values with an explicit offset keep it. oppcore never
            uses the machine's local time.
        as_of: When the export was taken; the creation time of rows with no date at all
            (for example prospecting deals with no engage date). Without it such rows are
            errors.
        encoding: Text encoding of a binary source; ``utf-8-sig`` (the default) also
            accepts and drops a UTF-8 byte-order mark.
        delimiter: Cell separator.
        limits: Limits against hostile files.
        on_error: Called with each :class:`RowError` of a bad row, which is then skipped
            (a bad row never yields a partial record). ``None`` (the default) raises at the
            first bad row.

    Yields:
        One :class:`~oppcore.Opportunity` per good row, in file order.

    Raises:
        ImportDataError: At the first bad row when ``on_error`` is ``None``; always for a
            file-level problem (missing columns, undecodable bytes, a limit exceeded).
        ConfigError: For an unknown encoding.
    """
    encoding = _check_args(mapping, zone, encoding)
    return _mapped_rows(source, mapping, zone=zone, as_of=as_of, encoding=encoding,
                        delimiter=delimiter, limits=limits, on_error=on_error, stats=_Stats())


def import_csv(
    source: InputSource,
    mapping: ColumnMapping,
    *,
    errors: ErrorMode = "raise",
    zone: tzinfo = UTC,
    as_of: datetime | None = None,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
) -> ImportReport[Opportunity]:
    """Import a whole CSV export and report on it (the collecting form of :func:`read_csv`).

    Args:
        source: A path, a binary file or a text file.
        mapping: How columns map to fields.
        errors: ``"raise"`` stops at the first bad row with
            :class:`~oppcore.ImportDataError`; ``"collect"`` imports the good rows and
            lists every problem in the report.
        zone: Time zone of naive dates/datetimes (see :func:`read_csv`).
        as_of: Creation time of rows without any date (see :func:`read_csv`).
        encoding: Text encoding of a binary source.
        delimiter: Cell separator.
        limits: Limits against hostile files.

    Returns:
        The records, the row errors and the number of rows read.

    Raises:
        ImportDataError: For a bad row in ``"raise"`` mode, or a file-level problem.
    """
    encoding = _check_args(mapping, zone, encoding)
    stats = _Stats()

    def run(on_error: OnError) -> Iterator[Opportunity]:
        return _mapped_rows(source, mapping, zone=zone, as_of=as_of, encoding=encoding,
                            delimiter=delimiter, limits=limits, on_error=on_error, stats=stats)

    return collect(run, errors, lambda: stats.rows_read)
