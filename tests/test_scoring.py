"""Scoring: rules, scorecards and explained scores (properties first)."""

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Budget,
    BudgetRule,
    Competition,
    CompetitionRule,
    CompetitivePosition,
    Competitor,
    ContributionStatus,
    DecisionCycleRule,
    DecisionProcess,
    Lead,
    MissingDataPolicy,
    Money,
    Opportunity,
    Qualification,
    Reason,
    RuleResult,
    Scorecard,
    ScoringContext,
    ScoringError,
    ScoringRule,
    Urgency,
    UrgencyLevel,
    UrgencyRule,
    ValidationError,
    scoring_rule,
)
from oppcore.testing.strategies import competitions, currencies, dates, leads, money, qualifications

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
TODAY = NOW.date()
CTX = ScoringContext(now=NOW)


def eur(x: str | int) -> Money:
    return Money(amount=Decimal(x), currency="EUR")


def deal(q: Qualification | None = None, **kw: Any) -> Opportunity:
    return Opportunity(id=kw.pop("id", "o1"), name="Deal", pipeline_id="standard",
                       stage_id="solution", created_at=NOW - timedelta(days=30),
                       qualification=q or Qualification(), **kw)


FULL = Qualification(
    urgency=Urgency(level=UrgencyLevel.HIGH, deadline=TODAY + timedelta(days=30)),
    budget=Budget(amount=eur(90_000), confirmed=True),
    decision=DecisionProcess(expected_decision=TODAY + timedelta(days=45),
                             decision_maker_identified=True, decision_maker_engaged=False),
    competition=Competition(competitors=(
        Competitor(name="Acme", position=CompetitivePosition.EVEN, incumbent=True),)),
)


def full_deal(**kw: Any) -> Opportunity:
    return deal(FULL, amount=eur(100_000), expected_close=TODAY + timedelta(days=40), **kw)


# --- invariants over any opportunity -------------------------------------------------------

@st.composite
def opportunities(draw: st.DrawFn) -> Opportunity:
    """Deals varying in everything the built-in rules read (the full model strategy is slow)."""
    code = draw(currencies())
    return deal(draw(qualifications(code)),
                amount=draw(st.none() | money(code)),
                expected_close=draw(st.none() | dates()),
                expected_close_history=tuple(draw(st.lists(dates(), max_size=3))))


@given(opp=opportunities())
def test_total_is_exact_sum_of_contributions_and_in_range(opp: Opportunity) -> None:
    for card in (Scorecard.default(),
                 attrs.evolve(Scorecard.default(), missing=MissingDataPolicy.VALUE,
                              caps={"budget": 10})):
        s = card.score(opp, now=NOW)
        assert s.total == sum((c.points for c in s.contributions), Decimal(0))
        assert s.total == sum((c.points for c in reversed(s.contributions)), Decimal(0))
        assert Decimal(0) <= s.total <= Decimal(100)
        assert 0.0 <= s.coverage <= 1.0
        assert s.grade in {"A", "B", "C", "D"}
        for c in s.contributions:
            assert c.points >= 0
            assert c.points.as_tuple().exponent >= -2
            if c.value is not None:
                assert 0.0 <= c.value <= 1.0


@given(lead=leads())
def test_leads_score_too(lead: Lead) -> None:
    s = Scorecard.default().score(lead, now=NOW)
    assert s.subject_id == lead.id
    assert s.total == sum((c.points for c in s.contributions), Decimal(0))


@given(opp=opportunities())
def test_builtin_subscore_is_half_plus_effects(opp: Opportunity) -> None:
    for rule in Scorecard.default().rules:
        r = rule.evaluate(opp, CTX)
        if r.value is not None:
            assert math.isclose(0.5 + math.fsum(x.effect for x in r.reasons), r.value,
                                abs_tol=1e-9)


@given(opps=st.lists(opportunities(), min_size=1, max_size=5),
       lead=leads(), days=st.integers(-400, 400))
