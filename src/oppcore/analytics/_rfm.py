"""Customer segmentation (客户细分) beyond ABC: recency, frequency and value of won business.

Segments are data: an ordered tuple of :class:`Segment` rules, each a set of thresholds on
recency (days since the account's latest win), frequency (won deals) and value (as a
quantile among the accounts analysed); an account falls in the first segment whose every
threshold it meets. The default set has plain names; pass your own to redefine them.
"""

from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from oppcore._check_table import Checks
from oppcore._checks import COUNT, UNIT, Bounds, check_bounds, fail, in_bounds
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import exact_add

from ._after import check_now, choose_currency
from ._common import WON, PipelineLike, StageIndex, closed_at
from ._results import Table, rows_to_records

__all__ = ["DEFAULT_SEGMENTS", "CustomerSegment", "CustomerSegments", "Segment",
           "customer_segments"]

_DAYS: Final = Bounds(0, 36500, integer=True, kind=int)
_COLUMNS = ("account_id", "account", "segment", "recency_days", "frequency", "value",
            "value_quantile", "last_won")


def _ordered_bounds(segment: Any) -> None:
    for low, high in (("min_recency_days", "max_recency_days"),
                      ("min_frequency", "max_frequency"),
                      ("min_value_quantile", "max_value_quantile")):
        a, b = getattr(segment, low), getattr(segment, high)
        if a is not None and b is not None and a > b:
            fail(segment, high, f"must not be below {low} ({a}), got {b}", b)


_SEGMENT = Checks(rules=(_ordered_bounds,), text=("name",))


@attrs.frozen(kw_only=True)
class Segment:
    """One customer segment: thresholds an account must all meet (``None``: any).

    Args:
        name: The segment's name (``"champions"``).
        min_recency_days: The latest win at least this many days before ``now``.
        max_recency_days: The latest win at most this many days before ``now``.
        min_frequency: At least this many won deals.
        max_frequency: At most this many won deals.
        min_value_quantile: Value won at least this quantile among the accounts (0: the
            lowest, 1: the highest).
        max_value_quantile: Value won at most this quantile.

    Raises:
        ValidationError: A blank name, a threshold out of range, or a minimum above its
            maximum.
    """

    name: str
    min_recency_days: int | None = attrs.field(default=None, metadata=in_bounds(_DAYS))
    max_recency_days: int | None = attrs.field(default=None, metadata=in_bounds(_DAYS))
    min_frequency: int | None = attrs.field(default=None, metadata=in_bounds(COUNT))
    max_frequency: int | None = attrs.field(default=None, metadata=in_bounds(COUNT))
    min_value_quantile: float | None = attrs.field(default=None, metadata=in_bounds(UNIT))
    max_value_quantile: float | None = attrs.field(default=None, metadata=in_bounds(UNIT))

    def __attrs_post_init__(self) -> None:
        check_bounds(self)
        _SEGMENT.run(self)

    def matches(self, recency_days: int, frequency: int, value_quantile: float) -> bool:
        """Return whether an account with these figures meets every threshold."""
        checks = ((self.min_recency_days, recency_days, self.max_recency_days),
                  (self.min_frequency, frequency, self.max_frequency),
                  (self.min_value_quantile, value_quantile, self.max_value_quantile))
        return all((low is None or v >= low) and (high is None or v <= high)
                   for low, v, high in checks)


DEFAULT_SEGMENTS: Final = (
    Segment(name="champions", max_recency_days=180, min_frequency=3, min_value_quantile=0.5),
    Segment(name="loyal", max_recency_days=365, min_frequency=2),
    Segment(name="new", max_recency_days=90, max_frequency=1),
    Segment(name="at_risk", min_recency_days=366, max_recency_days=730, min_frequency=2),
    Segment(name="dormant", min_recency_days=731),
    Segment(name="occasional"),
)
"""The default segments, first match wins: **champions** (won in the last 6 months, 3+
wins, value in the top half), **loyal** (won in the last year, 2+ wins), **new** (one win,
in the last 90 days), **at_risk** (2+ wins, the latest 1-2 years ago), **dormant** (no win
for 2 years), **occasional** (everyone else)."""


