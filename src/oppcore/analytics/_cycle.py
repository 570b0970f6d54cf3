"""Sales cycle: how long deals take from creation to close.

Closed deals give exact cycle lengths; open deals give only a lower bound (they have taken
at least ``now - created_at`` so far). Counting closed deals only understates the cycle
when many deals are still open, so :func:`sales_cycle` with ``include_open=True`` adds a
Kaplan-Meier estimate (Kaplan and Meier, 1958): every deal is followed from creation; a
close is an event, an open deal is censored at ``now``. At each distinct close time
``t``, the share still open is multiplied by ``1 - d/n`` (``d`` deals closed at ``t`` of
the ``n`` still followed then; deals censored at ``t`` count as followed). A quantile is
the first time the share still open falls to ``1 - p`` or below; ``None`` when it never
does (more than that share is still open: the quantile is not reached yet).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity

from ._common import LOST, OPEN, WON, PipelineLike, StageIndex, closed_at
from ._fold import Tally, expand, histogram_add
from ._results import Table, rows_to_records
from ._velocity import _DAY, _STAT_COLUMNS, _check_now, _stats

__all__ = ["CycleRow", "SalesCycle", "kaplan_meier_quantiles", "sales_cycle"]

ESTIMATED = "all, with open (Kaplan-Meier)"
"""Outcome label of the censoring-aware row of :class:`SalesCycle`."""


@attrs.frozen(kw_only=True)
class CycleRow:
    """Sales-cycle length (creation to close) of one outcome.

    Attributes:
        outcome: ``"won"``, ``"lost"``, ``"closed"`` (both), or
            ``"all, with open (Kaplan-Meier)"`` for the estimate over every deal with open
            ones censored at ``now`` (``sales_cycle(..., include_open=True)``).
        count: Deals measured (for the estimate: closed and open deals followed).
        mean_days: Mean (``None`` for the estimate: open deals have no end yet).
        median_days: Median.
        p75_days: 75th percentile.
        p90_days: 90th percentile.
    """

    outcome: str
    count: int
    mean_days: float | None
    median_days: float | None
    p75_days: float | None
    p90_days: float | None


@attrs.frozen(kw_only=True)
class SalesCycle(Table):
    """Sales-cycle length of won and lost deals.

    Attributes:
        rows: ``won``, ``lost`` and ``closed`` (closed deals only), in that order; with
            ``include_open``, a fourth row estimating the cycle of every deal with the
            open ones counted as "at least this long so far" (Kaplan-Meier).
        unmeasured: Closed deals whose history does not say when they closed.
        censored: Open deals followed up to ``now`` in the estimate (0 without it).
    """

    title = "Sales cycle (days from creation to close)"
    row_type = CycleRow
    columns = ("outcome", *_STAT_COLUMNS)

    rows: tuple[CycleRow, ...]
    unmeasured: int = 0
    censored: int = 0

    def get(self, outcome: str) -> CycleRow:
        """Return the row of ``"won"``, ``"lost"`` or ``"closed"``.

        Raises:
            KeyError: For another outcome.
        """
        for row in self.rows:
            if row.outcome == outcome:
                return row
        raise KeyError(outcome)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per outcome."""
        return rows_to_records(self.rows, self.columns)

    def _notes(self) -> list[str]:
        lines = ["won, lost, closed: closed deals only"]
        if self.censored:
            lines.append(f"{ESTIMATED}: {self.censored} open deal(s) counted as lasting at "
                         "least until now; '-' where more than that share is still open")
        return lines


