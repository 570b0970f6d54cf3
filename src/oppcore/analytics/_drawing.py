"""The analytics results drawn as the report draws them: ``Funnel.chart``,
``WinRates.chart``, ``Forecast.chart`` (one drawing code: :mod:`oppcore._charts`).

The rows handed to the drawing are small adapters of the result rows (a stage's label for
its id, a group's text for its key, a period's sums); the period sums are the ones the
report's forecast chart shows, computed here once for both.
"""

from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from oppcore._charts import (
    NO_DATE,
    NO_KEY,
    Chart,
    conversion_svg,
    forecast_svg,
    funnel_svg,
    rate_svg,
)
from oppcore._charts._chart import draw, nothing_to_draw
from oppcore._errors import ValidationError
from oppcore._money import exact_add

from ._common import PipelineLike
from ._forecast import OVERDUE

if TYPE_CHECKING:
    from ._forecast import Forecast
    from ._funnel import Funnel
    from ._winrate import WinRates

__all__ = ["PeriodSums", "forecast_chart", "forecast_periods", "funnel_chart", "key_text",
           "stage_labels", "step_label", "win_rate_chart"]


class _Step(NamedTuple):
    label: str
    reached: int
    open_here: int
    lost_here: int
    won_here: int


class _Conversion(NamedTuple):
    from_label: str
    to_label: str
    rate: float | None
    left_rate: float | None
    reached: int
    converted: int
    left: int
    still_open: int
    still_open_share: float | None


class _Rate(NamedTuple):
    key: str
    open: int
    won: int
    closed: int
    win_rate: float | None


class PeriodSums(NamedTuple):
    """One period and currency of a forecast, as the charts draw it (``omitted`` left out).

    ``period`` is ``None`` for open deals without an expected close.
    """

    period: str | None
    currency: str
    open_deals: int
    won_deals: int
    closed: Decimal
    pipeline: Decimal
    weighted: Decimal


class _Month(NamedTuple):
    period: str
    closed: Decimal
    pipeline: Decimal
    weighted: Decimal


def stage_labels(pipeline: PipelineLike | None) -> dict[str, str]:
    """Return each stage id's display label (its id when a stage has no ``label``)."""
    if pipeline is None:
        return {}
    return {s.id: str(getattr(s, "label", s.id)) for s in pipeline.stages}


def step_label(labels: Mapping[str, str], stage_id: str) -> str:
    """Return a funnel step's label; the won step of several won stages ``"a|b"`` is
    ``"A / B"``; an id without a label is shown as is."""
    if stage_id in labels:
        return labels[stage_id]
    found = [labels[s] for s in stage_id.split("|") if s in labels]
    return " / ".join(found) or stage_id


def key_text(key: Hashable) -> str:
    """Return a group's text: ``"(none)"`` for deals without a value."""
    return NO_KEY if key is None else str(key)


def funnel_chart(funnel: "Funnel", kind: str, pipeline: PipelineLike | None) -> Chart:
    """Draw the funnel (``kind="funnel"``) or the conversion between its steps."""
    if kind not in ("funnel", "conversion"):
        raise ValidationError(f"kind must be 'funnel' or 'conversion', got {kind!r}",
                              field="kind", value=kind)
    if not funnel.deals:
        return nothing_to_draw(kind, "No deals: nothing to draw.")
    labels = stage_labels(pipeline)
    steps = [_Step(label=step_label(labels, s.stage), reached=s.reached,
                   open_here=s.open_here, lost_here=s.lost_here, won_here=s.won_here)
             for s in funnel.stages]
    if kind == "funnel":
        return draw(kind, lambda uid: funnel_svg(steps, uid, standalone=True))
    conversions = [
        _Conversion(from_label=a.label, to_label=b.label, rate=row.conversion,
                    left_rate=row.left_conversion, reached=row.reached, converted=b.reached,
                    left=row.left, still_open=row.still_open,
                    still_open_share=row.still_open_share)
        for a, b, row in zip(steps, steps[1:], funnel.stages, strict=False)
    ]
    return draw(kind, lambda uid: conversion_svg(conversions, uid, standalone=True))


def win_rate_chart(rates: "WinRates", top: int) -> Chart:
    """Draw the win rate of the first ``top`` groups (most closed deals first)."""
    if type(top) is not int or top < 1:
        raise ValidationError(f"top must be an integer >= 1, got {top!r}", field="top",
                              value=top)
    if not rates.rows:
        return nothing_to_draw("win_rate", "No deals: nothing to draw.")
    shown = [_Rate(key=key_text(r.key), open=r.open, won=r.won, closed=r.won + r.lost,
                   win_rate=r.win_rate) for r in rates.rows[:top]]
    return draw("win_rate",
                lambda uid: rate_svg(shown, rates.dimension, uid, standalone=True))


def forecast_periods(forecast: "Forecast") -> list[PeriodSums]:
    """Sum a forecast's rows per period and currency: won, open pipeline, weighted.

    Overdue first, then periods in order, undated last; ``omitted`` rows left out.
    """
    zero = Decimal(0)
    counts: dict[tuple[str | None, str], list[int]] = {}  # [open deals, won deals]
    sums: dict[tuple[str | None, str], list[Decimal]] = {}  # [closed, pipeline, weighted]
    for row in forecast.rows:
        if row.category == "omitted":
            continue
        key = (row.period, row.currency)
        n = counts.setdefault(key, [0, 0])
        acc = sums.setdefault(key, [zero, zero, zero])
        if row.category == "closed":
            n[1] += row.deals
            acc[0] = exact_add(acc[0], row.amount)
        else:
            n[0] += row.deals
            acc[1] = exact_add(acc[1], row.amount)
            acc[2] = exact_add(acc[2], row.weighted)
    ordered = sorted(sums, key=lambda k: (k[0] != OVERDUE, k[0] is None, k[0] or "", k[1]))
    return [PeriodSums(period=key[0], currency=key[1], open_deals=counts[key][0],
                       won_deals=counts[key][1], closed=sums[key][0],
                       pipeline=sums[key][1], weighted=sums[key][2])
            for key in ordered]


def forecast_chart(forecast: "Forecast", currency: str | None) -> Chart:
    """Draw one currency's forecast by period (currencies are never added)."""
    periods = forecast_periods(forecast)
    currencies = sorted({p.currency for p in periods})
    if currency is None:
        if len(currencies) > 1:
            raise ValidationError(
                f"the forecast has {len(currencies)} currencies ({', '.join(currencies)}): "
                "pass currency= to draw one; currencies are never added",
                field="currency", value=currency)
        if not currencies:
            return nothing_to_draw("forecast", "No open or won deals with an amount: "
                                               "nothing to draw.")
        currency = currencies[0]
    elif currency not in currencies:
        raise ValidationError(
            f"no priced deal in {currency!r} in this forecast (currencies: "
            f"{', '.join(currencies) or 'none'})", field="currency", value=currency)
    months = [_Month(period=NO_DATE if p.period is None else p.period, closed=p.closed,
                     pipeline=p.pipeline, weighted=p.weighted)
              for p in periods if p.currency == currency]
    code, by = currency, forecast.period
    return draw("forecast", lambda uid: forecast_svg(code, months, uid, standalone=True,
                                                     by=by))
