"""CSV import (foreign exports through a column mapping) and oppcore's flat CSV format.

Foreign exports: :func:`read_csv` streams opportunities out of any CSV through a
:class:`ColumnMapping`; :func:`import_csv` collects them into an :class:`ImportReport`.

oppcore's own flat format (both directions): one row per opportunity or lead, plus a
stage-history file with one row per history entry. Tags and custom fields are written as
compact JSON in one cell each, so a round trip is lossless for every flat field; nested data
(contacts, activities, quotes, qualification, account details) needs the JSON format.
"""

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timezone, tzinfo
from itertools import chain
from typing import Any

from oppcore._errors import ImportDataError, ValidationError
from oppcore._models import (
    Account,
    Channel,
    CompanySize,
    Lead,
    LeadStatus,
    Opportunity,
    Probability,
    ProbabilitySource,
    Source,
)
from oppcore._money import Money, to_decimal
from oppcore._records import StageChange

from ._mapping import ColumnMapping
from ._report import (
    DEFAULT_LIMITS,
    ErrorMode,
    ImportReport,
    Limits,
    OnError,
    RowError,
    RowFailed,
    collect,
    drive,
    shown,
)
from ._rows import OpportunityRows
from ._source import (
    CsvRows,
    InputSource,
    OutputTarget,
    check_encoding,
    open_dest,
    open_source,
    refuse_constant,
)

__all__ = [
    "HISTORY_COLUMNS",
    "LEAD_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "import_csv",
    "read_csv",
    "read_leads_csv",
    "read_opportunities_csv",
    "read_stage_history_csv",
    "write_leads_csv",
    "write_opportunities_csv",
    "write_stage_history_csv",
]

UTC = timezone.utc

OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "id", "name", "pipeline_id", "stage_id", "created_at", "updated_at", "owner",
    "account_id", "account_name", "amount", "currency", "expected_close", "probability",
    "probability_source", "probability_note", "source_channel", "source_detail",
    "lost_reason", "lead_id", "external_key", "tags", "custom", "version",
)
"""Header of oppcore's flat opportunity CSV."""

LEAD_COLUMNS: tuple[str, ...] = (
    "id", "name", "captured_at", "updated_at", "email", "phone", "title", "company",
    "industry", "size", "region", "source_channel", "source_detail", "owner", "status",
    "disqualified_reason", "opportunity_id", "notes", "tags", "custom", "external_key",
    "version",
)
"""Header of oppcore's flat lead CSV."""

HISTORY_COLUMNS: tuple[str, ...] = (
    "opportunity_id", "from_stage", "to_stage", "at", "by", "reason", "override",
)
"""Header of oppcore's stage-history CSV (one row per entry, oldest first per deal)."""

# OWASP "CSV injection": a spreadsheet treats a cell starting with one of these as a
# formula. Prefixing a single quote makes it display as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(cell: str) -> bool:
    """Whether a spreadsheet-safe export prefixes ``cell`` with a quote.

    Cells of the form ``'*<formula char>...`` are prefixed, including those that already
    start with quotes: the reader strips exactly one quote from ``'+<formula char>...``,
    so a value such as ``'=x`` survives a round trip instead of losing its own quote.
    """
    return cell.lstrip("'").startswith(_FORMULA_START) if cell else False


class _Stats:
    rows_read = 0


# --------------------------------------------------------------------- foreign import


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


def _check_args(mapping: object, zone: object, encoding: str) -> str:
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        raise TypeError(f"mapping must be a ColumnMapping (see oppcore.io.preset), got "
                        f"{type(mapping).__name__}")
    if not isinstance(zone, tzinfo):
        raise TypeError(f"zone must be a tzinfo such as ZoneInfo('Asia/Shanghai'), got "
                        f"{type(zone).__name__}")
    return check_encoding(encoding)


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


# --------------------------------------------------------------------- flat format: write


def _safe(cell: str) -> str:
    return "'" + cell if _needs_quote(cell) else cell


