"""The one vocabulary of checks: aware times, text, and bounded numbers on every model.

The numeric-range property walks every public model class: each numeric field must declare
its bounds (``oppcore._checks.BOUNDS_KEY`` metadata), and every value outside them is
refused with ``ValidationError`` whether it comes as an int, a float, a Decimal or a bool,
at construction and through ``attrs.evolve``.
"""

import math
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oppcore
from oppcore import (
    Account,
    Activity,
    ActivityKind,
    ConfigError,
    DecisionProcess,
    Lead,
    Money,
    Opportunity,
    Probability,
    ProbabilitySource,
    QuoteLine,
    SurveyLogged,
    SurveyScale,
    ValidationError,
)
from oppcore._checks import BOUNDS_KEY, COUNT, UNIT, Bounds, aware, is_aware, is_text, number, text
from oppcore.testing.strategies import naive_datetimes

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=8)))


# --- the vocabulary itself --------------------------------------------------------------


@given(naive_datetimes())
def test_aware_refuses_every_kind_of_naive_datetime(value: datetime) -> None:
    assert not is_aware(value)
    with pytest.raises(ValidationError, match=r"^when must be a timezone-aware datetime, got "):
        aware(value, "when")


@pytest.mark.parametrize("value", ["2026-01-05T09:00+08:00", date(2026, 1, 5), None, 0])
def test_aware_refuses_what_is_not_a_datetime(value: object) -> None:
    assert not is_aware(value)
    with pytest.raises(ValidationError, match=r"^when must be a timezone-aware datetime, got "):
        aware(value, "when")


def test_aware_accepts_aware() -> None:
    assert aware(T0, "at") is T0


@pytest.mark.parametrize("value", ["", " ", "\t\n", "a\ud800b", None, 3, b"id"])
def test_text_refuses(value: object) -> None:
    assert not is_text(value)
    with pytest.raises(ValidationError, match=r"^Lead\.id: "):
        text(value, "id", model="Lead")


@given(st.text(min_size=1).filter(lambda s: not s.isspace()))
def test_text_accepts_non_blank_valid_unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        assert not is_text(value)
    else:
        assert text(value, "name") == value


@pytest.mark.parametrize("value", [True, False, math.nan, math.inf, Decimal("NaN"),
                                   Decimal("Infinity"), "0.5", None])
def test_number_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ValidationError):
        number(value, Bounds(0.0, 1.0), "p")


@given(st.one_of(st.integers(-10, 10), st.floats(-10, 10),
                 st.decimals(-10, 10, allow_nan=False, allow_infinity=False, places=3)))
def test_number_applies_the_range_whatever_the_type(value: Any) -> None:
    bounds = Bounds(0.0, 1.0)
    if 0 <= value <= 1:
        assert number(value, bounds, "p") == float(value)
        assert type(number(value, bounds, "p")) is float
    else:
        with pytest.raises(ValidationError, match=r"in \[0, 1\]"):
            number(value, bounds, "p")


# --- every public model's numeric fields --------------------------------------------------

MONEY = Money.of("10", "CNY")


def _samples() -> dict[type, Callable[[], Any]]:
    """A valid instance of every public model class that has numeric fields."""
    from oppcore import (
        BudgetRule,
        CompetitionRule,
        Contribution,
        ContributionStatus,
        DecisionCycleRule,
        FieldChange,
        FollowUp,
        Reason,
        RequireActivity,
        RuleResult,
        Score,
        Scorecard,
        Stage,
        StoreWrite,
        UrgencyRule,
    )

    return {
        Reason: lambda: Reason(code="c", message="m", effect=0.1),
        RuleResult: lambda: RuleResult(value=0.5, confidence=0.5),
        Contribution: lambda: Contribution(
            rule_id="r", dimension="d", weight=1.0, status=ContributionStatus.SCORED, value=0.5,
            confidence=1.0, points=Decimal("50.00"), reasons=()),
        Score: lambda: Score(subject_id="o", scorecard="default", scored_at=T0,
                             total=Decimal("50.00"), grade="B", contributions=(),
                             coverage=1.0),
        Scorecard: Scorecard.default,
        UrgencyRule: UrgencyRule,
        BudgetRule: BudgetRule,
        DecisionCycleRule: DecisionCycleRule,
        CompetitionRule: CompetitionRule,
        Stage: lambda: Stage(id="s", label="S"),
        FollowUp: lambda: FollowUp(max_days=10),
        RequireActivity: lambda: RequireActivity(kind="call"),
        StoreWrite: lambda: StoreWrite.delete(Lead, "l", version=1),
        FieldChange: lambda: FieldChange(field="stage_history", op="splice", index=2, old=[],
                                         new=["x"]),
        Money: lambda: MONEY,
        SurveyLogged: lambda: SurveyLogged(opportunity_id="o", activity_id="s",
                                           scale=SurveyScale.NPS, score=8, at=T0, by="u"),
        Activity: lambda: Activity(id="s", kind=ActivityKind.SURVEY, at=T0, by="u",
                                   scale=SurveyScale.NPS, score=8),
        Account: lambda: Account(id="a", name="A"),
        Lead: lambda: Lead(id="l", name="L", captured_at=T0),
        Opportunity: lambda: Opportunity(id="o", name="O", pipeline_id="p", stage_id="s",
                                         created_at=T0),
        Probability: lambda: Probability(value=0.5, source=ProbabilitySource.MANUAL),
        DecisionProcess: lambda: DecisionProcess(cycle_days=30),
        QuoteLine: lambda: QuoteLine(product="x", quantity=Decimal(1), unit_price=MONEY),
    }


