"""Forecast: weighted pipeline by close period and forecast category, per currency."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

import attrs

from oppcore._charts import Chart
from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._models import Opportunity
from oppcore._money import Money, exact_add, exact_mul

from ._common import (
    OPEN,
    WON,
    PipelineLike,
    StageIndex,
    closed_at,
    decimal_ratio,
    text_of,
)
from ._fold import Tally
from ._results import Table, rows_to_records

__all__ = ["Forecast", "ForecastRow", "ForecastTotal", "ForecastTotals", "forecast"]

PERIODS = ("month", "quarter", "year")
OVERDUE = "overdue"
"""Period label of open deals whose expected close is before ``now`` (slipped deals)."""
CLOSED = "closed"
_OMITTED = "omitted"
_ROW_COLUMNS = ("period", "category", "currency", "deals", "amount", "weighted")
_TOTAL_COLUMNS = ("currency", "closed", "commit", "best_case", "pipeline", "weighted",
                  "target", "attainment", "coverage", "open_deals", "won_deals")


def period_label(day: date, period: str) -> str:
    """Return the label of the period holding ``day``: ``2026-03``, ``2026-Q1``, ``2026``."""
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


@attrs.frozen(kw_only=True)
class ForecastRow:
    """Deals of one period, forecast category and currency.

    Attributes:
        period: Expected-close period of open deals, close period of won deals; ``None``
            for open deals without an expected close date; ``"overdue"`` for open deals
            whose expected close is before ``now`` (when ``now`` is given): they slipped,
            they are not pipeline of a past period.
        category: The stage's forecast category (``pipeline``, ``best_case``, ``commit``,
            ``omitted``), or ``closed`` for won deals.
        currency: ISO 4217 code.
        deals: Deals in the cell.
        amount: Sum of their amounts.
        weighted: Sum of amount x probability (the deal's own probability, else the
            stage's); equal to ``amount`` for closed deals.
    """

    period: str | None
    category: str
    currency: str
    deals: int
    amount: Decimal
    weighted: Decimal


@attrs.frozen(kw_only=True)
class ForecastTotal:
    """The forecast of one currency over the periods included.

    Attributes:
        currency: ISO 4217 code.
        closed: Value won.
        commit: ``closed`` + open deals in the commit category.
        best_case: ``commit`` + open deals in the best-case category.
        pipeline: Open deals in every category except ``omitted`` (unweighted).
        weighted: Their weighted value (amount x probability).
        target: The target in this currency, if one was given.
        attainment: ``closed / target``.
        coverage: ``pipeline / (target - closed)``: how many times the open pipeline
            covers what is still missing; ``None`` without a target or once it is met.
        open_deals: Open deals behind ``pipeline`` (priced, not ``omitted``).
        won_deals: Won deals behind ``closed``.

    Deals without an amount are in no currency's totals: they are counted in
    :attr:`Forecast.unpriced_open` and :attr:`Forecast.unpriced_won`, never summed as zero.
    A ``pipeline`` of 0 with ``open_deals == 0`` means "no priced open deal", not "no value".
    """

    currency: str
    closed: Decimal
    commit: Decimal
    best_case: Decimal
    pipeline: Decimal
    weighted: Decimal
    target: Decimal | None
    attainment: float | None
    coverage: float | None
    open_deals: int = 0
    won_deals: int = 0


@attrs.frozen(kw_only=True)
class ForecastTotals(Table):
    """The per-currency summary of a :class:`Forecast` (one row per currency)."""

    title = "Forecast totals"
    row_type = ForecastTotal
    columns = _TOTAL_COLUMNS

    rows: tuple[ForecastTotal, ...]

    def get(self, currency: str) -> ForecastTotal | None:
        """Return the totals of ``currency``, or ``None`` if no deal uses it."""
        return next((r for r in self.rows if r.currency == currency), None)

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per currency."""
        return rows_to_records(self.rows, _TOTAL_COLUMNS)


@attrs.frozen(kw_only=True)
class Forecast(Table):
    """Weighted pipeline by period, forecast category and currency.

    Attributes:
        period: ``"month"``, ``"quarter"`` or ``"year"``.
        rows: One row per (period, category, currency), sorted: ``"overdue"`` first, then
            periods in order, undated last.
        totals: Per-currency summary: closed, commit, best case, pipeline, coverage.
        unpriced: Open or won deals left out because they have no amount
            (``unpriced_open + unpriced_won``).
        unpriced_open: Open deals left out because they have no amount.
        unpriced_won: Won deals left out because they have no amount.
        outside: Deals left out because their date falls outside ``start``/``end`` (or is
            missing while a window was given).
    """

    title = "Forecast"
    row_type = ForecastRow
    columns = _ROW_COLUMNS

    period: str
    rows: tuple[ForecastRow, ...]
    totals: ForecastTotals
    unpriced: int = 0
    outside: int = 0
    unpriced_open: int = 0
    unpriced_won: int = 0

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per (period, category, currency)."""
        return rows_to_records(self.rows, _ROW_COLUMNS)

    def chart(self, currency: str | None = None) -> Chart:
        """Draw won, open pipeline and weighted value by period, as the report draws it.

        Args:
            currency: The currency to draw (ISO 4217); may be left out when the forecast
                has one. Currencies are never added, so one chart shows one currency.

        Returns:
            The chart: an SVG image a notebook shows inline; ``str(chart)`` is the SVG.

        Raises:
            ValidationError: When the forecast has several currencies and none is given,
                or none of its priced deals is in ``currency``.
        """
        from ._drawing import forecast_chart  # its module imports this one

        return forecast_chart(self, currency)

    def _notes(self) -> list[str]:
        lines = [
            f"{t.currency}: closed {t.closed:,}, commit {t.commit:,}, best case "
            f"{t.best_case:,}, pipeline "
            + (f"{t.pipeline:,} (weighted {t.weighted:,})"
               if t.open_deals or not self.unpriced_open else "n/a (no open deal has an amount)")
            for t in self.totals.rows
        ]
        if self.unpriced_open:
            lines.append(f"{self.unpriced_open} open deal(s) have no amount: left out, "
                         "not counted as 0")
        if self.unpriced_won:
            lines.append(f"{self.unpriced_won} won deal(s) have no amount: left out, "
                         "not counted as 0")
        return lines


def _targets(target: Money | Iterable[Money] | None) -> dict[str, Decimal]:
    if target is None:
        return {}
    items = (target,) if isinstance(target, Money) else target
    out: dict[str, Decimal] = {}
    try:
        for t in items:
            if not isinstance(t, Money):
                raise TypeError(type(t).__name__)
            if t.currency in out:
                raise ValidationError(f"two targets in {t.currency}", field="target", value=t)
            out[t.currency] = t.amount
    except TypeError as exc:
        raise ValidationError(
            f"target must be Money or an iterable of Money (one per currency): {exc}",
            field="target", value=target,
        ) from None
    return out


def forecast(
    opportunities: Iterable[Opportunity],
    pipeline: PipelineLike,
    *,
    period: str = "quarter",
    start: date | None = None,
    end: date | None = None,
    target: Money | Iterable[Money] | None = None,
    now: datetime | None = None,
) -> Forecast:
    """Sum the pipeline (amount and amount x probability) by period, category and currency.

    A deal's probability is read to 20 decimal places (exactly, for any probability of
    0.0001 or more); each weighted value is then exact.

    Open deals fall in the period of their ``expected_close`` and in their stage's
    forecast category; won deals fall in the period they closed, in the ``closed``
    category; lost deals are left out. Amounts are summed per currency only: currencies are
    never added together.

    Args:
        opportunities: Any iterable of opportunities of ``pipeline`` (read once).
        pipeline: Gives each stage's kind, default probability and forecast category.
        period: ``"month"``, ``"quarter"`` or ``"year"`` (calendar periods).
        start: Keep only deals whose (expected) close date is on or after this day.
        end: Keep only deals whose (expected) close date is on or before this day.
        target: The target for the window (a ``Money``, or one per currency) used for
            attainment and coverage.
        now: When given (timezone-aware), open deals whose expected close is before its
            day are put in the ``"overdue"`` period (slipped) instead of a past period;
            they stay in the totals. The window (``start``/``end``) does not apply to them.

    Returns:
        The forecast rows and per-currency totals.

    Raises:
        ValidationError: For an unknown period, a bad target or window, a naive ``now``, an
            item that is not an opportunity, a deal of another pipeline or a stage the
            pipeline does not have.
    """
    if target is not None and not isinstance(target, Money) and isinstance(target, Iterable):
        target = tuple(target)  # read twice: checked by the tally, used by the result
    options: dict[str, Any] = {"period": period, "start": start, "end": end,
                               "target": target, "now": now}
    return _forecast_result(_forecast_tally(opportunities, pipeline, **options), pipeline,
                            **options)


def _forecast_tally(
    opportunities: Iterable[Opportunity],
    pipeline: PipelineLike,
    *,
    period: str = "quarter",
    start: date | None = None,
    end: date | None = None,
    target: Money | Iterable[Money] | None = None,
    now: datetime | None = None,
) -> Tally:
    """Return the forecast's mergeable state: count, amount, weighted per cell, unpriced."""
    if period not in PERIODS:
        raise ValidationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}",
                              field="period", value=period)
    for name, bound in (("start", start), ("end", end)):
        if bound is not None and type(bound) is not date:
            raise ValidationError(f"{name} must be a date, got {type(bound).__name__}",
                                  field=name, value=bound)
    today = None
    if now is not None:
        today = aware(now, "now").date()
    _targets(target)
    index = StageIndex(pipeline)
    category = {sid: text_of(s.forecast_category) for sid, s in index.by_id.items()}
    default_p = {sid: _decimal(s.probability) for sid, s in index.by_id.items()}
    probabilities: dict[float, Decimal] = {}
    windowed = start is not None or end is not None
    cells: dict[tuple[str | None, str, str], list[Any]] = {}
    labels: dict[date, str] = {}
    unpriced_open = unpriced_won = outside = 0
    with index.walk(opportunities) as walk:
        for o, k in walk:
            sid = o.stage_id
            if k != OPEN and k != WON:
                continue
            amount = o.amount
            overdue = False
            if amount is None:
                if k == WON:
                    unpriced_won += 1
                else:
                    unpriced_open += 1
                continue
            if k == WON:
                moment = closed_at(o)
                day = moment.date() if moment is not None else o.expected_close
                cat = CLOSED
                weighted = amount.amount
            else:
                day = o.expected_close
                if today is not None and day is not None and day < today:
                    day = None
                    overdue = True
                cat = category[sid]
                prob = o.probability
                if prob is None:
                    weighted = exact_mul(amount.amount, default_p[sid])
                else:
                    p = probabilities.get(prob.value)
                    if p is None:
                        p = probabilities[prob.value] = _decimal(prob.value)
                    weighted = exact_mul(amount.amount, p)
            if windowed and not overdue and (day is None or (start is not None and day < start)
                                             or (end is not None and day > end)):
                outside += 1
                continue
            label = OVERDUE if overdue else None
            if day is not None:
                label = labels.get(day)
                if label is None:
                    label = labels[day] = period_label(day, period)
            key = (label, cat, amount.currency)
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = [0, Decimal(0), Decimal(0)]
            cell[0] += 1
            cell[1] = exact_add(cell[1], amount.amount)
            cell[2] = exact_add(cell[2], weighted)
    return {"cells": cells, "counts": [unpriced_open, unpriced_won, outside]}


