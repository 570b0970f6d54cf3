"""Rep performance: per-owner win rate, cycle, activity and value won against a quota."""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import Money, exact_add

from ._common import (
    LOST,
    OPEN,
    WON,
    PipelineLike,
    StageIndex,
    closed_at,
    decimal_ratio,
    percentile,
    ratio,
)
from ._fold import Tally, expand, histogram_add
from ._results import Table

__all__ = ["RepPerformance", "RepRow", "rep_performance"]

_DAY = 86400.0
_COLUMNS = ("owner", "deals", "open", "won", "lost", "win_rate", "median_cycle_days",
            "activities", "activities_per_deal")


@attrs.frozen(kw_only=True)
class RepRow:
    """Performance of one owner.

    Attributes:
        owner: The owner (``None`` for deals without one).
        deals: Deals owned.
        open: Open deals.
        won: Won deals.
        lost: Lost deals.
        win_rate: ``won / (won + lost)``; ``None`` without closed deals.
        median_cycle_days: Median days from creation to close of the won deals only (lost
            deals and open deals are not in it).
        activities: Activities logged on the owner's deals.
        activities_per_deal: ``activities / deals``.
        won_value: Value won, one ``Money`` per currency (by code).
        quota: The owner's target, if one was given.
        attainment: Value won in the quota's currency divided by the quota (``None``
            when a won deal has no amount: the value won is unknown).
        unpriced_won: Won deals without an amount. When there are any, the value won is
            unknown: ``to_records()`` gives ``None`` (not 0) in the ``won_<CUR>`` columns.
    """

    owner: str | None
    deals: int
    open: int
    won: int
    lost: int
    win_rate: float | None
    median_cycle_days: float | None
    activities: int
    activities_per_deal: float | None
    won_value: tuple[Money, ...]
    quota: Money | None
    attainment: float | None
    unpriced_won: int = 0


@attrs.frozen(kw_only=True)
class RepPerformance(Table):
    """Per-owner performance.

    Attributes:
        rows: One row per owner, by owner (deals without an owner last).
    """

    title = "Rep performance"
    row_type = RepRow
    columns = _COLUMNS

    rows: tuple[RepRow, ...]

    def get(self, owner: str | None) -> RepRow | None:
        """Return the row of ``owner``, or ``None`` if it owns no deal."""
        return next((r for r in self.rows if r.owner == owner), None)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per owner; value won becomes one ``won_<CUR>`` column each."""
        currencies = sorted({m.currency for r in self.rows for m in r.won_value})
        with_quota = any(r.quota is not None for r in self.rows)
        out = []
        for r in self.rows:
            record: dict[str, Any] = {n: getattr(r, n) for n in _COLUMNS}
            won = {m.currency: m.amount for m in r.won_value}
            record["unpriced_won"] = r.unpriced_won
            for cur in currencies:
                # A won deal without an amount makes the owner's value won unknown.
                record[f"won_{cur}"] = None if r.unpriced_won else won.get(cur, Decimal(0))
            if with_quota:
                record["quota"] = None if r.quota is None else r.quota.amount
                record["quota_currency"] = None if r.quota is None else r.quota.currency
                record["attainment"] = r.attainment
            out.append(record)
        return out

    def _notes(self) -> list[str]:
        lines = ["median_cycle_days: creation to close of won deals only"]
        unpriced = sum(r.unpriced_won for r in self.rows)
        if unpriced:
            lines.append(f"{unpriced} won deal(s) have no amount: value won is unknown "
                         "(-) for their owners, not 0")
        return lines


def _quota_for(quota: Money | Mapping[str, Money] | None, owner: str | None) -> Money | None:
    if quota is None:
        return None
    if isinstance(quota, Money):
        return quota
    value = quota.get(owner) if owner is not None else None
    if value is not None and not isinstance(value, Money):
        raise ValidationError(f"quota of {owner!r} must be Money, got {type(value).__name__}",
                              field="quota", value=value)
    return value


def rep_performance(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    quota: Money | Mapping[str, Money] | None = None,
) -> RepPerformance:
    """Compute per-owner win rate, cycle, activity and value won (against a quota).

    To judge one period, pass only the deals of that period (the functions take any
    iterable: filter it first).

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are open, won and lost.
        quota: One target for every owner, or a mapping owner -> target. Attainment uses
            only the value won in the quota's currency (currencies are never converted).

    Returns:
        One row per owner.

    Raises:
        ValidationError: For a quota that is not Money (or a mapping to Money), an item
            that is not an opportunity, a deal of another pipeline or an unknown stage.
    """
    tally = _rep_performance_tally(opportunities, pipeline, quota=quota)
    return _rep_performance_result(tally, pipeline, quota=quota)


def _rep_performance_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    quota: Money | Mapping[str, Money] | None = None,
) -> Tally:
    """Return rep performance's mergeable state: counts, cycle histogram, value per owner."""
    if quota is not None and not isinstance(quota, (Money, Mapping)):
        raise ValidationError(f"quota must be Money or a mapping owner -> Money, got "
                              f"{type(quota).__name__}", field="quota", value=quota)
    index = StageIndex(pipeline)
    # owner -> [deals, open, won, lost, activities, cycle days list, value won by currency,
    #           won deals without an amount]; the cycles are an exact histogram
    acc: dict[str | None, list[Any]] = {}
    with index.walk(opportunities) as walk:
        for o, k in walk:
            a = acc.get(o.owner)
            if a is None:
                a = acc[o.owner] = [0, 0, 0, 0, 0, {}, {}, 0]
            a[0] += 1
            a[4] += len(o.activities)
            if k == OPEN:
                a[1] += 1
            elif k == LOST:
                a[3] += 1
            elif k == WON:
                a[2] += 1
                end = closed_at(o)
                if end is not None and end >= o.created_at:
                    histogram_add(a[5], (end - o.created_at).total_seconds() / _DAY)
                if o.amount is not None:
                    values = a[6]
                    cur = o.amount.currency
                    values[cur] = exact_add(values.get(cur, Decimal(0)), o.amount.amount)
                else:
                    a[7] += 1
    return {"owners": acc}


def _rep_performance_result(
    tally: Tally, pipeline: PipelineLike, *,
    quota: Money | Mapping[str, Money] | None = None,
) -> RepPerformance:
    """Return the rep performance of a state of :func:`_rep_performance_tally`."""
    acc = tally["owners"]
    rows = []
    for owner in sorted(acc, key=lambda x: (x is None, x or "")):
        deals, open_, won, lost, activities, histogram, values, unpriced = acc[owner]
        cycles = expand(histogram)
        target = _quota_for(quota, owner)
        attainment = None
        if target is not None and not unpriced:  # unknown when a won deal has no amount
            attainment = decimal_ratio(values.get(target.currency, Decimal(0)), target.amount)
        rows.append(RepRow(
            owner=owner, deals=deals, open=open_, won=won, lost=lost,
            win_rate=ratio(won, won + lost), median_cycle_days=percentile(cycles, 0.5),
            activities=activities, activities_per_deal=ratio(activities, deals),
            won_value=tuple(Money(amount=values[c], currency=c) for c in sorted(values)),
            quota=target, attainment=attainment, unpriced_won=unpriced,
        ))
    return RepPerformance(rows=tuple(rows))
