"""The report's after-sales section (售后服务): overdue after-sales tasks, satisfaction,
renewals due in the next 90 days and the top referrers; built once, rendered as text and HTML.
"""

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import attrs

from oppcore import aftersales, analytics
from oppcore._models import Opportunity
from oppcore._money import Money
from oppcore.locale._catalog import _, ngettext
from oppcore.pipeline import Pipeline, StageKind

from ._format import fit, money, percent, printable, width

__all__ = ["AfterSalesSection", "OverdueTask", "RenewalDue", "TopReferrer",
           "aftersales_html", "aftersales_lines", "build_aftersales"]

_DOT = " \u00b7 "

RENEWAL_HORIZON_DAYS = 90
"""Renewals due: contracts ending within this many days of the report's ``now``."""


@attrs.frozen(kw_only=True)
class OverdueTask:
    """An after-sales task past its due date."""

    opportunity_id: str
    name: str
    owner: str | None
    task: str
    due: date
    days_overdue: int


@attrs.frozen(kw_only=True)
class RenewalDue:
    """A won contract ending soon with no renewal opportunity yet."""

    opportunity_id: str
    name: str
    owner: str | None
    contract_end: date
    amount: Money | None


@attrs.frozen(kw_only=True)
class TopReferrer:
    """A referrer and what the deals it referred came to."""

    referrer: str
    deals: int
    won: int
    value_won: Money | None


@attrs.frozen(kw_only=True)
class AfterSalesSection:
    """What the report shows after the win.

    Attributes:
        overdue: Overdue after-sales tasks, most overdue first.
        nps: NPS of the won deals (``None`` without answers), with ``nps_responses``.
        nps_responses: NPS answers counted.
        csat_mean: Mean CSAT answer, with ``csat_responses``.
        csat_responses: CSAT answers counted.
        surveyed_share: Share of won deals surveyed.
        renewals_due: Won contracts ending in the next 90 days, not yet renewed, soonest
            first.
        referrers: Top referrers by value won, then deals (value won in one currency: the
            first, alphabetically, of the referred won deals; others count in ``won``).
    """

    overdue: tuple[OverdueTask, ...]
    nps: float | None
    nps_responses: int
    csat_mean: float | None
    csat_responses: int
    surveyed_share: float | None
    renewals_due: tuple[RenewalDue, ...]
    referrers: tuple[TopReferrer, ...]


def build_aftersales(deals: Sequence[Opportunity], pipeline: Pipeline, now: datetime, *,
                     top: int = 10) -> AfterSalesSection:
    """Build the after-sales section from the report's deals (already checked)."""
    won_ids = {s.id for s in pipeline.stages if s.kind is StageKind.WON}
    overdue = []
    renewals = []
    horizon = now.date() + timedelta(days=RENEWAL_HORIZON_DAYS)
    for o in deals:
        if o.stage_id not in won_ids:
            continue
        overdue += [OverdueTask(opportunity_id=o.id, name=o.name, owner=o.owner,
                                task=t.task.label, due=t.due, days_overdue=t.days_overdue)
                    for t in aftersales.plan(o, pipeline, now=now)
                    if t.status is aftersales.TaskStatus.OVERDUE and t.due is not None
                    and t.days_overdue is not None]
        end = o.contract_end
        if end is not None and o.renewed_by is None and now.date() <= end <= horizon:
            renewals.append(RenewalDue(opportunity_id=o.id, name=o.name, owner=o.owner,
                                       contract_end=end, amount=o.amount))
    overdue.sort(key=lambda t: (-t.days_overdue, t.opportunity_id, t.task))
    renewals.sort(key=lambda r: (r.contract_end, r.opportunity_id))
    score = analytics.satisfaction(deals, pipeline, by=lambda o: None, now=now).overall
    currencies = sorted({o.amount.currency for o in deals
                         if o.amount is not None and o.stage_id in won_ids
                         and o.source is not None and o.source.referrer is not None})
    referred = analytics.referrals([], deals, pipeline,
                                   currency=currencies[0] if currencies else None)
    unit = referred.currency
    referrers = tuple(
        TopReferrer(referrer=r.referrer, deals=r.deals, won=r.won,
                    value_won=Money(amount=r.value_won, currency=unit) if unit else None)
        for r in referred.rows[:top])
    return AfterSalesSection(
        overdue=tuple(overdue), nps=score.nps, nps_responses=score.nps_responses,
        csat_mean=score.csat_mean, csat_responses=score.csat_responses,
        surveyed_share=score.surveyed_share, renewals_due=tuple(renewals),
        referrers=referrers)


