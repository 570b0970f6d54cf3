"""Business calendars: weekends, China (public holidays and 调休), company files."""

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import ConfigError, FollowUp, Opportunity, Pipeline, ValidationError, calendars
from oppcore.calendars import CN_YEARS, HolidayCalendar, WeekendCalendar

FIXTURES = Path(__file__).parent / "fixtures" / "calendars"
CN = calendars.get("CN")
WEEKENDS = calendars.get("weekends")
SHANGHAI = timezone(timedelta(hours=8))
FIRST, LAST = min(CN_YEARS), max(CN_YEARS)


# --- the example: Golden Week 2025 ---------------------------------------------

def test_five_business_days_after_friday_26_september_2025() -> None:
    friday = date(2025, 9, 26)
    assert WEEKENDS.add_working_days(friday, 5) == date(2025, 10, 3)  # mid-holiday
    # Sun 28 Sep is a working day (调休), 1-8 Oct are off, Thu 9 and Fri 10 Oct work.
    assert CN.add_working_days(friday, 5) == date(2025, 10, 10)
    assert CN.is_working_day(date(2025, 9, 28))
    assert CN.is_working_day(date(2025, 10, 11))  # a Saturday
    assert not any(CN.is_working_day(date(2025, 10, d)) for d in range(1, 9))


def test_a_cn_pipeline_dates_follow_ups_with_the_holidays() -> None:
    base = Pipeline.template("standard")
    stage = base.stages[0]
    follow = FollowUp(max_days=5, cadence="every 5 days", business_days=True)
    stages = (attrs.evolve(stage, follow_up=follow), *base.stages[1:])
    cn = attrs.evolve(base, stages=stages, calendar="CN")
    entered = datetime(2025, 9, 26, 10, tzinfo=SHANGHAI)
    deal = Opportunity(id="o", name="D", pipeline_id="standard", stage_id=stage.id,
                       created_at=entered)
    assert cn.next_follow_up(deal, now=entered) == datetime(2025, 10, 10, 10, tzinfo=SHANGHAI)
    assert attrs.evolve(cn, calendar="weekends").next_follow_up(deal, now=entered) == \
        datetime(2025, 10, 3, 10, tzinfo=SHANGHAI)
    # Stale after 5 working days: not on 9 Oct (4 working days: 28 Sep, 29, 30, 9 Oct) ...
    assert not cn.is_stale(deal, now=datetime(2025, 10, 9, 18, tzinfo=SHANGHAI))
    assert cn.is_stale(deal, now=datetime(2025, 10, 11, 9, tzinfo=SHANGHAI))
    # ... while the weekend calendar counts the holiday as working days.
    assert attrs.evolve(cn, calendar="weekends").is_stale(
        deal, now=datetime(2025, 10, 9, 18, tzinfo=SHANGHAI))


def test_the_calendar_round_trips_through_pipeline_config() -> None:
    cn = attrs.evolve(Pipeline.template("simple"), calendar="CN")
    data = cn.to_dict()
    assert data["calendar"] == "CN"
    again = Pipeline.from_dict(data)
    assert again == cn and again.business_calendar.name == "CN"
    assert "calendar" not in Pipeline.template("simple").to_dict()
    with pytest.raises(ConfigError, match="calendar"):
        Pipeline.from_dict({**data, "calendar": 3})
    with pytest.raises(ConfigError, match="unknown calendar 'XX'"):
        Pipeline.from_dict({**data, "calendar": "XX"})


# --- years the table does not cover are refused ----------------------------------------

@pytest.mark.parametrize("day", [date(FIRST - 1, 12, 31), date(LAST + 1, 1, 2)])
def test_china_refuses_days_outside_the_published_years(day: date) -> None:
    with pytest.raises(ValidationError, match=f"no data for {day.year}"):
        CN.is_working_day(day)
    with pytest.raises(ValidationError, match="no data"):
        CN.add_working_days(date(LAST, 12, 30), 10)


def test_calendars_refuse_datetimes_and_negative_counts() -> None:
    for cal in (CN, WEEKENDS):
        with pytest.raises(ValidationError, match=r"datetime\.date"):
            cal.is_working_day(datetime(2025, 1, 2, tzinfo=SHANGHAI))  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match=r"0\.\.36500"):
            cal.add_working_days(date(2025, 1, 2), -1)
        with pytest.raises(ValidationError, match=r"0\.\.36500"):
            cal.add_working_days(date(2025, 1, 2), 10**9)


@pytest.mark.parametrize("cal", [WEEKENDS, HolidayCalendar("plain", frozenset(), frozenset())])
def test_running_past_the_last_date_is_a_validation_error(cal: calendars.BusinessCalendar
                                                          ) -> None:
    with pytest.raises(ValidationError, match="last date"):
        cal.add_working_days(date(9999, 12, 20), 30)


