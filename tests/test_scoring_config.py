"""Scorecards as data: dict/TOML round trips and every problem listed."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import BudgetRule, ConfigError, MissingDataPolicy, Scorecard, UrgencyRule, scoring_rule

unit = st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def scorecards(draw: st.DrawFn) -> Scorecard:
    lo = draw(unit)
    urgency = UrgencyRule(close_horizon_days=draw(st.integers(1, 400)),
                          level_scores={"low": min(lo, 0.5), "medium": 0.5})
    budget = BudgetRule(min_ratio=lo, full_ratio=lo + draw(st.floats(0.01, 3)),
                        veto_below_ratio=draw(st.none() | unit))
    extra = BudgetRule(rule_id="budget_strict", confirmed_effect=0.3)
    rules = (urgency, budget, extra)
    weights = {r.rule_id: draw(st.integers(1, 50)) for r in rules}
    caps = draw(st.dictionaries(st.sampled_from(["urgency", "budget"]),
                                st.floats(0, 100).map(lambda x: round(x, 1)), max_size=2))
    return Scorecard(rules=rules, weights=weights, caps=caps,
                     missing=draw(st.sampled_from(MissingDataPolicy)),
                     missing_value=draw(unit), name=draw(st.sampled_from(["a", "sales ops"])))


@given(card=scorecards())
def test_dict_and_toml_round_trip(card: Scorecard) -> None:
    assert Scorecard.from_dict(card.to_dict()) == card
    assert Scorecard.from_toml(card.to_toml()) == card


def test_default_round_trips_and_dumps_only_tuned_params() -> None:
    card = Scorecard.default()
    assert Scorecard.from_toml(card.to_toml()) == card
    assert all("params" not in r for r in card.to_dict()["rules"].values())
    tuned = Scorecard.from_dict({"rules": {"urgency": {"weight": 1, "params": {
        "close_horizon_days": 120}}}})
    assert tuned.to_dict()["rules"]["urgency"]["params"] == {"close_horizon_days": 120}


def test_every_problem_is_listed() -> None:
    doc: dict[str, Any] = {
        "name": "",
        "missing_data": "guess",
        "missing_value": 2,
        "grades": {"A": 80, "B": 10},
        "caps": {"nowhere": 5},
        "colour": "blue",
        "rules": {
            "urgency": {"weight": -1, "params": {"close_horizon_days": 0, "nope": 1}},
            "budget": {"weight": 10, "params": {"min_ratio": 2, "full_ratio": 1}},
            "mystery": {"weight": 1},
            "decision_cycle": {"weight": 1, "params": {"level_scores": {"low": 5}}},
        },
    }
    with pytest.raises(ConfigError) as info:
        Scorecard.from_dict(doc, source="sales.toml")
    paths = [p for p, _ in info.value.problems]
    for expected in ("colour", "rules.urgency.weight", "rules.urgency.params.nope",
                     "rules.budget.params.full_ratio", "rules.mystery",
                     "rules.decision_cycle.params.level_scores", "name", "missing_data",
                     "missing_value", "caps.nowhere", "grades"):
        assert expected in paths, (expected, paths)
    assert info.value.source == "sales.toml"
    assert "sales.toml" in str(info.value)


def test_param_value_problems_are_all_listed() -> None:
    with pytest.raises(ConfigError) as info:
        Scorecard.from_dict({"rules": {"urgency": {"weight": 1, "params": {
            "close_horizon_days": 0, "push_penalty": float("nan"),
            "level_scores": {"low": 0.9, "critical": 0.1}}}}})
    paths = [p for p, _ in info.value.problems]
    assert "rules.urgency.params.close_horizon_days" in paths
    assert "rules.urgency.params.push_penalty" in paths
    assert "rules.urgency.params.level_scores" in paths


@pytest.mark.parametrize("bad", ["not toml = = =", "rules = 3", "[rules.urgency]\nweight='x'"])
def test_bad_toml_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError):
        Scorecard.from_toml(bad)


def test_plugin_rules_are_referenced_by_id() -> None:
    rule = scoring_rule("custom")(lambda s, c: 0.5)
    doc = {"rules": {"custom": {"weight": 3}, "urgency": {"weight": 1}}}
    with pytest.raises(ConfigError, match="unknown rule 'custom'"):
        Scorecard.from_dict(doc)
    card = Scorecard.from_dict(doc, rules=[rule])
    assert card.rule("custom") is rule
    assert Scorecard.from_dict(card.to_dict(), rules=[rule]) == card
    with pytest.raises(ConfigError, match="unknown parameter; 'custom' takes: dimension"):
        Scorecard.from_dict({"rules": {"custom": {"weight": 1, "params": {"x": 1}}}},
                            rules=[rule])


def test_scorecard_constructor_lists_problems() -> None:
    with pytest.raises(ConfigError) as info:
        Scorecard(rules=(UrgencyRule(), UrgencyRule()), weights={"urgency": 0, "x": 1})
    messages = " ".join(m for _, m in info.value.problems)
    assert "duplicate rule id" in messages
    assert "no rule with this id" in messages
