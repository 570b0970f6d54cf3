"""The demo's after-the-win step: contracts, the after-sales plan, surveys, the referral
programme (推荐计划) and renewals, all through the service.

It draws from its own seeded random generator, so the steps before it print the same as
they did before it existed.
"""

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, TextIO

from oppcore._errors import TransitionError
from oppcore._models import Lead, Opportunity
from oppcore._money import Money
from oppcore._parties import Channel, Source
from oppcore._records import Activity, ActivityKind, Quote, QuoteLine, QuoteStatus, SurveyScale
from oppcore._service import OpportunityService
from oppcore.locale._catalog import _, active
from oppcore.pipeline import stage_entered_at
from oppcore.storage import SQLiteStore, query_all

__all__ = ["after_the_win"]

SEED = 2026 + 18
_NPS_WEIGHTS = (1, 1, 1, 1, 2, 2, 3, 6, 8, 12, 10)  # answers 0..10: most customers are happy


class _Clock(Protocol):
    """What the demo's clock offers: a settable ``now``."""

    now: datetime


def after_the_win(service: OpportunityService, store: SQLiteStore, clock: _Clock,
                  report_at: datetime, out: TextIO) -> None:
    """Run the after-sales plan of every won deal up to ``report_at``; print a summary."""
    rng = random.Random(SEED)
    won = sorted((d for d in query_all(store, Opportunity) if d.stage_id == "won"),
                 key=lambda d: d.id)
    surveys = asks = referred = renewed = renewals_won = 0
    for deal in won:
        won_at = stage_entered_at(deal)
        if won_at is None:
            continue
        owner = deal.owner or "rep-zhang"

        def at(days: float, won_at: datetime = won_at) -> datetime | None:
            """The moment ``days`` after the win, or None when it is after the report."""
            moment = won_at + timedelta(days=days)
            return moment if moment <= report_at else None

        # Contract dates, then the plan: hand-over at once, acceptance after two weeks.
        clock.now = won_at + timedelta(hours=2)
        start = won_at.date() + timedelta(days=7)
        term = rng.choice((90, 180, 365))
        service.edit(Opportunity, deal.id, {"contract_start": start,
                                            "contract_end": start + timedelta(days=term)},
                     by=owner)
        service.complete_task(deal.id, "handover", activity_id=f"{deal.id}-handover",
                              by=owner, kind=ActivityKind.MEETING,
                              summary="Hand-over meeting with delivery")
        when = at(rng.randrange(10, 25))
        if when is not None and rng.random() < 0.7:
            clock.now = when
            service.complete_task(deal.id, "acceptance", activity_id=f"{deal.id}-accept",
                                  by=owner, kind=ActivityKind.VISIT, summary="Acceptance check")
        # The satisfaction survey (客户满意度调查), and the referral ask after a good one.
        when = at(rng.randrange(25, 45))
        if when is not None and rng.random() < 0.65:
            clock.now = when
            score = rng.choices(range(11), weights=_NPS_WEIGHTS)[0]
            service.log_survey(deal.id, activity_id=f"{deal.id}-nps", scale=SurveyScale.NPS,
                               score=score, by=owner)
            surveys += 1
            ask = at(rng.randrange(32, 60))
            if score >= 9 and ask is not None and ask > when and deal.account is not None:
                clock.now = ask
                service.complete_task(deal.id, "referral_ask", activity_id=f"{deal.id}-ask",
                                      by=owner, kind=ActivityKind.CALL,
                                      summary="Asked for an introduction")
                asks += 1
                referred += _referrals(service, clock, rng, deal, owner, report_at)
        # The renewal: talk 60 days before the contract ends, then renew.
        end_talk = datetime.combine(start + timedelta(days=term - 60), won_at.timetz())
        if end_talk <= report_at:
            clock.now = max(end_talk, won_at + timedelta(days=1))
            service.complete_task(deal.id, "renewal_talk", activity_id=f"{deal.id}-talk",
                                  by=owner, kind=ActivityKind.MEETING,
                                  summary="Renewal conversation")
            uplift = Decimal(rng.choice(("1", "1", "1.1", "1.25")))
            amount = None if deal.amount is None else Money(
                amount=deal.amount.amount * uplift, currency=deal.amount.currency).quantize()
            service.renew(deal.id, by=owner, amount=amount, locale=active())
            renewed += 1
            renewal = store.get(Opportunity, f"{deal.id}-renewal")
            if rng.random() < 0.7 and _walk_to_won(service, clock, rng, renewal, deal,
                                                   owner, report_at):
                renewals_won += 1
    out.write("\n   " + _("After the win (售后服务): {won} won deals got contract dates and "
                         "their after-sales plan; {surveys} NPS survey(s) logged, {asks} "
                         "referral ask(s) after a good one.").format(
                             won=len(won), surveys=surveys, asks=asks) + "\n")
    out.write("   " + _("Referral programme (推荐计划): {count} referred lead(s) captured."
                        ).format(count=referred) + "\n")
    out.write("   " + _("Renewals: {count} renewal opportunity(ies) opened 60 days before the "
                        "contract ends, {won} already won.").format(count=renewed,
                                                                    won=renewals_won) + "\n")