# Python 3.10's csv writer refuses a NUL character ("need to escape, but no escapechar
# set") where 3.11+ writes it as an ordinary character. oppcore writes NUL the 3.11 way on
# every version, so a record a store accepts (a note pasted from a PDF may carry one) stays
# exportable and the file is the same whichever Python wrote it; CsvRows reads it back.
_WRITER_REFUSES_NUL = sys.version_info < (3, 11)


def _row_with_nul(row: list[str]) -> str:
    """Format one row as ``csv.writer`` on Python 3.11+ does, NUL characters included.

    Each NUL is swapped for a private-use character absent from the row, the row is
    formatted by the csv module, and the swap is undone in the formatted text.
    """
    for code in chain(range(0xE000, 0xF900), range(0xF0000, 0x10FFFE)):
        stand_in = chr(code)
        if not any(stand_in in cell for cell in row):
            break
    else:  # pragma: no cover - a row holding all 137,000 private-use characters
        raise ValueError("cannot write a NUL character in a row that uses every "
                         "private-use character")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [cell.replace("\0", stand_in) for cell in row])
    return buffer.getvalue().replace(stand_in, "\0")


def _too_long(model: str, header: tuple[str, ...], cells: list[str], limit: int
              ) -> ValidationError:
    column, cell = next((h, c) for h, c in zip(header, cells, strict=True) if len(c) > limit)
    return ValidationError(
        f"record {cells[0]!r}: a cell of {len(cell)} characters is longer than the "
        f"{limit} the readers accept (Limits.max_field_size); pass a larger limits= to "
        "both the writer and the reader, or export as JSON", model=model, field=column,
        value=cells[0])


def _write(
    dest: OutputTarget, header: tuple[str, ...],
    rows: Iterable[list[str]], *, spreadsheet_safe: bool, encoding: str, limits: Limits,
    model: str,
) -> int:
    limit = limits.max_field_size
    with open_dest(dest, encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for row in rows:
            cells = [_safe(c) for c in row] if spreadsheet_safe else row
            if max(map(len, cells)) > limit:  # refused before the row is written
                raise _too_long(model, header, cells, limit)
            if _WRITER_REFUSES_NUL and any("\0" in c for c in cells):
                stream.write(_row_with_nul(cells))
            else:
                writer.writerow(cells)
            count += 1
        return count


def _iso(value: datetime | date | None) -> str:
    return "" if value is None else value.isoformat()


def _json_cell(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, frozenset):
        return json.dumps(sorted(value), ensure_ascii=False)
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True)


def _opportunity_row(o: Opportunity) -> list[str]:
    return [
        o.id, o.name, o.pipeline_id, o.stage_id, _iso(o.created_at), _iso(o.updated_at),
        o.owner or "", o.account.id if o.account else "", o.account.name if o.account else "",
        str(o.amount.amount) if o.amount else "", o.amount.currency if o.amount else "",
        _iso(o.expected_close), repr(o.probability.value) if o.probability else "",
        o.probability.source.value if o.probability else "",
        (o.probability.note or "") if o.probability else "",
        o.source.channel.value if o.source else "", (o.source.detail or "") if o.source else "",
        o.lost_reason or "", o.lead_id or "", o.external_key or "", _json_cell(o.tags),
        _json_cell(o.custom), str(o.version),
    ]


