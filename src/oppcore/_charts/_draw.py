"""The SVG charts: funnel, conversion between stages, win rate by group, forecast by month.

Pure functions from rows to one ``<svg>`` element (text), shared by the HTML report (which
styles them with its page CSS) and the analytics results' :meth:`chart` (which asks for a
standalone drawing that carries its own colours). Every piece of user data (stage, owner,
source names) goes through :func:`escape`. The rows are read by attribute, so the report's
values and the analytics adapters are drawn by the same code.
"""

import html
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from oppcore.locale._catalog import N_, _, active
from oppcore.locale._messages import field_label

from ._format import amount, compact, percent, printable, shorten

__all__ = ["LEGEND_HEIGHT", "MAX_GROUPS", "NO_DATE", "NO_KEY", "PALETTE", "ConversionBar",
           "FunnelBar", "MonthBars", "RateBar", "conversion_svg", "escape", "forecast_svg",
           "funnel_svg", "rate_svg", "conversion_legend", "forecast_legend", "svg"]

PALETTE = (("ink", "#1f2937"), ("muted", "#6b7280"), ("blue", "#2563eb"),
           ("blue2", "#93c5fd"), ("green", "#16a34a"))
"""The colours a standalone chart defines (the report's page CSS defines the same ones)."""
MAX_GROUPS = 12
"""Groups (owners, sources) a report lists or draws; text and HTML show the same ones, and
a win-rate ``chart()`` draws as many unless told otherwise."""
NO_KEY = "(none)"
"""Label of the group of deals that have no value for a dimension (no owner, no source)."""
NO_DATE = N_("(no date)")
"""Period label of open deals without an expected close date."""
OVERDUE = N_("overdue")
"""Period of open deals whose expected close has passed (the forecast's own key)."""


def period_text(period: str) -> str:
    """A forecast period as a reader sees it: a month, quarter or year as written; the
    overdue and no-date periods in words of the active locale."""
    return _(period) if period in (OVERDUE, NO_DATE) else period

LEGEND_HEIGHT = 26
"""Height a standalone chart adds under its drawing for its legend (the report's legend is
HTML, under the chart)."""
_FONT = ('system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC",'
         '"Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",sans-serif')


class FunnelBar(Protocol):
    """What a funnel step must offer to be drawn."""

    @property
    def label(self) -> str: ...  # pragma: no cover - protocol
    @property
    def reached(self) -> int: ...  # pragma: no cover - protocol
    @property
    def open_here(self) -> int: ...  # pragma: no cover - protocol
    @property
    def lost_here(self) -> int: ...  # pragma: no cover - protocol
    @property
    def won_here(self) -> int: ...  # pragma: no cover - protocol


class ConversionBar(Protocol):
    """What a conversion step must offer to be drawn."""

    @property
    def from_label(self) -> str: ...  # pragma: no cover - protocol
    @property
    def to_label(self) -> str: ...  # pragma: no cover - protocol
    @property
    def rate(self) -> float | None: ...  # pragma: no cover - protocol
    @property
    def left_rate(self) -> float | None: ...  # pragma: no cover - protocol
    @property
    def reached(self) -> int: ...  # pragma: no cover - protocol
    @property
    def converted(self) -> int: ...  # pragma: no cover - protocol
    @property
    def left(self) -> int: ...  # pragma: no cover - protocol
    @property
    def still_open(self) -> int: ...  # pragma: no cover - protocol
    @property
    def still_open_share(self) -> float | None: ...  # pragma: no cover - protocol


class RateBar(Protocol):
    """What a win-rate group must offer to be drawn."""

    @property
    def key(self) -> str: ...  # pragma: no cover - protocol
    @property
    def open(self) -> int: ...  # pragma: no cover - protocol
    @property
    def won(self) -> int: ...  # pragma: no cover - protocol
    @property
    def closed(self) -> int: ...  # pragma: no cover - protocol
    @property
    def win_rate(self) -> float | None: ...  # pragma: no cover - protocol


class MonthBars(Protocol):
    """What one month of a forecast must offer to be drawn."""

    @property
    def period(self) -> str: ...  # pragma: no cover - protocol
    @property
    def closed(self) -> Decimal: ...  # pragma: no cover - protocol
    @property
    def pipeline(self) -> Decimal: ...  # pragma: no cover - protocol
    @property
    def weighted(self) -> Decimal: ...  # pragma: no cover - protocol


