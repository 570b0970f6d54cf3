"""Identity keys at the model layer (oppcore._identity): what a store holds unique."""

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given

import oppcore
from oppcore import (
    Account,
    Contact,
    DuplicateError,
    InMemoryStore,
    Lead,
    Opportunity,
    ValidationError,
    unique_keys,
)
from oppcore.dedupe import email_key, external_key
from oppcore.testing import strategies

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_a_lead_is_unique_by_normalised_email_and_external_key() -> None:
    lead = Lead(id="L1", name="Li", captured_at=T0, email=" LI@Acme.COM ",
                external_key=" Form  0042 ")
    assert unique_keys(lead) == (("email", "li@acme.com"), ("external_key", "form 0042"))


def test_an_opportunity_is_unique_by_external_key_only() -> None:
    deal = Opportunity(id="D1", name="Fit-out", pipeline_id="standard",
                       stage_id="identification", created_at=T0,
                       contacts=(Contact(id="C1", name="Li", email="li@acme.com"),),
                       external_key="ERP-7")
    assert unique_keys(deal) == (("external_key", "erp-7"),)


@pytest.mark.parametrize("email", [None, "", "   ", "no-at-sign", "a@localhost"])
def test_blank_or_implausible_values_give_no_key(email: str | None) -> None:
    assert unique_keys(Lead(id="L1", name="Li", captured_at=T0, email=email)) == ()


@pytest.mark.parametrize("record", [Account(id="A1", name="Acme"), Contact(id="C1", name="Li"),
                                    "L1", None])
def test_only_leads_and_opportunities_have_unique_keys(record: object) -> None:
    with pytest.raises(ValidationError, match="leads and opportunities"):
        unique_keys(record)  # type: ignore[arg-type]


def test_a_subclass_of_lead_is_keyed_like_a_lead() -> None:
    # Dispatch by isinstance: a host's subclass does not silently lose its e-mail key.
    class HostLead(Lead):
        __slots__ = ()

    lead = HostLead(id="L1", name="Li", captured_at=T0, email="li@acme.com")
    assert unique_keys(lead) == (("email", "li@acme.com"),)


@given(strategies.leads())
def test_keys_are_the_normalised_email_and_external_key(lead: Lead) -> None:
    expected = tuple((name, key) for name, key in (
        ("email", email_key(lead.email)), ("external_key", external_key(lead.external_key)))
        if key is not None)
    assert unique_keys(lead) == expected


def test_the_reference_store_refuses_a_second_lead_with_the_same_key() -> None:
    store = InMemoryStore()
    store.add(Lead(id="L1", name="Li", captured_at=T0, email="li@acme.com"))
    with pytest.raises(DuplicateError) as info:
        store.add(Lead(id="L2", name="Li", captured_at=T0, email=" LI@ACME.com"))
    assert (info.value.existing_id, info.value.key) == ("L1", "email")


def test_identity_sits_at_the_model_layer() -> None:
    # Models import nothing above them: identity is defined here, storage and the duplicate
    # finder import it, and storage borrows nothing from the duplicate finder.
    src = Path(oppcore.__file__).parent
    tree = ast.parse((src / "_identity.py").read_text(encoding="utf-8"))
    ours = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                ours.add(node.module)
            else:
                assert not (node.module or "").startswith("oppcore"), node.module
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("oppcore") for a in node.names)
    assert ours <= {"_errors", "_models"}
    for module in (src / "storage").glob("*.py"):
        assert "dedupe" not in module.read_text(encoding="utf-8"), module.name