def write_opportunities_csv(
    opportunities: Iterable[Opportunity],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write opportunities as flat CSV (:data:`OPPORTUNITY_COLUMNS`), one row each, streaming.

    Args:
        opportunities: Any iterable; consumed one record at a time.
        dest: A path (created/overwritten) or a text file opened with ``newline=""``.
        spreadsheet_safe: Prefix a single quote to every cell starting with ``=``, ``+``,
            ``-``, ``@``, tab or carriage return, so spreadsheets show it as text instead of
            running it as a formula (OWASP CSV injection); a cell whose text after its
            own leading quotes starts so is prefixed too, so the round trip is exact.
            Pass ``False`` for machine consumers; the oppcore readers undo the prefix
            when given the same flag.
        encoding: Encoding when ``dest`` is a path (``"utf-8-sig"`` helps Excel).
        limits: The limits the file will be read with: a cell longer than
            ``limits.max_field_size`` is refused here, so every file written reads back
            with the same limits (the defaults hold fields of up to 16 Mi characters).

    Returns:
        The number of rows written (header excluded).

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``, naming the
            record and the field, before its row is written (rows before it are written).
    """
    return _write(dest, OPPORTUNITY_COLUMNS, map(_opportunity_row, opportunities),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="Opportunity")


def _lead_row(x: Lead) -> list[str]:
    return [
        x.id, x.name, _iso(x.captured_at), _iso(x.updated_at), x.email or "", x.phone or "",
        x.title or "", x.company or "", x.industry or "", x.size.value if x.size else "",
        x.region or "", x.source.channel.value if x.source else "",
        (x.source.detail or "") if x.source else "", x.owner or "", x.status.value,
        x.disqualified_reason or "", x.opportunity_id or "", x.notes, _json_cell(x.tags),
        _json_cell(x.custom), x.external_key or "", str(x.version),
    ]


def write_leads_csv(
    leads: Iterable[Lead],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write leads as flat CSV (:data:`LEAD_COLUMNS`), streaming.

    The lead's qualification is not part of the flat format (use JSON). See
    :func:`write_opportunities_csv` for ``spreadsheet_safe``, ``encoding`` and ``limits``.

    Returns:
        The number of rows written.

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``.
    """
    return _write(dest, LEAD_COLUMNS, map(_lead_row, leads),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="Lead")


def _history_rows(opportunities: Iterable[Opportunity]) -> Iterator[list[str]]:
    for o in opportunities:
        for c in o.stage_history:
            yield [o.id, c.from_stage or "", c.to_stage, _iso(c.at), c.by, c.reason or "",
                   c.override or ""]


def write_stage_history_csv(
    opportunities: Iterable[Opportunity],
    dest: OutputTarget,
    *,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8",
    limits: Limits = DEFAULT_LIMITS,
) -> int:
    """Write every stage-history entry as a row of :data:`HISTORY_COLUMNS`, streaming.

    Rows are grouped by deal in the order of ``opportunities`` and oldest first, the order
    :func:`read_opportunities_csv` expects for its ``history`` file. See
    :func:`write_opportunities_csv` for ``spreadsheet_safe``, ``encoding`` and ``limits``.

    Returns:
        The number of history rows written.

    Raises:
        ValidationError: For a cell longer than ``limits.max_field_size``.
    """
    return _write(dest, HISTORY_COLUMNS, _history_rows(opportunities),
                  spreadsheet_safe=spreadsheet_safe, encoding=encoding, limits=limits,
                  model="StageChange")


# --------------------------------------------------------------------- flat format: read


class _Cells:
    """Typed access to one row's cells, collecting problems instead of raising."""

    __slots__ = ("errors", "row", "unquote", "values")

    def __init__(self, row: int, values: dict[str, str], unquote: bool) -> None:
        self.row = row
        self.values = values
        self.unquote = unquote
        self.errors: list[RowError] = []

    def bad(self, column: str, message: str) -> None:
        self.errors.append(RowError(row=self.row, column=column, message=message))

    def text(self, column: str) -> str | None:
        v = self.values.get(column, "")
        if self.unquote and v[:1] == "'" and _needs_quote(v):
            v = v[1:]
        return v or None

    def required(self, column: str) -> str:
        v = self.text(column)
        if v is None or not v.strip():
            self.bad(column, "is empty")
            return "?"
        return v

    def when(self, column: str, zone: tzinfo, required: bool = True) -> datetime | None:
        v = self.text(column)
        if v is None:
            if required:
                self.bad(column, "is empty")
            return None
        try:
            d = datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
        except ValueError:
            self.bad(column, f"invalid ISO 8601 datetime {shown(v)}")
            return None
        return d if d.tzinfo is not None else d.replace(tzinfo=zone)

    def day(self, column: str) -> date | None:
        v = self.text(column)
        if v is None:
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            self.bad(column, f"invalid ISO 8601 date {shown(v)}")
            return None

    def json(self, column: str, kind: type) -> Any:
        v = self.text(column)
        if v is None:
            return kind()
        try:
            data = json.loads(v, parse_float=str, parse_constant=refuse_constant)
        except (ValueError, RecursionError) as exc:
            self.bad(column, f"invalid JSON cell: {exc}")
            return kind()
        if not isinstance(data, kind):
            self.bad(column, f"expected a JSON {kind.__name__}")
            return kind()
        return data

    def count(self, column: str) -> int:
        v = self.text(column) or "0"
        if not v.isdigit() or len(v) > 18:
            self.bad(column, f"expected a non-negative integer, got {shown(v)}")
            return 0
        return int(v)

    def enum(self, column: str, cls: Any) -> Any:
        v = self.text(column)
        if v is None:
            return None
        try:
            return cls(v)
        except ValueError:
            self.bad(column, f"unknown value {shown(v)}; expected one of "
                     f"{', '.join(e.value for e in cls)}")
            return None


def _build(cells: _Cells, make: Callable[[], Any]) -> Any:
    if cells.errors:
        raise RowFailed(cells.errors)
    try:
        return make()
    except ValidationError as exc:
        raise RowFailed([RowError(row=cells.row, column=exc.field, message=str(exc))]) from None


def _flat_rows(
    source: InputSource, header: tuple[str, ...], *, encoding: str, limits: Limits,
    delimiter: str, stats: _Stats, required: tuple[str, ...],
) -> Iterator[tuple[int, dict[str, str]]]:
    encoding = check_encoding(encoding)
    with open_source(source) as (stream, is_text):
        rows = CsvRows(stream, is_text=is_text, encoding=encoding, limits=limits,
                       delimiter=delimiter)
        missing = [c for c in required if c not in rows.header]
        if missing:
            raise ImportDataError([RowError(row=1, column=c, message=(
                "required column missing from the header")) for c in missing])
        unknown = [c for c in rows.header if c not in header]
        if unknown:
            raise ImportDataError([RowError(row=1, column=c, message=(
                "unknown column for this format")) for c in unknown])
        try:
            for number, values in rows:
                errors = getattr(values, "errors", None)
                if errors:
                    yield number, {"\0errors": errors}
                else:
                    yield number, dict(zip(rows.header, values, strict=True))
        finally:
            stats.rows_read = rows.rows_read


def _shape(row: int, values: dict[str, Any]) -> None:
    errors = values.get("\0errors")
    if errors:
        raise RowFailed(errors)


def _opportunity(row: int, values: dict[str, str], zone: tzinfo, unquote: bool,
                 history: tuple[StageChange, ...]) -> Opportunity:
    _shape(row, values)
    c = _Cells(row, values, unquote)
    oid = c.required("id")
    amount = None
    text = c.text("amount")
    if text is not None:
        try:
            amount = Money(amount=to_decimal(text), currency=c.text("currency") or "")
        except ValidationError as exc:
            c.bad("amount" if exc.field == "amount" else "currency", str(exc))
    account = None
    if c.text("account_id") or c.text("account_name"):
        aid = c.text("account_id") or ""
        account = (aid, c.text("account_name") or aid)
    probability = None
    if c.text("probability") is not None:
        text = c.text("probability") or ""
        try:
            value = float(text)  # written with repr(): exact round trip; range checked below
        except ValueError:
            c.bad("probability", f"invalid number {shown(text)}")
        else:
            probability = (value, c.enum("probability_source", ProbabilitySource)
                           or ProbabilitySource.MANUAL)
    channel = c.enum("source_channel", Channel)
    created = c.when("created_at", zone)
    updated = c.when("updated_at", zone, required=False)
    fields: dict[str, Any] = {
        "id": oid, "name": c.required("name"), "pipeline_id": c.required("pipeline_id"),
        "stage_id": c.required("stage_id"), "created_at": created,
        "owner": c.text("owner"), "amount": amount, "expected_close": c.day("expected_close"),
        "lost_reason": c.text("lost_reason"), "lead_id": c.text("lead_id"),
        "external_key": c.text("external_key"), "tags": frozenset(c.json("tags", list)),
        "custom": c.json("custom", dict), "version": c.count("version"),
        "stage_history": history,
    }
    if updated is not None:
        fields["updated_at"] = updated

    def make() -> Opportunity:
        if account is not None:
            fields["account"] = Account(id=account[0], name=account[1])
        if probability is not None:
            fields["probability"] = Probability(value=probability[0], source=probability[1],
                                                note=c.text("probability_note"))
        if channel is not None:
            fields["source"] = Source(channel=channel, detail=c.text("source_detail"))
        return Opportunity(**fields)

    return _build(c, make)  # type: ignore[no-any-return]


def _history_entry(row: int, values: dict[str, str], zone: tzinfo, unquote: bool
                   ) -> tuple[str, StageChange]:
    _shape(row, values)
    c = _Cells(row, values, unquote)
    oid = c.required("opportunity_id")
    at = c.when("at", zone)
    fields: dict[str, Any] = {
        "from_stage": c.text("from_stage"), "to_stage": c.required("to_stage"),
              "at": at, "by": c.required("by"), "reason": c.text("reason"),
              "override": c.text("override")}
    return _build(c, lambda: (oid, StageChange(**fields)))  # type: ignore[no-any-return]


def read_stage_history_csv(
    source: InputSource,
    *,
    zone: tzinfo = UTC,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RowError], None] | None = None,
) -> Iterator[tuple[str, StageChange]]:
    """Stream ``(opportunity_id, StageChange)`` pairs from a stage-history CSV.

    Args:
        source: A path, a binary file or a text file with :data:`HISTORY_COLUMNS`.
        zone: Time zone of naive datetimes.
        spreadsheet_safe: Undo the quote prefix written by a spreadsheet-safe export.
        encoding: Text encoding of a binary source.
        delimiter: Cell separator.
        limits: Limits against hostile files.
        on_error: Receives each row error (the row is skipped); ``None`` raises at the
            first.

    Raises:
        ImportDataError: For a bad row (when ``on_error`` is ``None``) or a file problem.
    """
    encoding = _check_args(None, zone, encoding)
    stats = _Stats()
    rows = _flat_rows(source, HISTORY_COLUMNS, encoding=encoding, limits=limits,
                      delimiter=delimiter, stats=stats,
                      required=("opportunity_id", "to_stage", "at", "by"))
    return drive(rows, lambda n, v: _history_entry(n, v, zone, spreadsheet_safe),
                 on_error, limits)


