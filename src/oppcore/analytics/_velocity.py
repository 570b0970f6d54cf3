"""Velocity: time in each stage and pipeline velocity (the sales cycle is in ``_cycle``).

Percentiles use linear interpolation between closest ranks (Hyndman and Fan type 7, the
default of numpy, pandas and spreadsheet ``PERCENTILE.INC``); see
:func:`~oppcore.analytics._common.percentile`. Durations are reported in days (floats).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from oppcore._checks import aware
from oppcore._models import Opportunity
from oppcore._money import exact_add, round_minor

from ._common import (
    OPEN,
    WON,
    PipelineLike,
    StageIndex,
    closed_at,
    percentile,
)
from ._fold import Tally, expand, histogram_add
from ._results import Table, rows_to_records

__all__ = [
    "DurationRow",
    "PipelineVelocity",
    "StageDurations",
    "VelocityRow",
    "pipeline_velocity",
    "stage_durations",
]

_DAY = 86400.0
_STAT_COLUMNS = ("count", "mean_days", "median_days", "p75_days", "p90_days")


@attrs.frozen(kw_only=True)
class DurationRow:
    """Distribution of days spent in one stage (per deal, summed over re-entries).

    Attributes:
        stage: Stage id.
        count: Deals measured.
        mean_days: Mean.
        median_days: Median (50th percentile).
        p75_days: 75th percentile.
        p90_days: 90th percentile.
    """

    stage: str
    count: int
    mean_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None


def _stats(values: list[float]) -> dict[str, Any]:
    values.sort()
    n = len(values)
    return {
        "count": n,
        "mean_days": sum(values) / n if n else None,
        "median_days": percentile(values, 0.5),
        "p75_days": percentile(values, 0.75),
        "p90_days": percentile(values, 0.9),
    }


@attrs.frozen(kw_only=True)
class StageDurations(Table):
    """Time spent in each open stage.

    Attributes:
        stages: One row per open stage, in pipeline order.
        skipped: Stays ignored because the history goes back in time (a data problem).
    """

    title = "Time in stage (days)"
    row_type = DurationRow
    columns = ("stage", *_STAT_COLUMNS)

    stages: tuple[DurationRow, ...]
    skipped: int = 0

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per stage."""
        return rows_to_records(self.stages, self.columns)


def stage_durations(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    now: datetime | None = None,
) -> StageDurations:
    """Measure how long deals stay in each open stage (median, p75, p90).

    A stay runs from the history entry that entered a stage to the next entry. A deal that
    entered a stage several times counts once, with the stays summed. Without ``now`` only
    finished stays count; with ``now`` the current stay of each open deal counts up to
    ``now`` too.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Gives the open stages and their order.
        now: Count current stays up to this moment (timezone-aware), if given.

    Returns:
        Per open stage: count, mean, median, p75 and p90 in days.

    Raises:
        ValidationError: For a naive ``now``, an item that is not an opportunity, a deal of
            another pipeline or a stage the pipeline does not have.
    """
    return _stage_durations_result(_stage_durations_tally(opportunities, pipeline, now=now),
                                   pipeline, now=now)


def _stage_durations_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    now: datetime | None = None,
) -> Tally:
    """Return stage durations' mergeable state: an exact histogram of days per stage."""
    _check_now(now)
    index = StageIndex(pipeline)
    kind = index.kind
    days: dict[str, dict[float, int]] = {sid: {} for sid in index.open_ids}
    skipped = 0
    with index.walk(opportunities) as walk:
        for o, _k in walk:
            history = o.stage_history
            if o.stage_id not in kind:
                raise index.unknown(o, o.stage_id)
            per_deal: dict[str, float] = {}
            last = len(history) - 1
            for i, change in enumerate(history):
                sid = change.to_stage
                if kind[sid] != OPEN:
                    continue
                if i < last:
                    end = history[i + 1].at
                elif now is not None and sid == o.stage_id:
                    end = now
                else:
                    continue
                seconds = (end - change.at).total_seconds()
                if seconds < 0:
                    skipped += 1
                    continue
                per_deal[sid] = per_deal.get(sid, 0.0) + seconds / _DAY
            for sid, d in per_deal.items():
                histogram_add(days[sid], d)
    return {"days": days, "skipped": skipped}


def _stage_durations_result(
    tally: Tally, pipeline: PipelineLike, *, now: datetime | None = None,
) -> StageDurations:
    """Return the stage durations of a state of :func:`_stage_durations_tally`."""
    days = tally["days"]
    rows = tuple(DurationRow(stage=sid, **_stats(expand(days.get(sid, {}))))
                 for sid in StageIndex(pipeline).open_ids)
    return StageDurations(stages=rows, skipped=tally["skipped"])


