"""The pipeline report as a JSON document or one flat, spreadsheet-safe CSV table.

JSON follows oppcore's wire conventions: ``Decimal`` as strings (exact), datetimes as
ISO-8601 with offset, money as ``{"amount": "...", "currency": "..."}``, and a
``schema_version`` at the top. CSV puts every table of the report in one sheet: a
``section`` column says which table a row belongs to, and each section fills the columns it
uses. Text cells that a spreadsheet would run as a formula are neutralised with
:mod:`oppcore.io`'s rule (OWASP CSV injection); numbers written by the report are left as
they are, so negative figures stay numbers.
"""

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from oppcore._money import Money, round_minor
from oppcore.io._csv import _safe as _neutralise  # the one CSV-injection rule of oppcore
from oppcore.io._csv import write_row  # NUL-safe on Python 3.10 too

from ._format import points
from ._notes import notes, open_value_known
from ._values import CurrencyTotal, PipelineReport, RateRow, TopDeal

__all__ = ["CSV_COLUMNS", "REPORT_KIND", "REPORT_SCHEMA_VERSION", "render_csv",
           "render_json", "report_to_dict"]

REPORT_SCHEMA_VERSION = 2
"""Version of the report's JSON and CSV layout; raised on any incompatible change.

2: the won funnel step counts won deals in ``won_here`` (``open_here`` is 0 there);
``in_order`` and ``strict_rate`` are null where the history cannot show them; ``stale``
is null when the pipeline sets no stale limits; open pipeline figures are null when no
open deal has an amount; weighted money is in the currency's minor unit; new fields say
what each figure counts (``left_rate``, ``still_open``, ``coverage``, ``notes``...)."""
REPORT_KIND = "oppcore.pipeline_report"

CSV_COLUMNS: tuple[str, ...] = (
    "section", "key", "label", "value", "stage", "owner", "account", "period", "currency",
    "rank", "deals", "open", "won", "lost", "entered", "reached", "in_order", "lost_here",
    "open_here", "rate", "strict_rate", "amount", "closed", "commit", "best_case",
    "pipeline", "weighted", "days_in_stage", "max_days", "score", "grade", "reasons",
    "won_here", "still_open", "left", "converted", "left_rate", "still_open_share",
    "open_deals", "won_deals", "coverage", "stale",
)
"""Header of the report CSV (every section uses a subset)."""


def _money(value: Money | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"amount": str(value.amount), "currency": value.currency}


def _rate(row: RateRow) -> dict[str, Any]:
    return {"key": row.key, "deals": row.deals, "open": row.open, "won": row.won,
            "lost": row.lost, "closed": row.closed, "win_rate": row.win_rate}


def _top(d: TopDeal) -> dict[str, Any]:
    return {
        "rank": d.rank, "opportunity_id": d.opportunity_id, "name": d.name,
        "account": d.account, "owner": d.owner, "stage_id": d.stage_id,
        "stage_label": d.stage_label, "amount": _money(d.amount), "score": str(d.score),
        "grade": d.grade, "coverage": d.coverage, "stale": d.stale,
        "days_in_stage": d.days_in_stage,
        "reasons": [{"rule_id": r.rule_id, "message": r.message, "points": r.points}
                    for r in d.reasons],
    }


def _minor(value: Decimal, currency: str) -> Decimal:
    """Money in the currency's minor unit (weighted values are exact products)."""
    try:
        return round_minor(value, currency)
    except KeyError:  # a currency oppcore has no minor unit for: keep the exact value
        return value


def _open_value(report: PipelineReport, t: CurrencyTotal, value: Decimal) -> str | None:
    return str(_minor(value, t.currency)) if open_value_known(report, t) else None