def _grouped(pairs: Iterator[tuple[str, StageChange]]
             ) -> Iterator[tuple[str, tuple[StageChange, ...]]]:
    current: str | None = None
    group: list[StageChange] = []
    for oid, change in pairs:
        if oid != current and group:
            yield current or "", tuple(group)
            group = []
        current = oid
        group.append(change)
    if group:
        yield current or "", tuple(group)


def read_opportunities_csv(
    source: InputSource,
    *,
    history: InputSource | None = None,
    zone: tzinfo = UTC,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RowError], None] | None = None,
) -> Iterator[Opportunity]:
    """Stream opportunities from oppcore's flat CSV, optionally joined with their history.

    Args:
        source: The opportunities file (:data:`OPPORTUNITY_COLUMNS`; ``id``, ``name``,
            ``pipeline_id``, ``stage_id`` and ``created_at`` are required columns).
        history: The stage-history file written by :func:`write_stage_history_csv`. It is
            merged as a stream, so its rows must be grouped by deal in the order of the
            opportunities file (as written). A problem in it stops the import.
        zone: Time zone of naive datetimes.
        spreadsheet_safe: Undo the quote prefix written by a spreadsheet-safe export.
        encoding: Text encoding of binary sources.
        delimiter: Cell separator.
        limits: Limits against hostile files.
        on_error: Receives each row error of the opportunities file (the row is skipped,
            its history too); ``None`` raises at the first.

    Raises:
        ImportDataError: For a bad row (when ``on_error`` is ``None``), a file problem, or
            history rows that match no opportunity (or are out of order).
    """
    encoding = _check_args(None, zone, encoding)
    return _read_opportunities(source, history, zone, spreadsheet_safe, encoding, delimiter,
                               limits, on_error, _Stats())


