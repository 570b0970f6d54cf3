"""The one unchecked-construction helper gives exactly what the validating constructor gives.

``oppcore._copying`` holds oppcore's construction fast paths: ``evolve`` (re-checks the
changed fields and every cross-field rule), ``trusted``/``trusted_evolve`` (stage moves) and
``trusted_values`` (the scorecard's results, through the hand-written builders their
modules register with ``register_builder``).
Each is compared here with the plain path on generated values.
"""

import pickle
from typing import Any

import attrs
import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from oppcore import Contribution, Lead, Reason, RuleResult, Score, Scorecard
from oppcore._copying import _MAKERS, builder_twin, trusted, trusted_values
from oppcore.testing import strategies as ost


def _fields(value: Any) -> list[Any]:
    return [getattr(value, f.name) for f in attrs.fields(type(value))]


@given(ost.opportunities(), ost.aware_datetimes())
def test_trusted_values_builds_what_the_constructor_builds(opp: Any, now: Any) -> None:
    score = Scorecard.default().score(opp, now=now)
    # Score, Contribution and Reason (registered builders) and a RuleResult (the generic
    # maker).
    values: list[Any] = [score, *score.contributions]
    values += [r for c in score.contributions for r in c.reasons]
    values.append(RuleResult(value=0.5, confidence=0.5, reasons=()))
    for value in values:
        cls = type(value)
        made = trusted_values(cls)(*_fields(value))
        assert type(made) is cls
        assert made == value
        assert _fields(made) == _fields(value)
        if cls in (Contribution, Reason, RuleResult, Score):
            # The validating constructor accepts every value the fast path built.
            kwargs = {f.name.lstrip("_"): getattr(value, f.name)
                      for f in attrs.fields(cls) if f.init}
            assert cls(**kwargs) == made


@given(ost.leads(), st.sampled_from(["name", "notes", "owner", "tags"]))
def test_lead_evolve_equals_attrs_evolve(lead: Lead, field: str) -> None:
    value: Any = {"name": "Renamed", "notes": "n", "owner": "u-2", "tags": frozenset({"x"})}
    changed = lead.evolve(**{field: value[field]})
    assert changed == attrs.evolve(lead, **{field: value[field]})


def test_trusted_keeps_exactly_the_given_fields() -> None:
    reason = trusted(Reason, code="c", message="m", effect=0.25)
    assert reason == Reason(code="c", message="m", effect=0.25)


REGISTERED = (Contribution, Reason, Score)


@pytest.mark.parametrize("cls", REGISTERED)
def test_a_registered_builder_sets_every_field_in_order(cls: type) -> None:
    assert trusted_values(cls) is _MAKERS[cls]
    names = [f.name for f in attrs.fields(cls)]
    sentinels = [object() for _ in names]
    made = trusted_values(cls)(*sentinels)
    # Each field holds its own argument: none skipped, none swapped, none left unset.
    assert [getattr(made, name) for name in names] == sentinels
    # The twin never escapes: the result is the plain class, frozen like any other.
    assert type(made) is cls
    with pytest.raises(FrozenInstanceError):
        setattr(made, names[0], "changed")
    with pytest.raises(FrozenInstanceError):
        delattr(made, names[0])


@pytest.mark.parametrize("cls", REGISTERED)
def test_a_registered_builder_refuses_a_wrong_number_of_values(cls: type) -> None:
    with pytest.raises(TypeError):
        trusted_values(cls)("only one")


@given(ost.opportunities(), ost.aware_datetimes())
def test_built_values_pickle_hash_and_compare_as_constructed_ones(opp: Any, now: Any) -> None:
    score = Scorecard.default().score(opp, now=now)
    again = pickle.loads(pickle.dumps(score))
    assert type(again) is Score
    assert again == score
    assert hash(again) == hash(score)
    assert again.factors() == score.factors()


def test_a_builder_twin_needs_a_slotted_attrs_class() -> None:
    @attrs.frozen(slots=False)
    class Dicted:
        a: int

    with pytest.raises(TypeError, match="slotted attrs class"):
        builder_twin(Dicted)
    with pytest.raises(TypeError, match="slotted attrs class"):
        builder_twin(int)
