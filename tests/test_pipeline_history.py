"""History: replay, time in stage, staleness, follow-ups, cadences, business days."""

import copy
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    Activity,
    ActivityKind,
    FollowUp,
    ForecastCategory,
    Opportunity,
    Pipeline,
    RequireFields,
    RequireLostReason,
    Stage,
    StageChange,
    StageKind,
    TransitionError,
    TransitionPolicy,
    ValidationError,
    replay,
    stage_entered_at,
    time_in_stage,
)
from oppcore.pipeline._cadence import (
    add_business_days,
    business_days_between,
    cadence_parts,
    parse_cadence,
)

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def sc(src: str | None, dst: str, at: datetime) -> StageChange:
    return StageChange(from_stage=src, to_stage=dst, at=at, by="u")


def opp_with(history: tuple[StageChange, ...], stage: str, pipeline: str = "standard",
             **kw: object) -> Opportunity:
    return Opportunity(id="o", name="D", pipeline_id=pipeline, stage_id=stage, created_at=T0,
                       stage_history=history, **kw)  # type: ignore[arg-type]


STANDARD = Pipeline.template("standard")


# --- replay ----------------------------------------------------------------------------

def test_replay_returns_the_final_stage() -> None:
    history = (sc(None, "identification", T0), sc("identification", "needs_analysis", day(1)),
               sc("needs_analysis", "lost", day(2)))
    assert replay(STANDARD, history) == "lost"


@pytest.mark.parametrize(("history", "codes"), [
    ((), ["empty_history"]),
    ((sc("identification", "needs_analysis", T0),), ["bad_first_entry"]),
    ((sc(None, "ghost", T0),), ["unknown_stage"]),
    ((sc(None, "identification", T0), sc("solution", "quote_contract", day(1))),
     ["broken_chain"]),
    ((sc(None, "identification", T0), sc("identification", "won", day(1))),
     ["skip_not_allowed"]),
    ((sc(None, "identification", day(2)), sc("identification", "needs_analysis", day(1))),
     ["out_of_order"]),
    ((sc(None, "identification", T0), sc("identification", "lost", day(1)),
      sc("lost", "identification", day(2)), sc("identification", "won", day(3))),
     ["reopen_not_allowed", "skip_not_allowed"]),
])
def test_replay_refuses_illegal_histories(history: tuple[StageChange, ...],
                                          codes: list[str]) -> None:
    with pytest.raises(TransitionError) as info:
        replay(STANDARD, history)
    assert [v.code for v in info.value.violations] == codes


def test_replay_rejects_non_sequences() -> None:
    with pytest.raises(ValidationError, match="history"):
        replay(STANDARD, "identification")  # type: ignore[arg-type]
    with pytest.raises(TransitionError, match="not a StageChange"):
        replay(STANDARD, [sc(None, "identification", T0), "x"])  # type: ignore[list-item]


# --- time in stage ---------------------------------------------------------------------

def test_time_in_stage_is_cumulative() -> None:
    simple = Pipeline.template("simple")
    history = (sc(None, "prospecting", T0), sc("prospecting", "engaging", day(2)),
               sc("engaging", "prospecting", day(3)), sc("prospecting", "engaging", day(7)))
    opp = opp_with(history, "engaging", "simple")
    assert replay(simple, history) == "engaging"
    assert time_in_stage(opp, now=day(10)) == {"prospecting": timedelta(days=6),
                                               "engaging": timedelta(days=4)}
    assert stage_entered_at(opp) == day(7)


def test_time_in_stage_without_history_and_before_entry() -> None:
    opp = opp_with((), "solution")
    assert time_in_stage(opp, now=day(3)) == {"solution": timedelta(days=3)}
    assert time_in_stage(opp, now=day(-1)) == {"solution": timedelta(0)}
    assert stage_entered_at(opp) is None
    with pytest.raises(ValidationError, match="now must be a timezone-aware"):
        time_in_stage(opp, now=datetime(2026, 3, 3))


# --- staleness and follow-ups ----------------------------------------------------------