def test_scorecard_reads_builtin_rules_exactly_as_evaluate_reports(
        opps: list[Opportunity], lead: Lead, days: int) -> None:
    # A Scorecard reads a built-in rule's finding through its fast method find() and the
    # rules remember reasons they made before: neither may change what a record gets.
    # Fresh rules (empty memo), warm rules and the public evaluate() must agree field for
    # field.
    now = NOW + timedelta(days=days)
    warm = Scorecard.default()
    for subject in (*opps, lead, *opps):
        got = warm.score(subject, now=now)
        fresh = Scorecard.default().score(subject, now=now)
        assert got == fresh
        for rule, c in zip(Scorecard.default().rules, got.contributions, strict=True):
            r = rule.evaluate(subject, ScoringContext(now=now))
            assert type(r) is RuleResult
            assert (c.value, c.confidence, c.reasons, c.veto) == (
                r.value, r.confidence, r.reasons, r.veto and r.value is not None)


def test_a_subclass_of_a_builtin_rule_is_called_through_evaluate() -> None:
    # The scorecard reads find() only where no subclass overrides evaluate() below it: a
    # subclass that overrides evaluate() must be the one that scores.
    @attrs.frozen(kw_only=True)
    class Pessimist(UrgencyRule):
        def evaluate(self, subject: Any, context: ScoringContext) -> RuleResult:
            return RuleResult(value=0.0, reasons=(Reason(code="gloom", message="no"),))

    card = Scorecard(rules=(Pessimist(),), weights={"urgency": 1})
    c = card.score(full_deal(), now=NOW).contribution("urgency")
    assert (c.value, [r.code for r in c.reasons]) == (0.0, ["gloom"])


def test_rules_remember_a_bounded_number_of_reasons() -> None:
    from oppcore.scoring._builtin._common import MEMO_SIZE as _MEMO_SIZE

    rule = UrgencyRule()
    ctx = ScoringContext(now=NOW)
    first = rule.evaluate(deal(Qualification(urgency=Urgency(deadline=TODAY))), ctx)
    for days in range(_MEMO_SIZE + 10):  # more distinct deadlines than the memo holds
        q = Qualification(urgency=Urgency(deadline=TODAY + timedelta(days=days)))
        rule.evaluate(deal(q), ctx)
        assert len(rule._memo) <= _MEMO_SIZE
    again = rule.evaluate(deal(Qualification(urgency=Urgency(deadline=TODAY))), ctx)
    assert again == first


@given(opp=opportunities(), bad=st.sampled_from(["raise", "nan", "big", "text", "none_obj"]))
def test_failing_rule_never_changes_other_rules(opp: Opportunity, bad: str) -> None:
    def broken(subject: Any, context: Any) -> Any:
        if bad == "raise":
            raise RuntimeError("plugin bug")
        return {"nan": math.nan, "big": 7.0, "text": "high", "none_obj": object()}[bad]

    base = Scorecard.default()
    rule = scoring_rule("broken")(broken)
    card = Scorecard(rules=(*base.rules, rule), weights={**base.weights, "broken": 10})
    good = base.score(opp, now=NOW)
    with_bad = card.score(opp, now=NOW)
    assert not with_bad.complete
    assert [c.rule_id for c in with_bad.failures] == ["broken"]
    failed = with_bad.contribution("broken")
    assert failed.status is ContributionStatus.FAILED
    assert failed.error
    assert failed.points == 0
    for c in good.contributions:
        other = with_bad.contribution(c.rule_id)
        assert (other.value, other.reasons, other.status) == (c.value, c.reasons, c.status)
    # under "exclude" a failure counts as unknown: the known rules' points do not move
    assert with_bad.total == good.total
    with pytest.raises(ScoringError) as info:
        card.score(opp, now=NOW, strict=True)
    assert info.value.rule_id == "broken"


# --- monotonicity promised by the built-in rules ---------------------------------------------

@given(a=st.integers(0, 10**7), b=st.integers(0, 10**7), deal_amount=st.integers(0, 10**7),
       confirmed=st.booleans())