# --- the table agrees with an independent transcription of the notices ------------------

def test_china_table_matches_the_holidays_package() -> None:
    holidays = pytest.importorskip("holidays", reason="the test extra installs holidays")
    for year in CN_YEARS:
        ref = holidays.country_holidays("CN", years=year)
        ref_work = {d for d in ref.weekend_workdays if d.year == year}
        day = date(year, 1, 1)
        while day.year == year:
            expected = (day in ref_work) or (day.weekday() < 5 and day not in ref)
            assert CN.is_working_day(day) == expected, day
            day += timedelta(days=1)


def test_every_working_weekend_is_a_weekend_and_every_period_holds_a_weekday() -> None:
    for year, notice in CN_YEARS.items():
        for text in notice.working:
            assert date.fromisoformat(f"{year}-{text}").weekday() >= 5, (year, text)
        for first, last in notice.periods:
            assert first <= last


# --- properties --------------------------------------------------------------------------

cn_days = st.dates(min_value=date(FIRST, 1, 1), max_value=date(LAST, 9, 30))


@given(day=cn_days, n=st.integers(0, 40))
def test_adding_n_working_days_spans_exactly_n_working_days(day: date, n: int) -> None:
    for cal in (CN, WEEKENDS):
        end = cal.add_working_days(day, n)
        assert cal.is_working_day(end)
        start = day if cal.is_working_day(day) else cal.add_working_days(day, 0)
        assert cal.working_days_between(start, end) == n
        assert start >= day


@given(start=cn_days, length=st.integers(-5, 90))
def test_working_days_between_counts_day_by_day(start: date, length: int) -> None:
    # cn_days end on LAST-09-30: 90 days more stay inside the years the CN table covers.
    end = start + timedelta(days=length)
    for cal in (CN, WEEKENDS):
        slow = sum(cal.is_working_day(start + timedelta(days=i)) for i in range(1, length + 1))
        assert cal.working_days_between(start, end) == slow


@given(day=st.dates(max_value=date(9990, 1, 1)), n=st.integers(0, 400))
def test_weekend_fast_path_equals_the_plain_table_path(day: date, n: int) -> None:
    # WeekendCalendar jumps whole weeks; HolidayCalendar with no holidays walks day by day.
    plain = HolidayCalendar("plain", frozenset(), frozenset())
    assert WeekendCalendar().add_working_days(day, n) == plain.add_working_days(day, n)
    end = day + timedelta(days=n)
    assert WEEKENDS.working_days_between(day, end) == plain.working_days_between(day, end)


# --- company calendars -------------------------------------------------------------------

def test_a_company_calendar_adds_days_on_top_of_china() -> None:
    acme = calendars.get(str(FIXTURES / "acme.toml"))
    assert acme.name == "acme"
    assert not acme.is_working_day(date(2025, 12, 31))  # the company's holiday
    assert acme.is_working_day(date(2025, 10, 8))       # on call in Golden Week
    assert not acme.is_working_day(date(2025, 10, 7))   # still the public holiday
    assert acme.add_working_days(date(2025, 9, 26), 5) == date(2025, 10, 9)
    with pytest.raises(ValidationError, match="no data"):
        acme.is_working_day(date(LAST + 1, 3, 1))


@pytest.mark.parametrize(("text", "problem"), [
    ('base = "XX"', "unknown calendar"),
    ("days_off = [1]", "not a date"),
    ('days_off = "2025-01-01"', "list of dates"),
    ("holidays = []", "unknown key"),
    ("base = ", "cannot read"),
])
def test_a_bad_calendar_file_is_a_config_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        calendars.load(path)


def test_unknown_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown calendar"):
        calendars.get("Mars")
    with pytest.raises(ConfigError, match="cannot read"):
        calendars.get("/nonexistent/cal.toml")


def test_a_pipeline_file_names_a_calendar_file_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "acme.toml").write_text((FIXTURES / "acme.toml").read_text("utf-8"), "utf-8")
    data = Pipeline.template("simple").to_dict()
    lines = [f'id = "{data["id"]}"', f'label = "{data["label"]}"', 'calendar = "acme.toml"']
    for stage in data["stages"]:
        lines += ["[[stages]]", *(f"{k} = {v!r}" for k, v in stage.items()
                                  if isinstance(v, (str, float)))]
    (folder / "pipeline.toml").write_text("\n".join(lines).replace("'", '"'), "utf-8")
    monkeypatch.chdir(tmp_path)  # not the pipeline's folder
    pipeline = Pipeline.from_toml(folder / "pipeline.toml")
    assert pipeline.business_calendar.name == "acme"
    assert not pipeline.business_calendar.is_working_day(date(2025, 12, 31))
