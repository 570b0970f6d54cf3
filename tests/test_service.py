"""OpportunityService: use cases, events, audit, policy refusals, retries, idempotency."""

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone

import pytest

from oppcore import (
    Activity,
    ActivityKind,
    ConfigError,
    Lead,
    LeadStatus,
    NotFoundError,
    Opportunity,
    OwnerTeamPolicy,
    PermissionDeniedError,
    Pipeline,
    TransitionError,
    ValidationError,
    VersionConflictError,
)
from oppcore._service import OpportunityService
from oppcore.scoring import BudgetRule, Scorecard, UrgencyRule
from oppcore.storage import InMemoryStore, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def ticking(start: datetime = T0) -> Callable[[], datetime]:
    moments: Iterator[datetime] = (start + timedelta(minutes=i) for i in range(10**6))
    return lambda: next(moments)


def qualified_lead(lead_id: str = "L1", **fields: object) -> Lead:
    base: dict[str, object] = {
        "id": lead_id, "name": "Wang Li", "captured_at": T0 - timedelta(days=3),
        "email": f"{lead_id.lower()}@example.cn", "company": "Hangzhou Tea Co.",
        "owner": "ann", "status": LeadStatus.QUALIFIED}
    base.update(fields)
    return Lead(**base)  # type: ignore[arg-type]


def names(events: tuple[object, ...]) -> list[str]:
    return [type(e).__name__ for e in events]


@pytest.fixture
def store() -> InMemoryStore:
    s = InMemoryStore()
    s.add(qualified_lead())
    return s


@pytest.fixture
def service(store: InMemoryStore) -> OpportunityService:
    card = Scorecard(rules=(UrgencyRule(), BudgetRule()), weights={"urgency": 50, "budget": 50})
    pipelines = [Pipeline.template("standard"), Pipeline.template("simple")]
    return OpportunityService(store, pipelines=pipelines, clock=ticking(), scorecard=card)


def test_convert_saves_lead_and_opportunity_together_and_is_idempotent(
    store: InMemoryStore, service: OpportunityService
) -> None:
    events = service.convert("L1", by="ann", opportunity_id="D1")
    assert names(events) == ["OpportunityCreated", "LeadConverted"]
    opp = store.get(Opportunity, "D1")
    assert (opp.stage_id, opp.lead_id, opp.version) == ("identification", "L1", 1)
    lead = store.get(Lead, "L1")
    assert (lead.status, lead.opportunity_id, lead.version) == (LeadStatus.CONVERTED, "D1", 2)
    assert [e.action for e in store.audit_trail(Lead, "L1")] == ["convert"]
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create"]
    assert service.convert("L1", by="ann", opportunity_id="D1") == ()
    assert len(store.changes()) == 3


def test_move_stage_returns_stage_changed_and_audits_old_and_new(
    store: InMemoryStore, service: OpportunityService
) -> None:
    service.convert("L1", by="ann", opportunity_id="D1")
    events = service.move_stage("D1", "needs_analysis", by="ann")
    assert names(events) == ["StageChanged"]
    assert (events[0].from_stage, events[0].to_stage) == ("identification", "needs_analysis")
    stored = store.get(Opportunity, "D1")
    assert (stored.stage_id, stored.version) == ("needs_analysis", 2)
    move = store.audit_trail(Opportunity, "D1")[-1]
    assert (move.action, move.by) == ("move", "ann")
    assert ("stage_id", "identification", "needs_analysis") in [
        (c.field, c.old, c.new) for c in move.changes]
    assert service.move_stage("D1", "needs_analysis", by="ann") == ()  # idempotent


def test_refused_transition_changes_nothing(
    store: InMemoryStore, service: OpportunityService
) -> None:
    service.convert("L1", by="ann", opportunity_id="D1")
    before = store.get(Opportunity, "D1")
    trail = store.audit_trail(Opportunity, "D1")
    with pytest.raises(TransitionError) as info:
        service.move_stage("D1", "quote_contract", by="ann")
    assert info.value.violations
    assert store.get(Opportunity, "D1") == before
    assert store.audit_trail(Opportunity, "D1") == trail