def test_is_stale_after_max_days_in_stage() -> None:
    opp = opp_with((sc(None, "needs_analysis", T0),), "needs_analysis")  # max 21 days
    assert not STANDARD.is_stale(opp, now=day(21))
    assert STANDARD.is_stale(opp, now=day(21.5))
    assert not STANDARD.is_stale(opp_with((), "lost"), now=day(900))


def test_is_stale_in_business_days() -> None:
    opp = opp_with((sc(None, "identification", T0),), "identification")  # 14 business days
    assert not STANDARD.is_stale(opp, now=day(18))  # Friday of week 3: 14 weekdays
    assert STANDARD.is_stale(opp, now=day(21))  # the Monday after: 15 weekdays


def test_next_follow_up_counts_from_the_latest_activity_in_stage() -> None:
    opp = opp_with((sc(None, "needs_analysis", T0),), "needs_analysis")  # every 7 days
    assert STANDARD.next_follow_up(opp, now=day(1)) == day(7)
    call = Activity(id="a", kind=ActivityKind.CALL, at=day(3), by="u")
    future = Activity(id="b", kind=ActivityKind.CALL, at=day(30), by="u")
    with_calls = opp.evolve(activities=(call, future))
    assert STANDARD.next_follow_up(with_calls, now=day(4)) == day(10)
    assert STANDARD.next_follow_up(opp_with((), "lost"), now=day(1)) is None


def test_next_follow_up_in_business_days() -> None:
    friday = day(4)
    opp = opp_with((sc(None, "quote_contract", friday),), "quote_contract")  # every 5 bdays
    assert STANDARD.next_follow_up(opp, now=friday) == friday + timedelta(days=7)
    weekly = Pipeline(id="w", label="W", stages=(
        Stage(id="a", label="A", probability=0.5,
              follow_up=FollowUp(cadence="every month", business_days=True)),
        Stage(id="won", label="Won", kind=StageKind.WON, probability=1.0,
              forecast_category=ForecastCategory.CLOSED),
        Stage(id="lost", label="Lost", kind=StageKind.LOST,
              forecast_category=ForecastCategory.OMITTED)))
    start = datetime(2026, 2, 28, 9, tzinfo=UTC)  # Saturday; +1 month = Saturday Mar 28
    opp = opp_with((sc(None, "a", start),), "a", "w")
    assert weekly.next_follow_up(opp, now=start) == datetime(2026, 3, 30, 9, tzinfo=UTC)


# --- cadences and business days --------------------------------------------------------

@pytest.mark.parametrize(("text", "parts"), [
    ("every 7 days", (7, "day")), ("Every  2 Weeks", (2, "week")), ("every month", (1, "month")),
    ("weekly", (1, "week")), ("fortnightly", (2, "week")), ("quarterly", (1, "quarter")),
    ("every other week", (2, "week")), ("every 1 day", (1, "day")), ("annually", (1, "year")),
])
def test_cadence_grammar(text: str, parts: tuple[int, str]) -> None:
    assert cadence_parts(text) == parts


@pytest.mark.parametrize("text", ["", "every", "every days", "every 0 days", "every 1000 days",
                                  "7 days", "every -1 days", "every 2.5 weeks", "__import__",
                                  "every 7 fortnights", None, 7])
def test_bad_cadences(text: object) -> None:
    with pytest.raises(ValueError, match="cadence"):
        parse_cadence(text)


def test_parse_cadence_gives_relativedeltas() -> None:
    assert T0 + parse_cadence("every 3 months") == datetime(2026, 6, 2, 9, tzinfo=UTC)
    assert T0 + parse_cadence("every 2 weeks") == day(14)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(UTC)), st.integers(0, 400))
def test_add_business_days_lands_on_a_weekday_n_weekdays_later(start: datetime,
                                                               n: int) -> None:
    end = add_business_days(start, n)
    assert end.weekday() < 5
    assert end.time() == start.time()
    first = start if start.weekday() < 5 else add_business_days(start, 0)
    assert business_days_between(first.date(), end.date()) == n


# --- every sequence of attempted moves -------------------------------------------------

