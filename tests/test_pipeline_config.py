"""Pipeline configuration: loading from dict/TOML/JSON, every mistake reported, round trips."""

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import ConfigError, GuardRegistry, Pipeline, RequireGuard

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pipelines" / "b2b.toml"


def minimal() -> dict[str, Any]:
    return {
        "id": "p",
        "label": "P",
        "stages": [
            {"id": "a", "label": "A", "probability": 0.2},
            {"id": "b", "label": "B", "probability": 0.6},
            {"id": "won", "label": "Won", "kind": "won"},
            {"id": "lost", "label": "Lost", "kind": "lost"},
        ],
    }


def problems_of(data: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        Pipeline.from_dict(data, **kwargs)
    return list(info.value.problems)


def test_minimal_config_loads_with_defaults() -> None:
    p = Pipeline.from_dict(minimal())
    assert [s.id for s in p.stages] == ["a", "b", "won", "lost"]
    assert p.stage("won").probability == 1.0
    assert p.stage("lost").forecast_category.value == "omitted"
    assert p.stage("a").forecast_category.value == "pipeline"


@pytest.mark.parametrize("name", ["standard", "simple"])
def test_templates_round_trip_through_dict_and_json(name: str) -> None:
    p = Pipeline.template(name)
    assert Pipeline.from_dict(p.to_dict()) == p
    assert Pipeline.from_json(json.dumps(p.to_dict())) == p


def test_sample_toml_file_loads() -> None:
    p = Pipeline.from_toml(EXAMPLE, guards=GuardRegistry(
        guards={"credit_checked": lambda o, s, a: None}))
    assert p.id == "b2b_services"
    assert any(isinstance(r, RequireGuard) for s in p.stages for r in s.requirements)
    assert Pipeline.from_toml(str(EXAMPLE), guards=p.guards) == p
    assert Pipeline.from_dict(p.to_dict(), guards=p.guards) == p


def test_sample_toml_needs_its_guard() -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline.from_toml(EXAMPLE)
    assert info.value.source == str(EXAMPLE)
    assert any("unknown guard 'credit_checked'" in m for _, m in info.value.problems)


def test_toml_text_and_json_file(tmp_path: Path) -> None:
    text = """
id = "t"
label = "T"
[[stages]]
id = "x"
label = "X"
probability = 0.5
[[stages]]
id = "w"
label = "W"
kind = "won"
[[stages]]
id = "l"
label = "L"
kind = "lost"
"""
    assert [s.id for s in Pipeline.from_toml(text).stages] == ["x", "w", "l"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    assert Pipeline.from_json(path).id == "p"


def test_unreadable_and_unparsable_sources(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        Pipeline.from_toml(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        Pipeline.from_toml("id = = 3\n")
    with pytest.raises(ConfigError, match="invalid JSON"):
        Pipeline.from_json("{not json")
    with pytest.raises(ConfigError, match="must be a table/object"):
        Pipeline.from_json("[1, 2]")
    with pytest.raises(ConfigError, match="GuardRegistry"):
        Pipeline.from_dict(minimal(), guards={"x": print})  # type: ignore[arg-type]


def test_every_kind_of_mistake_is_reported_at_once() -> None:
    data = {
        "id": "bad",
        "label": "Bad",
        "colour": "red",
        "transitions": {"allow_skip": "yes"},
        "stages": [
            {"id": "a", "label": "A", "probability": 1.5,
             "follow_up": {"cadence": "now and then", "max_days": -3}},
            {"id": "a", "label": "A again", "probability": 0.4,
             "requirements": [
                 {"type": "fields", "fields": ["amount", "colour"]},
                 {"type": "guard", "name": "credit_ok"},
                 {"type": "telepathy"},
                 {"type": "qualification", "parts": ["budget", "horoscope"]},
                 {"type": "activity", "kind": "seance"},
             ]},
            {"id": "x", "label": "X", "kind": "wonn", "probability": float("nan")},
        ],
    }
    listed = problems_of(data)
    problems = dict(listed)
    assert problems["colour"].startswith("unknown key")
    assert problems["transitions.allow_skip"] == "must be true or false, got 'yes'"
    assert problems["stages[0].probability"] == "must be a number in [0, 1], got 1.5"
    assert problems["stages[0].follow_up.cadence"].startswith(
        "cannot read cadence 'now and then'")
    assert problems["stages[0].follow_up.max_days"] == (
        "must be a whole number of days in 1..36500, got -3")
    assert problems["stages[1].id"] == "duplicate stage id 'a' (also stages[0])"
    assert "unknown deal field 'colour'" in problems["stages[1].requirements[0].fields"]
    assert problems["stages[1].requirements[1].name"].startswith("unknown guard 'credit_ok'")
    assert problems["stages[1].requirements[2].type"].startswith(
        "unknown requirement type 'telepathy'")
    assert "unknown qualification part 'horoscope'" in (
        problems["stages[1].requirements[3].parts"])
    assert problems["stages[1].requirements[4].kind"].startswith("unknown value 'seance'")
    assert problems["stages[2].kind"].startswith("unknown value 'wonn'")
    assert problems["stages[2].probability"] == "must be a number in [0, 1], got NaN"
    assert ("stages", "a pipeline needs at least one won stage") in listed
    assert ("stages", "a pipeline needs at least one lost stage") in listed
    assert len(listed) == 15


def test_bad_cadence_and_max_days_have_their_own_paths() -> None:
    data = minimal()
    data["stages"][0]["follow_up"] = {"cadence": "now and then"}
    data["stages"][1]["follow_up"] = {"max_days": -3, "cadence": "every 0 days"}
    problems = dict(problems_of(data))
    assert "cannot read cadence 'now and then'" in problems["stages[0].follow_up.cadence"]
    assert problems["stages[1].follow_up.cadence"] == (
        "cadence 'every 0 days': the count must be within 1..999")
    assert problems["stages[1].follow_up.max_days"].startswith("must be a whole number")


def test_unknown_stage_references_and_unreachable_stages() -> None:
    data = minimal()
    data["transitions"] = {"table": {"a": ["won", "ghost"], "b": ["lost"], "phantom": ["a"]}}
    problems = dict(problems_of(data))
    assert problems["transitions.table.a[1]"] == "unknown stage 'ghost'"
    assert problems["transitions.table.phantom"] == "unknown stage 'phantom'"
    data["transitions"] = {"table": {"a": ["won", "lost"], "b": ["lost"]}}
    problems = dict(problems_of(data))
    assert problems["stages[1]"] == "stage 'b' cannot be reached from 'a'"


def test_dead_end_open_stage_is_reported() -> None:
    data = minimal()
    data["transitions"] = {"table": {"a": ["b", "won", "lost"], "b": []}}
    problems = dict(problems_of(data))
    assert problems["stages[1]"] == "deals in 'b' can never be won or lost (no way out)"


def test_closed_stage_rules_and_first_stage() -> None:
    data = minimal()
    data["stages"][0]["kind"] = "lost"
    data["stages"][0]["probability"] = 0.0
    data["stages"][2]["probability"] = 0.5
    data["stages"][3]["forecast_category"] = "commit"
    data["stages"][1]["requirements"] = [{"type": "lost_reason"}]
    problems = dict(problems_of(data))
    assert problems["stages[0].kind"].startswith("the first stage must be an open stage")
    assert problems["stages[2].probability"] == "a won stage has probability 1, got 0.5"
    assert problems["stages[3].forecast_category"] == (
        "a lost stage is in forecast category 'omitted'")
    assert problems["stages[1].requirements[0]"] == (
        "a lost-reason requirement belongs on a lost stage")


@pytest.mark.parametrize(("data", "path"), [
    ({}, "id"),
    ({"id": "p", "stages": []}, "stages"),
    ({"id": "p", "stages": "abc"}, "stages"),
    ({"id": 3, "stages": [1]}, "stages[0]"),
    ({"id": "p", "stages": [{"id": "a", "label": "A"}]}, "stages[0].probability"),
    ({"id": "p", "stages": [{"id": "a", "probability": True}]}, "stages[0].probability"),
    ({"id": "p", "stages": [{"id": "a", "probability": 0.1, "guidance": 4}]},
     "stages[0].guidance"),
    ({"id": "p", "stages": [{"id": "a", "probability": 0.1,
                             "guidance": {"actions": [1]}}]}, "stages[0].guidance.actions[0]"),
    ({"id": "p", "stages": [{"id": "a", "probability": 0.1, "requirements": {}}]},
     "stages[0].requirements"),
    ({"id": "p", "transitions": {"table": []}, "stages": [{"id": "a", "probability": 0.1}]},
     "transitions.table"),
])
def test_shape_mistakes_have_paths(data: dict[str, Any], path: str) -> None:
    assert path in dict(problems_of(data))


def test_non_mapping_root() -> None:
    assert problems_of([1, 2]) == [("", "a pipeline must be a table/object, got list")]


# --- random configurations: load, or fail with problems; never crash -------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(),
                     st.text(max_size=6), st.sampled_from(["open", "won", "lost", "a", "b",
                                                           "every 2 weeks", "fields",
                                                           "guard", "amount", "pipeline"]))
_json = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)

_requirement = st.one_of(
    st.fixed_dictionaries({"type": st.just("fields"),
                           "fields": st.lists(st.sampled_from(["amount", "owner", "x"]))}),
    st.fixed_dictionaries({"type": st.just("guard"), "name": st.sampled_from(["g", "h"])}),
    st.fixed_dictionaries({"type": st.just("lost_reason")}),
    st.fixed_dictionaries({"type": st.sampled_from(["quote", "activity", "qualification"])}),
    _json,
)
_stage = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c", "won", "lost", ""])},
    optional={
        "label": st.one_of(st.text(max_size=5), _scalars),
        "kind": st.sampled_from(["open", "won", "lost", "other", 3]),
        "probability": st.one_of(st.floats(), st.integers(-1, 2), _scalars),
        "forecast_category": st.sampled_from(["pipeline", "commit", "closed", "omitted", "x"]),
        "requirements": st.lists(_requirement, max_size=3),
        "follow_up": st.one_of(_json, st.fixed_dictionaries(
            {}, optional={"max_days": st.integers(-2, 40), "cadence": _scalars,
                          "business_days": _scalars})),
        "guidance": st.one_of(st.text(max_size=5), _json),
    })
_config = st.fixed_dictionaries(
    {"id": st.one_of(st.just("p"), _scalars), "stages": st.one_of(
        st.lists(_stage, max_size=6), _json)},
    optional={"label": _scalars, "transitions": st.one_of(_json, st.fixed_dictionaries(
        {}, optional={"allow_skip": st.booleans(), "allow_backward": _scalars,
                      "table": st.dictionaries(st.sampled_from(["a", "b", "won", "x"]),
                                               st.lists(st.sampled_from(["a", "b", "won",
                                                                         "lost", "y"])))})),
              "extra": _json})


@given(st.one_of(_config, _json))
def test_random_configs_load_or_list_their_problems(data: Any) -> None:
    guards = GuardRegistry(guards={"g": lambda o, s, a: None})
    try:
        p = Pipeline.from_dict(data, guards=guards)
    except ConfigError as exc:
        problems = exc.problems
        assert problems
        assert all(isinstance(path, str) and isinstance(message, str) and message
                   for path, message in problems)
    else:
        assert Pipeline.from_dict(p.to_dict(), guards=guards) == p
        assert all(0.0 <= s.probability <= 1.0 and not math.isnan(s.probability)
                   for s in p.stages)