def test_permission_denied_changes_nothing_not_even_the_audit_trail() -> None:
    store = InMemoryStore()
    store.add(qualified_lead())
    policy = OwnerTeamPolicy(teams={"ann": "east", "bob": "east", "eve": "west"},
                             managers=frozenset({"boss"}))
    service = OpportunityService(store, pipelines=Pipeline.template("standard"),
                                 clock=ticking(), policy=policy)
    with pytest.raises(PermissionDeniedError) as info:
        service.convert("L1", by="eve")
    assert (info.value.actor, info.value.action, info.value.record_id) == ("eve", "edit", "L1")
    service.convert("L1", by="ann", opportunity_id="D1")
    feed, trail = store.changes(), store.audit_trail(Opportunity, "D1")
    for attempt in (lambda: service.move_stage("D1", "needs_analysis", by="bob"),
                    lambda: service.mark_lost("D1", by="eve", reason="price"),
                    lambda: service.get("D1", by="eve"),
                    lambda: service.merge_duplicates(Opportunity, "D1", "D1x", by="bob")):
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            attempt()
    assert service.get("D1", by="bob").id == "D1"  # team mates may read
    assert store.changes() == feed
    assert store.audit_trail(Opportunity, "D1") == trail
    assert names(service.move_stage("D1", "needs_analysis", by="boss")) == ["StageChanged"]


def test_log_activity_is_idempotent_by_activity_id(
    store: InMemoryStore, service: OpportunityService
) -> None:
    service.convert("L1", by="ann", opportunity_id="D1")
    call = Activity(id="A1", kind=ActivityKind.CALL, at=T0, by="ann", summary="intro call")
    assert names(service.log_activity("D1", call, by="ann")) == ["ActivityLogged"]
    assert service.log_activity("D1", call, by="ann") == ()
    assert [a.id for a in store.get(Opportunity, "D1").activities] == ["A1"]
    with pytest.raises(ValidationError):
        service.log_activity("D1", "a call", by="ann")  # type: ignore[arg-type]


def test_mark_lost_and_mark_won_emit_closing_events(
    store: InMemoryStore, service: OpportunityService
) -> None:
    store.add(qualified_lead("L2", email="l2@example.cn"))
    service.convert("L1", by="ann", opportunity_id="D1")
    service.convert("L2", by="ann", opportunity_id="D2", pipeline_id="simple")
    service.move_stage("D2", "engaging", by="ann")
    lost = service.mark_lost("D1", by="ann", reason="price")
    assert names(lost) == ["StageChanged", "OpportunityLost"]
    assert lost[1].reason == "price"
    assert store.get(Opportunity, "D1").lost_reason == "price"
    assert service.mark_lost("D1", by="ann", reason="price") == ()
    won = service.mark_won("D2", by="ann")
    assert names(won) == ["StageChanged", "OpportunityWon"]
    assert store.audit_trail(Opportunity, "D2")[-1].action == "win"
    assert service.mark_won("D2", by="ann") == ()


def test_rescore_keeps_the_result_and_is_idempotent(
    store: InMemoryStore, service: OpportunityService
) -> None:
    service.convert("L1", by="ann", opportunity_id="D1")
    opp = store.get(Opportunity, "D1")
    store.save(opp.evolve(expected_close=date(2026, 4, 1)))
    events = service.rescore("D1", by="ann")
    assert names(events) == ["Rescored"]
    stored = store.get(Opportunity, "D1")
    assert stored.custom["score"] == str(events[0].score.total)
    assert stored.custom["score_grade"] == events[0].score.grade
    # the clock moved on, but the urgency rule works in days: same score, nothing written
    assert service.rescore("D1", by="ann") == ()
    no_card = OpportunityService(store, pipelines=Pipeline.template("standard"), clock=ticking())
    with pytest.raises(ConfigError):
        no_card.rescore("D1", by="ann")