def test_more_budget_never_lowers_budget_subscore(a: int, b: int, deal_amount: int,
                                                   confirmed: bool) -> None:
    low, high = sorted((a, b))
    rule = BudgetRule()

    def value(amount: int, conf: bool) -> float:
        opp = deal(Qualification(budget=Budget(amount=eur(amount), confirmed=conf)),
                   amount=eur(deal_amount))
        v = rule.evaluate(opp, CTX).value
        assert v is not None
        return v

    assert value(high, confirmed) >= value(low, confirmed)
    assert value(low, True) >= value(low, False)


@given(comp=competitions(), position=st.sampled_from(CompetitivePosition),
       incumbent=st.booleans())
def test_adding_a_competitor_never_raises_competition(comp: Competition,
                                                      position: CompetitivePosition,
                                                      incumbent: bool) -> None:
    rule = CompetitionRule()
    before = rule.evaluate(deal(Qualification(competition=comp)), CTX).value
    more = Competition(competitors=(*comp.competitors,
                                    Competitor(name="New", position=position,
                                               incumbent=incumbent)))
    after = rule.evaluate(deal(Qualification(competition=more)), CTX).value
    assert before is not None and after is not None
    assert after <= before


_ORDER = [CompetitivePosition.TRAILING, CompetitivePosition.UNKNOWN, CompetitivePosition.EVEN,
          CompetitivePosition.LEADING]


@given(comp=competitions().filter(lambda c: bool(c.competitors)), i=st.integers(0, 2))
def test_better_position_never_lowers_competition(comp: Competition, i: int) -> None:
    rule = CompetitionRule()
    idx = i % len(comp.competitors)
    target = comp.competitors[idx]
    rank = _ORDER.index(target.position)
    if rank == len(_ORDER) - 1:
        return
    better = list(comp.competitors)
    better[idx] = attrs.evolve(target, position=_ORDER[rank + 1])
    v1 = rule.evaluate(deal(Qualification(competition=comp)), CTX).value
    v2 = rule.evaluate(deal(Qualification(competition=Competition(competitors=tuple(better)))),
                       CTX).value
    assert v1 is not None and v2 is not None
    assert v2 >= v1


@given(d1=st.integers(0, 400), d2=st.integers(0, 400), pushes=st.integers(0, 4),
       level=st.sampled_from(UrgencyLevel))
def test_urgency_monotone(d1: int, d2: int, pushes: int, level: UrgencyLevel) -> None:
    rule = UrgencyRule()
    near, far = sorted((d1, d2))

    def value(days: int, lvl: UrgencyLevel, n_push: int) -> float:
        close = TODAY + timedelta(days=days)
        history = tuple(close - timedelta(days=10 * (n_push - k)) for k in range(n_push))
        opp = deal(Qualification(urgency=Urgency(level=lvl, deadline=close)),
                   expected_close=close, expected_close_history=history)
        v = rule.evaluate(opp, CTX).value
        assert v is not None
        return v

    assert value(near, level, pushes) >= value(far, level, pushes)
    assert value(near, level, pushes) >= value(near, level, pushes + 1)
    levels = list(UrgencyLevel)
    if level is not levels[-1]:
        higher = levels[levels.index(level) + 1]
        assert value(near, higher, pushes) >= value(near, level, pushes)


@given(days=st.integers(0, 400), identified=st.booleans(), engaged=st.booleans())
def test_decision_monotone(days: int, identified: bool, engaged: bool) -> None:
    rule = DecisionCycleRule()

    def value(d: int, ident: bool, eng: bool) -> float:
        q = Qualification(decision=DecisionProcess(
            expected_decision=TODAY + timedelta(days=d), decision_maker_identified=ident,
            decision_maker_engaged=eng))
        v = rule.evaluate(deal(q), CTX).value
        assert v is not None
        return v

    assert value(days, identified, engaged) >= value(days + 1, identified, engaged)
    assert value(days, True, engaged) >= value(days, False, engaged)
    assert value(days, identified, True) >= value(days, identified, False)