SAMPLES = _samples()

# Public attrs classes with numeric fields that no host fills in: results computed by oppcore
# (analytics, calibration, duplicate candidates, import reports, the history feed). They are
# checked by the tests of the code that builds them.
RESULT_MODULES = ("oppcore.analytics", "oppcore.io", "oppcore.dedupe")
RESULTS = frozenset({"CalibrationReport", "FieldEffect", "ModelProvenance", "ReliabilityBin",
                     "WeightFit", "WinEstimate", "WinModel", "DuplicateCandidate", "Factor",
                     "FeedEntry"})


def _numeric(tp: Any) -> bool:
    """Whether an annotation is a number or an optional number."""
    if isinstance(tp, (typing._UnionGenericAlias, types.UnionType)):  # type: ignore[attr-defined]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return len(args) == 1 and _numeric(args[0])
    return tp in (int, float, Decimal)


def _public_models() -> list[type]:
    found = []
    for name in oppcore.__all__:
        obj = getattr(oppcore, name)
        if isinstance(obj, type) and attrs.has(obj) and obj.__name__ not in RESULTS and not any(
                obj.__module__.startswith(m) for m in RESULT_MODULES):
            found.append(obj)
    return found


def _numeric_fields() -> list[tuple[type, Any]]:
    return [(cls, f) for cls in _public_models() for f in attrs.fields(cls)
            if f.init and _numeric(f.type)]


NUMERIC_FIELDS = _numeric_fields()


def test_the_walk_finds_the_models() -> None:
    names = {(cls.__name__, f.name) for cls, f in NUMERIC_FIELDS}
    assert {("Probability", "value"), ("Lead", "version"), ("QuoteLine", "discount"),
            ("Money", "amount")} <= names


@pytest.mark.parametrize(("cls", "field"), NUMERIC_FIELDS,
                         ids=[f"{c.__name__}.{f.name}" for c, f in NUMERIC_FIELDS])
def test_every_numeric_field_declares_its_bounds(cls: type, field: Any) -> None:
    assert isinstance(field.metadata.get(BOUNDS_KEY), Bounds), (
        f"{cls.__name__}.{field.name} holds a number but declares no Bounds")
    assert cls in SAMPLES, f"add a sample {cls.__name__} to this test"


def _outside(bounds: Bounds) -> list[Any]:
    """Values just and far outside ``bounds``, as int, float and Decimal."""
    probes: list[Any] = []
    if bounds.low is not None:
        low = Decimal(str(bounds.low))
        below = [low - 1, low - Decimal("0.5"), low * 10 - 10**6]
        if bounds.low_exclusive:
            below.append(low)
        probes += below
    if bounds.high is not None:
        high = Decimal(str(bounds.high))
        probes += [high + 1, high + Decimal("0.5"), high * 10 + 10**6]
    out: list[Any] = []
    for d in probes:
        out += [d, float(d)]
        if d == int(d):
            out.append(int(d))
    return out


@pytest.mark.parametrize(("cls", "field"), NUMERIC_FIELDS,
                         ids=[f"{c.__name__}.{f.name}" for c, f in NUMERIC_FIELDS])
