"""Lead lifecycle: statuses, disqualification, conversion into a deal."""

import copy
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Budget,
    Channel,
    Conversion,
    Lead,
    LeadStatus,
    Money,
    Pipeline,
    Probability,
    ProbabilitySource,
    Qualification,
    Source,
    TransitionError,
    ValidationError,
    convert_lead,
    disqualify,
    mark_contacted,
    qualify,
    replay,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
STANDARD = Pipeline.template("standard")


def lead(**kw: object) -> Lead:
    base: dict[str, object] = {
        "id": "L1", "name": "Ann Lee", "captured_at": T0, "email": "ann@acme.test",
        "phone": "123", "title": "CTO", "company": "Acme", "industry": "Manufacturing",
        "region": "East", "owner": "bob",
        "source": Source(channel=Channel.EVENT, detail="Expo 2026"),
        "tags": frozenset({"expo"}), "custom": {"budget_year": 2026}}
    base.update(kw)
    return Lead(**base)  # type: ignore[arg-type]


def qualified() -> Lead:
    q = Qualification(budget=Budget(amount=Money(amount=5000, currency="EUR")))
    return qualify(mark_contacted(lead(), at=T0 + timedelta(hours=1)),
                   at=T0 + timedelta(hours=2), qualification=q)


def test_happy_path_statuses() -> None:
    contacted = mark_contacted(lead(), at=T0 + timedelta(hours=1))
    assert contacted.status is LeadStatus.CONTACTED
    assert contacted.updated_at == T0 + timedelta(hours=1)
    q = qualified()
    assert q.status is LeadStatus.QUALIFIED
    assert q.qualification.budget is not None


@pytest.mark.parametrize(("status", "move"), [
    (LeadStatus.NEW, "qualify"),
    (LeadStatus.CONTACTED, "contact"),
    (LeadStatus.QUALIFIED, "contact"),
    (LeadStatus.DISQUALIFIED, "qualify"),
])
def test_illegal_status_moves_are_refused(status: LeadStatus, move: str) -> None:
    extra = {"disqualified_reason": "spam"} if status is LeadStatus.DISQUALIFIED else {}
    start = lead(status=status, **extra)
    fn = qualify if move == "qualify" else mark_contacted
    with pytest.raises(TransitionError) as info:
        fn(start, at=T0 + timedelta(hours=1))
    assert [v.code for v in info.value.violations] == ["illegal_status_move"]
    assert f"lead 'L1' is {status.value}" in str(info.value)


def test_disqualify_needs_a_reason() -> None:
    with pytest.raises(TransitionError) as info:
        disqualify(lead(), at=T0, reason="  ")
    assert [v.code for v in info.value.violations] == ["missing_reason"]
    out = disqualify(lead(), at=T0, reason="no budget")
    assert (out.status, out.disqualified_reason) == (LeadStatus.DISQUALIFIED, "no budget")
    with pytest.raises(TransitionError) as info:
        disqualify(out, at=T0, reason="again")
    assert [v.code for v in info.value.violations] == ["illegal_status_move"]


def test_moves_before_the_last_change_are_refused() -> None:
    with pytest.raises(TransitionError) as info:
        mark_contacted(lead(), at=T0 - timedelta(days=1))
    assert [v.code for v in info.value.violations] == ["out_of_order"]


def test_naive_time_and_non_leads_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="at must be a timezone-aware"):
        mark_contacted(lead(), at=datetime(2026, 3, 3))
    with pytest.raises(ValidationError, match="lead must be a Lead"):
        mark_contacted({"id": "L1"}, at=T0)  # type: ignore[arg-type]


