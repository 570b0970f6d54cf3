"""OpportunityService use cases for hosts and the shell: create, edit, the lead lifecycle,
rescore_many. Each: success, refusal by policy (nothing written, no audit), retry after a
version conflict, idempotency."""

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    AuditEntry,
    Budget,
    DuplicateError,
    InMemoryStore,
    Lead,
    LeadCaptured,
    LeadContacted,
    LeadDisqualified,
    LeadQualified,
    LeadStatus,
    Money,
    NotFoundError,
    Opportunity,
    OpportunityCreated,
    OpportunityService,
    OwnerTeamPolicy,
    Permission,
    PermissionDeniedError,
    Pipeline,
    Qualification,
    RecordEdited,
    Rescored,
    Store,
    StoreWrite,
    TransitionError,
    UnknownStageError,
    ValidationError,
    VersionConflictError,
)
from oppcore.scoring import BudgetRule, Scorecard, UrgencyRule
from oppcore.testing import strategies as ost

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
CARD = Scorecard(rules=(UrgencyRule(), BudgetRule()), weights={"urgency": 50, "budget": 50})
STANDARD = Pipeline.template("standard")


def ticking(start: datetime = T0) -> Callable[[], datetime]:
    moments: Iterator[datetime] = (start + timedelta(minutes=i) for i in range(10**6))
    return lambda: next(moments)


def lead(lead_id: str = "L1", **fields: Any) -> Lead:
    base: dict[str, Any] = {"id": lead_id, "name": "Wang Li", "company": "Hangzhou Tea Co.",
                            "email": f"{lead_id.lower()}@teaco.cn", "owner": "ann",
                            "captured_at": T0 - timedelta(days=3)}
    base.update(fields)
    return Lead(**base)


def deal(deal_id: str = "D1", **fields: Any) -> Opportunity:
    base: dict[str, Any] = {"id": deal_id, "name": "Tea house", "pipeline_id": "standard",
                            "stage_id": "identification", "owner": "ann",
                            "created_at": T0 - timedelta(days=3)}
    base.update(fields)
    return Opportunity(**base)


def make(store: Store, *, policy: Any = None, retries: int = 3) -> OpportunityService:
    return OpportunityService(store, pipelines=STANDARD, clock=ticking(), scorecard=CARD,
                              policy=policy, retries=retries)


def everything(store: InMemoryStore) -> tuple[object, ...]:
    """The whole observable state: the feed and every record's audit trail."""
    feed = store.changes(limit=10**6)
    trails = tuple(store.audit_trail(Lead if c.kind == "lead" else Opportunity, c.record_id)
                   for c in feed)
    return feed, trails


class ConcurrentWriter:
    """A store wrapper: before the service saves a record, another writer saves the same
    record first (adding a tag, audited), ``times`` times per record, so the service's save
    meets a real :class:`VersionConflictError` and must reload and retry."""

    def __init__(self, inner: InMemoryStore, times: int = 1,
                 only: frozenset[str] | None = None) -> None:
        self.inner, self.times, self.only = inner, times, only
        self.conflicts = 0
        self.done: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _interfere(self, record: Lead | Opportunity) -> None:
        if self.only is not None and record.id not in self.only:
            return
        if self.done.get(record.id, 0) < self.times:
            self.done[record.id] = self.done.get(record.id, 0) + 1
            current = self.inner.get(type(record), record.id)
            tagged = current.evolve(tags=current.tags | {"concurrent"})
            self.inner.save(tagged, audit=AuditEntry.for_change(
                current, tagged, action="edit", by="bob", at=T0))

    def save(self, record: Any, *, audit: AuditEntry | None = None) -> Any:
        self._interfere(record)
        try:
            return self.inner.save(record, audit=audit)
        except VersionConflictError:
            self.conflicts += 1
            raise

    def apply(self, writes: Sequence[StoreWrite], *, audit: Sequence[AuditEntry] = ()) -> Any:
        for w in writes:
            if w.action == "save" and w.record is not None:
                self._interfere(w.record)
        try:
            return self.inner.apply(writes, audit=audit)
        except VersionConflictError:
            self.conflicts += 1
            raise


