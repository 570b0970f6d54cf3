"""The one unchecked-construction helper gives exactly what the validating constructor gives.

``oppcore._copying`` holds oppcore's construction fast paths: ``evolve`` (re-checks the
changed fields and every cross-field rule), ``trusted``/``trusted_evolve`` (stage moves) and
``trusted_values`` (the scorecard's results, with written-out slot sets for their sizes).
Each is compared here with the plain path on generated values.
"""

from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from oppcore import Contribution, Lead, Reason, RuleResult, Score, Scorecard
from oppcore._copying import trusted, trusted_values
from oppcore.testing import strategies as ost


def _fields(value: Any) -> list[Any]:
    return [getattr(value, f.name) for f in attrs.fields(type(value))]


@given(ost.opportunities(), ost.aware_datetimes())
def test_trusted_values_builds_what_the_constructor_builds(opp: Any, now: Any) -> None:
    score = Scorecard.default().score(opp, now=now)
    # Score (9 fields), Contribution (11), Reason (3) and a RuleResult (4): every size the
    # written-out makers cover, plus the generic one for another size.
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