def _forecast_result(
    tally: Tally,
    pipeline: PipelineLike,
    *,
    period: str = "quarter",
    start: date | None = None,
    end: date | None = None,
    target: Money | Iterable[Money] | None = None,
    now: datetime | None = None,
) -> Forecast:
    """Return the forecast of a state of :func:`_forecast_tally`."""
    unpriced_open, unpriced_won, outside = tally["counts"]
    rows = tuple(
        ForecastRow(period=p, category=c, currency=cur, deals=n, amount=a, weighted=w)
        for (p, c, cur), (n, a, w) in sorted(tally["cells"].items(), key=lambda kv: (
            kv[0][0] != OVERDUE, kv[0][0] is None, kv[0][0] or "", kv[0][2], kv[0][1]))
    )
    return Forecast(period=period, rows=rows, totals=_totals(rows, _targets(target)),
                    unpriced=unpriced_open + unpriced_won, unpriced_open=unpriced_open,
                    unpriced_won=unpriced_won, outside=outside)


# A probability is read to 20 decimal places. A float's shortest repr has at most 17
# significant digits, so every probability of 0.0001 or more is read exactly; a smaller
# one loses only digits worth less than 1e-20 of its deal's amount. Without a bound, a tiny
# probability (5e-324 is a valid float in [0, 1]) made a weighted value of hundreds of
# decimal places, which no exact sum with an ordinary amount can hold.
_PROBABILITY_QUANTUM: Final = Decimal("1e-20")


