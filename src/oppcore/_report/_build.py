"""Gather the analytics of one pipeline into one frozen :class:`PipelineReport` value.

The report is what ``oppcore report`` and ``oppcore demo`` print: funnel, conversion between
stages, win rate by source and by owner, forecast by month per currency, stale deals, the
top-ranked open deals with their reasons, and counts. Renderers (text, HTML, JSON, CSV) only
read this value, so every output shows the same numbers.

Input is read once: the iterable (a list, a generator over a store) is materialised into a
tuple, because the funnel, win-rate and forecast figures come from :mod:`oppcore.analytics`
(one walk of the tuple each, so the report agrees with the analytics exactly) and the stale
and top-deal lists from one more walk here. Memory is one reference per deal.
"""

import heapq
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from oppcore import analytics
from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore.analytics._common import iterate
from oppcore.analytics._drawing import forecast_periods, key_text, stage_labels, step_label
from oppcore.pipeline import Pipeline, StageKind
from oppcore.scoring import Score, Scorecard

from ._aftersales import build_aftersales
from ._values import (
    NO_DATE,
    NO_KEY,
    REASONS_PER_DEAL,
    ConversionStep,
    CurrencyTotal,
    FunnelStep,
    MonthForecast,
    PipelineReport,
    RateRow,
    ReportCounts,
    StaleDeal,
    TopDeal,
    TopReason,
)

__all__ = ["build_report"]

def build_report(
    opportunities: Iterable[Opportunity],
    pipeline: Pipeline,
    *,
    now: datetime,
    scorecard: Scorecard | None = None,
    top: int = 10,
    title: str = "Pipeline report",
    stale_after: int | None = None,
) -> PipelineReport:
    """Build the pipeline report of a set of deals.

    Args:
        opportunities: Deals of ``pipeline`` (any iterable; read once and held as a tuple).
        pipeline: The pipeline they follow.
        now: The moment the report is for (timezone-aware): stale deals are judged at it.
        scorecard: Scores the open deals to rank them; without one, ``top_deals`` is empty.
            Only deals it could score (some data known) are ranked; the others are
            counted in ``counts.unscored``.
        top: How many top-ranked open deals to keep (0 for none).
        title: Heading of the report.
        stale_after: A stale limit in days for open stages whose rule sets none
            (:meth:`Pipeline.with_stale_after`); ``None`` keeps the pipeline's own.

    Returns:
        The report value.

    Raises:
        ValidationError: For a naive ``now``, a bad ``top``, ``title``, ``pipeline``,
            ``scorecard`` or ``stale_after``, an item that is not an opportunity, a deal
            of another pipeline or a stage the pipeline does not have.
    """
    _check_arguments(pipeline, now, scorecard, top, title)
    if stale_after is not None:
        if type(stale_after) is not int:
            raise ValidationError(f"stale_after must be a whole number of days, got "
                                  f"{stale_after!r}", field="stale_after", value=stale_after)
        pipeline = pipeline.with_stale_after(stale_after)
    deals = _materialise(opportunities)
    funnel = analytics.funnel(deals, pipeline)
    by_source = analytics.win_rate(deals, pipeline, by="source")
    by_owner = analytics.win_rate(deals, pipeline, by="owner")
    forecast = analytics.forecast(deals, pipeline, period="month", now=now)
    stale, top_deals, unscored = _walk(deals, pipeline, now, scorecard, top)
    steps = _funnel_steps(funnel, pipeline)
    overall = by_owner.overall
    counts = ReportCounts(
        deals=funnel.deals, open=funnel.open, won=funnel.won, lost=funnel.lost,
        stale=len(stale), unpriced=forecast.unpriced, win_rate=overall.win_rate,
        unpriced_open=forecast.unpriced_open, unpriced_won=forecast.unpriced_won,
        unscored=unscored,
    )
    source_rows, owner_rows = _rates(by_source), _rates(by_owner)
    # A dimension whose only group is "(none)" says nothing: leave it out with a note.
    left_out = tuple(name for name, rows in (("source", source_rows), ("owner", owner_rows))
                     if len(rows) == 1 and rows[0].key == NO_KEY)
    return PipelineReport(
        title=title, pipeline_id=pipeline.id, pipeline_label=pipeline.label,
        generated_at=now, counts=counts, funnel=steps,
        conversions=_conversions(funnel, steps),
        by_source=() if "source" in left_out else source_rows,
        by_owner=() if "owner" in left_out else owner_rows,
        forecast=_months(forecast), totals=_totals(forecast),
        stale=stale, top_deals=top_deals,
        scorecard=None if scorecard is None else scorecard.name,
        stale_limits=pipeline.has_stale_limits, stale_after=stale_after,
        left_out=left_out,
        unseen_stages=tuple(step_label(stage_labels(pipeline), sid)
                            for sid in funnel.unseen_stages),
        history_synthesised=funnel.history_synthesised,
        aftersales=(build_aftersales(deals, pipeline, now, top=top)
                    if pipeline.aftersales is not None else None),
    )


