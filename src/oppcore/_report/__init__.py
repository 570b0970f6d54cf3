"""The pipeline report (private): build it once, render it as text, HTML, JSON or CSV.

``oppcore report`` and ``oppcore demo`` call :func:`build_report` once, then one renderer:
:func:`render_text` (terminal), :func:`render_html` (one self-contained file),
:func:`render_json` / :func:`report_to_dict` or :func:`render_csv`. Every renderer returns a
``str``; the caller writes it (UTF-8; CSV with ``newline=""``). The package is private; the
CLI imports from here.
"""

from ._build import build_report
from ._export import (
    CSV_COLUMNS,
    REPORT_KIND,
    REPORT_SCHEMA_VERSION,
    render_csv,
    render_json,
    report_to_dict,
)
from ._html import render_html
from ._text import render_text
from ._values import (
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
)

__all__ = [
    "CSV_COLUMNS",
    "REPORT_KIND",
    "REPORT_SCHEMA_VERSION",
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
    "render_csv",
    "render_html",
    "render_json",
    "render_text",
    "report_to_dict",
]
