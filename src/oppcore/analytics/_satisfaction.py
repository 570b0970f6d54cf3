"""Customer satisfaction (客户满意度) of won deals: NPS and mean CSAT per group."""

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Any

import attrs

from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._records import Activity, ActivityKind, SurveyScale

from ._after import check_now, check_period, period_of
from ._common import WON, Dimension, PipelineLike, StageIndex, closed_at, dimension_keys, ratio
from ._results import Table, rows_to_records

__all__ = ["Satisfaction", "SatisfactionRow", "satisfaction"]

_COLUMNS = ("key", "won", "surveyed", "surveyed_share", "nps_responses", "promoters",
            "passives", "detractors", "nps", "csat_responses", "csat_mean")


@attrs.frozen(kw_only=True)
class SatisfactionRow:
    """Satisfaction of one group of won deals.

    Attributes:
        key: The group's value of the dimension.
        won: Won deals in the group.
        surveyed: Won deals with at least one survey by ``now``.
        surveyed_share: ``surveyed / won``.
        nps_responses: Deals whose latest NPS answer counts here.
        promoters: Of those, answers 9-10.
        passives: Answers 7-8.
        detractors: Answers 0-6.
        nps: Net Promoter Score, ``100 * (promoters - detractors) / nps_responses``, in
            [-100, 100]; ``None`` without NPS answers.
        csat_responses: Deals whose latest CSAT answer counts here.
        csat_mean: Mean of those answers (1-5); ``None`` without CSAT answers.
    """

    key: Hashable
    won: int
    surveyed: int
    surveyed_share: float | None
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    csat_responses: int
    csat_mean: float | None


class _Acc:
    __slots__ = ("csat", "nps", "surveyed", "won")

    def __init__(self) -> None:
        self.won = 0
        self.surveyed = 0
        self.nps: list[int] = []
        self.csat: list[int] = []

    def add(self, latest: dict[SurveyScale, int]) -> None:
        self.won += 1
        if latest:
            self.surveyed += 1
        if SurveyScale.NPS in latest:
            self.nps.append(latest[SurveyScale.NPS])
        if SurveyScale.CSAT in latest:
            self.csat.append(latest[SurveyScale.CSAT])

    def row(self, key: Hashable) -> SatisfactionRow:
        promoters = sum(1 for s in self.nps if s >= 9)
        detractors = sum(1 for s in self.nps if s <= 6)
        n = len(self.nps)
        return SatisfactionRow(
            key=key, won=self.won, surveyed=self.surveyed,
            surveyed_share=ratio(self.surveyed, self.won), nps_responses=n,
            promoters=promoters, passives=n - promoters - detractors, detractors=detractors,
            nps=100.0 * (promoters - detractors) / n if n else None,
            csat_responses=len(self.csat),
            csat_mean=sum(self.csat) / len(self.csat) if self.csat else None)


@attrs.frozen(kw_only=True)
class Satisfaction(Table):
    """Satisfaction per group of won deals, as of ``now``.

    Attributes:
        dimension: What the deals were grouped by.
        now: As of when.
        rows: One row per group, most won deals first, then by key.
        overall: The same figures over all won deals (each counted once).
    """

    title = "Customer satisfaction"
    columns = ("dimension", *_COLUMNS)

    dimension: str
    now: datetime
    rows: tuple[SatisfactionRow, ...]
    overall: SatisfactionRow

    def get(self, key: Hashable) -> SatisfactionRow | None:
        """Return the row of the group ``key``, or ``None``."""
        return next((r for r in self.rows if r.key == key), None)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per group."""
        return [{"dimension": self.dimension, **r} for r in rows_to_records(self.rows,
                                                                            _COLUMNS)]

    def _notes(self) -> list[str]:
        o = self.overall
        nps = "-" if o.nps is None else f"{o.nps:.0f}"
        csat = "-" if o.csat_mean is None else f"{o.csat_mean:.2f}"
        return [(f"overall: NPS {nps} ({o.nps_responses} answers), CSAT {csat} "
                f"({o.csat_responses} answers), {o.surveyed} of {o.won} won deals surveyed")]


def latest_scores(activities: Iterable[Activity], now: datetime) -> dict[SurveyScale, int]:
    """Return the latest survey score per scale among ``activities`` dated by ``now``."""
    latest: dict[SurveyScale, tuple[datetime, int]] = {}
    for a in activities:
        if a.kind is ActivityKind.SURVEY and a.at <= now and a.scale is not None \
                and a.score is not None:
            seen = latest.get(a.scale)
            if seen is None or a.at >= seen[0]:
                latest[a.scale] = (a.at, a.score)
    return {scale: score for scale, (_, score) in latest.items()}


def satisfaction(
    opportunities: Iterable[Opportunity], pipeline: PipelineLike, *,
    by: Dimension = "owner", now: datetime, period: str = "quarter",
) -> Satisfaction:
    """Compute NPS and mean CSAT of won deals per group, with response counts.

    Only won deals count, and only surveys dated by ``now``. Each deal contributes its
    **latest** answer on each scale, so a customer surveyed every quarter weighs as much as
    one surveyed once; ``surveyed_share`` is the share of won deals with any answer.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Says which stages are won.
        by: Any dimension of :func:`win_rate` (``"owner"``, ``"segment"``,
            ``"tag"``...), ``"product"`` (the deal's tags), ``"period"`` (the period the
            deal was won in), or a key function.
        now: As of when (timezone-aware).
        period: The period length for ``by="period"``: month, quarter or year.

    Returns:
        The figures per group and overall.

    Raises:
        ValidationError: A naive ``now``, an unknown dimension or period, an item that is
            not an opportunity, a deal of another pipeline or an unknown stage.
    """
    check_now(now)
    check_period(period)
    if by == "period":
        label = "period"

        def key(o: Opportunity) -> Hashable:
            closed = closed_at(o)
            return period_of(closed.astimezone(now.tzinfo).date(), period) if closed else None

        keyfn: Any = key
    else:
        label, keyfn = dimension_keys("tag" if by == "product" else by)
        if by == "product":
            label = "product"
    index = StageIndex(pipeline)
    groups: dict[Hashable, _Acc] = {}
    overall = _Acc()
    with index.walk(opportunities) as walk:
        for o, kind in walk:
            if kind != WON:
                continue
            latest = latest_scores(o.activities, now)
            overall.add(latest)
            try:
                keys = [keyfn(o)] if keyfn is not None else list(o.tags or (None,))
                for k in keys:
                    groups.setdefault(k, _Acc()).add(latest)
            except TypeError as exc:
                raise ValidationError(f"grouping opportunity {o.id!r} by {label!r} failed: "
                                      f"{exc}", field="by", value=by) from exc
    rows = sorted((acc.row(k) for k, acc in groups.items()),
                  key=lambda r: (-r.won, str(r.key)))
    return Satisfaction(dimension=label, now=now, rows=tuple(rows), overall=overall.row(None))
