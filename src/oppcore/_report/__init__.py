"""The pipeline report (private): build it once, render it as text, HTML, JSON or CSV.

``oppcore report`` and ``oppcore demo`` call :func:`build_report` and one renderer. The
package is private; the CLI imports from here.
"""

from ._build import (
    NO_DATE,
    NO_KEY,
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
    build_report,
)

__all__ = [
    "NO_DATE",
    "NO_KEY",
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