def _check_now(now: object) -> None:
    if now is not None:
        aware(now, "now")


@attrs.frozen(kw_only=True)
class VelocityRow:
    """Pipeline velocity in one currency.

    Attributes:
        currency: ISO 4217 code.
        open_deals: Open deals with an amount in this currency.
        pipeline_value: Sum of their amounts.
        average_amount: ``pipeline_value / open_deals``.
        win_rate: Won / closed over all deals (every currency).
        cycle_days: Mean sales cycle of won deals, in days.
        per_day: ``open_deals x average_amount x win_rate / cycle_days``: expected value
            won per day, rounded to the currency's minor unit; ``None`` when the win rate
            or cycle is unknown.
    """

    currency: str
    open_deals: int
    pipeline_value: Decimal
    average_amount: Decimal
    win_rate: float | None
    cycle_days: float | None
    per_day: Decimal | None


@attrs.frozen(kw_only=True)
class PipelineVelocity(Table):
    """Pipeline velocity per currency (currencies are never summed together).

    Attributes:
        rows: One row per currency, by code.
        won: Won deals behind the win rate.
        closed: Closed deals behind the win rate.
        unpriced_open: Open deals without an amount: in no row (never counted as 0).
    """

    title = "Pipeline velocity (value per day)"
    row_type = VelocityRow
    columns = ("currency", "open_deals", "pipeline_value", "average_amount", "win_rate",
               "cycle_days", "per_day")

    rows: tuple[VelocityRow, ...]
    won: int
    closed: int
    unpriced_open: int = 0

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per currency."""
        return rows_to_records(self.rows, self.columns)

    def _notes(self) -> list[str]:
        if not self.unpriced_open:
            return []
        return [(f"{self.unpriced_open} open deal(s) have no amount: left out, "
                 "not counted as 0")]


def pipeline_velocity(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike,
) -> PipelineVelocity:
    """Compute pipeline velocity: deals x average size x win rate / cycle length.

    The deals and average size are those of the open deals with an amount, per currency.
    The win rate (won / closed, by count) and the cycle length (mean days from creation to
    close of won deals) come from the closed deals of every currency.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are open, won and lost.

    Returns:
        One row per currency of the open pipeline.

    Raises:
        ValidationError: As :func:`sales_cycle`.
    """
    return _velocity_result(_velocity_tally(opportunities, pipeline), pipeline)


def _velocity_tally(opportunities: Iterable[Opportunity], pipeline: PipelineLike) -> Tally:
    """Return velocity's mergeable state: open count and value per currency, won cycles.

    The won deals' cycles are summed as exact durations (``timedelta``, whole
    microseconds), so the sum does not depend on the order of the deals.
    """
    index = StageIndex(pipeline)
    sums: dict[str, list[Any]] = {}
    won = lost = unpriced = 0
    won_time = timedelta(0)
    measured = 0
    with index.walk(opportunities) as walk:
        for o, k in walk:
            if k == OPEN:
                amount = o.amount
                if amount is not None:
                    acc = sums.get(amount.currency)
                    if acc is None:
                        acc = sums[amount.currency] = [0, Decimal(0)]
                    acc[0] += 1
                    acc[1] = exact_add(acc[1], amount.amount)
                else:
                    unpriced += 1
            elif k == WON:
                won += 1
                end = closed_at(o)
                if end is not None and end >= o.created_at:
                    won_time += end - o.created_at
                    measured += 1
            else:
                lost += 1
    return {"sums": sums, "counts": [won, lost, unpriced, measured], "won_time": won_time}


def _velocity_result(tally: Tally, pipeline: PipelineLike) -> PipelineVelocity:
    """Return the pipeline velocity of a state of :func:`_velocity_tally`."""
    sums = tally["sums"]
    won, lost, unpriced, measured = tally["counts"]
    closed = won + lost
    rate = won / closed if closed else None
    cycle = tally["won_time"].total_seconds() / _DAY / measured if measured else None
    rows = []
    for currency in sorted(sums):
        count, total = sums[currency]
        per_day = None
        if closed and cycle:
            per_day = round_minor(total * won / closed / Decimal(repr(cycle)), currency)
        rows.append(VelocityRow(
            currency=currency, open_deals=count, pipeline_value=total,
            average_amount=total / count, win_rate=rate, cycle_days=cycle, per_day=per_day,
        ))
    return PipelineVelocity(rows=tuple(rows), won=won, closed=closed, unpriced_open=unpriced)
