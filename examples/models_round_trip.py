"""Build a lead and an opportunity, then round-trip them through JSON.

Run: python examples/models_round_trip.py
"""

import json
from datetime import date, datetime, timedelta, timezone

from oppcore import (
    Budget,
    Channel,
    Lead,
    Money,
    Opportunity,
    Qualification,
    Source,
    Urgency,
    UrgencyLevel,
    serde,
)

shanghai = timezone(timedelta(hours=8))
captured = datetime(2026, 11, 27, 10, 15, tzinfo=shanghai)

lead = Lead(
    id="lead-42",
    name="Wang Fang",
    company="Hangzhou Tea Co., Ltd.",
    email="wang.fang@example.cn",
    source=Source(channel=Channel.EVENT, detail="Tea Expo 2026"),
    captured_at=captured,
)

deal = Opportunity(
    id="opp-42",
    name="Hangzhou Tea: packaging line",
    pipeline_id="standard",
    stage_id="needs_analysis",
    created_at=captured + timedelta(days=2),
    owner="rep-li",
    amount=Money.of("880000.00", "CNY"),
    expected_close=date(2027, 2, 28),
    source=lead.source,
    lead_id=lead.id,
    qualification=Qualification(
        urgency=Urgency(level=UrgencyLevel.HIGH, deadline=date(2027, 3, 31)),
        budget=Budget(amount=Money.of("1000000", "CNY"), confirmed=False),
    ),
    tags=frozenset({"packaging"}),
    custom={"plant": "Xihu"},
)

document = serde.document(leads=[lead], opportunities=[deal])
text = json.dumps(document, ensure_ascii=False)  # write it to a file, send it to another system
leads, deals = serde.read_document(json.loads(text))

print(f"schema_version: {document['schema_version']}")
print(f"lead round trip equal: {leads == (lead,)}")
print(f"deal round trip equal: {deals == (deal,)}")
print(f"amount on the wire: {document['opportunities'][0]['amount']}")
print(f"expected close: {deals[0].expected_close}")
