"""Documented rules of pipeline values hold on construction and on ``attrs.evolve``.

attrs runs ``__init__`` (converters and ``__attrs_post_init__``) on ``evolve``, so a change can
never produce a value construction would refuse. Each case below is tried both ways, and
every failure must be a ValidationError naming the field (never a raw TypeError).
"""

from typing import Any

import attrs
import pytest

from oppcore import (
    FollowUp,
    ForecastCategory,
    GuardRegistry,
    Guidance,
    RequireActivity,
    RequireFields,
    RequireGuard,
    RequireLostReason,
    RequireQualification,
    RequireQuote,
    Stage,
    StageKind,
    TransitionPolicy,
    ValidationError,
    Violation,
)

VALID: dict[type, dict[str, Any]] = {
    Stage: {"id": "s", "label": "S", "probability": 0.5},
    FollowUp: {"max_days": 7, "cadence": "weekly"},
    TransitionPolicy: {"allow_skip": True, "table": {"a": ("b",)}},
    Guidance: {"summary": "Meet them", "actions": ("call",)},
    RequireFields: {"fields": ("amount",)},
    RequireQualification: {"parts": ("budget",)},
    RequireActivity: {"kind": "demo"},
    RequireQuote: {},
    RequireLostReason: {"reasons": ("price",)},
    RequireGuard: {"name": "credit_ok"},
    GuardRegistry: {"guards": {"ok": lambda opp, stage, at: None}},
    Violation: {"code": "missing_field", "message": "fill in amount"},
}


class NoMethod:
    pass


# (class, field, bad value): each breaks a rule the class's docstring states.
BAD: list[tuple[type, str, Any]] = [
    (Stage, "id", ""), (Stage, "id", 3), (Stage, "label", "  "),
    (Stage, "kind", "open"), (Stage, "forecast_category", "commit"),
    (Stage, "probability", 1.5), (Stage, "probability", -0.1), (Stage, "probability", True),
    (Stage, "probability", float("nan")), (Stage, "probability", "0.5"),
    (Stage, "order", -1), (Stage, "order", 1.0), (Stage, "guidance", "text"),
    (Stage, "requirements", 5), (Stage, "requirements", (NoMethod(),)),
    (Stage, "requirements", ({"type": "fields"},)), (Stage, "follow_up", {"max_days": 3}),
    (FollowUp, "max_days", 0), (FollowUp, "max_days", 36501), (FollowUp, "max_days", True),
    (FollowUp, "max_days", 7.0), (FollowUp, "cadence", "now and then"),
    (FollowUp, "cadence", 7), (FollowUp, "business_days", 1),
    (TransitionPolicy, "allow_skip", "yes"), (TransitionPolicy, "allow_backward", 1),
    (TransitionPolicy, "allow_reopen", None), (TransitionPolicy, "table", [("a", "b")]),
    (TransitionPolicy, "table", {"a": 5}), (TransitionPolicy, "table", {"a": ("",)}),
    (TransitionPolicy, "table", {3: ("b",)}), (TransitionPolicy, "table", {"a": (None,)}),
    (Guidance, "summary", None), (Guidance, "actions", ("",)), (Guidance, "actions", 5),
    (Guidance, "documents", (3,)), (Guidance, "key_fields", (" ",)),
    (RequireFields, "fields", ("nope",)), (RequireFields, "fields", 5),
    (RequireFields, "fields", ("custom.",)), (RequireFields, "fields", ("account.nope",)),
    (RequireQualification, "parts", ("mood",)), (RequireQualification, "parts", 5),
    (RequireQualification, "budget_confirmed", "yes"),
    (RequireActivity, "kind", "party"), (RequireActivity, "kind", None),
    (RequireActivity, "min_count", 0), (RequireActivity, "min_count", 1001),
    (RequireActivity, "min_count", True),
    (RequireQuote, "statuses", ()), (RequireQuote, "statuses", ("lost_in_mail",)),
    (RequireQuote, "statuses", 5),
    (RequireLostReason, "reasons", ("",)), (RequireLostReason, "reasons", 5),
    (RequireGuard, "name", ""), (RequireGuard, "name", None),
    (GuardRegistry, "guards", {"ok": "not callable"}), (GuardRegistry, "guards", {"": print}),
    (GuardRegistry, "guards", 5),
    (Violation, "code", ""), (Violation, "message", None), (Violation, "stage_id", 3),
    (Violation, "field", 3), (Violation, "overridable", "yes"),
]


def _id(case: tuple[type, str, Any]) -> str:
    cls, field, value = case
    return f"{cls.__name__}.{field}={value!r}"


@pytest.mark.parametrize("cls", list(VALID), ids=lambda c: c.__name__)
def test_the_valid_examples_build_and_evolve(cls: type) -> None:
    value = cls(**VALID[cls])
    assert attrs.evolve(value) == value


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_a_broken_rule_is_refused_on_construction(case: tuple[type, str, Any]) -> None:
    cls, field, bad = case
    with pytest.raises(ValidationError) as info:
        cls(**{**VALID[cls], field: bad})
    assert info.value.model == cls.__name__
    assert info.value.field == field


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_a_broken_rule_is_refused_on_evolve(case: tuple[type, str, Any]) -> None:
    cls, field, bad = case
    with pytest.raises(ValidationError) as info:
        attrs.evolve(cls(**VALID[cls]), **{field: bad})
    assert info.value.model == cls.__name__
    assert info.value.field == field


def test_every_class_has_cases() -> None:
    assert {cls for cls, _, _ in BAD} == set(VALID)


def test_evolve_recomputes_derived_state() -> None:
    follow = FollowUp(cadence="weekly")
    assert attrs.evolve(follow, cadence="every 3 days").cadence_parts == (3, "day")
    assert attrs.evolve(follow, cadence=None).cadence_parts is None


def test_closed_stage_rules_are_the_pipelines() -> None:
    # Documented on Stage as the pipeline's rules: a lone Stage may be built while a
    # pipeline is being assembled; Pipeline refuses it (tests/test_pipeline_config.py).
    Stage(id="w", label="W", kind=StageKind.WON, probability=0.5,
          forecast_category=ForecastCategory.COMMIT)