def test_out_of_range_is_refused_whatever_the_type(cls: type, field: Any) -> None:
    bounds: Bounds = field.metadata[BOUNDS_KEY]
    base = SAMPLES[cls]()
    for value in [*_outside(bounds), True, False, math.nan, math.inf, -math.inf,
                  Decimal("NaN")]:
        kwargs = {f.name: getattr(base, f.name) for f in attrs.fields(cls) if f.init}
        kwargs[field.name] = value
        # Refused as bad data: ValidationError, or ConfigError for a scorecard or rule
        # (which lists every problem of a configuration at once).
        with pytest.raises((ValidationError, ConfigError)) as caught:
            cls(**kwargs)
        assert field.name in str(caught.value)
        with pytest.raises((ValidationError, ConfigError)):
            attrs.evolve(base, **{field.name: value})
        evolve = getattr(base, "evolve", None)
        if callable(evolve):  # the models' own fast evolve runs the same rules
            with pytest.raises(ValidationError):
                evolve(**{field.name: value})


@pytest.mark.parametrize(("cls", "field"), NUMERIC_FIELDS,
                         ids=[f"{c.__name__}.{f.name}" for c, f in NUMERIC_FIELDS])
def test_in_range_values_keep_their_value(cls: type, field: Any) -> None:
    bounds: Bounds = field.metadata[BOUNDS_KEY]
    base = SAMPLES[cls]()
    low = Decimal(str(bounds.low)) if bounds.low is not None else Decimal(-5)
    high = Decimal(str(bounds.high)) if bounds.high is not None else low + 10
    inside = (low + high) / 2 if not bounds.integer else Decimal(int((low + high) // 2))
    for value in (inside, float(inside), int(inside)):
        if value != inside:
            continue
        try:
            made = attrs.evolve(base, **{field.name: value})
        except (ValidationError, ConfigError):
            # Some fields refuse a type outright (money never takes a float, counts only
            # take ints); that is a refusal, never a silent change.
            continue
        kept = getattr(made, field.name)
        assert kept == value
        assert type(kept) is bounds.kind or (bounds.kind is Decimal and type(kept) is Decimal)


# --- cross-field rules run on every construction and every evolve -------------------------


def test_a_disqualified_lead_needs_a_reason() -> None:
    from oppcore import LeadStatus

    with pytest.raises(ValidationError, match=r"Lead\.disqualified_reason"):
        Lead(id="l", name="L", captured_at=T0, status=LeadStatus.DISQUALIFIED)
    with pytest.raises(ValidationError, match=r"Lead\.disqualified_reason"):
        Lead(id="l", name="L", captured_at=T0, status=LeadStatus.DISQUALIFIED,
             disqualified_reason="  ")
    done = Lead(id="l", name="L", captured_at=T0, status=LeadStatus.DISQUALIFIED,
                disqualified_reason="no budget")
    # A partial re-check (evolve changes one field) never skips the rule...
    for evolve in (done.evolve, lambda **kw: attrs.evolve(done, **kw)):
        with pytest.raises(ValidationError, match="disqualified_reason"):
            evolve(disqualified_reason=None)
    # ... even when the change touches only an unrelated field of an invalid combination.
    fresh = Lead(id="l", name="L", captured_at=T0)
    with pytest.raises(ValidationError, match="disqualified_reason"):
        fresh.evolve(status=LeadStatus.DISQUALIFIED)


def test_partial_checks_keep_every_rule() -> None:
    from oppcore._check_table import Checks

    table: Checks = Lead.__oppcore_checks__  # type: ignore[attr-defined]
    assert table._rules
    assert table.only(("name",))._rules == table._rules
    assert table.only(())._rules == table._rules


@pytest.mark.parametrize("bounds", [UNIT, COUNT, Bounds(0, 1e18, kind=Decimal, low_exclusive=True),
                                    Bounds(0, 1, kind=Decimal), Bounds(None, 5.5),
                                    Bounds(-1, None, integer=True, kind=int)], ids=repr)
@given(value=st.one_of(st.floats(), st.integers(), st.decimals(), st.booleans(), st.none(),
                       st.sampled_from([0, 0.0, 1, 1.0, Decimal(0), Decimal("1E+18"),
                                        Decimal("1E+18").next_plus(), Decimal("-0")])))
def test_bounds_holds_exactly_when_number_returns_the_value_itself(
    bounds: Bounds, value: object
) -> None:
    try:
        same = number(value, bounds, "x") is value
    except ValidationError:
        same = False
    assert bounds.holds(value) is same