def escape(text: object) -> str:
    """Escape user text for element content and attributes (control characters removed)."""
    return html.escape(printable(str(text)), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def svg(uid: int | str, label: str, width: int, height: int, body: str, *,
        standalone: bool = False, legend: Sequence[tuple[str, str]] = ()) -> str:
    """Return one ``<svg>`` element with a ``<title>`` and an ``aria-label``.

    ``standalone`` makes it carry its own size, font and colours (the report's page CSS
    gives them otherwise) and draws its ``legend`` under it, for a notebook or a file of
    its own.
    """
    if standalone:
        if legend:
            body += _legend(legend, height)
            height += LEGEND_HEIGHT
        colours = ";".join(f"--{name}:{value}" for name, value in PALETTE)
        own = (f' width="{width}" height="{height}" id="chart-{uid}" '
               f'style="max-width:100%;height:auto;{colours};font-family:{escape(_FONT)}"')
        body = (f"<style>#chart-{uid} text{{fill:var(--ink)}}"
                f"#chart-{uid} .muted{{fill:var(--muted)}}</style>{body}")
    else:
        own = ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"{own} '
            f'role="img" aria-label="{escape(label)}" aria-labelledby="chart-{uid}-t">'
            f'<title id="chart-{uid}-t">{escape(label)}</title>{body}</svg>')


def conversion_legend() -> tuple[tuple[str, str], ...]:
    """The conversion chart's legend: text and colour of each bar of a step."""
    return ((_("of all that reached the stage"), "var(--blue)"),
            (_("of those that have left it"), "var(--green)"))


def forecast_legend() -> tuple[tuple[str, str], ...]:
    """The forecast chart's legend (in the active locale): text and colour of each column
    of a month."""
    return ((_("won"), "var(--green)"), (_("open pipeline"), "var(--blue2)"),
            (_("weighted pipeline"), "var(--blue)"))


def _legend(items: Sequence[tuple[str, str]], top: int) -> str:
    parts, x = [], 0
    for text, color in items:
        parts.append(f'<rect x="{x}" y="{top + 10}" width="10" height="10" rx="2" '
                     f'fill="{color}"/><text x="{x + 15}" y="{top + 19}" font-size="12" '
                     f'class="muted">{escape(text)}</text>')
        x += 15 + 7 * len(text) + 18  # about 7 units per character at font-size 12
    return '<g class="legend">' + "".join(parts) + "</g>"


def funnel_svg(steps: Sequence[FunnelBar], uid: int | str, *, standalone: bool = False
               ) -> str:
    """Draw the funnel: one centred bar per step, as wide as the deals that reached it."""
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
                    f'fill="{color}"><title>{escape(step.label)}: '
                    + (_("{reached} reached, {won} won").format(
                        reached=step.reached, won=step.won_here) if i == len(steps) - 1 else
                       _("{reached} reached, {open} open here now, {lost} lost here").format(
                           reached=step.reached, open=step.open_here, lost=step.lost_here))
                    + "</title></rect>")
        body.append(f'<text x="0" y="{y + row / 2 + 5}" font-size="14">'
                    f'{escape(shorten(step.label, 24))}</text>')
        share = step.reached / top
        body.append(f'<text x="{width - 140}" y="{y + row / 2 + 5}" font-size="14" '
                    f'font-weight="600">{step.reached}</text>'
                    f'<text x="{width - 85}" y="{y + row / 2 + 5}" font-size="13" '
                    f'class="muted">{percent(share)}</text>')
        prev = (x, w, y + row)
    label = _("Funnel") + ": " + ", ".join(f"{s.label} {s.reached}" for s in steps)
    return svg(uid, label, width, height - gap, "".join(body), standalone=standalone)


def conversion_svg(steps: Sequence[ConversionBar], uid: int | str, *,
                   standalone: bool = False) -> str:
    """Draw conversion between stages: of all that reached a stage (blue) and of those
    that have left it (green), with the deals still open there."""
    width, label_w, row = 1000, 260, 46
    area = width - label_w - 330
    body: list[str] = [_gridlines(label_w, area, len(steps) * row)]
    for i, s in enumerate(steps):
        y = i * row + 6
        name = shorten(f"{s.from_label} \u2192 {s.to_label}", 40)
        body.append(f'<text x="0" y="{y + 20}" font-size="14">{escape(name)}</text>')
        for j, (rate, color, of) in enumerate(((s.rate, "var(--blue)", s.reached),
                                               (s.left_rate, "var(--green)", s.left))):
            w = area * (rate or 0.0)
            by = y + j * 17
            body.append(f'<rect x="{label_w}" y="{by}" width="{_n(w)}" height="15" rx="2" '
                        f'fill="{color}"/><text x="{_n(label_w + w + 6)}" y="{by + 12}" '
                        f'font-size="12" class="muted">{percent(rate)} '
                        f"({s.converted}/{of})</text>")
        body.append(f'<text x="{width - 1}" y="{y + 20}" font-size="12" text-anchor="end">'
                    + _("{count} still open ({share})").format(
                        count=s.still_open, share=percent(s.still_open_share)) + "</text>")
    label = _("Conversion between stages") + ": " + ", ".join(
        _("{source} to {target} {rate} of all, {left_rate} of those that left, "
          "{count} still open").format(
            source=s.from_label, target=s.to_label, rate=percent(s.rate),
            left_rate=percent(s.left_rate), count=s.still_open) for s in steps)
    return svg(uid, label, width, len(steps) * row + 4, "".join(body), standalone=standalone,
               legend=conversion_legend())


