"""The unified social credit code (GB 32100-2015) on accounts: checked, and matched."""

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import Account, Opportunity, ValidationError, find_duplicates, serde
from oppcore._credit_code import (
    CREDIT_CODE_CHARS,
    credit_code_problem,
)
from oppcore.dedupe import match_keys
from oppcore.testing.strategies import _credit_codes

# The standard's own example, and a code from a published business licence.
VALID = ("91350100M000100Y43", "91110000802100433B")


@pytest.mark.parametrize("code", VALID)
def test_published_codes_are_valid(code: str) -> None:
    assert credit_code_problem(code) is None
    assert Account(id="a", name="x", credit_code=code).credit_code == code


@pytest.mark.parametrize(("code", "problem"), [
    ("91350100M000100Y44", "check character is '4'"),
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100I43", "I, O, Z, S"),
    ("913501A0M000100Y43", "administrative division"),
    ("", "18 characters"),
])
def test_invalid_codes_are_refused_at_construction(code: str, problem: str) -> None:
    assert problem in (credit_code_problem(code) or "")
    with pytest.raises(ValidationError, match=r"Account\.credit_code") as info:
        Account(id="a", name="x", credit_code=code)
    assert info.value.field == "credit_code"


def test_spelling_variants_are_accepted_and_match() -> None:
    spaced = "9135 0100 M000 100Y 43"
    full_width = "９１３５０１００ｍ０００１００ｙ４３"
    for code in (spaced, full_width, VALID[0].lower()):
        assert credit_code_problem(code) is None
    keys = {match_keys(Account(id=str(i), name="n", credit_code=c)).credit_code
            for i, c in enumerate((spaced, full_width, VALID[0]))}
    assert keys == {VALID[0]}
    with pytest.raises(ValidationError):
        Account(id="a", name="x", credit_code=42)  # type: ignore[arg-type]


codes = _credit_codes()


@given(codes, st.integers(0, 17), st.sampled_from(CREDIT_CODE_CHARS))
def test_the_check_character_catches_every_single_substitution(
        code: str, position: int, char: str) -> None:
    assert credit_code_problem(code) is None
    changed = code[:position] + char + code[position + 1:]
    if changed != code and (position not in range(2, 8) or char.isdigit()):
        assert credit_code_problem(changed) is not None


def test_the_credit_code_is_the_strongest_account_key() -> None:
    a = Account(id="A-1", name="福建某某科技有限公司", credit_code=VALID[0])
    b = Account(id="A-2", name="完全不同的名字", credit_code=VALID[0].lower())
    c = Account(id="A-3", name="福建某某科技有限公司", credit_code=VALID[1])
    pairs = {p.ids: p for p in find_duplicates([a, b, c])}
    assert pairs[("A-1", "A-2")].reasons[0].code == "credit_code"
    assert pairs[("A-1", "A-2")].score == pytest.approx(0.99)
    # Same name, different codes: still a company-name candidate, without the code.
    assert "credit_code" not in pairs[("A-1", "A-3")].codes


def test_the_credit_code_survives_the_wire_format() -> None:
    account = Account(id="a", name="x", credit_code=VALID[1])
    assert serde.loads(serde.dumps(account), Account) == account
    deal = Opportunity(id="o", name="d", pipeline_id="standard", stage_id="identification",
                       created_at=datetime(2026, 1, 5, tzinfo=timezone.utc), account=account)
    again = serde.loads(serde.dumps(deal), Opportunity)
    assert again.account is not None and again.account.credit_code == VALID[1]
    bad = serde.dumps(deal).replace(VALID[1], VALID[1][:-1] + "C")
    with pytest.raises(ValidationError, match="credit_code"):
        serde.loads(bad, Opportunity)
