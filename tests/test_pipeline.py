"""Pipelines: stages, lookups, templates, check/advance, provenance, overrides, policies."""

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest

from oppcore import (
    Activity,
    ActivityKind,
    Budget,
    ConfigError,
    FollowUp,
    ForecastCategory,
    GuardRegistry,
    Money,
    OppcoreError,
    Opportunity,
    Pipeline,
    Probability,
    ProbabilitySource,
    Qualification,
    Quote,
    QuoteStatus,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    Stage,
    StageChange,
    StageKind,
    TransitionError,
    TransitionPolicy,
    UnknownStageError,
    ValidationError,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def deal(pipeline: Pipeline, stage: str | None = None, **changes: object) -> Opportunity:
    stage = stage or pipeline.first_stage.id
    base = Opportunity(
        id="o1", name="Deal", pipeline_id=pipeline.id, stage_id=stage, created_at=T0,
        probability=Probability(value=pipeline.stage(stage).probability,
                                source=ProbabilitySource.STAGE),
        stage_history=(StageChange(from_stage=None, to_stage=stage, at=T0, by="u"),))
    return base.evolve(**changes) if changes else base


def ready_for_quote(opp: Opportunity) -> Opportunity:
    """Fill in everything the standard template requires up to quote & contract."""
    from oppcore import Account, Contact

    return opp.evolve(
        account=Account(id="a1", name="Acme"), contacts=(Contact(id="c1", name="Ann"),),
        amount=Money(amount=1000, currency="EUR"), expected_close=date(2026, 6, 30),
        qualification=Qualification(budget=Budget(amount=Money(amount=1000, currency="EUR"))),
        activities=(Activity(id="a1", kind=ActivityKind.NEEDS_ANALYSIS, at=T0, by="u"),),
        quotes=(Quote(id="q1", currency="EUR", status=QuoteStatus.SENT),))


@pytest.fixture
def standard() -> Pipeline:
    return Pipeline.template("standard")


# --- templates and lookups -------------------------------------------------------------

def test_template_stage_ids_match_the_contract() -> None:
    assert [s.id for s in Pipeline.template("standard").stages] == [
        "identification", "needs_analysis", "solution", "quote_contract", "won", "lost"]
    assert [s.id for s in Pipeline.template("simple").stages] == [
        "prospecting", "engaging", "won", "lost"]
    assert Pipeline.template("standard").id == "standard"
    assert Pipeline.template("simple").id == "simple"


def test_unknown_template_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown template 'fancy'"):
        Pipeline.template("fancy")


def test_lookups(standard: Pipeline) -> None:
    assert standard.first_stage.id == "identification"
    assert standard.index("solution") == 2
    assert [s.order for s in standard.stages] == list(range(6))
    assert [s.id for s in standard.won_stages] == ["won"]
    assert [s.id for s in standard.lost_stages] == ["lost"]
    assert len(standard.open_stages) == 4
    assert "won" in standard and "nope" not in standard and 3 not in standard
    assert standard.stage("won").forecast_category is ForecastCategory.CLOSED


def test_unknown_stage_is_a_key_error_and_an_oppcore_error(standard: Pipeline) -> None:
    with pytest.raises(KeyError) as info:
        standard.stage("nope")
    assert isinstance(info.value, OppcoreError)
    assert isinstance(info.value, UnknownStageError)
    assert str(info.value) == "pipeline 'standard' has no stage 'nope'"
    with pytest.raises(UnknownStageError):
        standard.index(None)  # type: ignore[arg-type]


def test_stage_validates_its_fields() -> None:
    with pytest.raises(ValidationError, match="probability"):
        Stage(id="a", label="A", probability=float("nan"))
    with pytest.raises(ValidationError, match="probability"):
        Stage(id="a", label="A", probability=1.5)
    with pytest.raises(ValidationError, match="label"):
        Stage(id="a", label=" ")
    with pytest.raises(ValidationError, match="kind"):
        Stage(id="a", label="A", kind="open")  # type: ignore[arg-type]
    assert Stage(id="a", label="A", probability=1).probability == 1.0


def test_pipeline_built_in_python_is_validated() -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline(id="p", label="P", stages=(Stage(id="a", label="A"),
                                            Stage(id="a", label="B", kind=StageKind.WON)))
    messages = [m for _, m in info.value.problems]
    assert any("duplicate stage id 'a'" in m for m in messages)
    assert any("at least one lost stage" in m for m in messages)


# --- check and advance -----------------------------------------------------------------

def test_sequential_move_updates_stage_history_probability_and_time(standard: Pipeline) -> None:
    opp = ready_for_quote(deal(standard))
    moved = standard.advance(opp, "needs_analysis", at=day(1), by="ann", reason="met them")
    assert moved.stage_id == "needs_analysis"
    assert moved.stage_history[-1] == StageChange(
        from_stage="identification", to_stage="needs_analysis", at=day(1), by="ann",
        reason="met them")
    assert moved.probability == Probability(value=0.25, source=ProbabilitySource.STAGE)
    assert moved.updated_at == day(1)
    assert moved.version == opp.version
    assert opp.stage_id == "identification" and len(opp.stage_history) == 1


def test_check_lists_every_violation_at_once(standard: Pipeline) -> None:
    opp = deal(standard, "solution")
    codes = [v.code for v in standard.check(opp, "quote_contract", at=day(1))]
    assert codes == ["missing_field", "missing_field", "missing_quote"]
    fields = [v.field for v in standard.check(opp, "quote_contract", at=day(1))]
    assert fields[:2] == ["amount", "expected_close"]


def test_refused_move_raises_with_violations_and_changes_nothing(standard: Pipeline) -> None:
    opp = deal(standard, "needs_analysis")
    with pytest.raises(TransitionError) as info:
        standard.advance(opp, "solution", at=day(1), by="ann")
    assert {v.code for v in info.value.violations} == {"missing_activity",
                                                       "missing_qualification"}
    assert "needs analysis" in str(info.value)
    assert opp == deal(standard, "needs_analysis")


@pytest.mark.parametrize(("src", "dst", "code"), [
    ("identification", "solution", "skip_not_allowed"),
    ("identification", "won", "skip_not_allowed"),
    ("won", "lost", "terminal_stage"),
    ("lost", "identification", "reopen_not_allowed"),
    ("solution", "solution", "same_stage"),
    ("solution", "nope", "unknown_stage"),
])
def test_policy_violations(standard: Pipeline, src: str, dst: str, code: str) -> None:
    violations = standard.check(ready_for_quote(deal(standard, src)), dst, at=day(1),
                                reason="price")
    assert [v.code for v in violations] == [code]
    assert not violations[0].overridable


def test_backward_moves_follow_the_policy(standard: Pipeline) -> None:
    opp = deal(standard, "solution")
    assert standard.check(opp, "identification", at=day(1)) == ()
    strict = attrs.evolve(standard, policy=TransitionPolicy())
    assert [v.code for v in strict.check(opp, "identification", at=day(1))] == [
        "backward_not_allowed"]


def test_wrong_pipeline_and_unknown_current_stage(standard: Pipeline) -> None:
    other = deal(Pipeline.template("simple"))
    assert [v.code for v in standard.check(other, "won", at=day(1))] == ["wrong_pipeline"]
    odd = deal(standard).evolve(stage_id="ghost")
    assert [v.code for v in standard.check(odd, "solution", at=day(1))] == [
        "unknown_current_stage"]


def test_move_before_the_last_move_is_refused(standard: Pipeline) -> None:
    opp = standard.advance(ready_for_quote(deal(standard)), "needs_analysis", at=day(2),
                           by="u")
    assert [v.code for v in standard.check(opp, "solution", at=day(1))] == ["out_of_order"]


def test_override_bypasses_requirements_and_is_recorded(standard: Pipeline) -> None:
    opp = deal(standard, "needs_analysis")
    moved = standard.advance(opp, "solution", at=day(1), by="boss", override="CEO deal")
    assert moved.stage_id == "solution"
    assert moved.stage_history[-1].override == "CEO deal"


def test_override_never_makes_an_illegal_move_legal(standard: Pipeline) -> None:
    opp = deal(standard)
    with pytest.raises(TransitionError) as info:
        standard.advance(opp, "quote_contract", at=day(1), by="boss", override="trust me")
    assert [v.code for v in info.value.violations] == ["skip_not_allowed"]
    assert "override does not bypass" in str(info.value)


def test_unneeded_override_is_not_recorded(standard: Pipeline) -> None:
    moved = standard.advance(ready_for_quote(deal(standard)), "needs_analysis", at=day(1),
                             by="boss", override="just in case")
    assert moved.stage_history[-1].override is None


@pytest.mark.parametrize("note", ["", "   ", 3])
def test_override_needs_a_note(standard: Pipeline, note: object) -> None:
    with pytest.raises(ValidationError, match="override"):
        standard.advance(deal(standard, "needs_analysis"), "solution", at=day(1), by="b",
                         override=note)  # type: ignore[arg-type]


@pytest.mark.parametrize("at", [datetime(2026, 3, 3), "2026-03-03", None, 5])
def test_naive_or_wrong_time_is_a_validation_error(standard: Pipeline, at: object) -> None:
    with pytest.raises(ValidationError, match="at must be a timezone-aware datetime"):
        standard.check(deal(standard), "needs_analysis", at=at)  # type: ignore[arg-type]


@pytest.mark.parametrize("by", ["", " ", None])
def test_mover_is_required(standard: Pipeline, by: object) -> None:
    with pytest.raises(ValidationError, match="by must name who moves the deal"):
        standard.advance(ready_for_quote(deal(standard)), "needs_analysis", at=day(1),
                         by=by)  # type: ignore[arg-type]


def test_not_an_opportunity_is_refused(standard: Pipeline) -> None:
    with pytest.raises(ValidationError, match="Opportunity"):
        standard.check({"id": "x"}, "won", at=day(1))  # type: ignore[arg-type]


# --- probability provenance ------------------------------------------------------------

def test_manual_probability_sticks_while_open(standard: Pipeline) -> None:
    manual = Probability(value=0.9, source=ProbabilitySource.MANUAL, note="gut")
    opp = ready_for_quote(deal(standard, probability=manual))
    moved = standard.advance(opp, "needs_analysis", at=day(1), by="u")
    assert moved.probability == manual
    won = standard.mark_won(standard.advance(
        standard.advance(moved, "solution", at=day(2), by="u"),
        "quote_contract", at=day(3), by="u"), at=day(4), by="u")
    assert won.probability == Probability(value=1.0, source=ProbabilitySource.STAGE)


def test_model_probability_is_kept_beside_the_stage_default(standard: Pipeline) -> None:
    model = Probability(value=0.42, source=ProbabilitySource.MODEL, note="m1")
    opp = ready_for_quote(deal(standard, probability=model))
    moved = standard.advance(opp, "needs_analysis", at=day(1), by="u")
    assert moved.probability == Probability(value=0.25, source=ProbabilitySource.STAGE)
    assert moved.model_probability == model


def test_missing_probability_gets_the_stage_default(standard: Pipeline) -> None:
    opp = ready_for_quote(deal(standard, probability=None))
    moved = standard.advance(opp, "needs_analysis", at=day(1), by="u")
    assert moved.probability == Probability(value=0.25, source=ProbabilitySource.STAGE)


# --- won and lost ----------------------------------------------------------------------

def test_mark_lost_requires_a_listed_reason_and_sets_it(standard: Pipeline) -> None:
    opp = deal(standard, "solution")
    with pytest.raises(TransitionError) as info:
        standard.mark_lost(opp, at=day(1), by="u", reason="bad vibes")
    assert [v.code for v in info.value.violations] == ["invalid_lost_reason"]
    with pytest.raises(TransitionError) as info:
        standard.mark_lost(opp, at=day(1), by="u", reason=" ")
    assert [v.code for v in info.value.violations] == ["missing_lost_reason"]
    lost = standard.mark_lost(opp, at=day(1), by="u", reason="price")
    assert (lost.stage_id, lost.lost_reason) == ("lost", "price")
    assert lost.stage_history[-1].reason == "price"
    assert lost.probability is not None and lost.probability.value == 0.0


def test_mark_won_goes_through_the_same_checks(standard: Pipeline) -> None:
    with pytest.raises(TransitionError) as info:
        standard.mark_won(deal(standard, "solution"), at=day(1), by="u")
    assert [v.code for v in info.value.violations] == ["skip_not_allowed"]
    won = standard.mark_won(ready_for_quote(deal(standard, "quote_contract")), at=day(1),
                            by="u")
    assert won.stage_id == "won"


def test_reopening_clears_the_lost_reason() -> None:
    simple = Pipeline.template("simple")
    lost = simple.mark_lost(deal(simple), at=day(1), by="u", reason="timing")
    reopened = simple.advance(lost, "engaging", at=day(2), by="u")
    assert reopened.lost_reason is None
    assert reopened.probability == Probability(value=0.5, source=ProbabilitySource.STAGE)


def _two_won() -> Pipeline:
    return Pipeline(id="p", label="P", policy=TransitionPolicy(allow_skip=True), stages=(
        Stage(id="open", label="Open", probability=0.3),
        Stage(id="won_new", label="Won new", kind=StageKind.WON, probability=1.0,
              forecast_category=ForecastCategory.CLOSED),
        Stage(id="won_upsell", label="Won upsell", kind=StageKind.WON, probability=1.0,
              forecast_category=ForecastCategory.CLOSED),
        Stage(id="lost", label="Lost", kind=StageKind.LOST,
              forecast_category=ForecastCategory.OMITTED)))


def test_several_won_stages_need_a_choice() -> None:
    p = _two_won()
    with pytest.raises(ValidationError, match="2 won stages"):
        p.mark_won(deal(p), at=day(1), by="u")
    assert p.mark_won(deal(p), at=day(1), by="u", stage="won_upsell").stage_id == "won_upsell"
    assert p.mark_lost(deal(p), at=day(1), by="u", reason="any").lost_reason == "any"


# --- guards and tables -----------------------------------------------------------------

def _guarded(registry: GuardRegistry) -> Pipeline:
    return Pipeline(id="p", label="P", guards=registry, stages=(
        Stage(id="a", label="A", probability=0.2),
        Stage(id="b", label="B", probability=0.6,
              requirements=(RequireGuard(name="credit_ok"), RequireFields(fields=("owner",)))),
        Stage(id="won", label="Won", kind=StageKind.WON, probability=1.0,
              forecast_category=ForecastCategory.CLOSED),
        Stage(id="lost", label="Lost", kind=StageKind.LOST,
              forecast_category=ForecastCategory.OMITTED,
              requirements=(RequireLostReason(),))))


def test_guard_messages_become_violations() -> None:
    def credit_ok(opp: Opportunity, stage: Stage, at: datetime) -> str | None:
        return None if opp.custom.get("credit") else f"run a credit check before {stage.id}"

    p = _guarded(GuardRegistry(guards={"credit_ok": credit_ok}))
    opp = deal(p)
    assert [(v.code, v.message) for v in p.check(opp, "b", at=day(1))] == [
        ("guard_failed", "run a credit check before b"),
        ("missing_field", "fill in owner before moving to 'B'")]
    ok = opp.evolve(custom={"credit": True}, owner="ann")
    assert p.check(ok, "b", at=day(1)) == ()


def test_guard_returning_false_refuses_and_true_allows() -> None:
    deny = _guarded(GuardRegistry(guards={"credit_ok": lambda o, s, a: False}))
    allow = _guarded(GuardRegistry(guards={"credit_ok": lambda o, s, a: True}))
    opp = deal(deny, owner="ann")
    assert [v.message for v in deny.check(opp, "b", at=day(1))] == [
        "guard 'credit_ok' refused the move to 'B'"]
    assert allow.check(opp, "b", at=day(1)) == ()


def test_unknown_guard_is_a_construction_problem() -> None:
    with pytest.raises(ConfigError, match="unknown guard 'credit_ok'"):
        _guarded(GuardRegistry())


def test_with_guards_rebinds_and_registry_is_immutable() -> None:
    base = GuardRegistry()
    extended = base.with_guard("credit_ok", lambda o, s, a: None)
    assert "credit_ok" not in base and "credit_ok" in extended and len(extended) == 1
    p = _guarded(extended)
    assert p.with_guards(extended.with_guard("x", lambda o, s, a: None)) == p
    with pytest.raises(ValidationError, match="not callable"):
        GuardRegistry(guards={"x": 3})  # type: ignore[dict-item]


def test_explicit_table_allows_exactly_the_listed_moves() -> None:
    stages = Pipeline.template("simple").stages
    p = Pipeline(id="simple", label="T", stages=stages, policy=TransitionPolicy(table={
        "prospecting": ("engaging", "lost"), "engaging": ("won", "lost", "prospecting")}))
    assert p.legal_moves("prospecting") == ("engaging", "lost")
    assert p.legal_moves("won") == ()
    assert [v.code for v in p.check(deal(p), "won", at=day(1))] == ["transition_not_allowed"]
    assert p.advance(deal(p, "engaging"), "prospecting", at=day(1), by="u").stage_id == (
        "prospecting")


def test_follow_up_validation() -> None:
    with pytest.raises(ValidationError, match="cadence"):
        FollowUp(cadence="whenever")
    with pytest.raises(ValidationError, match="max_days"):
        FollowUp(max_days=0)
    with pytest.raises(ValidationError, match="max_days"):
        FollowUp(max_days=True)  # type: ignore[arg-type]
    assert FollowUp(cadence="every 2 weeks").cadence_parts == (2, "week")


def test_mermaid_diagram(standard: Pipeline) -> None:
    text = standard.to_mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert "[*] --> s0_identification" in text
    assert "s3_quote_contract --> s4_won" in text
    assert "s0_identification --> s2_solution" not in text
    assert 'state "Quote & contract (75%)" as s3_quote_contract' in text
    assert "s5_lost --> [*]" in text
