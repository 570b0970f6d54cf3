"""time_in_stage in business days: the stale check's rule, Golden Week 2025 in China."""

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import (
    ConfigError,
    Opportunity,
    Pipeline,
    StageChange,
    ValidationError,
    calendars,
    time_in_stage,
)

BEIJING = timezone(timedelta(hours=8))
STANDARD = Pipeline.template("standard")
STANDARD_CN = attrs.evolve(STANDARD, calendar="CN")
STAGES = ("identification", "needs_analysis", "solution", "quote_contract")


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING)


def deal(*entries: tuple[str, datetime]) -> Opportunity:
    history, before = [], None
    for stage, moment in entries:
        history.append(StageChange(from_stage=before, to_stage=stage, at=moment, by="u"))
        before = stage
    return Opportunity(id="o", name="D", pipeline_id="standard", stage_id=before or "",
                       created_at=entries[0][1], stage_history=tuple(history))


def weekdays_in(start: date, end: date) -> int:
    """Monday to Friday in (start, end], counted one day at a time (independent of the
    library's O(1) count)."""
    return sum(1 for n in range(1, (end - start).days + 1)
               if (start + timedelta(days=n)).weekday() < 5)


# --- Golden Week 2025 ----------------------------------------------------------------------

# 2025-10-01..08 off for National Day and Mid-Autumn; Sunday 2025-09-28 and Saturday
# 2025-10-11 are working days (调休).
FRIDAY = date(2025, 9, 26)
GOLDEN_WEEK = deal(("identification", at(FRIDAY)),
                   ("needs_analysis", at(date(2025, 10, 13), 9)))


def test_golden_week_counts_the_adjusted_working_weekend_days() -> None:
    now = at(date(2025, 10, 20), 9)
    cn = time_in_stage(GOLDEN_WEEK, now=now, business_days=True, calendar="CN")
    # 09-28 (Sun), 09-29, 09-30, 10-09, 10-10, 10-11 (Sat), 10-13; then 10-14..17, 10-20.
    assert cn == {"identification": 7, "needs_analysis": 5}
    weekends = time_in_stage(GOLDEN_WEEK, now=now, business_days=True)
    assert weekends == {"identification": 11, "needs_analysis": 5}
    assert time_in_stage(GOLDEN_WEEK, now=now) == {
        "identification": timedelta(days=16, hours=23), "needs_analysis": timedelta(days=7)}


def test_five_business_days_after_the_friday_end_on_october_10() -> None:
    # The example: a follow-up due 5 business days after 2025-09-26 is 2025-10-10.
    opp = deal(("identification", at(FRIDAY)))
    counted = [time_in_stage(opp, now=at(date(2025, 10, d)), business_days=True,
                             calendar="CN")["identification"] for d in (8, 9, 10)]
    assert counted == [3, 4, 5]


def test_the_calendar_may_be_named_or_given() -> None:
    now = at(date(2025, 10, 20))
    by_name = time_in_stage(GOLDEN_WEEK, now=now, business_days=True, calendar="CN")
    assert time_in_stage(GOLDEN_WEEK, now=now, business_days=True,
                         calendar=STANDARD_CN.business_calendar) == by_name
    assert time_in_stage(GOLDEN_WEEK, now=now, business_days=True,
                         calendar=calendars.get("CN")) == by_name


def test_a_stay_within_one_day_counts_zero_and_a_deal_without_history_counts() -> None:
    opp = deal(("identification", at(FRIDAY, 9)))
    assert time_in_stage(opp, now=at(FRIDAY, 18), business_days=True) == \
        {"identification": 0}
    bare = attrs.evolve(opp, stage_history=())
    assert time_in_stage(bare, now=at(date(2025, 9, 29)), business_days=True,
                         calendar="CN") == {"identification": 2}  # Sunday 28th, Monday
    assert time_in_stage(bare, now=at(date(2025, 9, 20)), business_days=True) == \
        {"identification": 0}  # now before creation


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"calendar": "CN"}, ValidationError, "business_days=True"),
    ({"business_days": "yes"}, ValidationError, "business_days"),
    ({"business_days": 1}, ValidationError, "business_days"),
    ({"business_days": True, "calendar": 42}, ValidationError, "BusinessCalendar"),
    ({"business_days": True, "calendar": "Mars"}, ConfigError, "unknown calendar 'Mars'"),
])
def test_bad_arguments_are_refused(kwargs: dict[str, object], error: type[Exception],
                                   match: str) -> None:
    with pytest.raises(error, match=match):
        time_in_stage(GOLDEN_WEEK, now=at(date(2025, 10, 20)), **kwargs)  # type: ignore[call-overload]


def test_days_the_cn_calendar_does_not_cover_are_refused_not_guessed() -> None:
    opp = deal(("identification", at(date(2026, 12, 20))))
    with pytest.raises(ValidationError):
        time_in_stage(opp, now=at(date(2027, 1, 10)), business_days=True, calendar="CN")


# --- properties ----------------------------------------------------------------------------

_DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 1))
_HOURS = st.integers(0, 23)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Opportunity, datetime]:
    """A deal moving through the open stages in 2020-2026 (Beijing time), and a now."""
    first = at(draw(_DAYS), draw(_HOURS))
    moments = [first]
    for _ in range(draw(st.integers(0, 3))):
        moments.append(moments[-1] + timedelta(hours=draw(st.integers(0, 24 * 40))))
    entries = [(STAGES[i % len(STAGES)], m) for i, m in enumerate(moments)]
    now = first + timedelta(hours=draw(st.integers(-48, 24 * 200)))
    return deal(*entries), now


@given(histories(), st.sampled_from(["weekends", "CN"]))
def test_business_days_never_exceed_the_days_crossed(
        case: tuple[Opportunity, datetime], name: str) -> None:
    opp, now = case
    if now.date() > date(2026, 12, 31):
        return  # past the CN table: refused, tested above
    counted = time_in_stage(opp, now=now, business_days=True, calendar=name)
    elapsed = time_in_stage(opp, now=now)
    assert counted.keys() == elapsed.keys()
    for stage, spent in elapsed.items():
        # A stay of d days (and some hours) crosses at most d + 1 midnights.
        stays = sum(1 for e in opp.stage_history if e.to_stage == stage)
        assert 0 <= counted[stage] <= spent.days + stays


@given(histories())
def test_weekdays_agree_with_a_day_by_day_count(case: tuple[Opportunity, datetime]) -> None:
    opp, now = case
    counted = time_in_stage(opp, now=now, business_days=True)
    # Stays are contiguous: their working days add up to those of the whole span.
    start = opp.stage_history[0].at
    total = weekdays_in(start.date(), now.date()) if now > start else 0
    assert sum(counted.values()) == total
    if len(opp.stage_history) == 1:
        assert counted == {opp.stage_id: total}


@given(histories())
def test_the_stale_check_and_time_in_stage_count_the_same_days(
        case: tuple[Opportunity, datetime]) -> None:
    opp, now = case
    if now < opp.stage_history[-1].at or now.date() > date(2026, 12, 31):
        return
    # The current stage was entered once, by the last entry: its stay is the stale check's.
    if sum(1 for e in opp.stage_history if e.to_stage == opp.stage_id) > 1:
        return
    for pipeline in (STANDARD, STANDARD_CN):
        follow = pipeline.stage(opp.stage_id).follow_up
        assert follow is not None and follow.max_days is not None
        counted = time_in_stage(opp, now=now, business_days=True,
                                calendar=pipeline.business_calendar)[opp.stage_id]
        if follow.business_days:
            assert pipeline.is_stale(opp, now=now) == (counted > follow.max_days)
