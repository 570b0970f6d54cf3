"""The values a pipeline report is made of: one frozen value per section.

:func:`~oppcore._report._build.build_report` fills them from the analytics; the renderers
(text, HTML, JSON, CSV) only read them.
"""

from datetime import datetime
from decimal import Decimal

import attrs

from oppcore._charts import MAX_GROUPS, NO_DATE, NO_KEY  # the charts' rules, the report's too
from oppcore._money import Money

from ._aftersales import AfterSalesSection

__all__ = [
    "NO_DATE",
    "NO_KEY",
    "MAX_GROUPS",
    "REASONS_PER_DEAL",
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
]

REASONS_PER_DEAL = 3


@attrs.frozen(kw_only=True)
class FunnelStep:
    """One step of the funnel: an open stage, or the won step at the end.

    Attributes:
        stage_id: Stage id (won stage ids joined by ``|`` for the won step).
        label: Display label of the stage.
        entered: Deals that were ever in this stage.
        reached: Deals that got at least this far.
        in_order: Deals that got here through every earlier stage in order; ``None`` when
            the history cannot show it (a stage no deal is recorded arriving at, see
            :attr:`PipelineReport.unseen_stages`).
        lost_here: Deals lost while this was their last open stage.
        open_here: Open deals in this stage now (0 for the won step).
        won_here: Won deals (the won step only).
        still_open: Open deals whose furthest stage is this one (undecided here).
    """

    stage_id: str
    label: str
    entered: int
    reached: int
    in_order: int | None
    lost_here: int
    open_here: int
    won_here: int = 0
    still_open: int = 0


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
            Deals still open at ``from_stage`` count as not converted.
        strict_rate: The same share counting only deals that went through the stages in
            order; ``None`` when the history cannot show it.
        reached: Deals that reached ``from_stage``.
        converted: Deals that reached ``to_stage``.
        left: Deals that reached ``from_stage`` and have since moved on or closed.
        still_open: Deals still open with ``from_stage`` as their furthest stage.
        left_rate: ``converted / left``: conversion among the deals that left the stage.
        still_open_share: ``still_open / reached``.
    """

    from_stage: str
    to_stage: str
    from_label: str
    to_label: str
    rate: float | None
    strict_rate: float | None
    reached: int = 0
    converted: int = 0
    left: int = 0
    still_open: int = 0
    left_rate: float | None = None
    still_open_share: float | None = None


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
        deals: Priced open and won deals in the month (``open_deals + won_deals``).
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
    open_deals: int = 0
    won_deals: int = 0


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
        open_deals: Priced open deals behind ``pipeline``.
        won_deals: Priced won deals behind ``closed``.
    """

    currency: str
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    open_deals: int = 0
    won_deals: int = 0


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
        coverage: Share of the scorecard's weight whose data was known, in (0, 1].
        stale: Whether the deal is past its stage's stale limit.
        days_in_stage: Whole calendar days since it entered its stage (or was created).
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
    coverage: float = 1.0
    stale: bool = False
    days_in_stage: int = 0


@attrs.frozen(kw_only=True)
class ReportCounts:
    """Headline counts.

    Attributes:
        deals: Deals in the report.
        open: Open deals.
        won: Won deals.
        lost: Lost deals.
        stale: Open deals past their stage's limit (0 when the pipeline sets none: see
            :attr:`PipelineReport.stale_limits`).
        unpriced: Open or won deals without an amount (left out of the forecast).
        win_rate: ``won / (won + lost)``; ``None`` when none is closed.
        unpriced_open: Open deals without an amount.
        unpriced_won: Won deals without an amount.
        unscored: Open deals the scorecard could not score (no data for any rule).
    """

    deals: int
    open: int
    won: int
    lost: int
    stale: int
    unpriced: int
    win_rate: float | None
    unpriced_open: int = 0
    unpriced_won: int = 0
    unscored: int = 0


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
        top_deals: The highest-scored open deals that could be scored (empty without a
            scorecard).
        scorecard: Name of the scorecard used, or ``None``.
        stale_limits: Whether any open stage sets a stale limit; without one no deal can
            be judged stale and ``stale`` is empty for that reason.
        stale_after: The limit in days given for stages without their own (``None``:
            the pipeline's own limits only).
        left_out: Win-rate dimensions left out because no deal has a value for them
            (``"source"``, ``"owner"``).
        unseen_stages: Labels of open stages no deal's history is recorded arriving at
            from an earlier stage: the in-order counts there are unknown.
        history_synthesised: Whether the histories look synthesised from creation and
            close dates (no recorded move between open stages).
        aftersales: The after-sales section (overdue tasks, satisfaction, renewals due,
            top referrers), or ``None`` when the pipeline has no after-sales plan.
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
    stale_limits: bool = True
    stale_after: int | None = None
    left_out: tuple[str, ...] = ()
    unseen_stages: tuple[str, ...] = ()
    history_synthesised: bool = False
    aftersales: AfterSalesSection | None = None

    @property
    def currencies(self) -> tuple[str, ...]:
        """The currencies of the forecast, sorted."""
        return tuple(t.currency for t in self.totals)


# ------------------------------------------------------------------------------ build


