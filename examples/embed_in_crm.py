"""Embed oppcore in a CRM: your pipeline, a store, a policy, the service layer.

Run: python examples/embed_in_crm.py

A host application keeps its own users, screens and database; oppcore supplies the rules.
This script is what a host's "deal" module does, end to end, with the in-memory store (swap
in ``SQLiteStore("crm.db")`` or your own store that passes ``oppcore.testing``'s kit).
"""

from datetime import datetime, timedelta, timezone

from oppcore import (
    Activity,
    ActivityKind,
    Budget,
    InMemoryStore,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    OpportunityService,
    OwnerTeamPolicy,
    PermissionDeniedError,
    Pipeline,
    Qualification,
    Scorecard,
    TransitionError,
    VersionConflictError,
)

# 1. Your sales process, as data (a TOML file your sales-operations team edits).
PROCESS = """
id = "hardware"
label = "Hardware sales"

[[stages]]
id = "qualify"
label = "Qualify"
probability = 0.2
follow_up = { max_days = 14, cadence = "every 7 days" }

[[stages]]
id = "proposal"
label = "Proposal"
probability = 0.5
forecast_category = "best_case"
requirements = [
  { type = "qualification", parts = ["budget"] },
  { type = "activity", kind = "demo" },
]

[[stages]]
id = "won"
label = "Won"
kind = "won"
probability = 1.0
forecast_category = "closed"

[[stages]]
id = "lost"
label = "Lost"
kind = "lost"
probability = 0.0
forecast_category = "omitted"
requirements = [{ type = "lost_reason", reasons = ["price", "competitor", "timing"] }]
"""
pipeline = Pipeline.from_toml(PROCESS)


# 2. A clock (your application's; tests pass a fixed one) and a store.
class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=timezone(timedelta(hours=8)))

    def __call__(self) -> datetime:
        return self.now


clock = Clock()
store = InMemoryStore()

# 3. Who may do what: reps work their own records, managers everything.
policy = OwnerTeamPolicy(managers=frozenset({"manager-wu"}))
service = OpportunityService(store=store, pipelines=pipeline, clock=clock,
                             scorecard=Scorecard.default(), policy=policy)

# 4. A qualified lead arrives from your web form; the service stores it (audited), then
#    converts it. Every write below goes through the service, as your screens' should.
service.create(Lead(id="lead-7", name="Zhao Min", company="Ningbo Pumps Co., Ltd.",
                    email="zhao.min@nbpumps.cn", owner="rep-chen", captured_at=clock.now,
                    status=LeadStatus.QUALIFIED,
                    qualification=Qualification(budget=Budget(amount=Money.of("300000",
                                                                              "CNY")))),
               by="rep-chen")
events = service.convert("lead-7", by="rep-chen", opportunity_id="deal-7",
                         amount=Money.of("280000", "CNY"))
print("events:", [type(e).__name__ for e in events])

# 5. The rep tries to jump ahead: refused, with every reason.
try:
    service.move_stage("deal-7", "proposal", by="rep-chen")
except TransitionError as exc:
    print("refused:", [v.code for v in exc.violations])

# 6. The rep logs a demo; now the move is allowed and recorded.
clock.now += timedelta(days=3)
service.log_activity("deal-7", Activity(id="act-1", kind=ActivityKind.DEMO, at=clock.now,
                                        by="rep-chen", summary="On-site demo"), by="rep-chen")
service.move_stage("deal-7", "proposal", by="rep-chen")
deal = store.get(Opportunity, "deal-7")
print("stage:", deal.stage_id, "probability:", deal.probability.value if deal.probability
      else None, "history:", [h.to_stage for h in deal.stage_history])

# 7. Another rep may not touch it; nothing changes.
try:
    service.move_stage("deal-7", "lost", by="rep-li", reason="price")
except PermissionDeniedError as exc:
    print("denied:", exc)

# 8. Two screens edit the same deal. The first edits through the service; the second
#    holds a stale copy and saves it straight to the store: refused, nothing is lost.
#    (Through the service the second edit would have been reloaded and retried.)
stale = store.get(Opportunity, "deal-7")
service.edit(Opportunity, "deal-7", {"name": "Ningbo Pumps: 40 units"}, by="rep-chen")
try:
    store.save(stale.evolve(name="Ningbo Pumps: 45 units"))
except VersionConflictError as exc:
    print("conflict:", exc.expected, "->", exc.actual)

# 9. Rescore, then the audit trail says who changed what.
service.rescore("deal-7", by="manager-wu")
for entry in store.audit_trail(Opportunity, "deal-7"):
    print("audit:", entry.action, "by", entry.by, [c.field for c in entry.changes][:3])