def _read_opportunities(
    source: InputSource, history: InputSource | None, zone: tzinfo, unquote: bool, encoding: str,
    delimiter: str, limits: Limits, on_error: OnError, stats: _Stats,
) -> Iterator[Opportunity]:
    groups = (_grouped(read_stage_history_csv(
        history, zone=zone, spreadsheet_safe=unquote, encoding=encoding,
        delimiter=delimiter, limits=limits)) if history is not None else iter(()))
    pending = next(groups, None)
    rows = _flat_rows(source, OPPORTUNITY_COLUMNS, encoding=encoding, limits=limits,
                      delimiter=delimiter, stats=stats,
                      required=("id", "name", "pipeline_id", "stage_id", "created_at"))

    def convert(row: int, values: dict[str, str]) -> Opportunity:
        nonlocal pending
        entries: tuple[StageChange, ...] = ()
        if pending is not None and pending[0] == values.get("id"):
            entries = pending[1]
            pending = next(groups, None)
        return _opportunity(row, values, zone, unquote, entries)

    yield from drive(rows, convert, on_error, limits)
    if pending is not None:
        raise ImportDataError([RowError(row=0, column="opportunity_id", message=(
            f"history rows for {pending[0]!r} match no opportunity in order; the history "
            "file must be grouped by deal in the order of the opportunities file"))])


