"""Merging two records (oppcore.merge_records)."""

from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Account,
    Activity,
    ActivityKind,
    Contact,
    Lead,
    LeadStatus,
    MergeResult,
    Money,
    Opportunity,
    ValidationError,
    merge_records,
)

UTC = timezone.utc  # datetime.UTC needs Python 3.11

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AT = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def test_older_lead_survives_and_conflicts_go_to_notes() -> None:
    newer = Lead(id="L2", name="张伟", captured_at=T0 + timedelta(days=2),
                 email="zhang.wei@bytedance.com", phone="13800138000",
                 company="字节跳动", notes="Asked for a demo.", tags={"expo"},
                 custom={"budget_band": "B", "newsletter": True})
    older = Lead(id="L1", name="Zhang Wei", captured_at=T0, email="Zhang.Wei@ByteDance.com",
                 company="北京字节跳动科技有限公司", status=LeadStatus.CONTACTED,
                 notes="Met at CeBIT.", tags={"cebit"}, custom={"budget_band": "A"})
    result = merge_records(newer, older, at=AT, by="u-7")
    merged = result.record
    assert isinstance(merged, Lead)
    assert (result.survivor_id, result.merged_ids) == ("L1", ("L2",))
    assert merged.id == "L1"
    assert merged.captured_at == T0
    assert merged.updated_at == AT
    assert merged.phone == "13800138000"  # filled from the other record
    assert result.outcome("phone").source == "other"
    assert merged.company == "北京字节跳动科技有限公司"
    assert result.outcome("company").dropped == ("字节跳动",)
    assert merged.tags == {"expo", "cebit"}
    assert dict(merged.custom) == {"budget_band": "A", "newsletter": True}
    assert result.outcome("custom.budget_band").dropped == ("B",)
    assert merged.status is LeadStatus.CONTACTED
    assert merged.notes.startswith("Met at CeBIT.\n\nAsked for a demo.\n\nMerged lead L2 on ")
    assert "- company (not kept): 字节跳动" in merged.notes
    assert "- custom.budget_band (not kept): B" in merged.notes
    assert "by u-7" in merged.notes
    conflicts = {o.field for o in result.conflicts}
    assert {"company", "name", "email", "custom.budget_band"} <= conflicts


def test_prefer_controls_the_survivor() -> None:
    a = Lead(id="a", name="A", captured_at=T0 + timedelta(hours=1))
    b = Lead(id="b", name="B", captured_at=T0)
    assert merge_records(a, b, at=AT, by="u").survivor_id == "b"
    assert merge_records(a, b, prefer="newer", at=AT, by="u").survivor_id == "a"
    assert merge_records(a, b, prefer="first", at=AT, by="u").survivor_id == "a"
    assert merge_records(a, b, prefer="second", at=AT, by="u").survivor_id == "b"
    with pytest.raises(ValidationError, match="prefer"):
        merge_records(a, b, prefer="biggest", at=AT, by="u")  # type: ignore[arg-type]


def test_furthest_status_wins_and_disqualified_reason_follows_it() -> None:
    converted = Lead(id="a", name="A", captured_at=T0, status=LeadStatus.CONVERTED,
                     opportunity_id="o-1")
    disqualified = Lead(id="b", name="A", captured_at=T0 + timedelta(1),
                        status=LeadStatus.DISQUALIFIED, disqualified_reason="no budget")
    result = merge_records(disqualified, converted, at=AT, by="u")
    merged = result.record
    assert isinstance(merged, Lead)
    assert merged.status is LeadStatus.CONVERTED
    assert merged.opportunity_id == "o-1"
    assert merged.disqualified_reason is None
    assert result.outcome("disqualified_reason").dropped == ("no budget",)
    assert "- disqualified_reason (not kept): no budget" in merged.notes


def test_merge_opportunities_unions_activities_and_records_conflicts_in_custom() -> None:
    call = Activity(id="x1", kind=ActivityKind.CALL, at=T0 + timedelta(hours=3), by="u")
    visit = Activity(id="x2", kind=ActivityKind.VISIT, at=T0 + timedelta(hours=1), by="u")
    a = Opportunity(id="o1", name="ERP", pipeline_id="standard", stage_id="solution",
                    created_at=T0, amount=Money.of("120000", "CNY"), activities=(call,),
                    contacts=(Contact(id="c1", name="Li"),))
    b = Opportunity(id="o2", name="ERP rollout", pipeline_id="standard",
                    stage_id="needs_analysis", created_at=T0 + timedelta(days=1),
                    amount=Money.of("150000", "CNY"), activities=(visit,),
                    contacts=(Contact(id="c2", name="Wang"),),
                    account=Account(id="a1", name="Acme"))
    result = merge_records(a, b, at=AT, by="u")
    merged = result.record
    assert isinstance(merged, Opportunity)
    assert [x.id for x in merged.activities] == ["x2", "x1"]
    assert [c.id for c in merged.contacts] == ["c1", "c2"]
    assert merged.account == b.account
    assert merged.stage_id == "solution"
    assert merged.amount == Money.of("120000", "CNY")
    assert merged.custom["merged:o2:amount"] == str(Money.of("150000", "CNY"))
    assert merged.custom["merged:o2:stage_id"] == "needs_analysis"


