"""The pipeline report as fixed-width text for a terminal."""

from collections.abc import Sequence
from decimal import Decimal

from oppcore._charts import period_text
from oppcore.locale._catalog import _, ngettext
from oppcore.locale._numbers import format_date
from oppcore.locale._reasons import translate_reason

from ._aftersales import aftersales_lines
from ._format import (
    amount,
    fit,
    money,
    percent,
    points,
    printable,
    source_rows,
    width,
    wrap,
)
from ._notes import (
    NA,
    NO_STALE_LIMITS,
    history_notes,
    left_out_note,
    open_value_known,
    unpriced_notes,
    unranked_note,
)
from ._values import MAX_GROUPS, PipelineReport, RateRow, TopDeal

__all__ = ["render_text"]

_LABEL = 24
_BAR = 30
_WIDTH = 88


def render_text(report: PipelineReport, *, max_rows: int = MAX_GROUPS,
                unicode: bool = True) -> str:
    """Render the report as plain fixed-width text (about 80 columns).

    Control characters in names are replaced, so user data cannot move a terminal's
    cursor or forge lines.

    Args:
        report: The report.
        max_rows: Rows shown per table (stale deals, owners); the rest are counted. The
            default is the number of groups the HTML report draws, so both list the same.
        unicode: Draw bars with block characters; ``False`` uses ``#`` (plain ASCII
            output, for consoles without Unicode).

    Returns:
        The text, ending with a newline.
    """
    out = _Out(unicode=unicode)
    _header(out, report)
    _funnel(out, report)
    _conversions(out, report)
    _rates(out, report, "source", max_rows)
    _rates(out, report, "owner", max_rows)
    _forecast(out, report)
    _top(out, report)
    _stale(out, report, max_rows)
    if report.aftersales is not None:
        out.lines += aftersales_lines(report.aftersales, max_rows=max_rows, rule=out.rule,
                                      ellipsis=out.ellipsis)
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

    def note(self, text: str) -> None:
        """Add a sentence, wrapped to the report's width."""
        for line in wrap(printable(text), _WIDTH):
            self.add(line)

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
        moment=format_date(report.generated_at, time=True)))
    stale = str(c.stale) if report.stale_limits else _(NA)
    out.add(ngettext("{deals} deal: {open} open, {won} won, {lost} lost   win rate {rate}   "
                     "stale {stale}",
                     "{deals} deals: {open} open, {won} won, {lost} lost   win rate {rate}   "
                     "stale {stale}", c.deals).format(
        deals=c.deals, open=c.open, won=c.won, lost=c.lost, rate=percent(c.win_rate),
        stale=stale))
    for t in report.totals:
        pipeline = (ngettext("{pipeline} (weighted {weighted}, {count} deal)",
                             "{pipeline} (weighted {weighted}, {count} deals)",
                             t.open_deals).format(
            pipeline=amount(t.pipeline), weighted=amount(t.weighted), count=t.open_deals)
            if open_value_known(report, t) else _(NA))
        out.add(ngettext("{currency}: open pipeline {pipeline}, won {won} ({count} deal)",
                         "{currency}: open pipeline {pipeline}, won {won} ({count} deals)",
                         t.won_deals).format(
            currency=t.currency, pipeline=pipeline, won=amount(t.closed),
            count=t.won_deals))
    if not report.totals and c.unpriced_open:  # no deal has an amount at all
        out.add(_("open pipeline n/a"))
    for line in unpriced_notes(report):
        out.note(line)


def _funnel(out: _Out, report: PipelineReport) -> None:
    out.title(_("Funnel (deals that reached each stage)"))
    if not report.counts.deals:
        out.add(_("No deals."))
        return
    top = max(report.funnel[0].reached, 1)
    out.add(" ".join((_l(_("stage"), _LABEL), " " * _BAR, _r(_("reached"), 7),
                      _r(_("in order"), 8), _r(_("open now"), 8))))
    last = report.funnel[-1].stage_id
    for step in report.funnel:
        in_order = _(NA) if step.in_order is None else str(step.in_order)
        here = (_("{count} won").format(count=step.won_here) if step.stage_id == last
                else str(step.open_here))
        out.add(f"{out.cut(step.label, _LABEL)} {out.bar(step.reached / top)} "
                f"{step.reached:>7} {_r(in_order, 8)} {_r(here, 8)}")
    out.note(_("reached: got this far or further; in order: got here through every earlier "
               "stage; open now: open deals in the stage"))
    for line in history_notes(report):
        out.note(line)


def _conversions(out: _Out, report: PipelineReport) -> None:
    out.title(_("Conversion between stages"))
    if not report.counts.deals:
        out.add(_("No deals."))
        return
    out.add(" ".join((" " * 32, _r(_("of all that reached"), 20),
                      _r(_("of those that left"), 20), _r(_("still open"), 13))))
    for s in report.conversions:
        name = out.cut(f"{s.from_label} -> {s.to_label}", 32)
        reached = f"{percent(s.rate)} {s.converted}/{s.reached}"
        left = f"{percent(s.left_rate)} {s.converted}/{s.left}"
        still = f"{s.still_open} ({percent(s.still_open_share, digits=0)})"
        out.add(f"{name} {reached:>20} {left:>20} {still:>13}")
    out.note(_("of those that left: among deals that moved on from the stage or closed; "
               "still open: undecided there"))


