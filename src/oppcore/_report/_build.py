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
from collections.abc import Hashable, Iterable
from datetime import datetime
from decimal import Decimal

import attrs

from oppcore import analytics
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import Money, exact_add
from oppcore.pipeline import Pipeline, StageKind
from oppcore.scoring import Score, Scorecard

__all__ = [
    "ConversionStep",
    "CurrencyTotal",
    "FunnelStep",
    "MonthForecast",
    "PipelineReport",
    "RateRow",
    "ReportCounts",
    "StaleDeal",
    "TopDeal",
    "TopReason",
    "build_report",
]

NO_KEY = "(none)"
"""Label of the group of deals that have no value for a dimension (no owner, no source)."""
NO_DATE = "(no date)"
"""Period label of open deals without an expected close date."""
REASONS_PER_DEAL = 3


@attrs.frozen(kw_only=True)
class FunnelStep:
    """One step of the funnel: an open stage, or the won step at the end.

    Attributes:
        stage_id: Stage id (won stage ids joined by ``|`` for the won step).
        label: Display label of the stage.
        entered: Deals that were ever in this stage.
        reached: Deals that got at least this far.
        in_order: Deals that got here through every earlier stage in order.
        lost_here: Deals lost while this was their last open stage.
        open_here: Deals in this stage now (won deals for the won step).
    """

    stage_id: str
    label: str
    entered: int
    reached: int
    in_order: int
    lost_here: int
    open_here: int


@attrs.frozen(kw_only=True)
class ConversionStep:
    """Conversion from one funnel step to the next.

    Attributes:
        from_stage: Stage id left.
        to_stage: Stage id reached.
        from_label: Its label.
        to_label: Its label.
        rate: Share of the deals that reached ``from_stage`` and also reached
            ``to_stage`` ("reached at least"); ``None`` when none reached ``from_stage``.
        strict_rate: The same share counting only deals that went through the stages in
            order.
    """

    from_stage: str
    to_stage: str
    from_label: str
    to_label: str
    rate: float | None
    strict_rate: float | None


@attrs.frozen(kw_only=True)
class RateRow:
    """Win rate of one group (a source channel or an owner).

    Attributes:
        key: The group (``"(none)"`` for deals without a value).
        deals: Deals in the group.
        open: Still open.
        won: Won.
        lost: Lost.
        win_rate: ``won / (won + lost)``; ``None`` when none is closed.
    """

    key: str
    deals: int
    open: int
    won: int
    lost: int
    win_rate: float | None

    @property
    def closed(self) -> int:
        """Deals behind the rate: ``won + lost``."""
        return self.won + self.lost


@attrs.frozen(kw_only=True)
class MonthForecast:
    """Forecast of one month in one currency.

    Attributes:
        period: ``YYYY-MM``, or ``"(no date)"`` for open deals without an expected close.
        currency: ISO 4217 code.
        deals: Open and won deals in the month.
        closed: Value won in the month.
        pipeline: Open value expected to close in the month (unweighted, without the
            ``omitted`` category).
        weighted: That open value times each deal's probability.
    """

    period: str
    currency: str
    deals: int
    closed: Decimal
    pipeline: Decimal
    weighted: Decimal


@attrs.frozen(kw_only=True)
class CurrencyTotal:
    """Forecast totals of one currency (never summed across currencies).

    Attributes:
        currency: ISO 4217 code.
        closed: Value won.
        commit: ``closed`` plus open deals in commit stages.
        best_case: ``commit`` plus open deals in best-case stages.
        pipeline: Open value (unweighted).
        weighted: Open value times probability.
    """

    currency: str
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal


@attrs.frozen(kw_only=True)
class StaleDeal:
    """An open deal that has stayed in its stage longer than the stage allows.

    Attributes:
        opportunity_id: The deal's id.
        name: Its name.
        account: Its account's name, if any.
        owner: Its owner, if any.
        stage_id: Its stage.
        stage_label: The stage's label.
        days_in_stage: Whole calendar days since it entered the stage (or was created).
        max_days: The stage's limit (its follow-up rule; business days when the rule says
            so).
        amount: Its amount, if any.
    """

    opportunity_id: str
    name: str
    account: str | None
    owner: str | None
    stage_id: str
    stage_label: str
    days_in_stage: int
    max_days: int | None
    amount: Money | None


@attrs.frozen(kw_only=True)
class TopReason:
    """One reason behind a top deal's score, weighed in points of the total.

    Attributes:
        rule_id: The scoring rule that gave it.
        message: What it says.
        points: Its signed effect on the total.
    """

    rule_id: str
    message: str
    points: float


