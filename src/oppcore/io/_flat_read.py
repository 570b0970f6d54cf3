"""Readers of oppcore's flat CSV format (written by the writers in ``_csv``).

Each reader streams, checks the header against the format's columns, undoes the
spreadsheet-safe quote prefix when asked, and reports bad cells as :class:`RowError` values
without ever yielding a half-built record.
"""

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, tzinfo
from typing import Any

from oppcore._errors import ImportDataError, ValidationError
from oppcore._iso import parse_date, parse_datetime
from oppcore._models import Lead, LeadStatus, Opportunity, Probability, ProbabilitySource
from oppcore._money import Money, to_decimal
from oppcore._parties import Account, Channel, CompanySize, Source
from oppcore._records import StageChange

from ._csv import (
    HISTORY_COLUMNS,
    LEAD_COLUMNS,
    OPPORTUNITY_COLUMNS,
    UTC,
    _check_args,
    _needs_quote,
    _Stats,
)
from ._report import (
    DEFAULT_LIMITS,
    Limits,
    OnError,
    RowError,
    RowFailed,
    drive,
    shown,
)
from ._source import CsvRows, InputSource, check_encoding, open_source, refuse_constant

__all__ = ["read_leads_csv", "read_opportunities_csv", "read_stage_history_csv"]


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
            d = parse_datetime(v)
        except ValueError:
            self.bad(column, f"invalid ISO 8601 datetime {shown(v)}")
            return None
        return d if d.tzinfo is not None else d.replace(tzinfo=zone)

    def day(self, column: str) -> date | None:
        v = self.text(column)
        if v is None:
            return None
        try:
            return parse_date(v)
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
        "stage_history": history, "contract_start": c.day("contract_start"),
        "contract_end": c.day("contract_end"), "renewal_of": c.text("renewal_of"),
        "renewed_by": c.text("renewed_by"),
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
            fields["source"] = Source(channel=channel, detail=c.text("source_detail"),
                                      referrer=c.text("source_referrer"))
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
            fields["source"] = Source(channel=channel, detail=c.text("source_detail"),
                                      referrer=c.text("source_referrer"))
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