def report_to_dict(report: PipelineReport) -> dict[str, Any]:
    """Return the report as a JSON-ready dict (str, int, float, bool, None, list, dict).

    Args:
        report: The report.

    Returns:
        A new dict with ``schema_version`` and ``kind`` at the top; ``Decimal`` values are
        strings, datetimes ISO-8601 with offset.
    """
    c = report.counts
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": REPORT_KIND,
        "title": report.title,
        "pipeline": {"id": report.pipeline_id, "label": report.pipeline_label},
        "generated_at": report.generated_at.isoformat(),
        "scorecard": report.scorecard,
        "stale_limits": report.stale_limits,
        "stale_after_days": report.stale_after,
        "history_synthesised": report.history_synthesised,
        "unseen_stages": list(report.unseen_stages),
        "left_out": list(report.left_out),
        "notes": notes(report),
        "counts": {"deals": c.deals, "open": c.open, "won": c.won, "lost": c.lost,
                   "stale": c.stale if report.stale_limits else None,
                   "unpriced": c.unpriced, "unpriced_open": c.unpriced_open,
                   "unpriced_won": c.unpriced_won, "unscored": c.unscored,
                   "win_rate": c.win_rate},
        "funnel": [
            {"stage_id": s.stage_id, "label": s.label, "entered": s.entered,
             "reached": s.reached, "in_order": s.in_order, "lost_here": s.lost_here,
             "open_here": s.open_here, "won_here": s.won_here, "still_open": s.still_open}
            for s in report.funnel
        ],
        "conversions": [
            {"from_stage": s.from_stage, "to_stage": s.to_stage, "from_label": s.from_label,
             "to_label": s.to_label, "rate": s.rate, "strict_rate": s.strict_rate,
             "reached": s.reached, "converted": s.converted, "left": s.left,
             "left_rate": s.left_rate, "still_open": s.still_open,
             "still_open_share": s.still_open_share}
            for s in report.conversions
        ],
        "win_rate_by_source": [_rate(r) for r in report.by_source],
        "win_rate_by_owner": [_rate(r) for r in report.by_owner],
        "forecast_by_month": [
            {"period": m.period, "currency": m.currency, "deals": m.deals,
             "open_deals": m.open_deals, "won_deals": m.won_deals,
             "closed": str(m.closed), "pipeline": str(m.pipeline),
             "weighted": str(_minor(m.weighted, m.currency))}
            for m in report.forecast
        ],
        "forecast_totals": [
            {"currency": t.currency, "closed": str(t.closed), "commit": str(t.commit),
             "best_case": str(t.best_case),
             "pipeline": _open_value(report, t, t.pipeline),
             "weighted": _open_value(report, t, t.weighted),
             "open_deals": t.open_deals, "won_deals": t.won_deals}
            for t in report.totals
        ],
        "top_deals": [_top(d) for d in report.top_deals],
        "stale_deals": [
            {"opportunity_id": s.opportunity_id, "name": s.name, "account": s.account,
             "owner": s.owner, "stage_id": s.stage_id, "stage_label": s.stage_label,
             "days_in_stage": s.days_in_stage, "max_days": s.max_days,
             "amount": _money(s.amount)}
            for s in report.stale
        ],
    }


def render_json(report: PipelineReport, *, indent: int | None = 2) -> str:
    """Return the report as a JSON document (see :func:`report_to_dict`).

    Args:
        report: The report.
        indent: Indentation of the document, or ``None`` for one line.

    Returns:
        The JSON text (non-ASCII kept as is; encode it as UTF-8).
    """
    return json.dumps(report_to_dict(report), indent=indent, ensure_ascii=False,
                      allow_nan=False)


