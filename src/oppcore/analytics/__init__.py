"""Pipeline analytics for notebooks: pure functions over iterables of opportunities.

Every function reads its input once (any iterable: a list, a generator over a store or an
import; a generator is used up by the first call, and a second call on it raises instead of
counting no deals, so pass a list to several calls), never changes it, and returns a small
frozen result value with ``to_records()``, ``to_pandas()`` / ``to_polars()`` (when those
extras are installed; money as numbers, or exact with ``money="decimal"``), a text
rendering (``str(result)``) and an HTML table for Jupyter; the funnel, win rates and
forecast also draw themselves (``result.chart()``: the report's SVG chart, no plotting
library). Money is summed per currency, never across currencies, and a deal without an
amount is counted apart, never as 0.
Functions that need stage kinds, order, probabilities or follow-up rules take the pipeline
(:class:`oppcore.Pipeline`, or any object with the attributes of :class:`PipelineLike`).

Example:
    >>> from oppcore import Pipeline, analytics            # doctest: +SKIP
    >>> print(analytics.win_rate(deals, Pipeline.template("standard"), by="source"))
"""

from oppcore._charts import Chart
from oppcore._public import publish as _publish

from ._common import PipelineLike, StageLike, percentile
from ._compliance import Compliance, ComplianceRow, compliance
from ._cycle import CycleRow, SalesCycle, sales_cycle
from ._forecast import Forecast, ForecastRow, ForecastTotal, ForecastTotals, forecast
from ._frame import DealRow, DealsFrame, deals_frame
from ._funnel import Funnel, FunnelStage, funnel
from ._health import DataQualityReport, Finding, HealthReport, data_quality, health
from ._referrals import ReferralRow, Referrals, referrals
from ._renewals import RenewalRow, Renewals, renewals
from ._reps import RepPerformance, RepRow, rep_performance
from ._results import Table
from ._rfm import DEFAULT_SEGMENTS, CustomerSegment, CustomerSegments, Segment, customer_segments
from ._satisfaction import Satisfaction, SatisfactionRow, satisfaction
from ._segments import AccountTier, AccountTiers, account_tiers
from ._velocity import (
    DurationRow,
    PipelineVelocity,
    StageDurations,
    VelocityRow,
    pipeline_velocity,
    stage_durations,
)
from ._winrate import WinRateRow, WinRates, win_rate

__all__ = [
    # functions
    "funnel",
    "win_rate",
    "stage_durations",
    "sales_cycle",
    "pipeline_velocity",
    "forecast",
    "health",
    "data_quality",
    "compliance",
    "rep_performance",
    "account_tiers",
    "deals_frame",
    "percentile",
    # after the win (售后服务, 推荐计划, 客户细分)
    "satisfaction",
    "renewals",
    "referrals",
    "customer_segments",
    "Segment",
    "DEFAULT_SEGMENTS",
    # results
    "Table",
    "Chart",
    "Funnel",
    "FunnelStage",
    "WinRates",
    "WinRateRow",
    "StageDurations",
    "DurationRow",
    "SalesCycle",
    "CycleRow",
    "PipelineVelocity",
    "VelocityRow",
    "Forecast",
    "ForecastRow",
    "ForecastTotal",
    "ForecastTotals",
    "HealthReport",
    "DataQualityReport",
    "Finding",
    "Compliance",
    "ComplianceRow",
    "RepPerformance",
    "RepRow",
    "AccountTiers",
    "AccountTier",
    "DealsFrame",
    "DealRow",
    "Satisfaction",
    "SatisfactionRow",
    "Renewals",
    "RenewalRow",
    "Referrals",
    "ReferralRow",
    "CustomerSegments",
    "CustomerSegment",
    # what a pipeline must offer
    "PipelineLike",
    "StageLike",
]

_publish(__name__, globals(), __all__)