def _decimal(p: float) -> Decimal:
    # repr() is the shortest string that round-trips: 0.3 becomes Decimal("0.3"), not the
    # binary expansion 0.299999999999999988897769753748...
    d = Decimal(repr(float(p)))
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -20:
        d = d.quantize(_PROBABILITY_QUANTUM, rounding=ROUND_HALF_EVEN)
    return d


def _totals(rows: tuple[ForecastRow, ...], targets: dict[str, Decimal]) -> ForecastTotals:
    sums: dict[str, dict[str, Decimal]] = {}
    zero = Decimal(0)
    for currency in targets:
        sums.setdefault(currency, {})
    for row in rows:
        acc = sums.setdefault(row.currency, {})
        if row.category == _OMITTED:
            continue
        acc[row.category] = exact_add(acc.get(row.category, zero), row.amount)
        if row.category != CLOSED:
            acc["open"] = exact_add(acc.get("open", zero), row.amount)
            acc["weighted"] = exact_add(acc.get("weighted", zero), row.weighted)
            acc["open_deals"] = acc.get("open_deals", zero) + row.deals
        else:
            acc["won_deals"] = acc.get("won_deals", zero) + row.deals
    out = []
    for currency in sorted(sums):
        acc = sums[currency]
        closed = acc.get(CLOSED, zero)
        commit = closed + acc.get("commit", zero)
        open_value = acc.get("open", zero)
        goal = targets.get(currency)
        remaining = None if goal is None else goal - closed
        out.append(ForecastTotal(
            currency=currency, closed=closed, commit=commit,
            best_case=commit + acc.get("best_case", zero), pipeline=open_value,
            weighted=acc.get("weighted", zero), target=goal,
            attainment=None if goal is None else decimal_ratio(closed, goal),
            coverage=(decimal_ratio(open_value, remaining)
                      if remaining is not None and remaining > 0 else None),
            open_deals=int(acc.get("open_deals", zero)),
            won_deals=int(acc.get("won_deals", zero)),
        ))
    return ForecastTotals(rows=tuple(out))