@st.composite
def pipelines(draw: st.DrawFn) -> Pipeline:
    n_open = draw(st.integers(1, 4))
    opens = [Stage(id=f"o{i}", label=f"Open {i}", probability=draw(st.floats(0, 1)),
                   requirements=(RequireFields(fields=("owner",)),) if draw(st.booleans())
                   else ()) for i in range(n_open)]
    closed = [Stage(id=f"w{i}", label=f"Won {i}", kind=StageKind.WON, probability=1.0,
                    forecast_category=ForecastCategory.CLOSED)
              for i in range(draw(st.integers(1, 2)))]
    closed += [Stage(id=f"l{i}", label=f"Lost {i}", kind=StageKind.LOST,
                     forecast_category=ForecastCategory.OMITTED,
                     requirements=(RequireLostReason(reasons=("price", "timing")),)
                     if draw(st.booleans()) else ())
               for i in range(draw(st.integers(1, 2)))]
    rest = draw(st.permutations(opens[1:] + closed))
    policy = TransitionPolicy(allow_skip=draw(st.booleans()),
                              allow_backward=draw(st.booleans()),
                              allow_reopen=draw(st.booleans()))
    return Pipeline(id="p", label="P", stages=(opens[0], *rest), policy=policy)


moves = st.lists(st.tuples(st.integers(0, 7), st.sampled_from([None, "price", "meh"]),
                           st.sampled_from([None, "boss says"]), st.integers(-2, 48),
                           st.sampled_from([None, "ann"])), max_size=12)


@given(pipelines(), moves)
def test_any_sequence_of_moves_stays_legal_and_replays(p: Pipeline, attempts: list[
        tuple[int, str | None, str | None, int, str | None]]) -> None:
    first = p.first_stage.id
    opp = Opportunity(id="o", name="D", pipeline_id="p", stage_id=first, created_at=T0,
                      stage_history=(sc(None, first, T0),))
    at = T0
    for target, reason, override, hours, owner in attempts:
        to_stage = p.stages[target % len(p.stages)].id
        at += timedelta(hours=hours)
        before = opp.evolve(owner=owner) if owner != opp.owner else opp
        snapshot = copy.deepcopy(before)
        violations = p.check(before, to_stage, at=at, reason=reason)
        try:
            after = p.advance(before, to_stage, at=at, by="u", reason=reason,
                              override=override)
        except TransitionError as exc:
            refused: tuple[object, ...] = exc.violations
            after = before
            assert refused
            assert violations  # refused moves were announced by check
        else:
            assert not violations or (override and all(v.overridable for v in violations))
            assert after.stage_history[:-1] == before.stage_history
            assert after.stage_history[-1].to_stage == to_stage
            assert (after.stage_history[-1].override is not None) == bool(violations)
            # advance skips re-validation on its hot path: the full constructor (which
            # attrs.evolve runs) must accept what it built, unchanged.
            assert attrs.evolve(after) == after
            assert attrs.evolve(after.stage_history[-1]) == after.stage_history[-1]
        assert before == snapshot  # the input never changes
        assert after.stage_id in p
        opp = after
    assert replay(p, opp.stage_history) == opp.stage_id
    spent = time_in_stage(opp, now=at + timedelta(days=1))
    assert set(spent) <= {s.id for s in p.stages}
    assert sum(spent.values(), timedelta(0)) == max(at + timedelta(days=1) - T0, timedelta(0))


# --- deals of another pipeline ----------------------------------------------------------

def test_follow_up_rules_refuse_a_deal_of_another_pipeline() -> None:
    # Both templates have a 'won' stage; the standard one has an after-sales cadence. A
    # 'simple' deal must not silently get the standard pipeline's follow-up rules.
    deal = opp_with((sc(None, "prospecting", T0), sc("prospecting", "won", day(1))), "won",
                    pipeline="simple")
    with pytest.raises(ValidationError, match=r"'o'.*pipeline 'simple'.*'standard'") as info:
        STANDARD.next_follow_up(deal, now=day(2))
    assert info.value.field == "pipeline_id"
    with pytest.raises(ValidationError, match=r"'o'.*pipeline 'simple'"):
        STANDARD.is_stale(deal, now=day(2))
    assert Pipeline.template("simple").next_follow_up(deal, now=day(2)) is None