def _check_arguments(pipeline: object, now: object, scorecard: object, top: object,
                     title: object) -> None:
    if not isinstance(pipeline, Pipeline):
        raise ValidationError(f"expected an oppcore.Pipeline, got {type(pipeline).__name__}",
                              field="pipeline", value=pipeline)
    aware(now, "now")
    if scorecard is not None and not isinstance(scorecard, Scorecard):
        raise ValidationError(
            f"scorecard must be an oppcore.Scorecard or None, got {type(scorecard).__name__}",
            field="scorecard", value=scorecard)
    if type(top) is not int or top < 0:
        raise ValidationError(f"top must be an integer >= 0, got {top!r}", field="top",
                              value=top)
    if not isinstance(title, str):
        raise ValidationError(f"title must be a string, got {type(title).__name__}",
                              field="title", value=title)


def _materialise(opportunities: Iterable[Opportunity]) -> tuple[Opportunity, ...]:
    if isinstance(opportunities, (Opportunity, str, bytes)) or not isinstance(
            opportunities, Iterable):
        raise ValidationError(
            f"expected an iterable of opportunities, got {type(opportunities).__name__}",
            field="opportunities", value=opportunities)
    return tuple(iterate(opportunities))


def _walk(
    deals: tuple[Opportunity, ...], pipeline: Pipeline, now: datetime,
    scorecard: Scorecard | None, top: int,
) -> tuple[tuple[StaleDeal, ...], tuple[TopDeal, ...], int]:
    """Find the stale deals, then score the open deals and keep the best ``top``.

    Returns the stale rows, the top rows and how many open deals could not be scored
    (coverage 0: no data for any rule); those are never ranked.
    """
    stages = {s.id: s for s in pipeline.stages}
    open_ids = {s.id for s in pipeline.stages if s.kind is StageKind.OPEN}
    limits = {sid: s.follow_up.max_days if s.follow_up is not None else None
              for sid, s in stages.items()}
    stale: list[tuple[int, str, Opportunity]] = []
    open_deals: list[Opportunity] = []
    stale_ids: set[str] = set()
    for o in deals:
        if o.stage_id not in open_ids:  # the analytics already refused unknown stages
            continue
        open_deals.append(o)
        if limits[o.stage_id] is not None and pipeline.is_stale(o, now=now):
            stale.append((_days_in_stage(o, now), o.id, o))
            stale_ids.add(o.id)
    ranked: list[tuple[Decimal, int, Opportunity, Score]] = []
    unscored = 0
    if scorecard is not None and top > 0:
        # score_many shares one scoring context over the batch (cheaper than score()).
        scores = scorecard.score_many(open_deals, now=now)
        for seq, (o, score) in enumerate(zip(open_deals, scores, strict=True)):
            if score.coverage <= 0 and not score.vetoed:
                unscored += 1  # nothing known: a 0 here would rank on nothing
                continue
            # A min-heap of the best ``top``: ties go to the earlier deal in the input.
            item = (score.total, -seq, o, score)
            if len(ranked) < top:
                heapq.heappush(ranked, item)
            elif item[:2] > ranked[0][:2]:
                heapq.heapreplace(ranked, item)
    stale.sort(key=lambda t: (-t[0], t[1]))
    stale_rows = tuple(
        StaleDeal(opportunity_id=o.id, name=o.name, account=_account(o), owner=o.owner,
                  stage_id=o.stage_id, stage_label=stages[o.stage_id].label,
                  days_in_stage=days, max_days=limits[o.stage_id], amount=o.amount)
        for days, _, o in stale
    )
    ranked.sort(key=lambda t: (t[0], t[1]), reverse=True)
    top_rows = tuple(
        TopDeal(rank=i, opportunity_id=o.id, name=o.name, account=_account(o),
                owner=o.owner, stage_id=o.stage_id, stage_label=stages[o.stage_id].label,
                amount=o.amount, score=score.total, grade=score.grade,
                reasons=tuple(TopReason(rule_id=f.rule_id, message=f.message,
                                        points=f.points)
                              for f in score.factors()[:REASONS_PER_DEAL]),
                coverage=score.coverage, stale=o.id in stale_ids,
                days_in_stage=_days_in_stage(o, now))
        for i, (_, _, o, score) in enumerate(ranked, start=1)
    )
    return tuple(stale_rows), top_rows, unscored


