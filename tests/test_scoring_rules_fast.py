"""The documented fast method ``find``: dispatch on behaviour, and the same answers as evaluate."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    ContributionStatus,
    DecisionCycleRule,
    Opportunity,
    Qualification,
    Reason,
    RuleResult,
    Scorecard,
    ScoringContext,
    ScoringError,
    Urgency,
    UrgencyLevel,
    UrgencyRule,
)
from oppcore.scoring import Finding
from oppcore.scoring._rule import finder
from oppcore.testing.strategies import currencies, dates, money, qualifications

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
TODAY = NOW.date()


def deal(q: Qualification | None = None, **kw: Any) -> Opportunity:
    return Opportunity(id=kw.pop("id", "o1"), name="Deal", pipeline_id="standard",
                       stage_id="solution", created_at=NOW - timedelta(days=30),
                       qualification=q or Qualification(), **kw)


@st.composite
def opportunities(draw: st.DrawFn) -> Opportunity:
    code = draw(currencies())
    return deal(draw(qualifications(code)), amount=draw(st.none() | money(code)),
                expected_close=draw(st.none() | dates()),
                expected_close_history=tuple(draw(st.lists(dates(), max_size=3))))


@attrs.frozen(kw_only=True)
class Slips:
    """A third-party rule with the fast method: fewer close-date slips score higher."""

    rule_id: str = "slips"
    dimension: str = "slips"

    def find(self, subject: Any, context: ScoringContext) -> Finding:
        if not isinstance(subject, Opportunity) or subject.expected_close is None:
            return Finding(None, 0.0, (Reason(code="no_close", message="no close date"),),
                           False)
        n = subject.close_date_pushes
        value = 1.0 / (1 + n)
        return Finding(value, 1.0, (Reason(code="slips", message=f"{n} slip(s)",
                                           effect=value - 0.5),), n >= 3)

    def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
        return self.find(subject, context).as_result()


@attrs.frozen(kw_only=True)
class EvaluateOnly:
    """The same rule seen through evaluate alone (the plain path)."""

    inner: Any
    rule_id: str = "slips"
    dimension: str = "slips"

    def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
        result: RuleResult = self.inner.evaluate(subject, context)
        return result


@given(opps=st.lists(opportunities(), min_size=1, max_size=4), days=st.integers(-300, 300))
def test_a_third_party_fast_method_gives_what_evaluate_gives(opps: list[Opportunity],
                                                              days: int) -> None:
    now = NOW + timedelta(days=days)
    fast = Scorecard(rules=(*Scorecard.default().rules, Slips()),
                     weights={**Scorecard.default().weights, "slips": 15})
    plain = Scorecard(rules=tuple(EvaluateOnly(inner=r, rule_id=r.rule_id,
                                               dimension=r.dimension) for r in fast.rules),
                      weights=fast.weights)
    assert all(finder(r) is not None for r in fast.rules)
    assert all(finder(r) is None for r in plain.rules)
    for opp in opps:
        a, b = fast.score(opp, now=now), plain.score(opp, now=now)
        assert a == b
        for x, y in zip(a.contributions, b.contributions, strict=True):
            assert attrs.asdict(x, recurse=False) == attrs.asdict(y, recurse=False)


def test_a_subclass_overriding_only_evaluate_is_called_through_evaluate() -> None:
    calls: list[str] = []

    @attrs.frozen(kw_only=True)
    class Logged(UrgencyRule):
        def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
            calls.append("evaluate")
            return RuleResult(value=0.25)

    assert finder(Logged()) is None
    c = Scorecard(rules=(Logged(),), weights={"urgency": 1}).score(deal(), now=NOW)
    assert calls == ["evaluate"]
    assert c.contribution("urgency").value == 0.25


def test_a_subclass_overriding_find_is_read_through_find() -> None:
    @attrs.frozen(kw_only=True)
    class Flat(DecisionCycleRule):
        def find(self, subject: Any, context: ScoringContext) -> Finding:
            return Finding(0.75, 1.0, (), False)

    rule = Flat()
    assert finder(rule) is not None
    got = Scorecard(rules=(rule,), weights={"decision_cycle": 1}).score(deal(), now=NOW)
    assert got.contribution("decision_cycle").value == 0.75
    # the inherited evaluate goes through the overriding find: both paths agree
    assert rule.evaluate(deal(), ScoringContext(now=NOW)).value == 0.75


def test_a_find_only_on_the_instance_is_not_used() -> None:
    class Plain:
        rule_id = "plain"
        dimension = "plain"

        def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
            return RuleResult(value=0.5)

    rule = Plain()
    rule.find = lambda s, c: Finding(1.0, 1.0, (), False)  # type: ignore[attr-defined]
    assert finder(rule) is None
    got = Scorecard(rules=(rule,), weights={"plain": 1}).score(deal(), now=NOW)
    assert got.contribution("plain").value == 0.5


@pytest.mark.parametrize("bad", [
    Finding(1.5, 1.0, (), False),
    Finding(float("nan"), 1.0, (), False),
    Finding(Decimal("0.5"), 1.0, (), False),  # type: ignore[arg-type]
    Finding(True, 1.0, (), False),
    Finding(0.5, 2.0, (), False),
    Finding(0.5, "high", (), False),  # type: ignore[arg-type]
    Finding(0.5, 1.0, [Reason(code="x", message="y")], False),  # type: ignore[arg-type]
    Finding(0.5, 1.0, ("not a reason",), False),  # type: ignore[arg-type]
    Finding(0.5, 1.0, (), 1),  # type: ignore[arg-type]
    (0.5, 1.0, (), False),  # a plain tuple is not a Finding
    RuleResult(value=0.5),  # find must return a Finding
])
def test_a_wrong_finding_is_a_failed_contribution(bad: object) -> None:
    class Wrong:
        rule_id = "wrong"
        dimension = "wrong"

        def find(self, subject: Any, context: ScoringContext) -> Any:
            return bad

        def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
            raise AssertionError("the scorecard reads find")

    card = Scorecard(rules=(Wrong(), UrgencyRule()), weights={"wrong": 1, "urgency": 1})
    opp = deal(Qualification(urgency=Urgency(level=UrgencyLevel.HIGH)))
    s = card.score(opp, now=NOW)
    c = s.contribution("wrong")
    assert c.status is ContributionStatus.FAILED
    assert c.error and "ValidationError" in c.error
    assert s.total == sum((x.points for x in s.contributions), Decimal(0))
    with pytest.raises(ScoringError):
        card.score(opp, now=NOW, strict=True)


def test_int_values_in_a_finding_become_floats() -> None:
    class Whole:
        rule_id = "whole"
        dimension = "whole"

        def find(self, subject: Any, context: ScoringContext) -> Finding:
            return Finding(1, 1, (), False)  # type: ignore[arg-type]

        def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
            return self.find(subject, context).as_result()

    c = Scorecard(rules=(Whole(),), weights={"whole": 1}).score(deal(), now=NOW).contributions[0]
    assert (type(c.value), type(c.confidence)) == (float, float)


_ANY_FIELD = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.floats(allow_nan=True),
                       st.decimals(allow_nan=False, places=2, min_value=-2, max_value=2),
                       st.text(max_size=2))
_REASONS = st.one_of(
    st.lists(st.one_of(st.builds(Reason, code=st.just("c"), message=st.just("m"),
                                 effect=st.floats(-1, 1)), _ANY_FIELD), max_size=3).map(tuple),
    st.lists(_ANY_FIELD, max_size=2))


@given(value=_ANY_FIELD, confidence=_ANY_FIELD, reasons=_REASONS, veto=_ANY_FIELD)
def test_the_quick_accept_of_checked_finding_agrees_with_the_full_check(
        value: object, confidence: object, reasons: object, veto: object) -> None:
    """The happy path of checked_finding accepts only what the full check accepts as is."""
    from oppcore._errors import ValidationError
    from oppcore.scoring._rule import _checked_in_full, checked_finding

    def outcome(check: Any) -> tuple[str, object]:
        try:
            return ("ok", check(found))
        except ValidationError as exc:
            return ("error", str(exc))

    found = Finding(value, confidence, reasons, veto)  # type: ignore[arg-type]
    outcomes = [outcome(checked_finding), outcome(_checked_in_full)]
    assert outcomes[0] == outcomes[1]
    if outcomes[0][0] == "ok" and outcomes[0][1] is not found:
        assert outcomes[0][1] == found  # ints made floats: equal values, a new tuple