class DenyAll:
    """A policy that refuses everything and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, Permission, str]] = []

    def allows(self, actor: str, action: Permission, record: Lead | Opportunity) -> bool:
        self.asked.append((actor, action, record.id))
        return False


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


# --- create ---------------------------------------------------------------------------


def test_create_stores_a_lead_audited_and_returns_lead_captured(store: InMemoryStore) -> None:
    events = make(store).create(lead(), by="ann")
    assert events == (LeadCaptured(lead_id="L1", at=T0, by="ann"),)
    assert store.get(Lead, "L1").version == 1
    (entry,) = store.audit_trail(Lead, "L1")
    assert (entry.action, entry.by, entry.at) == ("create", "ann", T0)
    assert {c.field for c in entry.changes} >= {"id", "name", "email", "owner"}


def test_create_stores_a_deal_and_returns_opportunity_created(store: InMemoryStore) -> None:
    (event,) = make(store).create(deal(), by="ann")
    assert event == OpportunityCreated(opportunity_id="D1", pipeline_id="standard",
                                       stage_id="identification", at=T0, by="ann")
    assert [e.action for e in store.audit_trail(Opportunity, "D1")] == ["create"]


def test_create_surfaces_duplicates_as_they_are_and_writes_nothing(
    store: InMemoryStore,
) -> None:
    service = make(store)
    service.create(lead("L1"), by="ann")
    before = everything(store)
    with pytest.raises(DuplicateError) as same_id:
        service.create(lead("L1"), by="ann")
    assert same_id.value.key == "id"
    with pytest.raises(DuplicateError) as same_email:
        service.create(lead("L2", email=" L1@TEACO.CN "), by="ann")
    assert (same_email.value.key, same_email.value.existing_id) == ("email", "L1")
    assert everything(store) == before


def test_create_asks_the_policy_with_the_record_to_be_created(store: InMemoryStore) -> None:
    policy = OwnerTeamPolicy(teams={"ann": "east", "bob": "east"}, managers={"boss"})
    service = make(store, policy=policy)
    with pytest.raises(PermissionDeniedError) as refused:
        service.create(lead("L1", owner="ann"), by="bob")  # a lead for someone else
    assert refused.value.action == "create"
    assert everything(store) == ((), ())
    service.create(lead("L1", owner="bob"), by="bob")  # their own
    service.create(lead("L2", owner="ann"), by="boss")  # a manager, for anyone
    service.create(lead("L3", owner=None), by="bob")  # nobody's yet
    assert [c.record_id for c in store.changes()] == ["L1", "L2", "L3"]


def test_create_checks_the_stage_of_a_known_pipeline_only(store: InMemoryStore) -> None:
    service = make(store)
    with pytest.raises(UnknownStageError):
        service.create(deal(stage_id="prospecting"), by="ann")
    service.create(deal(pipeline_id="elsewhere", stage_id="prospecting"), by="ann")
    assert store.get(Opportunity, "D1").pipeline_id == "elsewhere"


def test_create_refuses_what_is_not_a_record(store: InMemoryStore) -> None:
    with pytest.raises(ValidationError):
        make(store).create({"id": "L1"}, by="ann")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        make(store).create(lead(), by=" ")


# --- create_many ----------------------------------------------------------------------


def test_create_many_writes_atomic_batches_with_one_audit_entry_per_record(
    store: InMemoryStore,
) -> None:
    records = [lead(f"L{i}") for i in range(5)] + [deal(f"D{i}") for i in range(3)]
    events = make(store).create_many(records, by="import:x.csv", batch_size=3)
    assert [type(e) for e in events] == [LeadCaptured] * 5 + [OpportunityCreated] * 3
    feed = store.changes()
    assert len({c.tx for c in feed}) == 3  # 8 records in batches of 3
    for record in records:
        (entry,) = store.audit_trail(type(record), record.id)
        assert (entry.action, entry.by) == ("create", "import:x.csv")


def test_create_many_keeps_earlier_batches_and_writes_nothing_of_a_failing_one(
    store: InMemoryStore,
) -> None:
    service = make(store)
    service.create(lead("L9"), by="ann")
    records = [lead("L1"), lead("L2"), lead("L3"), lead("L9")]
    with pytest.raises(DuplicateError):
        service.create_many(records, by="ann", batch_size=2)
    assert {c.record_id for c in store.changes()} == {"L9", "L1", "L2"}
    with pytest.raises(NotFoundError):
        store.get(Lead, "L3")
    assert store.audit_trail(Lead, "L3") == ()


def test_create_many_asks_the_policy_for_every_record_before_writing_a_batch(
    store: InMemoryStore,
) -> None:
    policy = OwnerTeamPolicy(managers={"boss"})
    with pytest.raises(PermissionDeniedError):
        make(store, policy=policy).create_many(
            [lead("L1", owner="bob"), lead("L2", owner="ann")], by="bob")
    assert everything(store) == ((), ())


def test_create_many_refuses_bad_arguments(store: InMemoryStore) -> None:
    service = make(store)
    for size in (0, -1, 1.5, True):
        with pytest.raises(ValidationError):
            service.create_many([lead()], by="ann", batch_size=size)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        service.create_many([lead()], by="")
    assert everything(store) == ((), ())


@given(st.lists(st.one_of(ost.leads(), ost.opportunities()), max_size=5),
       st.integers(1, 4))
def test_create_many_stores_what_create_stores_record_by_record(
    records: list[Lead | Opportunity], batch_size: int,
) -> None:
    # The batched path is the fast path of create: same records, same audit entries.
    unique: dict[tuple[type, str], Lead | Opportunity] = {}
    for r in records:
        unique.setdefault((type(r), r.id), r)
    records = list(unique.values())
    fixed = lambda: T0  # noqa: E731 - one instant, so both paths stamp the same time
    one, many = InMemoryStore(), InMemoryStore()
    plain = OpportunityService(one, pipelines=STANDARD, clock=fixed)
    fast = OpportunityService(many, pipelines=STANDARD, clock=fixed)
    expected: list[object] = []
    for r in records:
        try:
            expected += plain.create(r, by="ann")
        except DuplicateError:  # noqa: PERF203 - e.g. two leads with the same e-mail
            expected.append("duplicate")
    if "duplicate" in expected:
        with pytest.raises(DuplicateError):
            fast.create_many(records, by="ann", batch_size=len(records))
        assert many.changes() == ()
        return
    assert list(fast.create_many(records, by="ann", batch_size=batch_size)) == expected
    for r in records:
        assert many.get(type(r), r.id) == one.get(type(r), r.id)
        assert many.audit_trail(type(r), r.id) == one.audit_trail(type(r), r.id)


# --- edit -----------------------------------------------------------------------------


def test_edit_changes_fields_bumps_updated_at_and_audits_them(store: InMemoryStore) -> None:
    store.add(deal())
    amount = Money.of("120000", "CNY")
    (event,) = make(store).edit(Opportunity, "D1", {"name": "Tea house (2 shops)",
                                                    "amount": amount}, by="ann")
    assert event == RecordEdited(kind="opportunity", record_id="D1",
                                 fields=("name", "amount"), at=T0, by="ann")
    saved = store.get(Opportunity, "D1")
    assert (saved.name, saved.amount, saved.updated_at) == ("Tea house (2 shops)", amount, T0)
    (entry,) = store.audit_trail(Opportunity, "D1")
    assert entry.action == "edit"
    assert [c.field for c in entry.changes] == ["name", "amount", "updated_at"]


def test_edit_never_moves_updated_at_backwards(store: InMemoryStore) -> None:
    later = T0 + timedelta(days=30)
    store.add(lead(captured_at=later))
    make(store).edit(Lead, "L1", {"notes": "call back"}, by="ann")
    assert store.get(Lead, "L1").updated_at == later


def test_edit_is_idempotent_when_nothing_changes(store: InMemoryStore) -> None:
    store.add(lead())
    service = make(store)
    assert service.edit(Lead, "L1", {"tags": {"vip"}}, by="ann")
    before = everything(store)
    assert service.edit(Lead, "L1", {"tags": frozenset({"vip"})}, by="ann") == ()
    assert service.edit(Lead, "L1", {"name": "Wang Li"}, by="ann") == ()
    assert service.edit(Lead, "L1", {}, by="ann") == ()
    assert everything(store) == before


@pytest.mark.parametrize(("kind", "field", "use_case"), [
    (Opportunity, "stage_id", "move_stage"),
    (Opportunity, "stage_history", "move_stage"),
    (Opportunity, "lost_reason", "mark_lost"),
    (Opportunity, "activities", "log_activity"),
    (Opportunity, "renewal_of", "renew"),
    (Opportunity, "renewed_by", "renew"),
    (Opportunity, "pipeline_id", "pipeline"),
    (Lead, "status", "qualify"),
    (Lead, "disqualified_reason", "disqualify"),
    (Lead, "opportunity_id", "convert"),
    (Lead, "id", "merge_duplicates"),
    (Opportunity, "version", "store"),
    (Lead, "updated_at", "every use case"),
])
def test_edit_refuses_fields_with_a_use_case_of_their_own(
    store: InMemoryStore, kind: type[Lead] | type[Opportunity], field: str, use_case: str,
) -> None:
    store.add(lead())
    store.add(deal())
    record_id = "L1" if kind is Lead else "D1"
    before = everything(store)
    with pytest.raises(ValidationError) as refused:
        make(store).edit(kind, record_id, {field: "x"}, by="ann")
    assert refused.value.field == field
    assert field in str(refused.value) and use_case in str(refused.value)
    assert everything(store) == before


def test_edit_refuses_unknown_fields_and_invalid_values(store: InMemoryStore) -> None:
    store.add(deal())
    service = make(store)
    with pytest.raises(ValidationError, match="no field 'colour'"):
        service.edit(Opportunity, "D1", {"colour": "red"}, by="ann")
    with pytest.raises(ValidationError):
        service.edit(Opportunity, "D1", {"name": "  "}, by="ann")
    with pytest.raises(ValidationError):
        service.edit(dict, "D1", {"name": "x"}, by="ann")  # type: ignore[type-var]
    with pytest.raises(NotFoundError):
        service.edit(Lead, "nope", {"name": "x"}, by="ann")
    assert len(store.changes()) == 1


def test_edit_refused_by_the_policy_writes_nothing(store: InMemoryStore) -> None:
    store.add(deal())
    before = everything(store)
    policy = DenyAll()
    with pytest.raises(PermissionDeniedError):
        make(store, policy=policy).edit(Opportunity, "D1", {"name": "x"}, by="eve")
    assert policy.asked == [("eve", Permission.EDIT, "D1")]
    assert everything(store) == before


def test_edit_retries_after_a_conflict_and_keeps_the_other_change(
    store: InMemoryStore,
) -> None:
    store.add(deal())
    racing = ConcurrentWriter(store)
    (event,) = make(racing).edit(Opportunity, "D1", {"name": "Renamed"}, by="ann")
    assert isinstance(event, RecordEdited) and racing.conflicts == 1
    saved = store.get(Opportunity, "D1")
    assert saved.name == "Renamed" and "concurrent" in saved.tags
    assert [(e.action, e.by) for e in store.audit_trail(Opportunity, "D1")] == [
        ("edit", "bob"), ("edit", "ann")]


@given(ost.opportunities(), ost.opportunities())
def test_edit_property_stored_value_is_the_old_one_with_the_changes(
    old: Opportunity, other: Opportunity,
) -> None:
    # Edit every editable field to another generated deal's value: the stored deal is the
    # old one with those values, the audit entry lists exactly the fields that differ, and
    # running the same edit again changes nothing.
    editable = ("name", "account", "contacts", "owner", "amount", "expected_close",
                "probability", "source", "qualification", "quotes", "tags", "custom",
                "external_key")
    changes = {f: getattr(other, f) for f in editable}
    store = InMemoryStore()
    stored = store.add(old.evolve(version=0))
    service = OpportunityService(store, pipelines=STANDARD, clock=lambda: T0)
    events = service.edit(Opportunity, old.id, changes, by="ann")
    expected = stored.evolve(**changes)
    differ = tuple(f for f in editable if getattr(expected, f) != getattr(stored, f))
    saved = store.get(Opportunity, old.id)
    assert saved.evolve(updated_at=stored.updated_at, version=1) == expected
    assert saved.updated_at == (max(T0, stored.updated_at) if differ else stored.updated_at)
    if differ:
        assert events == (RecordEdited(kind="opportunity", record_id=old.id, fields=differ,
                                       at=T0, by="ann"),)
        (entry,) = store.audit_trail(Opportunity, old.id)
        assert {c.field for c in entry.changes} - {"updated_at"} == set(differ)
    else:
        assert events == ()
    assert service.edit(Opportunity, old.id, changes, by="ann") == ()


# --- the lead lifecycle ---------------------------------------------------------------


def test_lead_lifecycle_contact_qualify_convert(store: InMemoryStore) -> None:
    store.add(lead())
    service = make(store)
    found = Qualification(budget=Budget(amount=Money.of("90000", "CNY"), confirmed=True))
    assert service.mark_contacted("L1", by="ann") == (
        LeadContacted(lead_id="L1", at=T0, by="ann"),)
    (qualified,) = service.qualify("L1", by="ann", qualification=found)
    assert qualified == LeadQualified(lead_id="L1", qualification=found,
                                      at=T0 + timedelta(minutes=1), by="ann")
    names = [type(e).__name__ for e in service.convert("L1", by="ann")]
    assert names == ["OpportunityCreated", "LeadConverted"]
    saved = store.get(Lead, "L1")
    assert saved.status is LeadStatus.CONVERTED and saved.qualification == found
    assert saved.updated_at == T0 + timedelta(minutes=2)
    assert [e.action for e in store.audit_trail(Lead, "L1")] == ["contact", "qualify",
                                                                "convert"]
    assert store.get(Opportunity, "L1-opp").qualification.budget == found.budget


def test_disqualify_keeps_the_reason_and_where_the_lead_was(store: InMemoryStore) -> None:
    store.add(lead())
    service = make(store)
    service.mark_contacted("L1", by="ann")
    (event,) = service.disqualify("L1", by="ann", reason="no budget")
    assert event == LeadDisqualified(lead_id="L1", from_status=LeadStatus.CONTACTED,
                                     reason="no budget", at=T0 + timedelta(minutes=1),
                                     by="ann")
    saved = store.get(Lead, "L1")
    assert (saved.status, saved.disqualified_reason) == (LeadStatus.DISQUALIFIED, "no budget")
    last = store.audit_trail(Lead, "L1")[-1]
    assert (last.action, last.note) == ("disqualify", "no budget")


def test_lead_steps_are_idempotent(store: InMemoryStore) -> None:
    store.add(lead("L1"))
    store.add(lead("L2"))
    service = make(store)
    service.mark_contacted("L1", by="ann")
    service.qualify("L1", by="ann")
    service.disqualify("L2", by="ann", reason="student enquiry")
    before = everything(store)
    assert service.qualify("L1", by="ann") == ()
    assert service.qualify("L1", by="ann",
                           qualification=store.get(Lead, "L1").qualification) == ()
    assert service.disqualify("L2", by="ann", reason="student enquiry") == ()
    store.add(lead("L3"))
    service.mark_contacted("L3", by="ann")
    after = everything(store)
    assert service.mark_contacted("L3", by="ann") == ()
    assert everything(store) == after
    assert len(before[0]) + 2 == len(after[0])


def test_lead_steps_refuse_illegal_moves_and_change_nothing(store: InMemoryStore) -> None:
    store.add(lead())
    service = make(store)
    before = everything(store)
    with pytest.raises(TransitionError):
        service.qualify("L1", by="ann")  # a new lead must be contacted first
    with pytest.raises(TransitionError):
        service.disqualify("L1", by="ann", reason=" ")
    with pytest.raises(NotFoundError):
        service.mark_contacted("nope", by="ann")
    assert everything(store) == before
    service.disqualify("L1", by="ann", reason="no budget")
    with pytest.raises(TransitionError):
        service.disqualify("L1", by="ann", reason="another reason")  # final, and differs
    with pytest.raises(TransitionError):
        service.mark_contacted("L1", by="ann")


@pytest.mark.parametrize("step", ["mark_contacted", "qualify", "disqualify", "convert"])
def test_lead_steps_refused_by_the_policy_write_nothing(store: InMemoryStore,
                                                        step: str) -> None:
    status = {"qualify": LeadStatus.CONTACTED, "convert": LeadStatus.QUALIFIED}
    store.add(lead(status=status.get(step, LeadStatus.NEW)))
    before = everything(store)
    policy = DenyAll()
    kwargs = {"reason": "no budget"} if step == "disqualify" else {}
    with pytest.raises(PermissionDeniedError):
        getattr(make(store, policy=policy), step)("L1", by="eve", **kwargs)
    assert policy.asked == [("eve", Permission.EDIT, "L1")]
    assert everything(store) == before


def test_convert_asks_the_policy_to_create_the_deal(store: InMemoryStore) -> None:
    store.add(lead(status=LeadStatus.QUALIFIED))

    class NoNewDeals:
        def allows(self, actor: str, action: Permission, record: Any) -> bool:
            return not (action is Permission.CREATE and isinstance(record, Opportunity))

    before = everything(store)
    with pytest.raises(PermissionDeniedError) as refused:
        make(store, policy=NoNewDeals()).convert("L1", by="ann")
    assert (refused.value.action, refused.value.record_id) == ("create", "L1-opp")
    assert everything(store) == before


@pytest.mark.parametrize(("step", "status", "expected"), [
    ("mark_contacted", LeadStatus.NEW, LeadStatus.CONTACTED),
    ("qualify", LeadStatus.CONTACTED, LeadStatus.QUALIFIED),
    ("disqualify", LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED),
])
def test_lead_steps_retry_after_a_conflict_and_keep_the_other_change(
    store: InMemoryStore, step: str, status: LeadStatus, expected: LeadStatus,
) -> None:
    store.add(lead(status=status))
    racing = ConcurrentWriter(store)
    kwargs = {"reason": "no budget"} if step == "disqualify" else {}
    events = getattr(make(racing), step)("L1", by="ann", **kwargs)
    assert len(events) == 1 and racing.conflicts == 1
    saved = store.get(Lead, "L1")
    assert saved.status is expected and "concurrent" in saved.tags
    assert [e.by for e in store.audit_trail(Lead, "L1")] == ["bob", "ann"]


# --- rescore_many ---------------------------------------------------------------------


def scorable(deal_id: str, **fields: Any) -> Opportunity:
    budget = Budget(amount=Money.of("50000", "CNY"), confirmed=True)
    return deal(deal_id, amount=Money.of("40000", "CNY"),
                qualification=Qualification(budget=budget), **fields)


def test_rescore_many_rescores_each_deal_and_bumps_updated_at(store: InMemoryStore) -> None:
    for i in range(3):
        store.add(scorable(f"D{i}"))
    summary = make(store).rescore_many(["D0", "D1", "D2"], by="nightly")
    assert [e.opportunity_id for e in summary.rescored] == ["D0", "D1", "D2"]
    assert summary.unchanged == () and summary.failed == ()
    assert all(isinstance(e, Rescored) and e.by == "nightly" for e in summary.rescored)
    since = store.query(Opportunity, updated_since=T0).items
    assert [o.id for o in since] == ["D0", "D1", "D2"]
    for o in since:
        assert o.custom["score"] == str(CARD.score(o, now=o.updated_at).total)
        assert [e.action for e in store.audit_trail(Opportunity, o.id)] == ["rescore"]


def test_rescore_many_is_idempotent_and_reports_unchanged(store: InMemoryStore) -> None:
    store.add(scorable("D1"))
    clock = lambda: T0  # noqa: E731 - a fixed instant: the same score again
    service = OpportunityService(store, pipelines=STANDARD, clock=clock, scorecard=CARD)
    assert len(service.rescore_many(["D1"], by="ann").rescored) == 1
    before = everything(store)
    again = service.rescore_many(["D1"], by="ann")
    assert (again.rescored, again.unchanged) == ((), ("D1",))
    assert everything(store) == before


def test_rescore_many_without_ids_rescores_the_open_deals_of_its_pipelines(
    store: InMemoryStore,
) -> None:
    store.add(scorable("D1"))
    store.add(scorable("D2", stage_id="won"))
    store.add(scorable("D3", pipeline_id="other", stage_id="identification"))
    store.add(scorable("D4", stage_id="solution"))
    summary = make(store).rescore_many(by="nightly")
    assert [e.opportunity_id for e in summary.rescored] == ["D1", "D4"]


def test_rescore_many_collects_per_record_failures_and_does_the_rest(
    store: InMemoryStore,
) -> None:
    store.add(scorable("D1", owner="ann"))
    store.add(scorable("D2", owner="bob"))
    policy = OwnerTeamPolicy(teams={"ann": "east", "bob": "east"})
    summary = make(store, policy=policy).rescore_many(["D1", "D2", "gone"], by="ann")
    assert [e.opportunity_id for e in summary.rescored] == ["D1"]
    failed = {f.record_id: type(f.error) for f in summary.failed}
    assert failed == {"D2": PermissionDeniedError, "gone": NotFoundError}
    assert store.audit_trail(Opportunity, "D2") == ()


def test_rescore_many_retries_each_record_after_a_conflict(store: InMemoryStore) -> None:
    store.add(scorable("D1"))
    store.add(scorable("D2"))
    racing = ConcurrentWriter(store)  # both deals meet one conflict each
    summary = make(racing).rescore_many(["D1", "D2"], by="nightly")
    assert len(summary.rescored) == 2 and racing.conflicts == 2
    for deal_id in ("D1", "D2"):
        saved = store.get(Opportunity, deal_id)
        assert "concurrent" in saved.tags and "score" in saved.custom


def test_rescore_many_gives_up_on_a_deal_that_keeps_conflicting(
    store: InMemoryStore,
) -> None:
    store.add(scorable("D1"))
    store.add(scorable("D2"))
    racing = ConcurrentWriter(store, times=2, only=frozenset({"D1"}))
    summary = make(racing, retries=1).rescore_many(["D1", "D2"], by="nightly")
    assert [f.record_id for f in summary.failed] == ["D1"]
    assert isinstance(summary.failed[0].error, VersionConflictError)
    assert [e.opportunity_id for e in summary.rescored] == ["D2"]
    assert "score" not in store.get(Opportunity, "D1").custom


def test_rescore_many_refuses_bad_arguments(store: InMemoryStore) -> None:
    service = make(store)
    with pytest.raises(ValidationError):
        service.rescore_many("D1", by="ann")
    with pytest.raises(ValidationError):
        service.rescore_many([], by=" ")
    no_card = OpportunityService(store, pipelines=STANDARD, clock=ticking())
    with pytest.raises(Exception, match="needs a scorecard"):
        no_card.rescore_many([], by="ann")


def test_every_write_of_every_use_case_has_its_audit_entry(store: InMemoryStore) -> None:
    service = make(store)
    service.create(lead("L1"), by="ann")
    service.create_many([lead("L2"), scorable("D9")], by="ann")
    service.mark_contacted("L1", by="ann")
    service.qualify("L1", by="ann")
    service.convert("L1", by="ann", amount=Money.of(Decimal(40000), "CNY"))
    service.edit(Lead, "L2", {"notes": "met at the fair"}, by="ann")
    service.disqualify("L2", by="ann", reason="no budget")
    service.rescore_many(by="ann")
    service.mark_lost("D9", by="ann", reason="price")
    feed = store.changes(limit=10**6)
    for kind, record_id in {(c.kind, c.record_id) for c in feed}:
        cls = Lead if kind == "lead" else Opportunity
        writes = [c for c in feed if (c.kind, c.record_id) == (kind, record_id)]
        assert len(store.audit_trail(cls, record_id)) == len(writes), record_id