def test_convert_carries_everything_over() -> None:
    q = qualified()
    at = T0 + timedelta(days=1)
    result = convert_lead(q, pipeline=STANDARD, at=at, by="bob")
    assert isinstance(result, Conversion)
    opp = result.opportunity
    assert (opp.id, opp.name, opp.pipeline_id, opp.stage_id) == (
        "L1-opp", "Acme", "standard", "identification")
    assert opp.owner == "bob" and opp.source == q.source and opp.lead_id == "L1"
    assert opp.qualification == q.qualification and opp.tags == q.tags
    assert opp.custom == {"budget_year": 2026}
    assert opp.probability == Probability(value=0.1, source=ProbabilitySource.STAGE)
    assert opp.created_at == at == opp.updated_at
    assert opp.stage_history[0].from_stage is None
    assert opp.stage_history[0].reason == "converted from lead L1"
    assert replay(STANDARD, opp.stage_history) == "identification"
    assert result.account == Account(id="L1-acc", name="Acme", industry="Manufacturing",
                                     region="East")
    assert opp.account == result.account
    assert result.contact.name == "Ann Lee" and result.contact.email == "ann@acme.test"
    assert opp.primary_contact == result.contact
    assert result.lead.status is LeadStatus.CONVERTED
    assert result.lead.opportunity_id == "L1-opp" and result.lead.updated_at == at
    assert q.status is LeadStatus.QUALIFIED  # the input is untouched


def test_convert_with_injected_ids_and_existing_account() -> None:
    made: list[str] = []

    def ids(kind: str, source: Lead) -> str:
        made.append(kind)
        return f"{kind}-{len(made)}"

    existing = Account(id="acc-9", name="Acme Holdings")
    result = convert_lead(qualified(), pipeline=Pipeline.template("simple"), at=T0 + timedelta(1),
                     by="bob", ids=ids, account=existing, name="Acme rollout",
                     amount=Money(amount=5000, currency="EUR"))
    assert made == ["contact", "opportunity"]
    assert result.opportunity.id == "opportunity-2" and result.contact.id == "contact-1"
    assert result.account is existing and result.opportunity.name == "Acme rollout"
    assert result.opportunity.stage_id == "prospecting"
    again = convert_lead(qualified(), pipeline=Pipeline.template("simple"), at=T0 + timedelta(1),
                    by="bob", opportunity_id="opp-fixed")
    assert again.opportunity.id == "opp-fixed" and again.account is not None


def test_convert_without_company_has_no_account() -> None:
    q = qualify(mark_contacted(lead(company=None), at=T0), at=T0)
    result = convert_lead(q, pipeline=STANDARD, at=T0, by="bob")
    assert result.account is None and result.opportunity.name == "Ann Lee"


@pytest.mark.parametrize("status", [LeadStatus.NEW, LeadStatus.CONTACTED])
def test_only_qualified_leads_convert(status: LeadStatus) -> None:
    with pytest.raises(TransitionError) as info:
        convert_lead(lead(status=status), pipeline=STANDARD, at=T0, by="bob")
    assert [v.code for v in info.value.violations] == ["illegal_status_move"]


def test_convert_rejects_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="by must name"):
        convert_lead(qualified(), pipeline=STANDARD, at=T0 + timedelta(1), by="")
    with pytest.raises(ValidationError, match="pipeline must be a Pipeline"):
        convert_lead(qualified(), pipeline="standard", at=T0 + timedelta(1),  # type: ignore[arg-type]
                by="bob")


_steps = st.lists(st.sampled_from(["contact", "qualify", "disqualify", "convert"]), max_size=6)


@given(_steps)
def test_any_sequence_of_lead_moves_follows_the_lifecycle(steps: list[str]) -> None:
    current = lead()
    order = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.CONVERTED]
    for i, step in enumerate(steps):
        at = T0 + timedelta(hours=i)
        snapshot = copy.deepcopy(current)
        try:
            if step == "contact":
                nxt = mark_contacted(current, at=at)
            elif step == "qualify":
                nxt = qualify(current, at=at)
            elif step == "disqualify":
                nxt = disqualify(current, at=at, reason="no fit")
            else:
                nxt = convert_lead(current, pipeline=STANDARD, at=at, by="u").lead
        except TransitionError as exc:
            refused: tuple[object, ...] = exc.violations
            nxt = current
        else:
            refused = ()
        assert bool(refused) == (nxt is current)
        assert current == snapshot
        if nxt is current:
            assert current.status in (LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED) or (
                step != {LeadStatus.NEW: "contact", LeadStatus.CONTACTED: "qualify",
                         LeadStatus.QUALIFIED: "convert"}[current.status]
                and step != "disqualify")
        elif nxt.status is LeadStatus.DISQUALIFIED:
            assert current.status in order[:3] and nxt.disqualified_reason
        else:
            assert order.index(nxt.status) == order.index(current.status) + 1
        current = nxt
