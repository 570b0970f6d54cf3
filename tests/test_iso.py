"""ISO 8601: one parser for the wire format, CSV, foreign exports and the command line."""

import sys
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore._iso import parse_date, parse_datetime
from oppcore.testing.strategies import aware_datetimes

UTC = timezone.utc


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-27T09:30:00Z", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
    ("2026-11-27T09:30:00z", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
    ("2026-11-27T09:30:00.5+08:00",
     datetime(2026, 11, 27, 9, 30, 0, 500000, tzinfo=timezone(timedelta(hours=8)))),
    ("2026-11-27T09:30+0800", datetime(2026, 11, 27, 9, 30,
                                        tzinfo=timezone(timedelta(hours=8)))),
    ("20261127T093000Z", datetime(2026, 11, 27, 9, 30, tzinfo=UTC)),
    ("2026-11-27", datetime(2026, 11, 27)),
])
def test_the_forms_people_write_read_the_same_on_every_python(text: str,
                                                               expected: datetime) -> None:
    got = parse_datetime(text)
    assert got == expected
    assert (got.utcoffset() is None) == (expected.utcoffset() is None)


@pytest.mark.parametrize("text", ["", "27/11/2026", "2026-13-01T00:00", "yesterday",
                                  "2026-11-27T25:00"])
def test_garbage_is_refused_with_the_text_quoted(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_datetime(text)


@given(aware_datetimes())
def test_isoformat_round_trips(value: datetime) -> None:
    assert parse_datetime(value.isoformat()) == value


@pytest.mark.parametrize(("text", "expected"), [("2026-11-27", date(2026, 11, 27)),
                                                ("20261127", date(2026, 11, 27))])
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026-11-27T09:00", "2026-02-30", "26-11-27", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 date"):
        parse_date(text)


def test_cli_now_accepts_z_on_every_python() -> None:
    from oppcore._cli._common import parse_now

    assert parse_now("2026-11-27T09:00:00Z") == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert sys.version_info >= (3, 10)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-10-29+08:00", datetime(2026, 10, 29, tzinfo=timezone(timedelta(hours=8)))),
    ("2026-10-29-05:00", datetime(2026, 10, 29, tzinfo=timezone(timedelta(hours=-5)))),
    ("2026-10-29Z", datetime(2026, 10, 29, tzinfo=UTC)),
    ("20261029+0800", datetime(2026, 10, 29, tzinfo=timezone(timedelta(hours=8)))),
])
def test_a_date_followed_by_an_offset_is_midnight_at_that_offset(
        text: str, expected: datetime) -> None:
    """Not 08:00 naive: Python's fromisoformat and isoparse read the sign as a separator."""
    value = parse_datetime(text)
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()


@given(st.dates(), st.integers(-14 * 60, 14 * 60))
def test_any_date_with_an_offset_is_that_dates_midnight(day: date, minutes: int) -> None:
    offset = timezone(timedelta(minutes=minutes))
    written = datetime(day.year, day.month, day.day, tzinfo=offset).isoformat()[:10]
    sign = "-" if minutes < 0 else "+"
    text = f"{written}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    assert parse_datetime(text) == datetime(day.year, day.month, day.day, tzinfo=offset)