# --- examples --------------------------------------------------------------------------------

def test_full_deal_explained() -> None:
    s = Scorecard.default().score(full_deal(), now=NOW)
    assert s.coverage == 1.0
    assert s.complete and not s.vetoed
    assert s.grade == "B"
    budget = s.contribution("budget")
    assert [r.code for r in budget.reasons] == ["budget_confirmed", "budget_covers"]
    assert budget.value == pytest.approx(0.5 + 0.2 + 0.6 * (0.8 - 0.5))
    codes = {f.code for f in s.top_positive()}
    assert "budget_confirmed" in codes
    assert s.top_negative()[0].code == "incumbent"
    assert all(f.points < 0 for f in s.top_negative(10))


def test_unknown_is_not_zero_exclude_and_value_policies() -> None:
    q = Qualification(budget=Budget(amount=eur(100), confirmed=True))
    opp = deal(q, amount=eur(100))
    excl = Scorecard.default().score(opp, now=NOW)
    assert excl.coverage == pytest.approx(30 / 100)
    assert excl.contribution("urgency").status is ContributionStatus.UNKNOWN
    assert excl.contribution("urgency").points == 0
    # only budget is known: it carries all 100 points
    assert excl.total == Decimal("100.00") * Decimal(str(excl.contribution("budget").value))
    val = attrs.evolve(Scorecard.default(), missing=MissingDataPolicy.VALUE,
                       missing_value=0.5).score(opp, now=NOW)
    assert val.contribution("urgency").points == Decimal("12.50")
    assert val.coverage == excl.coverage


def test_nothing_known_gives_zero_coverage() -> None:
    s = Scorecard.default().score(deal(), now=NOW)
    assert s.coverage == 0.0
    assert s.total == 0
    assert s.grade == "D"


def test_veto_forces_zero_and_lowest_grade() -> None:
    card = Scorecard.default()
    card = Scorecard(rules=(*card.rules[:1], BudgetRule(veto_below_ratio=0.5), *card.rules[2:]),
                     weights=card.weights)
    opp = deal(attrs.evolve(FULL, budget=Budget(amount=eur(10), confirmed=True)),
               amount=eur(1000))
    s = card.score(opp, now=NOW)
    assert s.vetoed_by == ("budget",)
    assert s.total == 0 and s.grade == "D"
    assert all(c.points == 0 for c in s.contributions)
    assert s.contribution("budget").veto
    assert s.contribution("urgency").value is not None  # still explained


def test_caps_limit_a_dimension() -> None:
    card = attrs.evolve(Scorecard.default(), caps={"budget": 10})
    s = card.score(full_deal(), now=NOW)
    assert s.contribution("budget").points == Decimal("10.00")
    assert s.contribution("budget").capped
    assert not s.contribution("urgency").capped


def test_budget_never_compares_currencies_silently() -> None:
    q = Qualification(budget=Budget(amount=Money(amount=Decimal(100), currency="USD"),
                                    confirmed=True))
    opp = deal(q, amount=eur(100))
    r = BudgetRule().evaluate(opp, CTX)
    assert "currency_mismatch" in [x.code for x in r.reasons]
    assert "budget_covers" not in [x.code for x in r.reasons]

    def convert(m: Money, to: str) -> Money | None:
        return Money(amount=m.amount * Decimal("0.5"), currency=to) if to == "EUR" else None

    r2 = BudgetRule().evaluate(opp, ScoringContext(now=NOW, convert=convert))
    assert [x.code for x in r2.reasons] == ["budget_confirmed", "budget_short"]
    no_rate = ScoringContext(now=NOW, convert=lambda m, to: None)
    assert "no_exchange_rate" in [x.code for x in BudgetRule().evaluate(opp, no_rate).reasons]