def test_merge_duplicates_is_one_atomic_audited_write(store: InMemoryStore,
                                                      service: OpportunityService) -> None:
    store.add(qualified_lead("L2", name="Wang Li (dup)", email="other@example.cn",
                             captured_at=T0 - timedelta(days=1), phone="+86 138 0013 8000"))
    events = service.merge_duplicates(Lead, "L2", "L1", by="ann")
    assert names(events) == ["RecordsMerged"]
    assert (events[0].survivor_id, events[0].merged_ids) == ("L1", ("L2",))
    survivor = store.get(Lead, "L1")
    assert survivor.phone == "+86 138 0013 8000"  # taken from the duplicate
    assert survivor.version == 2
    with pytest.raises(NotFoundError):
        store.get(Lead, "L2")
    entry = store.audit_trail(Lead, "L1")[-1]
    assert entry.action == "merge"
    assert entry.note is not None
    assert "other@example.cn" in entry.note  # the dropped e-mail is on record
    assert store.audit_trail(Lead, "L2")[-1].note == "merged into L1"
    assert len({c.tx for c in store.changes()[-2:]}) == 1
    with pytest.raises(NotFoundError):
        service.merge_duplicates(Lead, "L2", "L1", by="ann")
    with pytest.raises(ValidationError):
        service.merge_duplicates(Lead, "L1", "L1", by="ann")


class _Interfering:
    """A clock that lets another writer save the deal the first ``times`` it is read."""

    def __init__(self, store: Store, times: int) -> None:
        self.store, self.times, self.now = store, times, T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        if self.times > 0:
            self.times -= 1
            current = self.store.get(Opportunity, "D1")
            self.store.save(current.evolve(tags=current.tags | {f"t{self.times}"}))
        return self.now


def test_a_conflicted_use_case_retries_and_loses_no_concurrent_change() -> None:
    store = InMemoryStore()
    store.add(qualified_lead())
    OpportunityService(store, pipelines=Pipeline.template("standard"),
                       clock=ticking()).convert("L1", by="ann", opportunity_id="D1")
    clock = _Interfering(store, times=2)
    service = OpportunityService(store, pipelines=Pipeline.template("standard"), clock=clock)
    assert names(service.move_stage("D1", "needs_analysis", by="ann")) == ["StageChanged"]
    final = store.get(Opportunity, "D1")
    assert final.stage_id == "needs_analysis"
    assert final.tags == {"t0", "t1"}  # the other writer's changes survived
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create", "move"]


def test_without_retries_a_conflict_surfaces_and_nothing_is_written() -> None:
    store = InMemoryStore()
    store.add(qualified_lead())
    OpportunityService(store, pipelines=Pipeline.template("standard"),
                       clock=ticking()).convert("L1", by="ann", opportunity_id="D1")
    service = OpportunityService(store, pipelines=Pipeline.template("standard"),
                                 clock=_Interfering(store, times=1), retries=0)
    with pytest.raises(VersionConflictError):
        service.move_stage("D1", "needs_analysis", by="ann")
    assert store.get(Opportunity, "D1").stage_id == "identification"
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create"]


def test_hostile_arguments_are_refused(store: InMemoryStore) -> None:
    with pytest.raises(ValidationError):
        OpportunityService(store, pipelines=[], clock=ticking())
    with pytest.raises(ValidationError):
        OpportunityService(store, pipelines=Pipeline.template("simple"), clock=ticking(),
                           retries=-1)
    naive = OpportunityService(store, pipelines=Pipeline.template("standard"),
                               clock=lambda: datetime(2026, 3, 2, 9))
    with pytest.raises(ValidationError):
        naive.convert("L1", by="ann")
    service = OpportunityService(store, pipelines=Pipeline.template("standard"),
                                 clock=ticking())
    with pytest.raises(ValidationError):
        service.convert("L1", by="  ")
    with pytest.raises(NotFoundError):
        service.move_stage("nope", "won", by="ann")
    assert store.get(Lead, "L1").version == 1