def _headline(s: AfterSalesSection, sep: str = "   ") -> str:
    nps = "-" if s.nps is None else f"{s.nps:.0f}"
    csat = "-" if s.csat_mean is None else f"{s.csat_mean:.2f}"
    return sep.join((
        ngettext("NPS {nps} ({count} answer)", "NPS {nps} ({count} answers)",
                 s.nps_responses).format(nps=nps, count=s.nps_responses),
        ngettext("CSAT {csat} ({count} answer)", "CSAT {csat} ({count} answers)",
                 s.csat_responses).format(csat=csat, count=s.csat_responses),
        _("won deals surveyed {share}").format(share=percent(s.surveyed_share))))


def aftersales_lines(s: AfterSalesSection, *, max_rows: int, rule: str = "-",
                     ellipsis: str = "...") -> list[str]:
    """Return the section as text lines (fixed width, user text made printable; a cut
    marked with ``ellipsis``, as in the report's other tables)."""
    def cut(text: str | None, columns: int) -> str:
        return fit(printable(text or "-"), columns, ellipsis=ellipsis)

    title = _("After-sales service")
    out = ["", title, rule * width(title), _headline(s), ""]
    out.append(_("Overdue after-sales tasks ({count})").format(count=len(s.overdue)))
    out += [f"{_days(t.days_overdue):>6} {cut(t.task, 24)} {cut(t.owner, 14)} "
            f"{cut(t.name, 24)}" for t in s.overdue[:max_rows]]
    if len(s.overdue) > max_rows:
        out.append(_("... {count} more").format(count=len(s.overdue) - max_rows))
    out.append("")
    out.append(_("Renewals due in the next {days} days ({count})").format(
        days=RENEWAL_HORIZON_DAYS, count=len(s.renewals_due)))
    out += [f"{r.contract_end.isoformat()} {cut(r.owner, 14)} {cut(r.name, 24)} "
            f"{money(r.amount):>15}" for r in s.renewals_due[:max_rows]]
    if len(s.renewals_due) > max_rows:
        out.append(_("... {count} more").format(count=len(s.renewals_due) - max_rows))
    out.append("")
    out.append(_("Top referrers ({count})").format(count=len(s.referrers)))
    out += [f"{cut(f.referrer, 24)} "
            + ngettext("{deals:>4} deal  {won:>4} won", "{deals:>4} deals {won:>4} won",
                       f.deals).format(deals=f.deals, won=f.won)
            + f" {money(f.value_won):>15}" for f in s.referrers[:max_rows]]
    return [line.rstrip() for line in out]


def _days(days: int) -> str:
    return _("{days}d").format(days=days)


def _t(text: object) -> str:
    return html.escape(printable(str(text)), quote=True)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_t(empty)}</p>'
    th = "".join(f'<th scope="col">{_t(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_t(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def aftersales_html(s: AfterSalesSection, *, max_rows: int) -> str:
    """Return the section as one HTML ``<section>`` (every user value escaped)."""
    overdue = _table((_("days overdue"), _("task"), _("owner"), _("deal"), _("due")),
                     [(str(t.days_overdue), t.task, t.owner or "-", t.name, t.due.isoformat())
                      for t in s.overdue[:max_rows]], _("No overdue after-sales tasks."))
    renewals = _table((_("contract ends"), _("owner"), _("deal"), _("amount")),
                      [(r.contract_end.isoformat(), r.owner or "-", r.name, money(r.amount))
                       for r in s.renewals_due[:max_rows]],
                      _("No contract ends in the next {days} days.").format(
                          days=RENEWAL_HORIZON_DAYS))
    referrers = _table((_("referrer"), _("deals"), _("won"), _("value won")),
                       [(f.referrer, str(f.deals), str(f.won), money(f.value_won))
                        for f in s.referrers[:max_rows]], _("No referred deals."))
    overdue_h = _("Overdue after-sales tasks ({count})").format(count=len(s.overdue))
    renewals_h = _("Renewals due in the next {days} days ({count})").format(
        days=RENEWAL_HORIZON_DAYS, count=len(s.renewals_due))
    title, referrers_h = _("After-sales service"), _("Top referrers")
    return ('<section id="aftersales" aria-labelledby="aftersales-h">'
            f'<h2 id="aftersales-h">{_t(title)}</h2>'
            f'<p class="sub">{_t(_headline(s, _DOT))}</p>'
            f"<h3>{_t(overdue_h)}</h3>{overdue}"
            f"<h3>{_t(renewals_h)}</h3>{renewals}"
            f"<h3>{_t(referrers_h)}</h3>{referrers}</section>")