def test_score_many_is_lazy_and_ordered() -> None:
    pulled = []

    def gen() -> Any:
        for i in range(5):
            pulled.append(i)
            yield full_deal(id=f"o{i}")

    it = Scorecard.default().score_many(gen(), now=NOW)
    first = next(it)
    assert first.subject_id == "o0" and pulled == [0]
    assert [s.subject_id for s in it] == ["o1", "o2", "o3", "o4"]


def test_function_rule_and_protocol() -> None:
    @scoring_rule("has_amount", dimension="budget")
    def has_amount(subject: Any, context: ScoringContext) -> float | None:
        return 1.0 if getattr(subject, "amount", None) is not None else None

    assert isinstance(has_amount, ScoringRule)
    assert isinstance(UrgencyRule(), ScoringRule)
    card = Scorecard(rules=(has_amount,), weights={"has_amount": 1})
    assert card.score(deal(amount=eur(5)), now=NOW).total == 100
    assert card.score(deal(), now=NOW).coverage == 0.0


def test_rounding_hits_correct_total() -> None:
    rules = tuple(scoring_rule(f"r{i}")(lambda s, c: 1 / 3) for i in range(3))
    card = Scorecard(rules=rules, weights={"r0": 1, "r1": 1, "r2": 1})
    s = card.score(deal(), now=NOW)
    assert s.total == Decimal("33.33")
    assert sum(c.points for c in s.contributions) == s.total


# --- hostile input -----------------------------------------------------------------------

def test_hostile_inputs_raise_oppcore_errors() -> None:
    card = Scorecard.default()
    with pytest.raises(ValidationError):
        card.score("not a deal", now=NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        card.score(full_deal())
    with pytest.raises(ValidationError):
        card.score(full_deal(), now=datetime(2026, 1, 1))  # naive
    with pytest.raises(ValidationError):
        ScoringContext(now=NOW, currency="XXX")
    for bad in (math.nan, 1.5, -0.1, True, "0.5"):
        with pytest.raises(ValidationError):
            RuleResult(value=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Reason(code="", message="x")
    with pytest.raises(ValidationError):
        Reason(code="x", message="y", effect=math.inf)


def test_date_edges() -> None:
    far = deal(Qualification(urgency=Urgency(deadline=date(9999, 12, 31))),
               expected_close=date(1, 1, 1))
    s = Scorecard.default().score(far, now=NOW)
    assert s.contribution("urgency").value is not None
    zero = deal(Qualification(budget=Budget(amount=eur(5), confirmed=False)), amount=eur(0))
    assert BudgetRule().evaluate(zero, CTX).value is not None


@pytest.mark.parametrize("missing", list(MissingDataPolicy))
def test_a_zero_sub_score_is_weighed_with_the_share_its_rule_had(
        missing: MissingDataPolicy) -> None:
    # A rule at 0 gives no points, so its factors come from the points a sub-score of 1
    # would have given: its weight over the weight the points were spread over. Under the
    # "value" policy the unknown rule's weight is part of that spread.
    @scoring_rule("zero", dimension="d1")
    def zero(subject: Any, context: ScoringContext) -> RuleResult:
        return RuleResult(value=0.0, reasons=(Reason(code="bad", message="m", effect=-0.5),))

    @scoring_rule("half", dimension="d2")
    def half(subject: Any, context: ScoringContext) -> RuleResult:
        return RuleResult(value=0.5, reasons=(Reason(code="meh", message="m", effect=-0.25),))

    @scoring_rule("unknown", dimension="d3")
    def unknown(subject: Any, context: ScoringContext) -> RuleResult:
        return RuleResult(value=None)

    card = Scorecard(rules=(zero, half, unknown),
                     weights={"zero": 1.0, "half": 1.0, "unknown": 2.0}, missing=missing)
    score = card.score(deal(), now=NOW)
    share = 100.0 * 1.0 / (2.0 if missing is MissingDataPolicy.EXCLUDE else 4.0)
    assert score.contribution("half").points == Decimal(repr(share * 0.5))
    points = {f.code: f.points for f in score.factors()}
    assert points == {"bad": -0.5 * share, "meh": -0.25 * share}