def test_merge_contacts_and_accounts() -> None:
    result = merge_records(Account(id="a", name="Acme Ltd"),
                   Account(id="b", name="ACME", website="acme.com", employees=40),
                   at=AT, by="u")
    assert isinstance(result.record, Account)
    assert (result.record.name, result.record.website, result.record.employees) == (
        "Acme Ltd", "acme.com", 40)
    assert result.outcome("name").dropped == ("ACME",)
    contact = merge_records(Contact(id="c", name="Li", email="li@acme.com"),
                    Contact(id="d", name="Li", phone="138"), at=AT, by="u").record
    assert isinstance(contact, Contact)
    assert (contact.id, contact.email, contact.phone) == ("c", "li@acme.com", "138")


@pytest.mark.parametrize(("a", "b", "kw", "match"), [
    (Lead(id="a", name="A", captured_at=T0), Contact(id="b", name="B"), {}, "cannot merge a"),
    (Lead(id="a", name="A", captured_at=T0), Lead(id="a", name="B", captured_at=T0), {},
     "with itself"),
    (Contact(id="a", name="A"), Contact(id="b", name="B"), {"at": datetime(2026, 1, 1)},
     "timezone-aware"),
    (Contact(id="a", name="A"), Contact(id="b", name="B"), {"by": " "}, "who merges"),
    ("a", "b", {}, "cannot merge a str"),
])
def test_merge_refuses_bad_input(a: Any, b: Any, kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        merge_records(a, b, **{"at": AT, "by": "u", **kw})


# --- property: no value is lost silently ------------------------------------------------

maybe_text = st.one_of(st.none(), st.sampled_from(["", "x", "Acme", "李雷", "y"]))
leads = st.builds(
    Lead,
    id=st.sampled_from(["a", "b", "c"]),
    name=st.sampled_from(["Li", "Wang"]),
    captured_at=st.integers(0, 3).map(lambda d: T0 + timedelta(days=d)),
    email=maybe_text, phone=maybe_text, company=maybe_text, title=maybe_text,
    owner=maybe_text, opportunity_id=maybe_text, external_key=maybe_text,
    status=st.sampled_from([s for s in LeadStatus if s is not LeadStatus.DISQUALIFIED]),
    notes=st.sampled_from(["", "note 1", "note 2"]),
    tags=st.frozensets(st.sampled_from(["a", "b", "c"])),
    custom=st.dictionaries(st.sampled_from(["k", "j"]),
                           st.one_of(st.none(), st.integers(0, 2), st.booleans(), maybe_text)),
    version=st.integers(0, 3),
)


def _kept_or_dropped(result: MergeResult, record: Lead) -> None:
    merged = result.record
    for field in attrs.fields(Lead):
        value = getattr(record, field.name)
        if value in (None, "") or field.name == "qualification":
            continue
        if field.name == "tags":
            assert value <= merged.tags  # type: ignore[union-attr]
        elif field.name == "custom":
            for key, item in value.items():
                outcome = result.outcome(f"custom.{key}")
                assert item in (None, "") or item == merged.custom[key] or item in outcome.dropped  # type: ignore[union-attr]
        elif field.name == "notes":
            assert value in merged.notes  # type: ignore[union-attr]
        else:
            outcome = result.outcome(field.name)
            assert value == getattr(merged, field.name) or value in outcome.dropped, field.name
            if value in outcome.dropped and field.name not in (
                    "id", "version", "updated_at", "captured_at"):
                assert str(getattr(value, "value", value)) in merged.notes  # type: ignore[union-attr]


@given(leads, leads, st.sampled_from(["older", "newer", "first", "second"]))
def test_merge_never_loses_a_value(a: Lead, b: Lead, prefer: Any) -> None:
    if a.id == b.id:
        b = b.evolve(id=a.id + "2")
    result = merge_records(a, b, prefer=prefer, at=AT, by="u")
    assert result.survivor_id in (a.id, b.id)
    assert {result.survivor_id, *result.merged_ids} == {a.id, b.id}
    assert result.record.id == result.survivor_id
    _kept_or_dropped(result, a)
    _kept_or_dropped(result, b)
