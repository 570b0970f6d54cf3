"""Entry requirements evaluate themselves: subclasses and host kinds are enforced, never skipped.

The built-in kinds are compared, over generated deals, with a copy of the dispatch they
replaced (``type(req) is X``), kept here as the oracle.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    ActivityKind,
    ConfigError,
    ForecastCategory,
    GuardRegistry,
    Money,
    Opportunity,
    Pipeline,
    QuoteStatus,
    RequireActivity,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    Requirement,
    RequireQualification,
    RequireQuote,
    Stage,
    StageChange,
    StageKind,
    TransitionError,
    ValidationError,
    Violation,
)
from oppcore.pipeline._fields import FIELD_NAMES, SIZED, is_missing, read_path
from oppcore.testing import strategies

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
AT = T0 + timedelta(days=1)


def pipeline_with(*requirements: object, guards: GuardRegistry | None = None) -> Pipeline:
    """A pipeline whose stage 'b' holds ``requirements``; deals start in 'a'."""
    return Pipeline(id="p", label="P", guards=guards or GuardRegistry(), stages=(
        Stage(id="a", label="A", probability=0.1),
        Stage(id="b", label="B", probability=0.5,
              requirements=requirements),  # type: ignore[arg-type]
        Stage(id="won", label="Won", kind=StageKind.WON, probability=1.0,
              forecast_category=ForecastCategory.CLOSED),
        Stage(id="lost", label="Lost", kind=StageKind.LOST,
              forecast_category=ForecastCategory.OMITTED)))


def deal(**changes: Any) -> Opportunity:
    return Opportunity(id="o1", name="Deal", pipeline_id="p", stage_id="a", created_at=T0,
                       stage_history=(StageChange(from_stage=None, to_stage="a", at=T0,
                                                  by="u"),), **changes)


# --- subclasses and host kinds are enforced ----------------------------------------------

class MyFields(RequireFields):
    """A subclass that changes nothing: it must behave exactly like its base."""


@attrs.frozen(kw_only=True)
class BigDeal(RequireFields):
    """A subclass with its own rule: the amount must also reach a minimum."""

    minimum: int = 10_000

    def violations(self, opp: Opportunity, stage: Stage, *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        found = list(super().violations(opp, stage, at=at, reason=reason, guards=guards))
        if opp.amount is not None and opp.amount.amount < self.minimum:
            found.append(Violation(code="deal_too_small", stage_id=stage.id, field="amount",
                                   requirement=self, overridable=True,
                                   message=f"deals under {self.minimum} skip this stage"))
        return found


class NeedsOwner:
    """A host's own requirement: no oppcore base class at all."""

    def violations(self, opp: Opportunity, stage: Stage, *, at: datetime,
                   reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
        if opp.owner is not None:
            return ()
        return (Violation(code="no_owner", stage_id=stage.id, field="owner",
                          requirement=self, overridable=True, message="assign an owner"),)


def test_a_plain_subclass_of_a_builtin_is_enforced() -> None:
    p = pipeline_with(MyFields(fields=("amount",)))
    (v,) = p.check(deal(), "b", at=AT)
    assert (v.code, v.field, type(v.requirement)) == ("missing_field", "amount", MyFields)
    with pytest.raises(TransitionError):
        p.advance(deal(), "b", at=AT, by="u")
    assert p.check(deal(amount=Money(amount=5, currency="EUR")), "b", at=AT) == ()


def test_a_subclass_overriding_the_method_is_enforced_with_its_own_rule() -> None:
    p = pipeline_with(BigDeal(fields=("amount",)))
    assert [v.code for v in p.check(deal(), "b", at=AT)] == ["missing_field"]
    small = deal(amount=Money(amount=5, currency="EUR"))
    assert [v.code for v in p.check(small, "b", at=AT)] == ["deal_too_small"]
    assert p.check(deal(amount=Money(amount=20_000, currency="EUR")), "b", at=AT) == ()


def test_a_host_requirement_is_enforced_and_can_be_overridden() -> None:
    req = NeedsOwner()
    assert isinstance(req, Requirement)  # the protocol is runtime-checkable
    p = pipeline_with(req)
    (v,) = p.check(deal(), "b", at=AT)
    assert (v.code, v.requirement) == ("no_owner", req)
    moved = p.advance(deal(), "b", at=AT, by="u", override="owner joins next week")
    assert moved.stage_history[-1].override == "owner joins next week"
    assert p.check(deal(owner="ann"), "b", at=AT) == ()


def test_a_host_requirement_may_yield_its_violations() -> None:
    class Lazy:
        def violations(self, opp: Opportunity, stage: Stage, **_: object,
                       ) -> Iterable[Violation]:
            yield Violation(code="lazy", message="no", stage_id=stage.id, overridable=True)

    assert [v.code for v in pipeline_with(Lazy()).check(deal(), "b", at=AT)] == ["lazy"]


class NoMethod:
    pass


class WrongSignature:
    def violations(self, opp: Opportunity) -> Iterable[Violation]:
        return ()


class NotCallable:
    violations = ()


@pytest.mark.parametrize("bad", [NoMethod(), WrongSignature(), NotCallable(), "fields", None,
                                 RequireFields])
def test_an_object_that_cannot_evaluate_itself_is_refused_at_load(bad: object) -> None:
    with pytest.raises(ValidationError, match=r"Stage\.requirements: item 0 is not a "
                       r"requirement") as info:
        Stage(id="b", label="B", requirements=(bad,))  # type: ignore[arg-type]
    assert info.value.field == "requirements"
    assert info.value.value is bad
    with pytest.raises(ValidationError, match="not a requirement"):
        pipeline_with(RequireFields(fields=("amount",)), bad)


def test_a_stage_evolved_with_a_bad_requirement_is_refused() -> None:
    stage = Stage(id="b", label="B", requirements=(RequireFields(fields=("amount",)),))
    with pytest.raises(ValidationError, match="not a requirement"):
        attrs.evolve(stage, requirements=(NoMethod(),))
    with pytest.raises(ValidationError, match="sequence of requirements"):
        attrs.evolve(stage, requirements=5)


def test_a_requirement_returning_something_else_than_violations_is_an_error() -> None:
    class Sloppy:
        def violations(self, opp: Opportunity, stage: Stage, *, at: datetime,
                       reason: str | None, guards: GuardRegistry) -> Iterable[Violation]:
            return ("fill in the amount",)  # type: ignore[return-value]

    with pytest.raises(ValidationError, match="must return Violation values"):
        pipeline_with(Sloppy()).check(deal(), "b", at=AT)


def test_a_forged_stage_is_still_caught_by_the_pipeline() -> None:
    stage = Stage(id="b", label="B", probability=0.5, order=1)  # in place: no evolve
    object.__setattr__(stage, "requirements", (NoMethod(),))  # bypasses Stage's check
    with pytest.raises(ConfigError) as info:
        Pipeline(id="p", label="P", stages=(
            Stage(id="a", label="A"), stage,
            Stage(id="won", label="W", kind=StageKind.WON, probability=1.0,
                  forecast_category=ForecastCategory.CLOSED),
            Stage(id="lost", label="L", kind=StageKind.LOST,
                  forecast_category=ForecastCategory.OMITTED)))
    (path, message), = info.value.problems
    assert path == "stages[1].requirements[0]"
    assert message.startswith("not a requirement: NoMethod")


# --- configuration: built-in kinds by stable names; host kinds are refused ---------------

def test_builtin_kinds_have_stable_configuration_names() -> None:
    assert {cls.requirement_type: cls for cls in (
        RequireFields, RequireQualification, RequireActivity, RequireQuote,
        RequireLostReason, RequireGuard)} == {
        "fields": RequireFields, "qualification": RequireQualification,
        "activity": RequireActivity, "quote": RequireQuote,
        "lost_reason": RequireLostReason, "guard": RequireGuard}
    # A class variable, not a field: it is not an argument and not compared.
    assert "requirement_type" not in attrs.fields_dict(RequireActivity)


@pytest.mark.parametrize("req", [MyFields(fields=("amount",)), BigDeal(fields=("amount",)),
                                 NeedsOwner()])
def test_to_dict_refuses_a_requirement_it_cannot_express(req: object) -> None:
    p = pipeline_with(RequireFields(fields=("owner",)), req)
    with pytest.raises(ConfigError) as info:
        p.to_dict()
    (path, message), = info.value.problems
    assert path == "stages[1].requirements[1]"
    assert f"{type(req).__qualname__} in stage 'b' is not a built-in requirement" in message
    assert "'p'" in info.value.source


def test_to_dict_lists_every_requirement_it_cannot_express() -> None:
    p = pipeline_with(NeedsOwner(), RequireQuote(), MyFields(fields=("amount",)))
    with pytest.raises(ConfigError) as info:
        p.to_dict()
    assert [path for path, _ in info.value.problems] == [
        "stages[1].requirements[0]", "stages[1].requirements[2]"]


def test_builtin_kinds_still_round_trip() -> None:
    reqs = (RequireFields(fields=("amount", "custom.po")),
            RequireQualification(parts=("budget",), budget_confirmed=True),
            RequireActivity(kind=ActivityKind.DEMO, min_count=2),
            RequireQuote(statuses=(QuoteStatus.ACCEPTED,)), RequireGuard(name="ok"))
    guards = GuardRegistry(guards={"ok": lambda opp, stage, at: None})
    p = pipeline_with(*reqs, guards=guards)
    assert Pipeline.from_dict(p.to_dict(), guards=guards) == p


# --- the built-ins give the same violations as the dispatch they replaced ----------------

def oracle(req: object, opp: Opportunity, stage: Stage, at: datetime, reason: str | None,
           guards: GuardRegistry) -> list[Violation]:
    """The previous ``evaluate()`` (``type(req) is X`` dispatch), kept as the reference."""
    found: list[Violation] = []
    sid = stage.id
    if type(req) is RequireFields:
        for path in req.fields:
            value = getattr(opp, path) if "." not in path else read_path(opp, path)
            if value is None or (type(value) in SIZED and is_missing(value)):
                found.append(Violation(code="missing_field", stage_id=sid, field=path,
                             requirement=req, overridable=True,
                             message=f"fill in {path} before moving to {stage.label!r}"))
    elif type(req) is RequireQualification:
        qual = opp.qualification
        found.extend(Violation(code="missing_qualification", stage_id=sid,
                               field=f"qualification.{part}", requirement=req,
                               overridable=True, message=f"find out the customer's {part} "
                               f"before moving to {stage.label!r}")
                     for part in req.parts if getattr(qual, part) is None)
        if req.budget_confirmed and not (qual.budget is not None and qual.budget.confirmed):
            found.append(Violation(code="budget_not_confirmed", stage_id=sid,
                         field="qualification.budget", requirement=req, overridable=True,
                         message=f"get the budget confirmed before moving to "
                         f"{stage.label!r}"))
    elif type(req) is RequireActivity:
        count = sum(1 for a in opp.activities if a.kind is req.kind)
        if count < req.min_count:
            need = "a" if req.min_count == 1 else str(req.min_count)
            found.append(Violation(code="missing_activity", stage_id=sid, field="activities",
                         requirement=req, overridable=True,
                         message=f"log {need} {req.kind.value.replace('_', ' ')} activity "
                         f"(found {count}) before moving to {stage.label!r}"))
    elif type(req) is RequireQuote:
        if not any(q.status in req.statuses for q in opp.quotes):
            wanted = " or ".join(s.value for s in req.statuses)
            found.append(Violation(code="missing_quote", stage_id=sid, field="quotes",
                         requirement=req, overridable=True,
                         message=f"a quote must be {wanted} before moving to "
                         f"{stage.label!r}"))
    elif type(req) is RequireLostReason:
        given = reason if reason is not None else opp.lost_reason
        if given is None or not given.strip():
            listed = f" (one of: {', '.join(req.reasons)})" if req.reasons else ""
            found.append(Violation(code="missing_lost_reason", stage_id=sid,
                         field="lost_reason", requirement=req, overridable=True,
                         message=f"give a lost reason{listed}"))
        elif req.reasons and given not in req.reasons:
            found.append(Violation(code="invalid_lost_reason", stage_id=sid,
                         field="lost_reason", requirement=req, overridable=True,
                         message=f"lost reason {given!r} is not one of: "
                         f"{', '.join(req.reasons)}"))
    elif isinstance(req, RequireGuard):
        guard = guards.get(req.name)
        outcome: object = (f"guard {req.name!r} is not registered with this pipeline"
                           if guard is None else guard(opp, stage, at))
        if outcome is not None and outcome is not True:
            message = (outcome if isinstance(outcome, str) and outcome.strip()
                       else f"guard {req.name!r} refused the move to {stage.label!r}")
            found.append(Violation(code="guard_failed", stage_id=sid, requirement=req,
                         overridable=True, message=message))
    return found


GUARDS = GuardRegistry(guards={
    "allow": lambda opp, stage, at: None,
    "allow_true": lambda opp, stage, at: True,  # type: ignore[arg-type,return-value]
    "refuse": lambda opp, stage, at: "not today",
    "refuse_false": lambda opp, stage, at: False,  # type: ignore[arg-type,return-value]
    "blank": lambda opp, stage, at: "  ",
    "needs_owner": lambda opp, stage, at: None if opp.owner else "who owns it?",
})

_field_paths = st.sampled_from(sorted(FIELD_NAMES - {"custom"})) | st.sampled_from(
    ["custom.po", "custom.region", "account.industry", "account.region", "account.name",
     "custom", "tags", "contacts"])
_reasons = st.sampled_from(["price", "timing", "competitor"])

requirements = st.one_of(
    st.builds(RequireFields, fields=st.lists(_field_paths, min_size=1, max_size=4)),
    st.builds(RequireQualification,
              parts=st.lists(st.sampled_from(["urgency", "budget", "decision", "competition"]),
                             max_size=4),
              budget_confirmed=st.booleans()),
    st.builds(RequireActivity, kind=st.sampled_from(ActivityKind),
              min_count=st.integers(1, 3)),
    st.builds(RequireQuote, statuses=st.lists(st.sampled_from(QuoteStatus), min_size=1,
                                              max_size=3)),
    st.builds(RequireLostReason, reasons=st.lists(_reasons, max_size=2)),
    st.builds(RequireGuard, name=st.sampled_from(sorted(GUARDS)) | st.just("unregistered")),
)


@given(opp=strategies.opportunities(), req=requirements,
       reason=st.none() | st.just(" ") | _reasons, label=st.sampled_from(["B", "Quote"]))
def test_builtins_give_the_violations_of_the_previous_dispatch(
        opp: Opportunity, req: Requirement, reason: str | None, label: str) -> None:
    stage = Stage(id="b", label=label, requirements=(req,))
    got = list(req.violations(opp, stage, at=AT, reason=reason, guards=GUARDS))
    assert got == oracle(req, opp, stage, AT, reason, GUARDS)
    assert all(v.requirement is req and v.stage_id == "b" and v.overridable for v in got)


@given(opp=strategies.opportunities(pipeline_id="p", stage_ids=("a",)),
       reqs=st.lists(requirements.filter(lambda r: not isinstance(r, RequireLostReason)
                                         and getattr(r, "name", "") != "unregistered"),
                     max_size=4))
def test_check_collects_every_requirement_in_order(opp: Opportunity,
                                                   reqs: list[Requirement]) -> None:
    p = pipeline_with(*reqs, guards=GUARDS)
    at = max([opp.updated_at, *(c.at for c in opp.stage_history)])
    got = [v for v in p.check(opp, "b", at=at) if v.requirement is not None]
    stage = p.stage("b")
    assert got == [v for r in reqs for v in oracle(r, opp, stage, at, None, GUARDS)]