def _referrals(service: OpportunityService, clock: _Clock, rng: random.Random,
               deal: Opportunity, owner: str, report_at: datetime) -> int:
    """A happy customer introduces one or two companies: referred leads, some converted."""
    assert deal.account is not None  # checked by the caller
    ask = clock.now
    made = 0
    for k in range(rng.choice((1, 1, 2))):
        captured = ask + timedelta(days=rng.randrange(2, 10))
        if captured > report_at:
            break
        lead = Lead(id=f"lead-ref-{deal.id}-{k}", name=f"Referred by {deal.account.name}",
                    company=f"{deal.account.name} partner {k + 1}", captured_at=captured,
                    source=Source(channel=Channel.REFERRAL, detail="推荐计划 referral",
                                  referrer=deal.account.id),
                    owner=owner, region="APAC")
        clock.now = captured
        service.create(lead, by=owner)
        made += 1
        converted_at = captured + timedelta(days=3)
        if rng.random() < 0.6 and converted_at <= report_at:
            clock.now = converted_at
            service.mark_contacted(lead.id, by=owner)
            service.qualify(lead.id, by=owner, qualification=deal.qualification)
            service.convert(lead.id, by=owner, amount=deal.amount,
                            expected_close=(converted_at + timedelta(days=60)).date())
    return made


def _walk_to_won(service: OpportunityService, clock: _Clock, rng: random.Random,
                 renewal: Opportunity, original: Opportunity, owner: str,
                 report_at: datetime) -> bool:
    """Take a renewal through the standard process to won; False if time runs out."""
    steps: list[Callable[[], object]] = [
        lambda: service.move_stage(renewal.id, "needs_analysis", by=owner),
        lambda: service.log_activity(renewal.id, Activity(
            id=f"{renewal.id}-na", kind=ActivityKind.NEEDS_ANALYSIS, at=clock.now, by=owner,
            summary="Renewal review: usage and new needs"), by=owner),
        lambda: service.edit(Opportunity, renewal.id,
                             {"qualification": original.qualification}, by=owner),
        lambda: service.move_stage(renewal.id, "solution", by=owner),
        lambda: service.edit(Opportunity, renewal.id, {"quotes": (_renewal_quote(
            renewal, clock.now),)}, by=owner),
        lambda: service.move_stage(renewal.id, "quote_contract", by=owner),
        lambda: service.mark_won(renewal.id, by=owner),
    ]
    for step in steps:
        clock.now += timedelta(days=rng.randrange(1, 6))
        if clock.now > report_at:
            return False
        try:
            step()
        except TransitionError:
            return False  # the process refuses (no budget known): the renewal stalls
    return True


def _renewal_quote(renewal: Opportunity, at: datetime) -> Quote:
    price = renewal.amount or Money.of("1000", "CNY")
    return Quote(id=f"Q-{renewal.id}", currency=price.currency, status=QuoteStatus.SENT,
                 sent_at=at, valid_until=(at + timedelta(days=30)).date(),
                 lines=(QuoteLine(product="Renewal (year)", quantity=Decimal(1),
                                  unit_price=price),))