def _sales_cycle_tally(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    include_open: bool = False, now: datetime | None = None,
) -> Tally:
    """Return the sales cycle's mergeable state: exact histograms of days per outcome.

    ``won`` and ``lost`` count closed deals' cycles; ``open`` counts open deals' ages at
    ``now`` (only with ``include_open``).
    """
    _check_now(now)
    if include_open and now is None:
        raise ValidationError("include_open=True needs now= (when open deals are followed "
                              "up to)", field="now")
    follow = now if include_open else None
    index = StageIndex(pipeline)
    won: dict[float, int] = {}
    lost: dict[float, int] = {}
    still: dict[float, int] = {}
    unmeasured = 0
    with index.walk(opportunities) as walk:
        for o, k in walk:
            sid = o.stage_id
            if k == OPEN:
                if follow is not None:
                    # Created after now: not yet in the population followed.
                    age = (follow - o.created_at).total_seconds() / _DAY
                    if age >= 0:
                        histogram_add(still, age)
                continue
            history = o.stage_history
            if history and history[-1].to_stage == sid:
                end = history[-1].at
            else:
                found = closed_at(o)
                if found is None:
                    unmeasured += 1
                    continue
                end = found
            d = (end - o.created_at).total_seconds() / _DAY
            if d < 0:
                unmeasured += 1
            else:
                histogram_add(won if k == WON else lost, d)
    return {"won": won, "lost": lost, "open": still, "unmeasured": unmeasured}


def sales_cycle(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    include_open: bool = False, now: datetime | None = None,
) -> SalesCycle:
    """Measure the sales cycle (creation to close) of won and lost deals.

    A deal closes when its history enters its current (won or lost) stage; the cycle runs
    from ``created_at`` to that moment. Closed deals only understate how long deals take
    while many are open; ``include_open=True`` adds a row that counts them too (see the
    module: Kaplan-Meier, open deals censored at ``now``).

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are won and lost.
        include_open: Add the censoring-aware estimate over every deal.
        now: The moment open deals are followed up to (timezone-aware); required with
            ``include_open``.

    Returns:
        Count, mean, median, p75 and p90 in days, for won, lost and all closed deals, and
        with ``include_open`` the estimate over all deals.

    Raises:
        ValidationError: For ``include_open`` without ``now``, a naive ``now``, an item
            that is not an opportunity, a deal of another pipeline or a stage the pipeline
            does not have.
    """
    tally = _sales_cycle_tally(opportunities, pipeline, include_open=include_open, now=now)
    return _sales_cycle_result(tally, pipeline, include_open=include_open, now=now)


def _sales_cycle_result(
    tally: Tally, pipeline: PipelineLike, *, include_open: bool = False,
    now: datetime | None = None,
) -> SalesCycle:
    """Return the sales cycle of a state of :func:`_sales_cycle_tally`."""
    won, lost = expand(tally["won"]), expand(tally["lost"])
    both = sorted(won + lost)
    rows = [
        CycleRow(outcome=WON, **_stats(won)),
        CycleRow(outcome=LOST, **_stats(lost)),
        CycleRow(outcome="closed", **_stats(both)),
    ]
    still = expand(tally["open"])
    if include_open:
        median, p75, p90 = kaplan_meier_quantiles(both, still, (0.5, 0.75, 0.9))
        rows.append(CycleRow(outcome=ESTIMATED, count=len(both) + len(still), mean_days=None,
                             median_days=median, p75_days=p75, p90_days=p90))
    return SalesCycle(rows=tuple(rows), unmeasured=tally["unmeasured"],
                      censored=len(still) if include_open else 0)


def kaplan_meier_quantiles(
    events: Sequence[float], censored: Sequence[float], ps: Sequence[float],
) -> tuple[float | None, ...]:
    """Return the ``ps`` quantiles of a time-to-event with right-censored observations.

    Args:
        events: Times at which the event happened (here: cycle lengths of closed deals).
        censored: Times followed without the event (here: ages of open deals).
        ps: Quantiles in (0, 1).

    Returns:
        One value per ``p``: the first event time at which the Kaplan-Meier survival falls
        to ``1 - p`` or below; ``None`` when it never does. With nothing censored this is
        the empirical quantile (the smallest time with at least ``p`` of events by then).
    """
    points = sorted([(t, 1) for t in events] + [(t, 0) for t in censored])
    at_risk = len(points)
    survival = 1.0
    out: list[float | None] = [None] * len(ps)
    i = 0
    while i < len(points):
        t = points[i][0]
        closed = followed = 0
        while i < len(points) and points[i][0] == t:
            closed += points[i][1]
            followed += 1
            i += 1
        if closed:
            survival *= 1.0 - closed / at_risk
            for j, p in enumerate(ps):
                if out[j] is None and survival <= 1.0 - p + 1e-12:
                    out[j] = t
        at_risk -= followed
    return tuple(out)


