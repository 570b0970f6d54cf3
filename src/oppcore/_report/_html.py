"""The pipeline report as one self-contained HTML file: inline CSS and SVG, no JavaScript.

Nothing is fetched: no fonts, scripts, images or style sheets from the network, so the file
opens the same offline, in a mail attachment or in a locked-down browser. Every piece of
user data (deal, owner, account and stage names) goes through :func:`html.escape` after
control characters are replaced (``oppcore._charts.escape``), in element text and in
attributes alike. The charts are drawn by :mod:`oppcore._charts`, the code the analytics
results' ``chart()`` uses.
"""

from collections.abc import Sequence
from itertools import count

from oppcore._charts import (
    CONVERSION_LEGEND,
    FORECAST_LEGEND,
    conversion_svg,
    forecast_svg,
    funnel_svg,
    rate_svg,
)
from oppcore._charts import escape as _t

from ._aftersales import aftersales_html
from ._format import amount, compact, money, percent, points
from ._notes import (
    NO_STALE_LIMITS,
    history_notes,
    left_out_note,
    open_value_known,
    unpriced_notes,
    unranked_note,
)
from ._values import MAX_GROUPS, PipelineReport, RateRow

__all__ = ["render_html"]

MAX_BARS = MAX_GROUPS
"""Groups drawn in a win-rate chart (the rest are counted under it; the text lists as
many)."""
MAX_TABLE_ROWS = 100
"""Rows of the stale-deals table (the rest are counted under it)."""

_CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--panel:#fff;--bg:#f3f4f6;
--blue:#2563eb;--blue2:#93c5fd;--green:#16a34a;--red:#dc2626;--amber:#d97706}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 20px 48px}
header h1{margin:0 0 4px;font-size:26px;letter-spacing:-.01em}
header p{margin:0;color:var(--muted)}
h2{font-size:17px;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 12px;font-size:13px}
section{background:var(--panel);border:1px solid var(--line);border-radius:10px;
padding:18px 20px;margin-top:18px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px;
margin-top:18px}
.grid>section{margin-top:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:12px;
margin-top:20px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.card b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card small{display:block;color:var(--muted);font-size:11px;line-height:1.3}
.flag{color:var(--amber);font-weight:600;font-size:12px}
.card.won b{color:var(--green)}.card.lost b{color:var(--red)}.card.stale b{color:var(--amber)}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit;fill:var(--ink)}
svg .muted{fill:var(--muted)}
.legend{display:flex;gap:16px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:6px 0 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
table{width:100%;border-collapse:collapse;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}
.reasons{margin:2px 0 0;padding:0;list-style:none;color:var(--muted);font-size:12px}
.pos{color:var(--green)}.neg{color:var(--red)}
.grade{display:inline-block;min-width:22px;text-align:center;border-radius:4px;
background:#dbeafe;color:#1e40af;font-weight:600}
.empty{color:var(--muted);font-style:italic;margin:8px 0}
.note{color:var(--muted);font-size:12px;margin:8px 0 0}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap}
table{margin-top:12px}
footer{color:var(--muted);font-size:12px;margin-top:24px;text-align:center}
@media print{body{background:#fff}section,.card{break-inside:avoid}}
"""


def render_html(report: PipelineReport) -> str:
    """Render the report as one self-contained HTML5 document.

    Charts are inline SVG with a ``<title>`` and an ``aria-label``; there is no script and
    no network reference. Empty data shows a "no data" note in place of a chart.

    Args:
        report: The report.

    Returns:
        The document (UTF-8 text, starting with ``<!DOCTYPE html>``).
    """
    ids = count(1)
    c = report.counts
    title = _t(report.title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} \u2013 {_t(report.pipeline_label)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<header><h1>{title}</h1><p>Pipeline <strong>{_t(report.pipeline_label)}</strong> "
        f"({_t(report.pipeline_id)}) \u00b7 as of "
        f"{_t(report.generated_at.isoformat(timespec='minutes'))}"
        + (f" \u00b7 scorecard {_t(report.scorecard)}" if report.scorecard else "")
        + "</p></header>",
        _cards(report),
        _section("Funnel", "Deals that reached each stage (or a later one).",
                 _funnel_chart(report, next(ids)) + _notes(history_notes(report)),
                 "funnel"),
        _section("Conversion between stages",
                 "Of the deals that reached a stage, the share that went on to the next "
                 "one: of all of them, and of those that have left the stage (moved on or "
                 "closed); the rest are still open there.",
                 _conversion_chart(report, next(ids)), "conversion"),
        '<div class="grid">',
        _section("Win rate by source",
                 "Won / closed deals per source channel, most closed deals first.",
                 _rate_chart(report, "source", next(ids)), "by-source"),
        _section("Win rate by owner",
                 "Won / closed deals per owner, most closed deals first.",
                 _rate_chart(report, "owner", next(ids)), "by-owner"),
        "</div>",
        _section("Forecast by month",
                 "Won value by close month; open pipeline and its weighted value by "
                 "expected close month; overdue: open deals whose expected close has "
                 "passed. One chart per currency: currencies are never added.",
                 _forecast(report, ids), "forecast"),
        _section("Top-ranked open deals", _top_subtitle(report), _top_table(report), "top"),
        _section(f"Stale deals ({c.stale if report.stale_limits else 'n/a'})",
                 _stale_subtitle(report), _stale_table(report), "stale"),
        ("" if report.aftersales is None
         else aftersales_html(report.aftersales, max_rows=MAX_TABLE_ROWS)),
        (f"<footer>Generated by oppcore for {_t(report.generated_at.isoformat())}. "
        "Self-contained: no scripts, no network.</footer>"),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- helpers


def _section(heading: str, subtitle: str, body: str, anchor: str) -> str:
    return (f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">'
            f'{_t(heading)}</h2><p class="sub">{_t(subtitle)}</p>{body}</section>')


def _empty(message: str) -> str:
    return f'<p class="empty">{_t(message)}</p>'


def _notes(lines: Sequence[str]) -> str:
    return "".join(f'<p class="note">{_t(line)}</p>' for line in lines)


def _legend(*items: tuple[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span><i style="background:{color}"></i>{_t(text)}</span>' for text, color in items
    ) + "</p>"


def _cards(report: PipelineReport) -> str:
    c = report.counts
    stale = str(c.stale) if report.stale_limits else "n/a"
    cards = [("Deals", str(c.deals), "", ""), ("Open", str(c.open), "", ""),
             ("Won", str(c.won), "won", ""), ("Lost", str(c.lost), "lost", ""),
             ("Win rate", percent(c.win_rate), "", ""),
             ("Stale", stale, "stale", "" if report.stale_limits else "no limits set")]
    unpriced = f"{c.unpriced_open} open deals have no amount" if c.unpriced_open else ""
    cards.extend((f"Open pipeline {t.currency}",
                  compact(t.pipeline) if open_value_known(report, t) else "n/a", "",
                  unpriced)
                 for t in report.totals)
    if not report.totals and c.unpriced_open:  # no deal has an amount at all
        cards.append(("Open pipeline", "n/a", "", unpriced))
    cards.extend((f"Won {t.currency}", compact(t.closed), "won", "") for t in report.totals)
    return '<div class="cards">' + "".join(
        f'<div class="card {cls}"><span>{_t(label)}</span><b>{_t(value)}</b>'
        + (f"<small>{_t(note)}</small>" if note else "") + "</div>"
        for label, value, cls, note in cards
    ) + "</div>"


# ------------------------------------------------------------------------------ charts
# The drawing is oppcore._charts (shared with the analytics results' chart()); here: what
# the report shows around it (no-data notes, the legends as HTML, how many bars).


def _funnel_chart(report: PipelineReport, uid: int) -> str:
    if not report.counts.deals:
        return _empty("No deals yet: the funnel appears once there are deals.")
    return funnel_svg(report.funnel, uid)


def _conversion_chart(report: PipelineReport, uid: int) -> str:
    if not report.counts.deals:
        return _empty("No deals yet: no conversion to show.")
    chart = conversion_svg(report.conversions, uid)
    return chart + _legend(*CONVERSION_LEGEND)


def _rate_chart(report: PipelineReport, what: str, uid: int) -> str:
    if what in report.left_out:
        return _empty(left_out_note(what))
    rows: Sequence[RateRow] = report.by_source if what == "source" else report.by_owner
    if not rows:
        return _empty(f"No deals yet: no win rate by {what}.")
    chart = rate_svg(rows[:MAX_BARS], what, uid)
    if len(rows) > MAX_BARS:
        chart += f'<p class="note">{len(rows) - MAX_BARS} more not drawn.</p>'
    return chart


def _forecast(report: PipelineReport, ids: "count[int]") -> str:
    if not report.forecast:
        return (_empty("No open or won deals with an amount: nothing to forecast.")
                + _notes(unpriced_notes(report)))
    parts = []
    for currency in report.currencies:
        months = [m for m in report.forecast if m.currency == currency]
        parts.append(f"<h3>{_t(currency)}</h3>" if len(report.currencies) > 1 else "")
        parts.append(forecast_svg(currency, months, next(ids)))
    parts.append(_legend(*FORECAST_LEGEND))
    parts.append(_totals_table(report))
    parts.append(_notes(unpriced_notes(report)))
    return "".join(parts)


# ------------------------------------------------------------------------------ tables


def _table(head: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]],
           caption: str) -> str:
    th = "".join(f'<th scope="col"{" class=num" if num else ""}>{_t(h)}</th>'
                 for h, num in head)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if num else ""}>{cell}</td>'
                         for cell, (_, num) in zip(row, head, strict=True)) + "</tr>"
        for row in rows
    )
    return (f'<table><caption class="sr-only">{_t(caption)}</caption>'
            f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>")


def _totals_table(report: PipelineReport) -> str:
    head = [("currency", False), ("won", True), ("won + commit", True),
            ("won + commit + best case", True), ("open pipeline", True), ("weighted", True),
            ("open deals", True), ("won deals", True)]
    rows = [[_t(t.currency), _t(amount(t.closed)), _t(amount(t.commit)),
             _t(amount(t.best_case)),
             _t(amount(t.pipeline)) if open_value_known(report, t) else "n/a",
             _t(amount(t.weighted)) if open_value_known(report, t) else "n/a",
             str(t.open_deals), str(t.won_deals)]
            for t in report.totals]
    return _table(head, rows, "Totals per currency")


def _top_subtitle(report: PipelineReport) -> str:
    if report.scorecard is None:
        return "Not ranked: no scorecard was given."
    return (f"Open deals ranked by the {report.scorecard!r} scorecard, with their top "
            "reasons; known: share of the scorecard's weight whose data the deal has.")


def _top_table(report: PipelineReport) -> str:
    if report.scorecard is None:
        return _empty("Pass a scorecard to rank the open deals.")
    if not report.top_deals:
        return _empty(unranked_note(report))
    head = [("#", True), ("score", True), ("known", True), ("deal", False),
            ("stage", False), ("owner", False), ("amount", True)]
    rows = []
    for d in report.top_deals:
        reasons = "".join(
            f'<li><span class="{"pos" if r.points >= 0 else "neg"}">{points(r.points)}</span> '
            f"{_t(r.message)}</li>" for r in d.reasons)
        flag = (f'<br><span class="flag">stale: {d.days_in_stage} days in its stage</span>'
                if d.stale else "")
        deal = (f"<strong>{_t(d.name)}</strong> <span class=sub>{_t(d.opportunity_id)}"
                f"</span><br><span class=sub>{_t(d.account or '-')}</span>{flag}"
                f'<ul class="reasons">{reasons}</ul>')
        rows.append([str(d.rank), f'{_t(d.score)} <span class="grade">{_t(d.grade)}</span>',
                     percent(d.coverage, digits=0), deal, _t(d.stage_label),
                     _t(d.owner or "-"), _t(money(d.amount))])
    table = _table(head, rows, "Top-ranked open deals")
    if report.counts.unscored:
        table += _notes([unranked_note(report)])
    return table


def _stale_subtitle(report: PipelineReport) -> str:
    text = "Open deals in their stage longer than the stage's follow-up rule allows."
    if report.stale_after is not None:
        text += f" Limit: {report.stale_after} days for stages without their own."
    return text


def _stale_table(report: PipelineReport) -> str:
    if not report.stale_limits:
        return _empty(NO_STALE_LIMITS)
    if not report.stale:
        return _empty("No stale deals: every open deal is within its stage's limit.")
    head = [("days in stage", True), ("limit", True), ("deal", False), ("id", False),
            ("account", False), ("stage", False), ("owner", False), ("amount", True)]
    rows = [[str(s.days_in_stage), "-" if s.max_days is None else str(s.max_days),
             _t(s.name), _t(s.opportunity_id), _t(s.account or "-"), _t(s.stage_label),
             _t(s.owner or "-"), _t(money(s.amount))]
            for s in report.stale[:MAX_TABLE_ROWS]]
    table = _table(head, rows, "Stale deals, longest in stage first")
    if len(report.stale) > MAX_TABLE_ROWS:
        table += (f'<p class="note">{len(report.stale) - MAX_TABLE_ROWS} more stale deal(s) '
                  "not listed; export the report as CSV or JSON for all of them.</p>")
    return table
