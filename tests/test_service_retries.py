"""OpportunityService retry paths: every use case survives a concurrent writer, loses nothing."""

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import pytest

from oppcore import (
    Activity,
    ActivityKind,
    Lead,
    LeadStatus,
    NotFoundError,
    Opportunity,
    Pipeline,
    VersionConflictError,
)
from oppcore._service import OpportunityService
from oppcore.scoring import BudgetRule, Scorecard, UrgencyRule
from oppcore.storage import InMemoryStore, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
CARD = Scorecard(rules=(UrgencyRule(), BudgetRule()), weights={"urgency": 50, "budget": 50})


def qualified_lead(lead_id: str, **fields: object) -> Lead:
    base: dict[str, object] = {
        "id": lead_id, "name": "Wang Li", "captured_at": T0 - timedelta(days=3),
        "email": f"{lead_id.lower()}@example.cn", "company": "Hangzhou Tea Co.",
        "owner": "ann", "status": LeadStatus.QUALIFIED}
    base.update(fields)
    return Lead(**base)  # type: ignore[arg-type]


class Interfering:
    """A clock that lets another writer tag a record the first ``times`` it is read."""

    def __init__(self, store: Store, kind: type[Lead] | type[Opportunity], record_id: str,
                 times: int) -> None:
        self.store, self.kind, self.record_id, self.times = store, kind, record_id, times
        self.now = T0
        self.calls = 0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        self.calls += 1
        if self.times > 0:
            self.times -= 1
            current = self.store.get(self.kind, self.record_id)  # type: ignore[type-var]
            self.store.save(current.evolve(tags=current.tags | {f"t{self.times}"}))
        return self.now


def make(store: InMemoryStore, clock: Callable[[], datetime], retries: int = 3
         ) -> OpportunityService:
    return OpportunityService(store, pipelines=Pipeline.template("standard"), clock=clock,
                              scorecard=CARD, retries=retries)


@pytest.fixture
def store() -> InMemoryStore:
    s = InMemoryStore()
    s.add(qualified_lead("L1"))
    return s


def converted(store: InMemoryStore) -> None:
    ticks = iter(T0 - timedelta(hours=1) + timedelta(seconds=i) for i in range(1000))
    make(store, lambda: next(ticks)).convert("L1", by="ann", opportunity_id="D1")


def test_convert_retries_after_the_lead_changed_and_keeps_the_change(
    store: InMemoryStore,
) -> None:
    clock = Interfering(store, Lead, "L1", times=2)
    events = make(store, clock).convert("L1", by="ann", opportunity_id="D1")
    assert [type(e).__name__ for e in events] == ["OpportunityCreated", "LeadConverted"]
    lead = store.get(Lead, "L1")
    assert lead.status is LeadStatus.CONVERTED
    assert lead.tags == {"t0", "t1"}
    assert [e.action for e in store.audit_trail(Lead, "L1")] == ["convert"]
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create"]
    assert clock.calls == 3


def test_rescore_retries_and_keeps_the_concurrent_change(store: InMemoryStore) -> None:
    converted(store)
    opp = store.get(Opportunity, "D1")
    store.save(opp.evolve(expected_close=date(2026, 4, 1)))
    events = make(store, Interfering(store, Opportunity, "D1", times=1)).rescore("D1", by="ann")
    assert [type(e).__name__ for e in events] == ["Rescored"]
    final = store.get(Opportunity, "D1")
    assert final.tags == {"t0"}
    assert final.custom["score"] == str(events[0].score.total)  # type: ignore[union-attr]
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create", "rescore"]


def test_log_activity_retries_and_logs_once(store: InMemoryStore) -> None:
    converted(store)
    call = Activity(id="A1", kind=ActivityKind.CALL, at=T0, by="ann", summary="intro")
    service = make(store, Interfering(store, Opportunity, "D1", times=2))
    assert [type(e).__name__ for e in service.log_activity("D1", call, by="ann")] == [
        "ActivityLogged"]
    final = store.get(Opportunity, "D1")
    assert [a.id for a in final.activities] == ["A1"]
    assert final.tags == {"t0", "t1"}
    assert service.log_activity("D1", call, by="ann") == ()


def test_merge_retries_after_the_survivor_changed(store: InMemoryStore) -> None:
    store.add(qualified_lead("L2", email="other@example.cn", phone="+86 138 0013 8000",
                             captured_at=T0 - timedelta(days=1)))
    service = make(store, Interfering(store, Lead, "L1", times=1))
    events = service.merge_duplicates(Lead, "L1", "L2", by="ann")
    assert [(e.survivor_id, e.merged_ids) for e in events] == [("L1", ("L2",))]  # type: ignore[union-attr]
    survivor = store.get(Lead, "L1")
    assert "t0" in survivor.tags
    assert survivor.phone == "+86 138 0013 8000"
    with pytest.raises(NotFoundError):
        store.get(Lead, "L2")
    assert [e.action for e in store.audit_trail(Lead, "L1")] == ["merge"]


def test_retries_are_bounded_and_a_lost_race_writes_nothing(store: InMemoryStore) -> None:
    converted(store)
    feed = store.changes()
    clock = Interfering(store, Opportunity, "D1", times=10)
    with pytest.raises(VersionConflictError):
        make(store, clock, retries=2).move_stage("D1", "needs_analysis", by="ann")
    assert clock.calls == 3
    final = store.get(Opportunity, "D1")
    assert final.stage_id == "identification"
    # only the interfering writer's three saves were written, none by the service
    assert len(store.changes()) == len(feed) + 3
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create"]


def test_every_write_the_service_makes_is_audited_with_who_when_and_what(
    store: InMemoryStore,
) -> None:
    store.add(qualified_lead("L2", email="dup@example.cn", captured_at=T0 - timedelta(days=1)))
    store.add(qualified_lead("L3", email="l3@example.cn"))
    ticks = iter(T0 + timedelta(minutes=i) for i in range(1000))
    service = make(store, lambda: next(ticks))
    start = len(store.changes())
    service.convert("L1", by="ann", opportunity_id="D1")
    service.move_stage("D1", "needs_analysis", by="ann")
    service.log_activity("D1", Activity(id="A1", kind=ActivityKind.CALL, at=T0, by="ann",
                                        summary="intro"), by="ann")
    service.rescore("D1", by="ann")
    service.mark_lost("D1", by="ann", reason="price")
    service.convert("L3", by="bob", opportunity_id="D3")
    service.mark_lost("D3", by="bob", reason="no_budget")
    service.merge_duplicates(Lead, "L1", "L2", by="ann")
    feed = store.changes(after=start)
    assert len(feed) == 11
    kinds = {"lead": Lead, "opportunity": Opportunity}
    for record in {(c.kind, c.record_id) for c in feed}:
        written = [c for c in feed if (c.kind, c.record_id) == record]
        trail = store.audit_trail(kinds[record[0]], record[1])
        assert len(trail) == len(written), record  # one entry per write, none missing
        for entry in trail:
            assert entry.by in {"ann", "bob"}
            assert entry.at.utcoffset() is not None
    move = next(e for e in store.audit_trail(Opportunity, "D1") if e.action == "move")
    assert ("stage_id", "identification", "needs_analysis") in [
        (c.field, c.old, c.new) for c in move.changes]