@attrs.frozen(kw_only=True)
class CustomerSegment:
    """One account's RFM figures and segment.

    Attributes:
        account_id: The account.
        account: Its name.
        segment: The first segment it matches (``None`` if none does).
        recency_days: Days from its latest win to ``now``.
        frequency: Its won deals.
        value: Their amounts (in the result's currency).
        value_quantile: Share of the other accounts with less value (1 for the only one).
        last_won: When it last won.
    """

    account_id: str
    account: str
    segment: str | None
    recency_days: int
    frequency: int
    value: Decimal
    value_quantile: float
    last_won: datetime


@attrs.frozen(kw_only=True)
class CustomerSegments(Table):
    """Accounts with won business, each with its RFM figures and segment.

    Attributes:
        now: As of when.
        currency: The currency of ``value``.
        segments: The segment rules applied, in order.
        rows: One row per account, most valuable first.
    """

    title = "Customer segments (RFM)"
    columns = _COLUMNS

    now: datetime
    currency: str | None
    segments: tuple[Segment, ...]
    rows: tuple[CustomerSegment, ...]

    def segment_of(self, account_id: str) -> str | None:
        """Return the segment of ``account_id`` (``None`` if not analysed or unmatched)."""
        return next((r.segment for r in self.rows if r.account_id == account_id), None)

    def counts(self) -> dict[str | None, int]:
        """Return the number of accounts per segment, in the order of the rules."""
        out: dict[str | None, int] = {s.name: 0 for s in self.segments}
        for r in self.rows:
            out[r.segment] = out.get(r.segment, 0) + 1
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per account."""
        return rows_to_records(self.rows, _COLUMNS)

    def _notes(self) -> list[str]:
        return [", ".join(f"{name}: {n}" for name, n in self.counts().items())]


def customer_segments(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *, now: datetime,
    segments: tuple[Segment, ...] = DEFAULT_SEGMENTS, currency: str | None = None,
) -> CustomerSegments:
    """Segment accounts by recency, frequency and value of won business (RFM).

    Only won deals with an account and a known win time (their history's entry into the
    won stage) by ``now`` count. The ABC tiers (:func:`account_tiers`) stay as they are;
    this is a second, behavioural view of the same accounts.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are won.
        now: As of when (timezone-aware).
        segments: The segment rules, first match wins.
        currency: The currency of value won; needed only with several currencies (deals in
            others count in frequency and recency, not in value).

    Returns:
        One row per account.

    Raises:
        CurrencyMismatchError: Several currencies and no ``currency``.
        ValidationError: A naive ``now``, segments that are not :class:`Segment` values, an
            item that is not an opportunity, a deal of another pipeline or an unknown stage.
    """
    check_now(now)
    if not isinstance(segments, tuple) or not all(isinstance(s, Segment) for s in segments):
        raise ValidationError("segments must be a tuple of Segment", field="segments",
                              value=segments)
    index = StageIndex(pipeline)
    wins: dict[str, list[Opportunity]] = {}
    names: dict[str, str] = {}
    last: dict[str, datetime] = {}
    with index.walk(opportunities) as walk:
        for o, kind in walk:
            when = closed_at(o) if kind == WON and o.account is not None else None
            if when is None or when > now or o.account is None:
                continue
            aid = o.account.id
            names.setdefault(aid, o.account.name)
            wins.setdefault(aid, []).append(o)
            if aid not in last or when > last[aid]:
                last[aid] = when
    unit = choose_currency((o.amount.currency for deals in wins.values() for o in deals
                            if o.amount is not None), currency, "add up value won in")
    values = {aid: Decimal(0) for aid in wins}
    for aid, deals in wins.items():
        for o in deals:
            if o.amount is not None and o.amount.currency == unit:
                values[aid] = exact_add(values[aid], o.amount.amount)
    ordered = sorted(values.values())
    n = len(ordered)
    rows = []
    for aid, deals in wins.items():
        lower = bisect_left(ordered, values[aid])  # accounts with less value
        quantile = lower / (n - 1) if n > 1 else 1.0
        recency = (now - last[aid]).days
        segment = next((s.name for s in segments
                        if s.matches(recency, len(deals), quantile)), None)
        rows.append(CustomerSegment(
            account_id=aid, account=names[aid], segment=segment, recency_days=recency,
            frequency=len(deals), value=values[aid], value_quantile=quantile,
            last_won=last[aid]))
    rows.sort(key=lambda r: (-r.value, r.account_id))
    return CustomerSegments(now=now, currency=unit, segments=segments, rows=tuple(rows))
