"""Renewals (pure and through the service), surveys and after-sales tasks as audited use
cases."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oppcore import (
    Account,
    ActivityKind,
    ActivityLogged,
    ConfigError,
    Contact,
    DuplicateError,
    InMemoryStore,
    Money,
    NotFoundError,
    Opportunity,
    OpportunityCreated,
    OpportunityRenewed,
    OpportunityService,
    OwnerTeamPolicy,
    PermissionDeniedError,
    Pipeline,
    SQLiteStore,
    StageChange,
    Store,
    SurveyLogged,
    SurveyScale,
    TaskCompleted,
    TransitionError,
    ValidationError,
)
from oppcore.aftersales import TaskStatus, plan, renew

UTC = timezone.utc
STANDARD = Pipeline.template("standard")
WON_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = WON_AT + timedelta(days=300)


def won(oid: str = "d1", **fields: object) -> Opportunity:
    values: dict[str, object] = {
        "account": Account(id="acc-1", name="Acme"),
        "contacts": (Contact(id="c-1", name="李雷"),), "owner": "li",
        "amount": Money.of("1000.00", "CNY"), "contract_start": date(2026, 3, 5),
        "contract_end": date(2027, 3, 4), "tags": frozenset({"crm"}),
    }
    values.update(fields)
    stage = str(values.pop("stage_id", "won"))
    return Opportunity(id=oid, name="Acme CRM", pipeline_id="standard", stage_id=stage,
                       created_at=WON_AT - timedelta(days=30),
                       stage_history=(StageChange(from_stage=None, to_stage=stage, at=WON_AT,
                                                  by="u"),), **values)  # type: ignore[arg-type]


# --- renew, the pure function ----------------------------------------------------------

def test_renew_links_both_ways_and_carries_the_customer() -> None:
    original, renewal = renew(won(), at=NOW, by="li", pipeline=STANDARD)
    assert original.renewed_by == renewal.id == "d1-renewal"
    assert renewal.renewal_of == original.id
    assert renewal.stage_id == STANDARD.first_stage.id
    assert (renewal.account, renewal.contacts, renewal.owner, renewal.tags) == (
        original.account, original.contacts, original.owner, original.tags)
    assert renewal.amount == original.amount
    assert renewal.expected_close == original.contract_end
    assert renewal.stage_history[0].reason == "renewal of d1"
    upsell = renew(won(), at=NOW, by="li", pipeline=STANDARD,
                   amount=Money.of("1500.00", "CNY"), renewal_id="up").renewal
    assert upsell.amount == Money.of("1500.00", "CNY") and upsell.id == "up"


def test_only_a_won_unrenewed_deal_is_renewed() -> None:
    with pytest.raises(TransitionError) as info:
        renew(won(stage_id="solution"), at=NOW, by="li", pipeline=STANDARD)
    assert info.value.violations[0].code == "not_won"
    with pytest.raises(TransitionError) as info:
        renew(won(renewed_by="x"), at=NOW, by="li", pipeline=STANDARD)
    assert info.value.violations[0].code == "already_renewed"


def test_renew_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="at"):
        renew(won(), at=datetime(2026, 1, 1), by="li", pipeline=STANDARD)
    with pytest.raises(ValidationError, match="by"):
        renew(won(), at=NOW, by=" ", pipeline=STANDARD)
    with pytest.raises(ValidationError, match="pipeline"):
        renew(won(), at=NOW, by="li", pipeline="standard")  # type: ignore[arg-type]


def test_the_default_name_is_written_in_the_creators_language() -> None:
    # The name is data, written once: English unless the creator says otherwise; the
    # stable marker of a renewal is renewal_of, never the name.
    english = renew(won(), at=NOW, by="li", pipeline=STANDARD).renewal
    assert english.name == "Acme CRM (renewal)" and english.renewal_of == "d1"
    chinese = renew(won(), at=NOW, by="li", pipeline=STANDARD, locale="zh-CN").renewal
    assert chinese.name == "Acme CRM（续约）"
    assert chinese.evolve(name=english.name) == english  # nothing else depends on it
    named = renew(won(), at=NOW, by="li", pipeline=STANDARD, locale="zh-CN", name="续签")
    assert named.renewal.name == "续签"
    with pytest.raises(ConfigError, match="no text for locale"):
        renew(won(), at=NOW, by="li", pipeline=STANDARD, locale="fr")


# --- through the service, on every store ----------------------------------------------

@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
    else:
        with SQLiteStore(tmp_path / "s.db", synchronous="NORMAL") as s:
            yield s


def service(store: Store, **kw: object) -> OpportunityService:
    return OpportunityService(store, pipelines=STANDARD, clock=lambda: NOW,
                              **kw)  # type: ignore[arg-type]


def test_the_service_renews_both_records_in_one_audited_write(store: Store) -> None:
    svc = service(store)
    svc.create(won(), by="li")
    events = svc.renew("d1", by="li")
    assert events == (
        OpportunityCreated(opportunity_id="d1-renewal", pipeline_id="standard",
                           stage_id="identification", at=NOW, by="li"),
        OpportunityRenewed(opportunity_id="d1", renewal_id="d1-renewal", at=NOW, by="li"))
    original = store.get(Opportunity, "d1")
    renewal = store.get(Opportunity, "d1-renewal")
    assert original.renewed_by == renewal.id and renewal.renewal_of == original.id
    assert [e.action for e in store.audit_trail(Opportunity, "d1")] == ["create", "renew"]
    assert [e.action for e in store.audit_trail(Opportunity, "d1-renewal")] == ["create"]
    renew_entry = store.audit_trail(Opportunity, "d1")[-1]
    changed = {c.field: (c.op, c.old, c.new) for c in renew_entry.changes}
    assert changed["renewed_by"] == ("set", None, "d1-renewal")
    assert svc.renew("d1", by="li") == ()  # idempotent
    svc.create(won("d2"), by="li")
    svc.renew("d2", by="li", locale="zh-CN")
    assert store.get(Opportunity, "d2-renewal").name == "Acme CRM（续约）"


def test_a_refused_renewal_writes_neither_end(store: Store) -> None:
    svc = service(store)
    svc.create(won(), by="li")
    svc.create(won("taken"), by="li")
    before = store.get(Opportunity, "d1")
    with pytest.raises(DuplicateError):
        svc.renew("d1", by="li", renewal_id="taken")
    assert store.get(Opportunity, "d1") == before
    assert [e.action for e in store.audit_trail(Opportunity, "d1")] == ["create"]
    policy = OwnerTeamPolicy(teams={"li": "east", "wang": "west"})
    with pytest.raises(PermissionDeniedError):
        service(store, policy=policy).renew("d1", by="wang")
    assert store.get(Opportunity, "d1") == before
    with pytest.raises(NotFoundError):
        svc.renew("nope", by="li")


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), min_size=1, max_size=6,
                    unique=True))
def test_renewal_links_are_symmetric_in_every_store(store: Store, ids: list[str]) -> None:
    svc = service(store)
    for oid in ids:
        try:
            store.get(Opportunity, oid)
        except NotFoundError:
            svc.create(won(oid), by="li")
        svc.renew(oid, by="li")
    deals = {o.id: o for o in store.query(Opportunity, limit=10_000).items}
    for o in deals.values():
        if o.renewed_by is not None:
            assert deals[o.renewed_by].renewal_of == o.id
        if o.renewal_of is not None:
            assert deals[o.renewal_of].renewed_by == o.id


def test_log_survey_validates_audits_and_completes_the_survey_task(store: Store) -> None:
    svc = service(store)
    svc.create(won(), by="li")
    with pytest.raises(ValidationError, match="score"):
        svc.log_survey("d1", activity_id="s1", scale=SurveyScale.CSAT, score=7, by="li")
    assert store.get(Opportunity, "d1").activities == ()
    events = svc.log_survey("d1", activity_id="s1", scale=SurveyScale.NPS, score=10, by="li",
                            summary="很满意")
    assert events == (ActivityLogged(opportunity_id="d1", activity_id="s1", at=NOW, by="li"),
                      SurveyLogged(opportunity_id="d1", activity_id="s1",
                                   scale=SurveyScale.NPS, score=10, at=NOW, by="li"))
    assert svc.log_survey("d1", activity_id="s1", scale=SurveyScale.NPS, score=10,
                          by="li") == ()
    trail = store.audit_trail(Opportunity, "d1")
    assert (trail[-1].action, trail[-1].note) == ("log_survey", "nps 10")
    appended = {c.field: c for c in trail[-1].changes}["activities"]
    assert appended.op == "append"
    assert appended.new[0]["score"] == 10 and appended.new[0]["scale"] == "nps"
    tasks = {t.task.id: t for t in plan(store.get(Opportunity, "d1"), STANDARD, now=NOW)}
    assert tasks["satisfaction_survey"].status is TaskStatus.DONE


def test_complete_task_logs_an_activity_naming_the_task(store: Store) -> None:
    svc = service(store)
    svc.create(won(), by="li")
    events = svc.complete_task("d1", "acceptance", activity_id="a1", by="li",
                               kind=ActivityKind.VISIT, summary="signed off")
    assert events[-1] == TaskCompleted(opportunity_id="d1", task_id="acceptance",
                                       activity_id="a1", at=NOW, by="li")
    deal = store.get(Opportunity, "d1")
    assert deal.activities[-1].task == "acceptance"
    assert deal.activities[-1].kind is ActivityKind.VISIT
    assert svc.complete_task("d1", "acceptance", activity_id="a2", by="li") == ()
    assert store.audit_trail(Opportunity, "d1")[-1].action == "complete_task"


def test_complete_task_refuses_what_is_not_a_task_of_a_won_deal(store: Store) -> None:
    svc = service(store)
    svc.create(won(), by="li")
    svc.create(won("open", stage_id="solution"), by="li")
    with pytest.raises(ValidationError, match="no after-sales task"):
        svc.complete_task("d1", "party", activity_id="a", by="li")
    with pytest.raises(ValidationError, match="not won"):
        svc.complete_task("open", "handover", activity_id="a", by="li")
    with pytest.raises(ValidationError, match="log_survey"):
        svc.complete_task("d1", "satisfaction_survey", activity_id="a", by="li",
                          kind=ActivityKind.SURVEY)
    assert store.get(Opportunity, "d1").activities == ()