def _days_in_stage(o: Opportunity, now: datetime) -> int:
    return max((now - _entered(o)).days, 0)


def _entered(o: Opportunity) -> datetime:
    sid = o.stage_id
    for change in reversed(o.stage_history):
        if change.to_stage == sid:
            return change.at
    return o.created_at


def _account(o: Opportunity) -> str | None:
    return o.account.name if o.account is not None else None


def _funnel_steps(funnel: analytics.Funnel, pipeline: Pipeline) -> tuple[FunnelStep, ...]:
    unseen = set(funnel.unseen_stages)
    # In-order counts from the first unseen stage on are unknown, not zero; a synthesised
    # history shows no path at all, so none of its in-order counts is known.
    blind = funnel.history_synthesised
    labels = stage_labels(pipeline)
    steps = []
    for s in funnel.stages:
        blind = blind or s.stage in unseen
        steps.append(FunnelStep(
            stage_id=s.stage, label=step_label(labels, s.stage), entered=s.entered,
            reached=s.reached, in_order=None if blind else s.in_order,
            lost_here=s.lost_here, open_here=s.open_here, won_here=s.won_here,
            still_open=s.still_open))
    return tuple(steps)


def _conversions(funnel: analytics.Funnel,
                 steps: tuple[FunnelStep, ...]) -> tuple[ConversionStep, ...]:
    return tuple(
        ConversionStep(from_stage=a.stage_id, to_stage=b.stage_id, from_label=a.label,
                       to_label=b.label, rate=row.conversion,
                       strict_rate=None if b.in_order is None else row.strict_conversion,
                       reached=row.reached, converted=b.reached, left=row.left,
                       still_open=row.still_open, left_rate=row.left_conversion,
                       still_open_share=row.still_open_share)
        for a, b, row in zip(steps, steps[1:], funnel.stages, strict=False)
    )


def _rates(rates: analytics.WinRates) -> tuple[RateRow, ...]:
    return tuple(
        RateRow(key=key_text(r.key), deals=r.deals, open=r.open, won=r.won, lost=r.lost,
                win_rate=r.win_rate)
        for r in rates.rows
    )


def _months(forecast: analytics.Forecast) -> tuple[MonthForecast, ...]:
    return tuple(
        MonthForecast(period=NO_DATE if p.period is None else p.period, currency=p.currency,
                      deals=p.open_deals + p.won_deals, closed=p.closed, pipeline=p.pipeline,
                      weighted=p.weighted, open_deals=p.open_deals, won_deals=p.won_deals)
        for p in forecast_periods(forecast)
    )


def _totals(forecast: analytics.Forecast) -> tuple[CurrencyTotal, ...]:
    return tuple(
        CurrencyTotal(currency=t.currency, closed=t.closed, commit=t.commit,
                      best_case=t.best_case, pipeline=t.pipeline, weighted=t.weighted,
                      open_deals=t.open_deals, won_deals=t.won_deals)
        for t in forecast.totals.rows
    )
