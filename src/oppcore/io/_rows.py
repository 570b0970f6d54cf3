"""Turning one CSV row into an :class:`~oppcore.Opportunity` according to a mapping."""

import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from oppcore._checks import aware
from oppcore._errors import ImportDataError, ValidationError
from oppcore._iso import parse_datetime
from oppcore._models import Opportunity
from oppcore._money import CURRENCY_MINOR_UNITS, Money, to_decimal
from oppcore._parties import Account, Channel, Source
from oppcore._records import StageChange

from ._mapping import _COLUMN_FIELDS, ColumnMapping
from ._references import Tables, joined
from ._report import RowError, RowFailed, shown

__all__ = ["OpportunityRows", "make_datetime_parser", "slug"]

_NON_WORD = re.compile(r"[^\w]+")


# A nested model's field -> the deal field (and so the export column) it was read from.
_NESTED_FIELD: dict[tuple[str | None, str | None], str] = {
    ("StageChange", "by"): "owner", ("StageChange", "reason"): "lost_reason",
    ("Account", "name"): "account", ("Account", "id"): "account_id",
    ("Source", "detail"): "source",
}


def slug(name: str) -> str:
    """Return a stable id for a name: casefolded words joined by ``-`` (Unicode kept)."""
    s = _NON_WORD.sub("-", name.casefold()).strip("-_")
    return s or "x-" + hashlib.blake2b(name.encode("utf-8", "surrogatepass"),
                                       digest_size=6).hexdigest()


def make_datetime_parser(formats: tuple[str, ...], zone: tzinfo) -> Callable[[str], datetime]:
    """Return a cached parser of date/datetime cells; naive values are put in ``zone``.

    Raises ``ValueError`` with a readable message for an unparseable cell.
    """

    @lru_cache(maxsize=8192)  # exports repeat dates a lot; the cache lives per import
    def parse(text: str) -> datetime:
        value: datetime | None = None
        if formats:
            for fmt in formats:
                try:
                    value = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if value is None:
                raise ValueError(f"invalid date {shown(text)}: expected one of "
                                 f"{', '.join(formats)}")
        else:
            try:
                value = parse_datetime(text)
            except ValueError:
                raise ValueError(f"invalid date {shown(text)}: expected ISO 8601 such as "
                                 "2017-03-01 or 2017-03-01T10:00:00+08:00") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value

    return parse


def _missing_column(name: str, column: tuple[str, ...], header: tuple[str, ...]
                    ) -> RowError:
    wanted = " or ".join(repr(c) for c in column)
    have = ", ".join(header[:20]) + (", ..." if len(header) > 20 else "")
    if len(header) == 1:
        for sep, label in ((";", "';'"), ("\t", "tab")):
            if sep in header[0]:
                return RowError(row=1, column=name, message=(
                    f"column {wanted} not found: the header is one cell holding {label}s, "
                    f"so the file is {label}-separated; give delimiter={sep!r}"))
    return RowError(row=1, column=name, message=(
        f"column {wanted} not found in the header (columns: {have}); fix the mapping or "
        f"list {name!r} in its optional fields"))