def _gridlines(x0: int, area: float, height: int) -> str:
    return "".join(
        f'<line x1="{_n(x0 + area * q)}" y1="0" x2="{_n(x0 + area * q)}" y2="{height}" '
        f'stroke="#e5e7eb" stroke-dasharray="{"0" if q == 0 else "3 3"}"/>'
        for q in (0.0, 0.25, 0.5, 0.75, 1.0)
    )


def rate_svg(shown: Sequence[RateBar], what: str, uid: int | str, *,
             standalone: bool = False) -> str:
    """Draw win rate by group (``what``: ``"source"``, ``"owner"``...), one bar per row of
    ``shown`` (at least one; the caller chooses how many)."""
    width, label_w, row = 520, 150, 26
    # Right-aligned columns sized for the longest "won/closed" (about 7 units per digit
    # at font-size 11): "4238/6711" must not run past the chart's edge.
    counts_w = 7 * max(len(f"{r.won}/{r.closed}") for r in shown) + 4
    area = width - label_w - counts_w - 62
    body = [_gridlines(label_w, area, len(shown) * row)]
    for i, r in enumerate(shown):
        y = i * row + 5
        w = area * (r.win_rate or 0.0)
        body.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(shorten(r.key, 22))}'
                    f'<title>{escape(r.key)}</title></text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{_n(w)}" height="16" rx="2" '
                    f'fill="var(--green)"><title>{escape(r.key)}: '
                    + _("{won} won of {closed} closed, {open} open").format(
                        won=r.won, closed=r.closed, open=r.open) + "</title></rect>")
        body.append(f'<text x="{width - counts_w - 6}" y="{y + 13}" font-size="12" '
                    f'text-anchor="end">{percent(r.win_rate)}</text>'
                    f'<text x="{width - 1}" y="{y + 13}" font-size="11" text-anchor="end" '
                    f'class="muted">{r.won}/{r.closed}</text>')
    label = _("Win rate by {what}").format(
        what=field_label(what, locale=active())) + ": " + ", ".join(
        _("{key} {rate} ({won} of {closed})").format(
            key=r.key, rate=percent(r.win_rate), won=r.won, closed=r.closed) for r in shown)
    return svg(uid, label, width, len(shown) * row + 6, "".join(body), standalone=standalone)


def forecast_svg(currency: str, months: Sequence[MonthBars], uid: int | str, *,
                 standalone: bool = False, by: str = "month") -> str:
    """Draw one currency's forecast ``by`` month (quarter or year): won, open pipeline and
    weighted columns."""
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
    cur = escape(currency)
    won, open_, weighted = _("won"), _("open pipeline"), _("weighted")
    for i, m in enumerate(months):
        cx = left + slot * i + slot / 2
        base = top_pad + plot_h

        period = escape(period_text(m.period))
        body.append(_column(cx - bar - 1, bar, base, plot_h * float(m.closed) / scale,
                            "var(--green)", f"{period}: {won} {cur} {amount(m.closed, currency)}"))
        body.append(_column(cx + 1, bar, base, plot_h * float(m.pipeline) / scale,
                            "var(--blue2)",
                            f"{period}: {open_} {cur} {amount(m.pipeline, currency)}"))
        body.append(_column(cx + 1, bar, base, plot_h * float(m.weighted) / scale,
                            "var(--blue)",
                            f"{period}: {weighted} {cur} {amount(m.weighted, currency)}"))
        if rotate:
            body.append(f'<text x="{_n(cx)}" y="{base + 14}" font-size="11" '
                        f'text-anchor="end" transform="rotate(-35 {_n(cx)} {base + 14})">'
                        f"{period}</text>")
        else:
            body.append(f'<text x="{_n(cx)}" y="{base + 18}" font-size="11" '
                        f'text-anchor="middle">{period}</text>')
    if by == "quarter":
        title = _("Forecast by quarter in {currency}")
    elif by == "year":
        title = _("Forecast by year in {currency}")
    else:
        title = _("Forecast by month in {currency}")
    label = title.format(currency=currency) + ": " + ", ".join(
        f"{period_text(m.period)} {won} {compact(m.closed)}, {open_} {compact(m.pipeline)}, "
        f"{weighted} {compact(m.weighted)}" for m in months)
    return svg(uid, label, width, height, "".join(body), standalone=standalone,
               legend=forecast_legend())


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
