"""The after-win fields of the models: surveys, referrers, contract dates, renewal links; and
that every store and the wire format keep them."""

import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from oppcore import (
    Activity,
    ActivityKind,
    Channel,
    InMemoryStore,
    Lead,
    Opportunity,
    Source,
    SQLiteStore,
    Store,
    SurveyScale,
    ValidationError,
    serde,
)
from oppcore.testing import strategies as ost

_FRESH = itertools.count()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def survey(**fields: object) -> Activity:
    values: dict[str, object] = {"id": "s", "kind": ActivityKind.SURVEY, "at": T0, "by": "u",
                                 "scale": SurveyScale.NPS, "score": 9}
    values.update(fields)
    return Activity(**values)  # type: ignore[arg-type]


# --- surveys ---------------------------------------------------------------------------

@pytest.mark.parametrize(("scale", "score"), [(SurveyScale.CSAT, 0), (SurveyScale.CSAT, 6),
                                              (SurveyScale.NPS, 11), (SurveyScale.NPS, -1)])
def test_a_score_outside_its_scale_is_refused(scale: SurveyScale, score: int) -> None:
    with pytest.raises(ValidationError) as info:
        survey(scale=scale, score=score)
    assert info.value.field == "score"


@pytest.mark.parametrize("score", [4.5, True, "4", None])
def test_a_survey_score_is_a_whole_number(score: object) -> None:
    with pytest.raises(ValidationError, match="score"):
        survey(scale=SurveyScale.CSAT, score=score)


def test_a_survey_needs_its_scale() -> None:
    with pytest.raises(ValidationError) as info:
        survey(scale=None)
    assert info.value.field == "scale"


def test_only_a_survey_carries_a_score_or_a_scale() -> None:
    with pytest.raises(ValidationError, match="only a survey"):
        survey(kind=ActivityKind.CALL)
    with pytest.raises(ValidationError, match="only a survey"):
        survey(kind=ActivityKind.CALL, score=None)
    assert Activity(id="c", kind=ActivityKind.CALL, at=T0, by="u", task="handover").task == (
        "handover")


def test_scale_ranges_and_good_answers() -> None:
    assert (SurveyScale.CSAT.low, SurveyScale.CSAT.high) == (1, 5)
    assert (SurveyScale.NPS.low, SurveyScale.NPS.high) == (0, 10)
    assert [s for s in range(1, 6) if SurveyScale.CSAT.is_good(s)] == [4, 5]
    assert [s for s in range(11) if SurveyScale.NPS.is_good(s)] == [9, 10]


# --- referrers, contracts, renewal links -----------------------------------------------

def test_only_a_referral_names_a_referrer() -> None:
    assert Source(channel=Channel.REFERRAL, referrer="acc-1").referrer == "acc-1"
    with pytest.raises(ValidationError, match="only a referral"):
        Source(channel=Channel.EVENT, referrer="acc-1")
    with pytest.raises(ValidationError, match="referrer"):
        Source(channel=Channel.REFERRAL, referrer="  ")


def deal(**fields: object) -> Opportunity:
    return Opportunity(id="d", name="D", pipeline_id="standard", stage_id="won",
                       created_at=T0, **fields)  # type: ignore[arg-type]


def test_a_contract_does_not_end_before_it_starts() -> None:
    ok = deal(contract_start=date(2026, 1, 1), contract_end=date(2026, 1, 1))
    with pytest.raises(ValidationError) as info:
        ok.evolve(contract_end=date(2025, 12, 31))
    assert info.value.field == "contract_end"
    with pytest.raises(ValidationError, match="must be a date"):
        deal(contract_start=T0)


@pytest.mark.parametrize("name", ["renewal_of", "renewed_by"])
def test_a_deal_cannot_renew_itself(name: str) -> None:
    with pytest.raises(ValidationError, match="cannot renew itself"):
        deal(**{name: "d"})
    with pytest.raises(ValidationError, match="cannot renew itself"):
        deal().evolve(**{name: "d"})


# --- wire format and stores ------------------------------------------------------------

def test_the_new_fields_are_on_the_wire() -> None:
    data = serde.unstructure(deal(contract_start=date(2026, 1, 1), renewal_of="d0",
                                  source=Source(channel=Channel.REFERRAL, referrer="c-1"),
                                  activities=(survey(),)))
    assert data["contract_start"] == "2026-01-01" and data["contract_end"] is None
    assert data["renewal_of"] == "d0" and data["renewed_by"] is None
    assert data["source"]["referrer"] == "c-1"
    wire = data["activities"][0]
    assert {k: wire[k] for k in ("kind", "scale", "score", "task")} == {
        "kind": "survey", "scale": "nps", "score": 9, "task": None}
    assert serde.unstructure(serde.structure(data, Opportunity)) == data


@given(ost.surveys())
def test_surveys_round_trip(activity: Activity) -> None:
    assert serde.loads(serde.dumps(activity), Activity) == activity


def test_a_bad_survey_on_the_wire_names_its_field() -> None:
    data = serde.unstructure(deal(activities=(survey(),)))
    data["activities"][0]["score"] = 42
    with pytest.raises(ValidationError, match="score"):
        serde.structure(data, Opportunity)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield InMemoryStore()
    else:
        with SQLiteStore(tmp_path / "s.db", synchronous="NORMAL") as s:
            yield s


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opp=ost.opportunities(), lead=ost.leads())
def test_stores_keep_every_after_win_field(store: Store, opp: Opportunity,
                                           lead: Lead) -> None:
    # Stores keep whole records: the new fields persist without a store knowing them.
    n = next(_FRESH)  # one store serves every example: fresh ids, no uniqueness keys
    opp = opp.evolve(id=f"o{n}", version=0, external_key=None, renewal_of=None)
    if opp.renewed_by is not None:
        opp = opp.evolve(renewed_by=f"r{n}")
    lead = lead.evolve(id=f"l{n}", version=0, external_key=None, email=None)
    stored = store.add(opp)
    back = store.get(Opportunity, opp.id)
    assert back == stored
    for name in ("contract_start", "contract_end", "renewal_of", "renewed_by", "activities",
                 "source"):
        assert getattr(back, name) == getattr(opp, name)
    assert store.get(Lead, store.add(lead).id).source == lead.source