def _lead(row: int, values: dict[str, str], zone: tzinfo, unquote: bool) -> Lead:
    _shape(row, values)
    c = _Cells(row, values, unquote)
    channel = c.enum("source_channel", Channel)
    fields: dict[str, Any] = {
        "id": c.required("id"), "name": c.required("name"),
        "captured_at": c.when("captured_at", zone), "email": c.text("email"),
        "phone": c.text("phone"), "title": c.text("title"), "company": c.text("company"),
        "industry": c.text("industry"), "size": c.enum("size", CompanySize),
        "region": c.text("region"), "owner": c.text("owner"),
        "status": c.enum("status", LeadStatus) or LeadStatus.NEW,
        "disqualified_reason": c.text("disqualified_reason"),
        "opportunity_id": c.text("opportunity_id"), "notes": c.text("notes") or "",
        "tags": frozenset(c.json("tags", list)), "custom": c.json("custom", dict),
        "external_key": c.text("external_key"), "version": c.count("version"),
    }
    updated = c.when("updated_at", zone, required=False)
    if updated is not None:
        fields["updated_at"] = updated

    def make() -> Lead:
        if channel is not None:
            fields["source"] = Source(channel=channel, detail=c.text("source_detail"))
        return Lead(**fields)

    return _build(c, make)  # type: ignore[no-any-return]


def read_leads_csv(
    source: InputSource,
    *,
    zone: tzinfo = UTC,
    spreadsheet_safe: bool = True,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    limits: Limits = DEFAULT_LIMITS,
    on_error: Callable[[RowError], None] | None = None,
) -> Iterator[Lead]:
    """Stream leads from oppcore's flat lead CSV (:data:`LEAD_COLUMNS`).

    ``id``, ``name`` and ``captured_at`` are required columns; the other arguments are as
    for :func:`read_opportunities_csv`.

    Raises:
        ImportDataError: For a bad row (when ``on_error`` is ``None``) or a file problem.
    """
    encoding = _check_args(None, zone, encoding)
    rows = _flat_rows(source, LEAD_COLUMNS, encoding=encoding, limits=limits,
                      delimiter=delimiter, stats=_Stats(),
                      required=("id", "name", "captured_at"))
    return drive(rows, lambda n, v: _lead(n, v, zone, spreadsheet_safe), on_error, limits)