def _rows(report: PipelineReport) -> Iterator[dict[str, object]]:
    c = report.counts
    summary: tuple[tuple[str, object], ...] = (
        ("schema_version", REPORT_SCHEMA_VERSION), ("title", report.title),
        ("pipeline", report.pipeline_id), ("generated_at", report.generated_at.isoformat()),
        ("scorecard", report.scorecard), ("deals", c.deals), ("open", c.open),
        ("won", c.won), ("lost", c.lost),
        ("stale", c.stale if report.stale_limits else None),
        ("stale_limits", report.stale_limits), ("stale_after_days", report.stale_after),
        ("unpriced", c.unpriced), ("unpriced_open", c.unpriced_open),
        ("unpriced_won", c.unpriced_won), ("unscored", c.unscored),
        ("history_synthesised", report.history_synthesised),
        ("win_rate", c.win_rate),
    )
    for key, value in summary:
        yield {"section": "summary", "key": key, "value": value}
    for line in notes(report):
        yield {"section": "note", "label": line}
    for s in report.funnel:
        yield {"section": "funnel", "key": s.stage_id, "label": s.label, "stage": s.stage_id,
               "entered": s.entered, "reached": s.reached, "in_order": s.in_order,
               "lost_here": s.lost_here, "open_here": s.open_here, "won_here": s.won_here,
               "still_open": s.still_open}
    for v in report.conversions:
        yield {"section": "conversion", "key": f"{v.from_stage}>{v.to_stage}",
               "label": f"{v.from_label} > {v.to_label}", "stage": v.from_stage,
               "rate": v.rate, "strict_rate": v.strict_rate, "reached": v.reached,
               "converted": v.converted, "left": v.left, "left_rate": v.left_rate,
               "still_open": v.still_open, "still_open_share": v.still_open_share}
    for section, rows in (("win_rate_by_source", report.by_source),
                          ("win_rate_by_owner", report.by_owner)):
        for r in rows:
            yield {"section": section, "key": r.key, "deals": r.deals, "open": r.open,
                   "won": r.won, "lost": r.lost, "rate": r.win_rate}
    for m in report.forecast:
        yield {"section": "forecast_month", "period": m.period, "currency": m.currency,
               "deals": m.deals, "open_deals": m.open_deals, "won_deals": m.won_deals,
               "closed": m.closed, "pipeline": m.pipeline,
               "weighted": _minor(m.weighted, m.currency)}
    for t in report.totals:
        known = open_value_known(report, t)
        yield {"section": "forecast_total", "currency": t.currency, "closed": t.closed,
               "commit": t.commit, "best_case": t.best_case,
               "pipeline": t.pipeline if known else None,
               "weighted": _minor(t.weighted, t.currency) if known else None,
               "open_deals": t.open_deals, "won_deals": t.won_deals}
    for d in report.top_deals:
        # Reasons as "message (+1.0)": a cell must not start with a sign (see module doc).
        reasons = "; ".join(f"{r.message} ({points(r.points)})" for r in d.reasons)
        yield {"section": "top_deal", "rank": d.rank, "key": d.opportunity_id,
               "label": d.name, "stage": d.stage_id, "owner": d.owner, "account": d.account,
               **_amount(d.amount), "score": d.score, "grade": d.grade, "reasons": reasons,
               "coverage": d.coverage, "stale": d.stale, "days_in_stage": d.days_in_stage}
    for st in report.stale:
        yield {"section": "stale_deal", "key": st.opportunity_id, "label": st.name,
               "stage": st.stage_id, "owner": st.owner, "account": st.account,
               **_amount(st.amount), "days_in_stage": st.days_in_stage,
               "max_days": st.max_days}


def _amount(value: Money | None) -> dict[str, object]:
    if value is None:
        return {}
    return {"currency": value.currency, "amount": value.amount}


def _cell(value: object, safe: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return _neutralise(text) if safe else text


def render_csv(report: PipelineReport, *, spreadsheet_safe: bool = True) -> str:
    """Return the report's tables as one flat CSV (header :data:`CSV_COLUMNS`).

    Sections, in order: ``summary`` (``key``/``value``), ``note`` (``label``: what a
    figure leaves out or cannot show), ``funnel``, ``conversion``,
    ``win_rate_by_source``, ``win_rate_by_owner``, ``forecast_month``, ``forecast_total``,
    ``top_deal``, ``stale_deal``. Rates are fractions in [0, 1]; amounts are exact
    decimals; empty cells mean "not applicable" or "no data".

    Args:
        report: The report.
        spreadsheet_safe: Prefix a single quote to text cells starting with ``=``, ``+``,
            ``-``, ``@``, tab or carriage return, so spreadsheets show them as text
            (OWASP CSV injection). ``False`` for machine consumers.

    Returns:
        The CSV text, with ``\\r\\n`` line ends (write it with ``newline=""``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _rows(report):
        write_row(writer, buffer, [_cell(row.get(name), spreadsheet_safe)
                                   for name in CSV_COLUMNS])
    return buffer.getvalue()
