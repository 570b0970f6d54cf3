"""A misbehaving rule never makes score() raise (non-strict), and strict mode says why."""

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    ContributionStatus,
    MissingDataPolicy,
    Opportunity,
    Qualification,
    Reason,
    RuleResult,
    Scorecard,
    ScoringContext,
    ScoringError,
    Urgency,
    UrgencyLevel,
)
from oppcore.scoring import Finding

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
OPP = Opportunity(id="o1", name="Deal", pipeline_id="standard", stage_id="solution",
                  created_at=NOW - timedelta(days=30),
                  qualification=Qualification(urgency=Urgency(level=UrgencyLevel.HIGH)))


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("cannot say")


class Returns:
    """A rule whose evaluate returns (or whose find returns) whatever it was given."""

    dimension = "plugin"

    def __init__(self, out: Any, rule_id: str = "plugin") -> None:
        self.out = out
        self.rule_id = rule_id

    def evaluate(self, subject: Any, context: ScoringContext) -> Any:
        if isinstance(self.out, BaseException):
            raise self.out
        return self.out


class FindReturns(Returns):
    def find(self, subject: Any, context: ScoringContext) -> Any:
        return self.evaluate(subject, context)


def tampered(**fields: Any) -> RuleResult:
    result = RuleResult(value=0.5, reasons=(Reason(code="ok", message="fine"),))
    for name, value in fields.items():
        object.__setattr__(result, name, value)  # behind the frozen value's back
    return result


def card(rule: Any, policy: MissingDataPolicy = MissingDataPolicy.EXCLUDE) -> Scorecard:
    base = Scorecard.default()
    return Scorecard(rules=(*base.rules, rule), weights={**base.weights, rule.rule_id: 10},
                     missing=policy)


CASES = {
    "unprintable exception": Unprintable(),
    "value swapped to a Decimal": tampered(value=Decimal("0.5")),
}


@pytest.mark.parametrize("out", CASES.values(), ids=CASES.keys())
def test_non_strict_records_the_failure(out: Any) -> None:
    s = card(Returns(out)).score(OPP, now=NOW)
    c = s.contribution("plugin")
    assert c.status is ContributionStatus.FAILED
    assert c.error and c.points == 0
    assert s.total == sum((x.points for x in s.contributions), Decimal(0))


@pytest.mark.parametrize("out", CASES.values(), ids=CASES.keys())
def test_strict_raises_scoring_error_with_the_cause(out: Any) -> None:
    with pytest.raises(ScoringError) as info:
        card(Returns(out)).score(OPP, now=NOW, strict=True)
    assert info.value.rule_id == "plugin"
    assert isinstance(info.value.__cause__, Exception)
    if isinstance(out, Unprintable):
        assert info.value.__cause__ is out
        assert "Unprintable" in str(info.value)


def test_the_error_of_an_unprintable_exception_names_its_type() -> None:
    c = card(Returns(Unprintable())).score(OPP, now=NOW).contribution("plugin")
    assert c.error is not None and c.error.startswith("Unprintable: ")


class Hostile:
    """A value whose every comparison, conversion and hash raises."""

    def _no(self, *args: Any) -> Any:
        raise RuntimeError("hostile")

    __lt__ = __le__ = __gt__ = __ge__ = __float__ = __index__ = __bool__ = _no
    __str__ = __repr__ = __len__ = __iter__ = _no


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(allow_nan=True),
    st.fractions(), st.text(max_size=5), st.binary(max_size=5), st.complex_numbers(),
    st.builds(Hostile), st.just(math.inf), st.lists(st.integers(), max_size=3),
    st.tuples(st.floats(), st.floats()), st.builds(object),
    st.just(Reason(code="r", message="m")), st.just((Reason(code="r", message="m"),)),
    st.just(Unprintable()),
)
tampered_results = st.builds(
    lambda fields: tampered(**fields),
    st.dictionaries(st.sampled_from(["value", "confidence", "reasons", "veto"]), anything,
                    max_size=4))
findings = st.builds(Finding, anything, anything, anything, anything)
garbage = st.one_of(anything, tampered_results, findings, st.builds(RuleResult, value=st.none()))


@given(out=garbage, fast=st.booleans(), policy=st.sampled_from(MissingDataPolicy))
def test_any_garbage_from_a_rule_never_escapes_a_non_strict_score(
        out: Any, fast: bool, policy: MissingDataPolicy) -> None:
    rule = FindReturns(out) if fast else Returns(out)
    s = card(rule, policy).score(OPP, now=NOW)
    assert s.total == sum((x.points for x in s.contributions), Decimal(0))
    assert Decimal(0) <= s.total <= Decimal(100)
    c = s.contribution("plugin")
    if c.status is ContributionStatus.FAILED:
        assert isinstance(c.error, str) and c.error
    else:
        assert c.value is None or (type(c.value) is float and 0.0 <= c.value <= 1.0)
        assert all(type(r) is Reason for r in c.reasons)
        assert type(c.veto) is bool
    if c.status is ContributionStatus.FAILED:
        with pytest.raises(ScoringError) as info:
            card(rule, policy).score(OPP, now=NOW, strict=True)
        assert info.value.__cause__ is not None
    else:
        assert card(rule, policy).score(OPP, now=NOW, strict=True) == s