@attrs.frozen(kw_only=True)
class TopDeal:
    """An open deal among the highest-scored.

    Attributes:
        rank: 1 for the best.
        opportunity_id: The deal's id.
        name: Its name.
        account: Its account's name, if any.
        owner: Its owner, if any.
        stage_id: Its stage.
        stage_label: The stage's label.
        amount: Its amount, if any.
        score: The scorecard total, 0-100.
        grade: The scorecard grade.
        reasons: The reasons that moved the total most (largest effect first).
    """

    rank: int
    opportunity_id: str
    name: str
    account: str | None
    owner: str | None
    stage_id: str
    stage_label: str
    amount: Money | None
    score: Decimal
    grade: str
    reasons: tuple[TopReason, ...]


@attrs.frozen(kw_only=True)
class ReportCounts:
    """Headline counts.

    Attributes:
        deals: Deals in the report.
        open: Open deals.
        won: Won deals.
        lost: Lost deals.
        stale: Open deals past their stage's limit.
        unpriced: Open or won deals without an amount (left out of the forecast).
        win_rate: ``won / (won + lost)``; ``None`` when none is closed.
    """

    deals: int
    open: int
    won: int
    lost: int
    stale: int
    unpriced: int
    win_rate: float | None


@attrs.frozen(kw_only=True)
class PipelineReport:
    """Everything the pipeline report shows, as one frozen value.

    Attributes:
        title: Heading of the report.
        pipeline_id: The pipeline reported on.
        pipeline_label: Its label.
        generated_at: The ``now`` the report was built for.
        counts: Headline counts.
        funnel: Open stages in order, then the won step.
        conversions: One step per pair of consecutive funnel steps.
        by_source: Win rate per source channel, most closed deals first.
        by_owner: Win rate per owner, most closed deals first.
        forecast: Per month and currency, months in order, undated last.
        totals: Forecast totals per currency.
        stale: Stale open deals, longest in stage first.
        top_deals: The highest-scored open deals (empty without a scorecard).
        scorecard: Name of the scorecard used, or ``None``.
    """

    title: str
    pipeline_id: str
    pipeline_label: str
    generated_at: datetime
    counts: ReportCounts
    funnel: tuple[FunnelStep, ...]
    conversions: tuple[ConversionStep, ...]
    by_source: tuple[RateRow, ...]
    by_owner: tuple[RateRow, ...]
    forecast: tuple[MonthForecast, ...]
    totals: tuple[CurrencyTotal, ...]
    stale: tuple[StaleDeal, ...]
    top_deals: tuple[TopDeal, ...]
    scorecard: str | None = None

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies of the forecast, sorted."""
        return tuple(t.currency for t in self.totals)


# ------------------------------------------------------------------------------ build


def build_report(
    opportunities: Iterable[Opportunity],
    pipeline: Pipeline,
    *,
    now: datetime,
    scorecard: Scorecard | None = None,
    top: int = 10,
    title: str = "Pipeline report",
) -> PipelineReport:
    """Build the pipeline report of a set of deals.

    Args:
        opportunities: Deals of ``pipeline`` (any iterable; read once and held as a tuple).
        pipeline: The pipeline they follow.
        now: The moment the report is for (timezone-aware): stale deals are judged at it.
        scorecard: Scores the open deals to rank them; without one, ``top_deals`` is empty.
        top: How many top-ranked open deals to keep (0 for none).
        title: Heading of the report.

    Returns:
        The report value.

    Raises:
        ValidationError: For a naive ``now``, a bad ``top``, ``title``, ``pipeline`` or
            ``scorecard``, an item that is not an opportunity, a deal of another pipeline
            or a stage the pipeline does not have.
    """
    _check_arguments(pipeline, now, scorecard, top, title)
    deals = _materialise(opportunities)
    funnel = analytics.funnel(deals, pipeline)
    by_source = analytics.win_rate(deals, pipeline, by="source")
    by_owner = analytics.win_rate(deals, pipeline, by="owner")
    forecast = analytics.forecast(deals, pipeline, period="month")
    stale, top_deals = _walk(deals, pipeline, now, scorecard, top)
    steps = _funnel_steps(funnel, pipeline)
    overall = by_owner.overall
    counts = ReportCounts(
        deals=funnel.deals, open=funnel.open, won=funnel.won, lost=funnel.lost,
        stale=len(stale), unpriced=forecast.unpriced, win_rate=overall.win_rate,
    )
    return PipelineReport(
        title=title, pipeline_id=pipeline.id, pipeline_label=pipeline.label,
        generated_at=now, counts=counts, funnel=steps,
        conversions=_conversions(funnel, steps),
        by_source=_rates(by_source), by_owner=_rates(by_owner),
        forecast=_months(forecast), totals=_totals(forecast),
        stale=stale, top_deals=top_deals,
        scorecard=None if scorecard is None else scorecard.name,
    )


def _check_arguments(pipeline: object, now: object, scorecard: object, top: object,
                     title: object) -> None:
    if not isinstance(pipeline, Pipeline):
        raise ValidationError(f"expected an oppcore.Pipeline, got {type(pipeline).__name__}",
                              field="pipeline", value=pipeline)
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValidationError(f"'now' must be a timezone-aware datetime, got {now!r}",
                              field="now", value=now)
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
    return tuple(opportunities)


def _walk(
    deals: tuple[Opportunity, ...], pipeline: Pipeline, now: datetime,
    scorecard: Scorecard | None, top: int,
) -> tuple[tuple[StaleDeal, ...], tuple[TopDeal, ...]]:
    """Find the stale deals, then score the open deals and keep the best ``top``."""
    stages = {s.id: s for s in pipeline.stages}
    open_ids = {s.id for s in pipeline.stages if s.kind is StageKind.OPEN}
    limits = {sid: s.follow_up.max_days if s.follow_up is not None else None
              for sid, s in stages.items()}
    stale: list[tuple[int, str, Opportunity]] = []
    open_deals: list[Opportunity] = []
    for o in deals:
        if o.stage_id not in open_ids:  # the analytics already refused unknown stages
            continue
        open_deals.append(o)
        if limits[o.stage_id] is not None and pipeline.is_stale(o, now=now):
            entered = _entered(o)
            stale.append((max((now - entered).days, 0), o.id, o))
    ranked: list[tuple[Decimal, int, Opportunity, Score]] = []
    if scorecard is not None and top > 0:
        # score_many shares one scoring context over the batch (cheaper than score()).
        scores = scorecard.score_many(open_deals, now=now)
        for seq, (o, score) in enumerate(zip(open_deals, scores, strict=True)):
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
                              for f in score.factors()[:REASONS_PER_DEAL]))
        for i, (_, _, o, score) in enumerate(ranked, start=1)
    )
    return tuple(stale_rows), top_rows


def _entered(o: Opportunity) -> datetime:
    sid = o.stage_id
    for change in reversed(o.stage_history):
        if change.to_stage == sid:
            return change.at
    return o.created_at


def _account(o: Opportunity) -> str | None:
    return o.account.name if o.account is not None else None


def _label(pipeline: Pipeline, stage_id: str) -> str:
    if stage_id in pipeline:
        return pipeline.stage(stage_id).label
    # The won step of a pipeline with several won stages: "a|b" -> "A / B".
    labels = [pipeline.stage(s).label for s in stage_id.split("|") if s in pipeline]
    return " / ".join(labels) or stage_id


def _funnel_steps(funnel: analytics.Funnel, pipeline: Pipeline) -> tuple[FunnelStep, ...]:
    return tuple(
        FunnelStep(stage_id=s.stage, label=_label(pipeline, s.stage), entered=s.entered,
                   reached=s.reached, in_order=s.in_order, lost_here=s.lost_here,
                   open_here=s.open_here)
        for s in funnel.stages
    )


def _conversions(funnel: analytics.Funnel,
                 steps: tuple[FunnelStep, ...]) -> tuple[ConversionStep, ...]:
    return tuple(
        ConversionStep(from_stage=a.stage_id, to_stage=b.stage_id, from_label=a.label,
                       to_label=b.label, rate=row.conversion,
                       strict_rate=row.strict_conversion)
        for a, b, row in zip(steps, steps[1:], funnel.stages, strict=False)
    )


def _key_text(key: Hashable) -> str:
    return NO_KEY if key is None else str(key)


def _rates(rates: analytics.WinRates) -> tuple[RateRow, ...]:
    return tuple(
        RateRow(key=_key_text(r.key), deals=r.deals, open=r.open, won=r.won, lost=r.lost,
                win_rate=r.win_rate)
        for r in rates.rows
    )


def _months(forecast: analytics.Forecast) -> tuple[MonthForecast, ...]:
    zero = Decimal(0)
    counts: dict[tuple[str | None, str], int] = {}
    # Per (period, currency): [closed, pipeline, weighted].
    sums: dict[tuple[str | None, str], list[Decimal]] = {}
    for row in forecast.rows:
        if row.category == "omitted":
            continue
        key = (row.period, row.currency)
        counts[key] = counts.get(key, 0) + row.deals
        acc = sums.setdefault(key, [zero, zero, zero])
        if row.category == "closed":
            acc[0] = exact_add(acc[0], row.amount)
        else:
            acc[1] = exact_add(acc[1], row.amount)
            acc[2] = exact_add(acc[2], row.weighted)
    ordered = sorted(sums, key=lambda k: (k[0] is None, k[0] or "", k[1]))
    return tuple(
        MonthForecast(period=NO_DATE if key[0] is None else key[0], currency=key[1],
                      deals=counts[key], closed=sums[key][0], pipeline=sums[key][1],
                      weighted=sums[key][2])
        for key in ordered
    )


def _totals(forecast: analytics.Forecast) -> tuple[CurrencyTotal, ...]:
    return tuple(
        CurrencyTotal(currency=t.currency, closed=t.closed, commit=t.commit,
                      best_case=t.best_case, pipeline=t.pipeline, weighted=t.weighted)
        for t in forecast.totals.rows
    )
