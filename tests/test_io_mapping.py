"""Column mappings: loading from dict/TOML, validation reporting every problem, presets."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import ConfigError
from oppcore.io import PRESET_NAMES, ColumnMapping, preset
from oppcore.pipeline import Pipeline

TOML = """
pipeline_id = "simple"
id = "opportunity_id"
stage = "deal_stage"
closed_from_stage = "engaging"
amount = "close_value"
default_currency = "CNY"
owner = ["sales_agent", "Owner"]
created_at = "engage_date"
closed_at = "close_date"
date_formats = ["%d/%m/%Y"]
optional = ["custom.region"]

[stage_values]
Prospecting = "prospecting"
Engaging = "engaging"
Won = "won"
Lost = "lost"

[custom]
region = "Region"
"""


def test_from_toml() -> None:
    m = ColumnMapping.from_toml(TOML)
    assert m.pipeline_id == "simple"
    assert m.owner == ("sales_agent", "Owner")
    assert m.id == ("opportunity_id",)
    assert m.stage_values["Won"] == "won"
    assert m.custom["region"] == ("Region",)
    assert m.date_formats == ("%d/%m/%Y",)
    assert m.won_stages == frozenset({"won"})


def test_to_dict_round_trip() -> None:
    m = ColumnMapping.from_toml(TOML)
    assert ColumnMapping.from_dict(m.to_dict()) == m


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_presets_are_valid_and_round_trip(name: str) -> None:
    m = preset(name, default_currency="EUR")
    assert ColumnMapping.from_dict(m.to_dict()) == m
    assert m.stage
    # A won deal is reachable through the stage column or the outcome (status) column.
    assert m.won_stages <= set(m.stage_values.values()) | set(m.status_values.values())
    assert ColumnMapping.from_toml(m.to_toml()) == m
    assert m.pipeline_problems(Pipeline.template(m.pipeline_id)) == []


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        ColumnMapping.from_dict({
            "pipeline_id": "",
            "stage": [],
            "amount": "value",
            "default_currency": "XYZ",
            "source_values": {"Web": "internet"},
            "won_stages": ["done"],
            "lost_stages": ["done"],
            "closed_from_stage": "done",
            "thousands_separator": ".",
            "date_formats": ["YYYY-MM-DD"],
            "optional": ["colour"],
            "owner": 42,
        })
    paths = {path for path, _ in info.value.problems}
    assert paths >= {"pipeline_id", "stage", "default_currency", "source_values.Web",
                     "lost_stages", "closed_from_stage", "thousands_separator",
                     "date_formats", "optional", "owner"}
    assert "column mapping" in str(info.value)


def test_unknown_and_missing_keys() -> None:
    with pytest.raises(ConfigError) as info:
        ColumnMapping.from_dict({"stage": "s", "colour": "red"})
    assert {p for p, _ in info.value.problems} == {"colour", "pipeline_id"}
    with pytest.raises(ConfigError, match="expected a table"):
        ColumnMapping.from_dict(["not", "a", "dict"])  # type: ignore[arg-type]


def test_amount_needs_a_currency_source() -> None:
    with pytest.raises(ConfigError, match="default_currency: is required"):
        ColumnMapping(pipeline_id="p", stage="s", amount="a")
    assert ColumnMapping(pipeline_id="p", stage="s", amount="a", currency="c").amount == ("a",)


def test_invalid_toml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        ColumnMapping.from_toml("pipeline_id = ")


def test_evolve_revalidates() -> None:
    m = preset("maven")
    assert m.evolve(default_currency="EUR").default_currency == "EUR"
    with pytest.raises(ConfigError, match="default_currency"):
        m.evolve(default_currency="euros")


def test_mapping_is_frozen_and_hashable() -> None:
    m = preset("maven")
    with pytest.raises(AttributeError):
        m.pipeline_id = "other"  # type: ignore[misc]
    assert hash(m) == hash(preset("maven"))


@given(st.dictionaries(st.sampled_from(["pipeline_id", "stage", "amount", "owner", "custom",
                                        "stage_values", "optional", "date_formats",
                                        "won_stages", "tags_separator", "id_prefix"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=5),
                                 st.lists(st.text(max_size=3), max_size=2),
                                 st.dictionaries(st.text(max_size=3), st.text(max_size=3),
                                                 max_size=2))))
def test_any_dict_gives_a_mapping_or_a_config_error(data: dict[str, object]) -> None:
    problems: tuple[tuple[str, str], ...] = ()
    try:
        m = ColumnMapping.from_dict(data)
    except ConfigError as exc:
        problems = exc.problems
    else:
        assert ColumnMapping.from_dict(m.to_dict()) == m
        return
    assert problems
    assert all(isinstance(p, str) and isinstance(msg, str) for p, msg in problems)


def test_guide_mapping_examples_are_valid() -> None:
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parent.parent / "docs" / "guides" / "import-your-crms-csv.md"
    blocks = re.findall(r"```toml\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)
    mappings = [ColumnMapping.from_toml(block) for block in blocks]  # every one is valid
    (m,) = [m for m in mappings if "In progress" in m.stage_values]
    assert m.stage_values["In progress"] == "engaging"
    assert m.optional == frozenset({"currency"})
    hubspot = preset("hubspot", default_currency="CNY", stage_values={
        "Discovery": "identification", "Demo": "solution", "Contract Sent": "quote_contract",
        "Closed Won": "won", "Closed Lost": "lost"})
    assert hubspot.stage_values["Demo"] == "solution"
