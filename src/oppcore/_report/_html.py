"""The pipeline report as one self-contained HTML file: inline CSS and SVG, no JavaScript.

Nothing is fetched: no fonts, scripts, images or style sheets from the network, so the file
opens the same offline, in a mail attachment or in a locked-down browser. Every piece of
user data (deal, owner, account and stage names) goes through :func:`html.escape` after
control characters are replaced, in element text and in attributes alike.
"""

import html
import math
from collections.abc import Sequence
from decimal import Decimal
from itertools import count

from ._aftersales import aftersales_html
from ._format import amount, compact, money, percent, points, printable, shorten
from ._notes import (
    NO_STALE_LIMITS,
    history_notes,
    left_out_note,
    open_value_known,
    unpriced_notes,
    unranked_note,
)
from ._values import MAX_GROUPS, MonthForecast, PipelineReport, RateRow

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


def _t(text: object) -> str:
    """Escape user text for element content and attributes (control characters removed)."""
    return html.escape(printable(str(text)), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _section(heading: str, subtitle: str, body: str, anchor: str) -> str:
    return (f'<section id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">'
            f'{_t(heading)}</h2><p class="sub">{_t(subtitle)}</p>{body}</section>')


def _empty(message: str) -> str:
    return f'<p class="empty">{_t(message)}</p>'


def _notes(lines: Sequence[str]) -> str:
    return "".join(f'<p class="note">{_t(line)}</p>' for line in lines)


def _svg(uid: int, label: str, width: int, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{_t(label)}" aria-labelledby="chart-{uid}-t">'
            f'<title id="chart-{uid}-t">{_t(label)}</title>{body}</svg>')


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


def _funnel_chart(report: PipelineReport, uid: int) -> str:
    if not report.counts.deals:
        return _empty("No deals yet: the funnel appears once there are deals.")
    steps = report.funnel
    width, label_w, row, gap = 1000, 190, 38, 14
    area = width - label_w - 150
    top = max(steps[0].reached, 1)
    height = len(steps) * (row + gap)
    body: list[str] = []
    prev: tuple[float, float, float] | None = None
    for i, step in enumerate(steps):
        y = i * (row + gap)
        w = max(area * step.reached / top, 2.0)
        x = label_w + (area - w) / 2
        color = "var(--green)" if i == len(steps) - 1 else "var(--blue)"
        if prev is not None:
            px, pw, py = prev
            body.append(f'<polygon points="{_n(px)},{_n(py)} {_n(px + pw)},{_n(py)} '
                        f'{_n(x + w)},{_n(y)} {_n(x)},{_n(y)}" fill="#dbeafe"/>')
        body.append(f'<rect x="{_n(x)}" y="{y}" width="{_n(w)}" height="{row}" rx="4" '
                    f'fill="{color}"><title>{_t(step.label)}: {step.reached} reached, '
                    + (f"{step.won_here} won" if i == len(steps) - 1 else
                       f"{step.open_here} open here now, {step.lost_here} lost here")
                    + "</title></rect>")
        body.append(f'<text x="0" y="{y + row / 2 + 5}" font-size="14">'
                    f'{_t(shorten(step.label, 24))}</text>')
        share = step.reached / top
        body.append(f'<text x="{width - 140}" y="{y + row / 2 + 5}" font-size="14" '
                    f'font-weight="600">{step.reached}</text>'
                    f'<text x="{width - 85}" y="{y + row / 2 + 5}" font-size="13" '
                    f'class="muted">{percent(share)}</text>')
        prev = (x, w, y + row)
    label = "Funnel: " + ", ".join(f"{s.label} {s.reached}" for s in steps)
    return _svg(uid, label, width, height - gap, "".join(body))


def _conversion_chart(report: PipelineReport, uid: int) -> str:
    if not report.counts.deals:
        return _empty("No deals yet: no conversion to show.")
    steps = report.conversions
    width, label_w, row = 1000, 260, 46
    area = width - label_w - 330
    body: list[str] = [_gridlines(label_w, area, len(steps) * row)]
    for i, s in enumerate(steps):
        y = i * row + 6
        name = shorten(f"{s.from_label} \u2192 {s.to_label}", 40)
        body.append(f'<text x="0" y="{y + 20}" font-size="14">{_t(name)}</text>')
        for j, (rate, color, of) in enumerate(((s.rate, "var(--blue)", s.reached),
                                               (s.left_rate, "var(--green)", s.left))):
            w = area * (rate or 0.0)
            by = y + j * 17
            body.append(f'<rect x="{label_w}" y="{by}" width="{_n(w)}" height="15" rx="2" '
                        f'fill="{color}"/><text x="{_n(label_w + w + 6)}" y="{by + 12}" '
                        f'font-size="12" class="muted">{percent(rate)} '
                        f"({s.converted}/{of})</text>")
        body.append(f'<text x="{width - 1}" y="{y + 20}" font-size="12" text-anchor="end">'
                    f"{s.still_open} still open ({percent(s.still_open_share)})</text>")
    label = "Conversion between stages: " + ", ".join(
        f"{s.from_label} to {s.to_label} {percent(s.rate)} of all, {percent(s.left_rate)} "
        f"of those that left, {s.still_open} still open" for s in steps)
    chart = _svg(uid, label, width, len(steps) * row + 4, "".join(body))
    return chart + _legend(("of all that reached the stage", "var(--blue)"),
                           ("of those that have left it", "var(--green)"))


def _gridlines(x0: int, area: float, height: int) -> str:
    return "".join(
        f'<line x1="{_n(x0 + area * q)}" y1="0" x2="{_n(x0 + area * q)}" y2="{height}" '
        f'stroke="#e5e7eb" stroke-dasharray="{"0" if q == 0 else "3 3"}"/>'
        for q in (0.0, 0.25, 0.5, 0.75, 1.0)
    )


def _rate_chart(report: PipelineReport, what: str, uid: int) -> str:
    if what in report.left_out:
        return _empty(left_out_note(what))
    rows: Sequence[RateRow] = report.by_source if what == "source" else report.by_owner
    if not rows:
        return _empty(f"No deals yet: no win rate by {what}.")
    shown = rows[:MAX_BARS]
    width, label_w, row = 520, 150, 26
    # Right-aligned columns sized for the longest "won/closed" (about 7 units per digit
    # at font-size 11): "4238/6711" must not run past the chart's edge.
    counts_w = 7 * max(len(f"{r.won}/{r.closed}") for r in shown) + 4
    area = width - label_w - counts_w - 62
    body = [_gridlines(label_w, area, len(shown) * row)]
    for i, r in enumerate(shown):
        y = i * row + 5
        w = area * (r.win_rate or 0.0)
        body.append(f'<text x="0" y="{y + 13}" font-size="12">{_t(shorten(r.key, 22))}'
                    f'<title>{_t(r.key)}</title></text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{_n(w)}" height="16" rx="2" '
                    f'fill="var(--green)"><title>{_t(r.key)}: {r.won} won of {r.closed} '
                    f'closed, {r.open} open</title></rect>')
        body.append(f'<text x="{width - counts_w - 6}" y="{y + 13}" font-size="12" '
                    f'text-anchor="end">{percent(r.win_rate)}</text>'
                    f'<text x="{width - 1}" y="{y + 13}" font-size="11" text-anchor="end" '
                    f'class="muted">{r.won}/{r.closed}</text>')
    label = f"Win rate by {what}: " + ", ".join(
        f"{r.key} {percent(r.win_rate)} ({r.won} of {r.closed})" for r in shown)
    chart = _svg(uid, label, width, len(shown) * row + 6, "".join(body))
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
        parts.append(_forecast_chart(currency, months, next(ids)))
    parts.append(_legend(("won", "var(--green)"), ("open pipeline", "var(--blue2)"),
                         ("weighted pipeline", "var(--blue)")))
    parts.append(_totals_table(report))
    parts.append(_notes(unpriced_notes(report)))
    return "".join(parts)


def _forecast_chart(currency: str, months: Sequence[MonthForecast], uid: int) -> str:
    width, height, left, bottom, top_pad = 1000, 260, 64, 46, 10
    plot_h = height - bottom - top_pad
    peak = max((max(m.closed, m.pipeline) for m in months), default=Decimal(0))
    scale = _nice(float(peak))
    slot = (width - left) / max(len(months), 1)
    bar = min(slot * 0.36, 34.0)
    body = []
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = top_pad + plot_h * (1 - q)
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{width}" y2="{_n(y)}" '
                    f'stroke="#e5e7eb"/><text x="{left - 8}" y="{_n(y + 4)}" font-size="11" '
                    f'text-anchor="end" class="muted">{compact(scale * q)}</text>')
    rotate = len(months) > 12
    cur = _t(currency)
    for i, m in enumerate(months):
        cx = left + slot * i + slot / 2
        base = top_pad + plot_h

        period = _t(m.period)
        body.append(_column(cx - bar - 1, bar, base, plot_h * float(m.closed) / scale,
                            "var(--green)", f"{period}: won {cur} {amount(m.closed)}"))
        body.append(_column(cx + 1, bar, base, plot_h * float(m.pipeline) / scale,
                            "var(--blue2)",
                            f"{period}: open pipeline {cur} {amount(m.pipeline)}"))
        body.append(_column(cx + 1, bar, base, plot_h * float(m.weighted) / scale,
                            "var(--blue)", f"{period}: weighted {cur} {amount(m.weighted)}"))
        if rotate:
            body.append(f'<text x="{_n(cx)}" y="{base + 14}" font-size="11" '
                        f'text-anchor="end" transform="rotate(-35 {_n(cx)} {base + 14})">'
                        f"{period}</text>")
        else:
            body.append(f'<text x="{_n(cx)}" y="{base + 18}" font-size="11" '
                        f'text-anchor="middle">{period}</text>')
    label = f"Forecast by month in {currency}: " + ", ".join(
        f"{m.period} won {compact(m.closed)}, open {compact(m.pipeline)}, weighted "
        f"{compact(m.weighted)}" for m in months)
    return _svg(uid, label, width, height, "".join(body))


def _nice(peak: float) -> float:
    """Return the smallest 1, 2, 2.5 or 5 times a power of ten at or above ``peak``."""
    if peak <= 0 or peak != peak or peak == float("inf"):
        return 1.0
    power = 10.0 ** math.floor(math.log10(peak))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if peak <= step * power * (1 + 1e-12):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def _column(x: float, width: float, base: float, height: float, color: str, tip: str) -> str:
    return (f'<rect x="{_n(x)}" y="{_n(base - height)}" width="{_n(width)}" '
            f'height="{_n(height)}" fill="{color}"><title>{tip}</title></rect>')


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
