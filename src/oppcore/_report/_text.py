"""The pipeline report as fixed-width text for a terminal."""

from collections.abc import Sequence
from decimal import Decimal

from oppcore.locale._catalog import _
from oppcore.locale._reasons import translate_reason

from ._format import amount, fit, money, percent, printable, source_rows, width
from ._values import PipelineReport, RateRow

__all__ = ["render_text"]

_LABEL = 24
_BAR = 30


def render_text(report: PipelineReport, *, max_rows: int = 15, unicode: bool = True) -> str:
    """Render the report as plain fixed-width text (about 80 columns).

    Control characters in names are replaced, so user data cannot move a terminal's
    cursor or forge lines.

    Args:
        report: The report.
        max_rows: Rows shown per table (stale deals, owners); the rest are counted.
        unicode: Draw bars with block characters; ``False`` uses ``#`` (plain ASCII
            output, for consoles without Unicode).

    Returns:
        The text, ending with a newline.
    """
    out = _Out(unicode=unicode)
    _header(out, report)
    _funnel(out, report)
    _rates(out, _("Win rate by source"), source_rows(report.by_source), max_rows)
    _rates(out, _("Win rate by owner"), report.by_owner, max_rows)
    _forecast(out, report)
    _top(out, report)
    _stale(out, report, max_rows)
    return "\n".join(out.lines).rstrip() + "\n"


def _l(text: str, columns: int) -> str:
    """``text`` left-aligned in ``columns`` terminal columns (CJK counts two)."""
    return text + " " * max(0, columns - width(text))


def _r(text: str, columns: int) -> str:
    """``text`` right-aligned in ``columns`` terminal columns (CJK counts two)."""
    return " " * max(0, columns - width(text)) + text


class _Out:
    def __init__(self, *, unicode: bool) -> None:
        self.lines: list[str] = []
        self.full = "\u2588" if unicode else "#"
        self.ellipsis = "\u2026" if unicode else "..."
        self.rule = "\u2500" if unicode else "-"

    def add(self, line: str = "") -> None:
        self.lines.append(line.rstrip())

    def title(self, text: str) -> None:
        self.add()
        self.add(text)
        self.add(self.rule * width(text))

    def bar(self, share: float | None) -> str:
        cells = 0 if share is None else round(max(0.0, min(1.0, share)) * _BAR)
        return (self.full * cells).ljust(_BAR)

    def cut(self, text: str | None, columns: int, *, pad: bool = True) -> str:
        """``text`` made printable and fitted to ``columns`` terminal columns (padded to
        exactly that many unless ``pad`` is false)."""
        fitted = fit(printable(text or "-"), columns, ellipsis=self.ellipsis)
        return fitted if pad else fitted.rstrip(" ")


def _header(out: _Out, report: PipelineReport) -> None:
    c = report.counts
    title = printable(report.title)
    out.add(title)
    out.add("=" * width(title))
    out.add(_("Pipeline: {label} ({id})   as of {moment}").format(
        label=printable(report.pipeline_label), id=printable(report.pipeline_id),
        moment=report.generated_at.isoformat(timespec="minutes")))
    out.add(_("{deals} deals: {open} open, {won} won, {lost} lost   win rate {rate}   "
              "stale {stale}").format(deals=c.deals, open=c.open, won=c.won, lost=c.lost,
                                      rate=percent(c.win_rate), stale=c.stale))
    for t in report.totals:
        out.add(_("{currency}: open pipeline {pipeline} (weighted {weighted}), won "
                  "{won}").format(currency=t.currency, pipeline=amount(t.pipeline, t.currency),
                                  weighted=amount(t.weighted, t.currency),
                                  won=amount(t.closed, t.currency)))
    if c.unpriced:
        out.add(_("{count} open or won deal(s) have no amount (left out of the "
                  "forecast)").format(count=c.unpriced))