def _rates(out: _Out, report: PipelineReport, what: str, max_rows: int) -> None:
    rows: Sequence[RateRow] = (source_rows(report.by_source) if what == "source"
                               else report.by_owner)
    out.title(_("Win rate by source") if what == "source" else _("Win rate by owner"))
    if what in report.left_out:
        out.note(left_out_note(what))
        return
    if not rows:
        out.add(_("No deals."))
        return
    out.add(_("Most closed deals first."))
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
        out.add(" ".join((_l(currency, 10), _r(_("open"), 5), _r(_("won"), 5),
                          _r(_("won value"), 15), _r(_("open pipeline"), 15),
                          _r(_("weighted"), 15))))
        for m in report.forecast:
            if m.currency == currency:
                out.add(f"{_l(period_text(m.period), 10)} {m.open_deals:>5} {m.won_deals:>5} "
                        f"{_figure(m.closed, currency):>15} "
                        f"{_figure(m.pipeline, currency):>15} "
                        f"{_figure(m.weighted, currency):>15}")
        out.add()
    out.note(_("open, won: deals with an amount; overdue: open deals whose expected close "
               "has passed"))
    for t in report.totals:
        out.add(_("{currency}: won {won}; won + commit {commit}; won + commit + best case "
                  "{best_case}").format(currency=t.currency, won=amount(t.closed),
                                        commit=amount(t.commit),
                                        best_case=amount(t.best_case)))


def _figure(value: Decimal, currency: str) -> str:
    return amount(value, currency) if value else "-"




def _flag(t: TopDeal) -> str:
    return ngettext("STALE: {days} day in its stage", "STALE: {days} days in its stage",
                    t.days_in_stage).format(days=t.days_in_stage)


def _top(out: _Out, report: PipelineReport) -> None:
    out.title(_("Top-ranked open deals"))
    if report.scorecard is None:
        out.add(_("No scorecard given: deals were not ranked."))
        return
    if not report.top_deals:
        out.note(unranked_note(report))
        return
    out.add(" ".join(("  #", _r(_("score"), 6), _l(_("grade"), 5), _r(_("known"), 5),
                      _l(_("deal"), 28), _l(_("stage"), 16), _r(_("amount"), 16))))
    for t in report.top_deals:
        out.add(f"{t.rank:>3} {t.score:>6} {out.cut(t.grade, 5)} "
                f"{percent(t.coverage, digits=0):>5} {out.cut(t.name, 28)} "
                f"{out.cut(t.stage_label, 16)} {money(t.amount):>16}")
        out.add(f"{'':10} " + _("id {id}, owner {owner}, account {account}").format(
            id=out.cut(t.opportunity_id, 24, pad=False),
            owner=out.cut(t.owner, 24, pad=False),
            account=out.cut(t.account, 24, pad=False)))
        if t.stale:
            out.add(f"{'':10} {_flag(t)}")
        for reason in t.reasons:
            text = translate_reason(reason.message)
            out.add(f"{'':10} {points(reason.points):>6}  {out.cut(text, 58)}")
    out.add(_("known: share of the scorecard's weight whose data the deal has"))
    if report.counts.unscored:
        out.note(unranked_note(report))


def _stale(out: _Out, report: PipelineReport, max_rows: int) -> None:
    if not report.stale_limits:
        out.title(_("Stale deals ({count})").format(count=_(NA)))
        out.note(_(NO_STALE_LIMITS))
        return
    out.title(_("Stale deals ({count})").format(count=len(report.stale)))
    if report.stale_after is not None:
        out.add(ngettext("Limit: {days} day in a stage, for stages without their own.",
                         "Limit: {days} days in a stage, for stages without their own.",
                         report.stale_after).format(days=report.stale_after))
    if not report.stale:
        out.add(_("No stale deals."))
        return
    out.add(" ".join((_r(_("days"), 5), _r(_("limit"), 5), _l(_("stage"), 14),
                      _l(_("owner"), 12), _l(_("deal"), 18), _l(_("id"), 14),
                      _r(_("amount"), 16))))
    for s in report.stale[:max_rows]:
        limit = "-" if s.max_days is None else str(s.max_days)
        out.add(f"{s.days_in_stage:>5} {limit:>5} {out.cut(s.stage_label, 14)} "
                f"{out.cut(s.owner, 12)} {out.cut(s.name, 18)} "
                f"{out.cut(s.opportunity_id, 14)} {money(s.amount):>16}")
    if len(report.stale) > max_rows:
        out.add(_("... {count} more").format(count=len(report.stale) - max_rows))
