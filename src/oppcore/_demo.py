"""``oppcore demo``: build a few leads and deals and show what oppcore guarantees."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TextIO

from . import serde
from ._errors import CurrencyMismatchError, ValidationError
from ._models import Account, Channel, Contact, Lead, Opportunity, Source
from ._money import Money
from ._qualification import Budget, Qualification, Urgency, UrgencyLevel
from ._records import Quote, QuoteLine

_TZ = timezone(timedelta(hours=8))


def run_demo(*, db: str | None, out: TextIO) -> int:
    """Print a short tour of the models, exact money and the JSON wire format."""
    now = datetime(2026, 11, 27, 9, 30, tzinfo=_TZ)
    say = out.write
    say("oppcore demo\n============\n\n")

    leads = [
        Lead(id="lead-1", name="Li Lei", company="Acme Robotics", email="li.lei@acme.cn",
             source=Source(channel=Channel.EVENT, detail="Industrial Expo 2026"),
             captured_at=now),
        Lead(id="lead-2", name="Anna Berg", company="Nordlicht GmbH", email="anna@nordlicht.de",
             source=Source(channel=Channel.REFERRAL, detail="customer referral"),
             captured_at=now + timedelta(hours=2)),
        Lead(id="lead-3", name="Sam Ortiz", company="Pacific Foods", email="sam@pacfoods.com",
             source=Source(channel=Channel.ONLINE, detail="SEM campaign Q4"),
             captured_at=now + timedelta(hours=5)),
    ]
    say(f"Captured {len(leads)} leads:\n")
    for lead in leads:
        channel = lead.source.channel.value if lead.source else "?"
        say(f"  {lead.id:7} {lead.name:10} {lead.company or '':15} via {channel}\n")

    price = Money.of("12999.00", "CNY")
    quote = Quote(id="Q-2026-001", currency="CNY", lines=(
        QuoteLine(product="Robot arm R2", quantity=3, unit_price=price,
                  discount=Decimal("0.05"), tax_rate=Decimal("0.13")),
        QuoteLine(product="Installation", quantity=1,
                  unit_price=Money.of("4500", "CNY"), tax_rate=Decimal("0.06")),
    ))
    deal = Opportunity(
        id="opp-1", name="Acme Robotics: 3 arms", pipeline_id="standard",
        stage_id="solution", created_at=now,
        account=Account(id="acc-acme", name="Acme Robotics", industry="manufacturing"),
        contacts=(Contact(id="c-1", name="Li Lei", email="li.lei@acme.cn"),),
        owner="rep-zhang", amount=quote.total, expected_close=date(2026, 12, 20),
        source=leads[0].source, quotes=(quote,),
        qualification=Qualification(
            urgency=Urgency(level=UrgencyLevel.HIGH, deadline=date(2027, 1, 15)),
            budget=Budget(amount=Money.of("130000", "CNY"), confirmed=True)),
    )
    say("\nExact money on a quote (half-up per line, totals are sums of lines):\n")
    say(f"  subtotal {quote.subtotal}\n  discount {quote.discount}\n"
        f"  tax      {quote.tax}\n  total    {quote.total}\n")
    try:
        _ = price + Money.of("1", "USD")
    except CurrencyMismatchError as exc:
        say(f"  mixing currencies is refused: {exc}\n")
    try:
        Money(amount=0.1, currency="CNY")  # type: ignore[arg-type]
    except ValidationError as exc:
        say(f"  floats are refused: {exc}\n")

    moved = deal.evolve(stage_id="quote_contract", updated_at=now + timedelta(days=3))
    say(f"\nValues are immutable: moved copy is in {moved.stage_id!r}, "
        f"the original is still in {deal.stage_id!r}\n")

    text = serde.dumps(deal)
    back = serde.loads(text, Opportunity)
    say(f"\nJSON round trip: {len(text)} characters, identical after reading back: "
        f"{back == deal}\n")
    say(f"  amount on the wire: {serde.unstructure(deal)['amount']}\n")
    say(f"  created_at on the wire: {serde.unstructure(deal)['created_at']}\n")
    if db:
        say(f"\n(--db {db}: the store-backed demo arrives with the storage layer)\n")
    return 0