def _funnel(out: _Out, report: PipelineReport) -> None:
    out.title(_("Funnel (deals that reached each stage)"))
    if not report.counts.deals:
        out.add(_("No deals."))
        return
    top = max(report.funnel[0].reached, 1)
    out.add(" ".join((_l(_("stage"), _LABEL), " " * _BAR, _r(_("reached"), 7),
                      _r(_("next"), 7), _r(_("in order"), 8))))
    conv = {s.from_stage: s for s in report.conversions}
    for step in report.funnel:
        nxt = conv.get(step.stage_id)
        rate = percent(nxt.rate) if nxt is not None else ""
        out.add(f"{out.cut(step.label, _LABEL)} {out.bar(step.reached / top)} "
                f"{step.reached:>7} {rate:>7} {step.in_order:>8}")
    out.add(_("next: share that went on to reach the next stage; in order: reached it "
              "without skipping"))


def _rates(out: _Out, title: str, rows: Sequence[RateRow], max_rows: int) -> None:
    out.title(title)
    if not rows:
        out.add(_("No deals."))
        return
    out.add(" ".join((" " * _LABEL, " " * _BAR, _r(_("rate"), 7), _r(_("won/closed"), 11),
                      _r(_("open"), 5))))
    for r in rows[:max_rows]:
        out.add(f"{out.cut(r.key, _LABEL)} {out.bar(r.win_rate)} "
                f"{percent(r.win_rate):>7} {f'{r.won}/{r.closed}':>11} {r.open:>5}")
    if len(rows) > max_rows:
        out.add(_("... {count} more").format(count=len(rows) - max_rows))


def _forecast(out: _Out, report: PipelineReport) -> None:
    out.title(_("Forecast by month"))
    if not report.forecast:
        out.add(_("No open or won deals with an amount."))
        return
    for currency in report.currencies:
        out.add(" ".join((f"{currency:<10}", _r(_("deals"), 6), _r(_("won"), 16),
                          _r(_("pipeline"), 16), _r(_("weighted"), 16))))
        for m in report.forecast:
            if m.currency == currency:
                out.add(f"{m.period:<10} {m.deals:>6} {_figure(m.closed, currency):>16} "
                        f"{_figure(m.pipeline, currency):>16} "
                        f"{_figure(m.weighted, currency):>16}")
        out.add()
    out.lines.pop()


def _figure(value: Decimal, currency: str) -> str:
    return amount(value, currency) if value else "-"


def _top(out: _Out, report: PipelineReport) -> None:
    out.title(_("Top-ranked open deals"))
    if report.scorecard is None:
        out.add(_("No scorecard given: deals were not ranked."))
        return
    if not report.top_deals:
        out.add(_("No open deals."))
        return
    out.add(" ".join(("  #", _r(_("score"), 6), _l(_("grade"), 5), _l(_("deal"), 28),
                      _l(_("stage"), 16), _r(_("amount"), 18))))
    for t in report.top_deals:
        out.add(f"{t.rank:>3} {t.score:>6} {out.cut(t.grade, 5)} "
                f"{out.cut(t.name, 28)} {out.cut(t.stage_label, 16)} "
                f"{money(t.amount):>18}")
        out.add(f"{'':10} " + _("owner {owner}, account {account}").format(
            owner=out.cut(t.owner, 30, pad=False), account=out.cut(t.account, 30, pad=False)))
        for reason in t.reasons:
            text = translate_reason(reason.message)
            out.add(f"{'':10} {reason.points:+6.1f}  {out.cut(text, 58)}")


def _stale(out: _Out, report: PipelineReport, max_rows: int) -> None:
    out.title(_("Stale deals ({count})").format(count=len(report.stale)))
    if not report.stale:
        out.add(_("No stale deals."))
        return
    out.add(" ".join((_r(_("days"), 5), _r(_("limit"), 5), _l(_("stage"), 16),
                      _l(_("owner"), 14), _l(_("deal"), 20), _r(_("amount"), 15))))
    for s in report.stale[:max_rows]:
        limit = "-" if s.max_days is None else str(s.max_days)
        out.add(f"{s.days_in_stage:>5} {limit:>5} {out.cut(s.stage_label, 16)} "
                f"{out.cut(s.owner, 14)} {out.cut(s.name, 20)} "
                f"{money(s.amount):>15}")
    if len(report.stale) > max_rows:
        out.add(_("... {count} more").format(count=len(report.stale) - max_rows))
