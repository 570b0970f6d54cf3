"""Walk one deal from a trade-show lead to a won deal, with a refused move on the way.

Run: python examples/lead_to_won.py
"""

from datetime import date, datetime, timedelta, timezone

from oppcore import (
    Activity,
    ActivityKind,
    Budget,
    Channel,
    Lead,
    Money,
    Pipeline,
    Qualification,
    Quote,
    QuoteLine,
    QuoteStatus,
    Source,
    TransitionError,
    convert_lead,
    mark_contacted,
    qualify,
    replay,
    time_in_stage,
)

start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def day(n: int) -> datetime:
    return start + timedelta(days=n)


pipeline = Pipeline.template("standard")

# 1. A lead from a trade show is contacted, qualified and converted.
lead = Lead(id="L-100", name="Li Wei", captured_at=start, company="Acme Pumps",
            email="li.wei@acme.test", owner="zhang",
            source=Source(channel=Channel.EVENT, detail="Industrial Expo 2026"))
lead = mark_contacted(lead, at=day(1))
lead = qualify(lead, at=day(3), qualification=Qualification(
    budget=Budget(amount=Money(amount=120_000, currency="CNY"), confirmed=True)))
conversion = convert_lead(lead, pipeline=pipeline, at=day(3), by="zhang")
deal = conversion.opportunity
print(f"converted {conversion.lead.id} -> {deal.id} in stage {deal.stage_id!r}")

# 2. Needs analysis.
deal = pipeline.advance(deal, "needs_analysis", at=day(4), by="zhang")

# 3. Trying to jump to "solution" without a needs-analysis session is refused, explained.
try:
    pipeline.advance(deal, "solution", at=day(5), by="zhang")
except TransitionError as refused:
    print("refused:")
    for violation in refused.violations:
        print(f"  [{violation.code}] {violation.message}")

# 4. Log the session, then the move goes through.
deal = deal.evolve(activities=(Activity(
    id="A-1", kind=ActivityKind.NEEDS_ANALYSIS, at=day(6), by="zhang",
    summary="Requirements workshop with plant manager"),))
deal = pipeline.advance(deal, "solution", at=day(6), by="zhang")

# 5. Amount, close date and a sent quote open the way to quote & contract.
quote = Quote(id="Q-7", currency="CNY", status=QuoteStatus.SENT, sent_at=day(12), lines=(
    QuoteLine(product="Pump controller", quantity=4,
              unit_price=Money(amount=25_000, currency="CNY")),))
deal = deal.evolve(amount=quote.total, expected_close=date(2026, 4, 30), quotes=(quote,))
deal = pipeline.advance(deal, "quote_contract", at=day(12), by="zhang")
deal = pipeline.mark_won(deal, at=day(20), by="zhang", reason="contract signed")

print(f"won: {deal.name} for {deal.amount}, probability {deal.probability.value:.0%}"
      if deal.probability else "won")
print("path:", " -> ".join(change.to_stage for change in deal.stage_history))
print("replay ends in:", replay(pipeline, deal.stage_history))
for stage_id, spent in time_in_stage(deal, now=day(20)).items():
    print(f"  {stage_id:<15} {spent.days} days")
print("next after-sales follow-up:", pipeline.next_follow_up(deal, now=day(20)).date())
