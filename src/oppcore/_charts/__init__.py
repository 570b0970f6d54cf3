"""SVG charts with no plotting dependency (private): one drawing code for the HTML report
and for the analytics results in a notebook.

A low layer: it imports nothing of oppcore but itself, so the analytics (core) and the
report (above them) can both use it. :mod:`._draw` draws the funnel, conversion, win-rate
and forecast charts from rows read by attribute; :mod:`._format` holds the number and text
formatting they need; :class:`Chart` wraps one drawing for Jupyter (``_repr_svg_``).
"""

from ._chart import Chart
from ._draw import (
    MAX_GROUPS,
    NO_DATE,
    NO_KEY,
    OVERDUE,
    ConversionBar,
    FunnelBar,
    MonthBars,
    RateBar,
    conversion_legend,
    conversion_svg,
    escape,
    forecast_legend,
    forecast_svg,
    funnel_svg,
    period_text,
    rate_svg,
)

__all__ = ["MAX_GROUPS", "NO_DATE", "NO_KEY", "OVERDUE", "Chart", "ConversionBar", "FunnelBar",
           "MonthBars", "RateBar", "conversion_legend", "conversion_svg", "escape",
           "forecast_legend", "forecast_svg", "funnel_svg", "period_text", "rate_svg"]