class OpportunityRows:
    """A converter from CSV rows (lists of cells) to opportunities, for one header."""

    def __init__(
        self,
        mapping: ColumnMapping,
        header: tuple[str, ...],
        *,
        zone: tzinfo,
        as_of: datetime | None,
        tables: Tables = (),
    ) -> None:
        self.m = mapping
        self.tables = tables
        self.header = header
        position = {name: i for i, name in enumerate(header)}
        missing: list[RowError] = []
        self.idx: dict[str, int | None] = {}
        self.col: dict[str, str] = {}  # field -> header name actually used
        wanted = [(f, getattr(mapping, f)) for f in _COLUMN_FIELDS]
        wanted += [(f"custom.{k}", v) for k, v in mapping.custom.items()]
        for field, candidates in wanted:
            found = next((c for c in candidates if c in position), None)
            if found is None:
                if candidates and field not in mapping.optional:
                    missing.append(_missing_column(field, candidates, header))
                self.idx[field] = None
            else:
                self.idx[field] = position[found]
                self.col[field] = found
        if missing:
            raise ImportDataError(missing)
        if as_of is not None:
            aware(as_of, "as_of")
        self.as_of = as_of
        self.parse = make_datetime_parser(mapping.date_formats, zone)
        self.stage_fold = {k.casefold(): v for k, v in mapping.stage_values.items()}
        self.status_fold = {k.casefold(): v for k, v in mapping.status_values.items()}
        self.custom = tuple((k, self.idx[f"custom.{k}"]) for k in mapping.custom)
        self.closed = mapping.won_stages | mapping.lost_stages
        # With a thousands separator, only real grouping (1,234,567.89) is accepted: a
        # cell such as "12,5" uses a decimal comma and must not become 125.
        self.sep = mapping.thousands_separator or ""
        self.grouped = re.compile(
            rf"[+-]?\d{{1,3}}(?:{re.escape(self.sep or ',')}\d{{3}})+(?:\.\d*)?")

    def _cell(self, values: list[str], field: str) -> str:
        i = self.idx[field]
        return values[i].strip() if i is not None else ""

    def stage_of(self, label: str) -> tuple[str, str | None]:
        """Return the stage id of a (stripped) stage cell and the problem with it, if any.

        One rule for the row converter and the columnar path (``oppcore.batch``), which
        applies it once per distinct cell.
        """
        m = self.m
        if not label:
            return label, "is empty"
        if not m.stage_values:
            return label, None
        found = m.stage_values.get(label) or self.stage_fold.get(label.casefold())
        if found is None:
            known = ", ".join(repr(k) for k in m.stage_values)
            return label, f"unknown stage {shown(label)} (known: {known})"
        return found, None

    def amount_of(self, text: str, currency: str) -> tuple[Money | None,
                                                           list[tuple[str, str]]]:
        """Return the amount of (stripped) amount and currency cells, and the problems.

        Problems are ``(field, message)`` pairs, ``field`` being ``"amount"`` or
        ``"currency"``. One rule for the row converter and the columnar path.
        """
        m = self.m
        problems: list[tuple[str, str]] = []
        if not text:
            return None, problems
        if self.sep and self.sep in text:
            if self.grouped.fullmatch(text) is None:
                message = (f"invalid decimal {shown(text)}: the separator {self.sep!r} must "
                           "group digits by three, as in 1,234.50")
                problems.append(("amount", message))
                text = ""
            text = text.replace(self.sep, "")
        code = currency.upper() or m.default_currency
        try:
            number = to_decimal(text, what="amount") if text else None
        except ValidationError as exc:
            problems.append(("amount", str(exc)))
            return None, problems
        if number is None:
            return None, problems  # already reported
        if number < 0:
            problems.append(("amount", f"must not be negative, got {shown(text)}"))
        elif code is None:
            problems.append(("currency", "is empty and the mapping has no default_currency"))
        elif code not in CURRENCY_MINOR_UNITS:
            problems.append(("currency", f"unknown ISO 4217 currency code {shown(code)}"))
        else:
            if number.is_signed():  # -0: Decimal keeps the sign of zero
                number = number.copy_abs()
            return Money(amount=number, currency=code), problems
        return None, problems

    def __call__(self, row: int, values: list[str]) -> Opportunity:
        """Convert one row; raise :class:`RowFailed` listing every problem in it."""
        errors = getattr(values, "errors", None)
        if errors:
            raise RowFailed(errors)
        m = self.m
        cell = self._cell
        problems: list[RowError] = []

        def bad(field: str, message: str) -> None:
            error = RowError(row=row, column=self.col.get(field, field), message=message)
            if error not in problems:  # one column may serve two fields (CloseDate)
                problems.append(error)

        def when(field: str) -> datetime | None:
            text = cell(values, field)
            if not text:
                return None
            try:
                return self.parse(text)
            except ValueError as exc:
                bad(field, str(exc))
                return None

        # stage
        label = cell(values, "stage")
        stage, problem = self.stage_of(label)
        if problem is not None:
            bad("stage", problem)

        status = cell(values, "status")
        came_from: str | None = None
        if self.idx["status"] is not None and m.status_values:
            outcome = m.status_values.get(status, self.status_fold.get(status.casefold()))
            if outcome is None:
                known = ", ".join(repr(k) for k in m.status_values)
                bad("status", f"unknown status {shown(status)} (known: {known})")
            elif outcome:
                # The outcome column says won/lost; the stage column tells where it was.
                came_from = stage if stage not in self.closed else None
                stage = outcome

        # money
        amount, money_problems = self.amount_of(cell(values, "amount"),
                                                cell(values, "currency"))
        for field, message in money_problems:
            bad(field, message)

        # dates
        created = when("created_at")
        closed_at = when("closed_at")
        updated = when("updated_at")
        expected = when("expected_close")
        if created is None and not any(p.column == self.col.get("created_at") for p in problems):
            created = closed_at or self.as_of
            if created is None:
                bad("created_at", "is empty, with no close date to fall back on; pass "
                    "as_of= (the export date) to date such rows")

        if problems:
            raise RowFailed(problems)
        assert created is not None

        # Every model the row builds (history entries, account, source, the deal) checks its
        # own fields: a refusal is this row's error, naming the export's column.
        try:
            owner = cell(values, "owner") or None
            by = owner or m.history_by
            lost_reason = cell(values, "lost_reason") or None
            left = m.closed_from_stage or came_from
            if stage in self.closed and left is not None:
                # When the export has no close date, the expected close date is the best
                # record of when it closed; failing that, the deal closed when it was created.
                closing = closed_at or expected or created
                if closing < created:
                    bad("closed_at", f"close date {closing.date()} is before the creation date "
                        f"{created.date()}")
                    raise RowFailed(problems)
                history: tuple[StageChange, ...] = (
                    StageChange(from_stage=None, to_stage=left, at=created, by=by),
                    StageChange(from_stage=left, to_stage=stage, at=closing, by=by,
                                reason=lost_reason if stage in m.lost_stages else None),
                )
            else:
                history = (StageChange(from_stage=None, to_stage=stage, at=created, by=by),)
            last = history[-1].at
            if updated is None or updated < last:
                updated = last

            # who and what
            account_name = cell(values, "account")
            account_id = cell(values, "account_id")
            account = None
            if account_name or account_id:
                account = Account(id=account_id or slug(account_name),
                                  name=account_name or account_id)
            source = None
            label = cell(values, "source")
            if label:
                channel = m.source_values.get(label, Channel.OTHER.value)
                source = Source(channel=Channel(channel), detail=label)
            tags: set[str] = set()
            text = cell(values, "tags")
            if text:
                tags.update(t.strip() for t in text.split(m.tags_separator) if t.strip())
            custom: dict[str, Any] = {}
            product = cell(values, "product")
            if product:
                product = m.product_values.get(product, product)
                tags.add(product)
                custom["product"] = product
            for key, i in self.custom:
                if i is not None and values[i].strip():
                    custom[key] = values[i].strip()

            record_id = cell(values, "id")
            external_key = cell(values, "external_key") or None
            if not record_id and external_key:
                record_id = m.id_prefix + external_key
            if not record_id:
                # surrogatepass: a lone surrogate reaches the model checks, refused as a row error
                joined_cells = "\x1f".join(values).encode("utf-8", "surrogatepass")
                digest = hashlib.blake2b(joined_cells, digest_size=8).hexdigest()
                record_id = m.id_prefix + digest
            name = cell(values, "name") or " ".join(
                x for x in (account_name, product) if x) or record_id
            if self.tables:
                deal = {"account": account_name, "account_id": account.id if account else None,
                        "owner": owner, "product": product, "id": record_id,
                        "external_key": external_key}
                for message in joined(self.tables, deal, custom,
                                      open_without_amount=amount is None
                                      and stage not in self.closed):
                    bad("references", message)
                if problems:
                    raise RowFailed(problems)
            return Opportunity(
                id=record_id, name=name, pipeline_id=m.pipeline_id, stage_id=stage,
                created_at=created, updated_at=updated, account=account, owner=owner,
                amount=amount, expected_close=expected.date() if expected else None,
                source=source, stage_history=history, lost_reason=lost_reason,
                tags=frozenset(tags), custom=custom, external_key=external_key,
            )
        except ValidationError as exc:
            field = _NESTED_FIELD.get((exc.model, exc.field), exc.field) or ""
            column = self.col.get(field, field or None)
            raise RowFailed([RowError(row=row, column=column, message=str(exc))]) from None


def as_date(value: datetime | date) -> date:
    """Return the calendar date of a date or datetime."""
    return value.date() if isinstance(value, datetime) else value
