"""The checked arguments of the store protocol: batches, feed paging and query filters.

:class:`~oppcore.storage.BaseStore` checks every argument with these before a store's hooks
see it; the hooks receive the checked values (:class:`QueryFilter` for a query).
"""

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any, Literal, cast

import attrs

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import Money

from ._audit import AuditEntry
from ._protocol import Kind, Record, StoreWrite, check_unicode, kind_name

__all__ = ["ORDERS", "QueryFilter", "check_batch", "check_feed", "collect", "micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_LIMIT = 100_000
_CURSOR = re.compile(r"(-?[0-9]{1,20}):(.+)", re.DOTALL)

ORDERS = ("id", "updated_at")
"""The orders a query offers: by ``id``, or by ``(updated_at, id)``."""


def check_feed(after: object, limit: object) -> tuple[int, int]:
    """Return the checked ``after`` and ``limit`` arguments of ``Store.changes``.

    Raises:
        ValidationError: Either is not an int >= 0 (``bool`` is refused).
    """
    for name, value in (("after", after), ("limit", limit)):
        if type(value) is not int or value < 0:
            raise ValidationError(f"{name} must be an int >= 0, got {value!r}", field=name,
                                  value=value)
    return cast(int, after), cast(int, limit)


def check_batch(writes: object, audit: Sequence[AuditEntry]) -> tuple[
    tuple[StoreWrite, ...], tuple[AuditEntry, ...]
]:
    """Return the batch as tuples after checking its element types.

    Raises:
        ValidationError: A write is not a :class:`StoreWrite` or an entry not an
            :class:`AuditEntry`.
    """
    if not isinstance(writes, (list, tuple)):
        raise ValidationError("writes must be a sequence of Write values", field="writes",
                              value=writes)
    for w in writes:
        if not isinstance(w, StoreWrite):
            raise ValidationError(f"expected a StoreWrite, got {type(w).__name__}", field="writes",
                                  value=w)
    if isinstance(audit, AuditEntry):
        audit = (audit,)
    for entry in audit:
        if not isinstance(entry, AuditEntry):
            raise ValidationError(f"expected an AuditEntry, got {type(entry).__name__}",
                                  field="audit", value=entry)
    return tuple(writes), tuple(audit)


def micros(at: datetime) -> int:
    """Return an aware datetime as integer microseconds since the epoch (for indexing)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@attrs.frozen(kw_only=True)
class QueryFilter:
    """The checked arguments of ``Store.query``, as a store's ``_query`` hook receives them.

    Attributes:
        kind: :class:`~oppcore.Lead` or :class:`~oppcore.Opportunity`.
        name: The kind's name, ``"lead"`` or ``"opportunity"``.
        stage: Only opportunities in this stage (``None``: any).
        owner: Only records of this owner.
        account: Only opportunities of this account id.
        pipeline: Only opportunities of this pipeline.
        updated_since: Only records with ``updated_at >= updated_since``.
        close_from: Only opportunities with ``expected_close >= close_from``.
        close_to: Only opportunities with ``expected_close <= close_to``.
        amount_min: Only opportunities whose amount is in this currency and ``>=`` it.
        amount_max: Only opportunities whose amount is in this currency and ``<=`` it.
        order: ``"id"`` (code-point order) or ``"updated_at"`` (``(updated_at, id)``).
        after: The paging cursor's id: only records whose sort key follows the cursor's.
        after_us: The cursor's ``updated_at`` in microseconds since the epoch (order
            ``"updated_at"`` only; ``None`` otherwise): the key is ``(after_us, after)``.
        limit: The page size (1 to 100,000).
    """

    kind: Kind
    name: str
    stage: str | None
    owner: str | None
    account: str | None
    pipeline: str | None
    updated_since: datetime | None
    close_from: date | None = None
    close_to: date | None = None
    amount_min: Money | None = None
    amount_max: Money | None = None
    order: Literal["id", "updated_at"] = "id"
    after: str | None
    after_us: int | None = None
    limit: int

    @classmethod
    def check(cls, kind: Kind, **args: Any) -> "QueryFilter":
        """Validate query arguments (``after`` is the cursor as :meth:`cursor` wrote it).

        Raises:
            ValidationError: Unknown kind, opportunity filters on leads, non-string filter
                values (or strings holding a lone surrogate), a naive ``updated_since``,
                close bounds that are not dates (or ``close_from > close_to``), amount
                bounds that are not :class:`~oppcore.Money` (or in two currencies, or
                ``amount_min > amount_max``), an unknown order, a cursor that order did not
                write, or a limit outside [1, 100000]. The error names the argument.
        """
        name = kind_name(kind)
        args.setdefault("order", "id")
        for field in ("close_from", "close_to", "amount_min", "amount_max"):
            args.setdefault(field, None)
        for field in ("stage", "owner", "account", "pipeline", "after"):
            value = args[field]
            if value is not None:
                if not isinstance(value, str):
                    raise ValidationError(f"{field} must be a string or None, got {value!r}",
                                          field=field, value=value)
                check_unicode(value, field)
        if name == "lead":
            for field in ("stage", "account", "pipeline", "close_from", "close_to",
                          "amount_min", "amount_max"):
                if args[field] is not None:
                    raise ValidationError(f"leads cannot be queried by {field}", field=field,
                                          value=args[field])
        since = args["updated_since"]
        if since is not None:
            aware(since, "updated_since")
        _check_ranges(args)
        order = args["order"]
        if not isinstance(order, str) or order not in ORDERS:
            raise ValidationError(f"order must be 'id' or 'updated_at', got {order!r}",
                                  field="order", value=order)
        if order == "updated_at" and args["after"] is not None:
            args["after_us"], args["after"] = _parse_cursor(args["after"])
        limit = args["limit"]
        if type(limit) is not int or not 1 <= limit <= _MAX_LIMIT:
            raise ValidationError(f"limit must be an int in [1, {_MAX_LIMIT}], got {limit!r}",
                                  field="limit", value=limit)
        return cls(kind=kind, name=name, **args)

    @property
    def has_ranges(self) -> bool:
        """Whether a close-date or amount range is given (filters a store may run in code)."""
        return not (self.close_from is None and self.close_to is None
                    and self.amount_min is None and self.amount_max is None)

    def matches(self, record: Record) -> bool:
        """Return whether ``record`` passes every filter (not the paging cursor)."""
        if self.owner is not None and record.owner != self.owner:
            return False
        if self.updated_since is not None and record.updated_at < self.updated_since:
            return False
        if type(record) is Opportunity:
            if self.stage is not None and record.stage_id != self.stage:
                return False
            if self.pipeline is not None and record.pipeline_id != self.pipeline:
                return False
            if self.account is not None and (
                record.account is None or record.account.id != self.account
            ):
                return False
            if self.has_ranges:
                return self.in_ranges(record)
        return True

    def in_ranges(self, record: Record) -> bool:
        """Return whether ``record`` passes the close-date and amount ranges (if any).

        A deal without an expected close (or an amount) never passes a close (or amount)
        range; an amount in another currency than the bounds' never passes either.
        """
        if type(record) is not Opportunity:
            return True
        if self.close_from is not None or self.close_to is not None:
            close = record.expected_close
            if close is None or (self.close_from is not None and close < self.close_from) or (
                self.close_to is not None and close > self.close_to
            ):
                return False
        bound = self.amount_min or self.amount_max
        if bound is not None:
            amount = record.amount
            if amount is None or amount.currency != bound.currency:
                return False
            if self.amount_min is not None and amount.amount < self.amount_min.amount:
                return False
            if self.amount_max is not None and amount.amount > self.amount_max.amount:
                return False
        return True

    def sort_key(self, record: Record) -> tuple[int, str]:
        """Return ``record``'s position in this query's order (``(0, id)`` by id)."""
        if self.order == "id":
            return (0, record.id)
        return (micros(record.updated_at), record.id)

    def follows_cursor(self, record: Record) -> bool:
        """Return whether ``record`` comes after the paging cursor (always, without one)."""
        if self.after is None:
            return True
        return self.sort_key(record) > (self.after_us or 0, self.after)

    def cursor(self, record: Record) -> str:
        """Return the ``next_after`` of a page ending with ``record``.

        By id it is the id; by ``updated_at`` it is ``"<microseconds>:<id>"`` (pass it back
        unchanged).
        """
        if self.order == "id":
            return record.id
        return f"{micros(record.updated_at)}:{record.id}"

    def page(self, records: Iterable[Record]) -> tuple[tuple[Record, ...], bool]:
        """Return the page of ``records`` (any order) this query selects, and if more follow.

        The plain path for a store that reads its candidates into memory: keep the records
        after the cursor that match, sort them, cut the page.
        """
        kept = sorted((r for r in records if self.follows_cursor(r) and self.matches(r)),
                      key=self.sort_key)
        return tuple(kept[:self.limit]), len(kept) > self.limit


def collect(
    f: QueryFilter, fetch: Callable[[str | None, int | None, int], Sequence[Record]]
) -> tuple[tuple[Record, ...], bool]:
    """Fill one page when a store runs the range filters in code, and tell if more follow.

    ``fetch(after, after_us, n)`` returns up to ``n`` records passing every filter but the
    ranges, in the query's order, following the key ``(after_us, after)`` (the same cursor
    semantics as :class:`QueryFilter`). ``collect`` keeps those in the ranges and reads on
    from the last record fetched until the page and one more are found or none are left.
    """
    want = f.limit + 1
    chunk = want if not f.has_ranges else max(want, 500)
    after, after_us = f.after, f.after_us
    found: list[Record] = []
    while True:
        rows = fetch(after, after_us, chunk)
        for record in rows:
            if f.in_ranges(record):
                found.append(record)
                if len(found) == want:
                    return tuple(found[:f.limit]), True
        if len(rows) < chunk:
            return tuple(found), False
        last = rows[-1]
        after = last.id
        after_us = None if f.order == "id" else micros(last.updated_at)


def _check_ranges(args: dict[str, Any]) -> None:
    for field in ("close_from", "close_to"):
        value = args[field]
        if value is not None and (type(value) is not date):
            raise ValidationError(f"{field} must be a date (not a datetime) or None, got "
                                  f"{value!r}", field=field, value=value)
    low, high = args["close_from"], args["close_to"]
    if low is not None and high is not None and low > high:
        raise ValidationError(f"close_to ({high}) is before close_from ({low})",
                              field="close_to", value=high)
    for field in ("amount_min", "amount_max"):
        value = args[field]
        if value is not None and not isinstance(value, Money):
            raise ValidationError(f"{field} must be Money (an amount in one currency) or "
                                  f"None, got {value!r}", field=field, value=value)
    lo, hi = args["amount_min"], args["amount_max"]
    if lo is not None and hi is not None:
        if lo.currency != hi.currency:
            raise ValidationError(f"amount_max is in {hi.currency} but amount_min in "
                                  f"{lo.currency}: a range has one currency",
                                  field="amount_max", value=hi)
        if lo.amount > hi.amount:
            raise ValidationError(f"amount_max ({hi.amount}) is below amount_min "
                                  f"({lo.amount})", field="amount_max", value=hi)


def _parse_cursor(after: str) -> tuple[int, str]:
    match = _CURSOR.fullmatch(after)
    if match is None:
        raise ValidationError("after must be a next_after written by a query ordered by "
                              f"updated_at ('<microseconds>:<id>'), got {after!r}",
                              field="after", value=after)
    return int(match.group(1)), match.group(2)
