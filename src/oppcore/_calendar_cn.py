"""Mainland China's public holidays and adjusted working weekends (调休), as published.

Each year the General Office of the State Council publishes the year's holiday
arrangements in a notice titled 《国务院办公厅关于 YYYY 年部分节假日安排的通知》 (usually in
November or December of the year before); 2020's Spring Festival was extended by
《国务院办公厅关于延长2020年春节假期的通知》. The table below copies those notices: for each
year, the holiday periods (放假调休, from the first to the last day off, weekends inside
included) and the weekend days that are working days (上班).

The years covered are exactly the keys of :data:`CN_YEARS`; :mod:`oppcore.calendars`
refuses a date outside them rather than guess (the dates of a coming year are only known
once the notice is out). A test compares the table with the ``holidays`` package, an
independent transcription of the same notices.

To add a year: copy the new notice's periods and working weekends into :data:`CN_YEARS`
and run ``pytest tests/test_calendars.py``.
"""

from datetime import date, timedelta
from typing import Final, NamedTuple

__all__ = ["CN_YEARS", "CnYear", "days_off", "working_weekends"]


class CnYear(NamedTuple):
    """One year's notice: holiday periods ``("MM-DD", "MM-DD")`` and working weekends."""

    periods: tuple[tuple[str, str], ...]
    working: tuple[str, ...]


CN_YEARS: Final[dict[int, CnYear]] = {
    2020: CnYear(
        periods=(("01-01", "01-01"), ("01-24", "02-02"), ("04-04", "04-06"),
                 ("05-01", "05-05"), ("06-25", "06-27"), ("10-01", "10-08")),
        working=("01-19", "04-26", "05-09", "06-28", "09-27", "10-10")),
    2021: CnYear(
        periods=(("01-01", "01-03"), ("02-11", "02-17"), ("04-03", "04-05"),
                 ("05-01", "05-05"), ("06-12", "06-14"), ("09-19", "09-21"),
                 ("10-01", "10-07")),
        working=("02-07", "02-20", "04-25", "05-08", "09-18", "09-26", "10-09")),
    2022: CnYear(
        periods=(("01-01", "01-03"), ("01-31", "02-06"), ("04-03", "04-05"),
                 ("04-30", "05-04"), ("06-03", "06-05"), ("09-10", "09-12"),
                 ("10-01", "10-07")),
        working=("01-29", "01-30", "04-02", "04-24", "05-07", "10-08", "10-09")),
    2023: CnYear(
        periods=(("01-01", "01-02"), ("01-21", "01-27"), ("04-05", "04-05"),
                 ("04-29", "05-03"), ("06-22", "06-24"), ("09-29", "10-06")),
        working=("01-28", "01-29", "04-23", "05-06", "06-25", "10-07", "10-08")),
    2024: CnYear(
        periods=(("01-01", "01-01"), ("02-10", "02-17"), ("04-04", "04-06"),
                 ("05-01", "05-05"), ("06-08", "06-10"), ("09-15", "09-17"),
                 ("10-01", "10-07")),
        working=("02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12")),
    2025: CnYear(
        periods=(("01-01", "01-01"), ("01-28", "02-04"), ("04-04", "04-06"),
                 ("05-01", "05-05"), ("05-31", "06-02"), ("10-01", "10-08")),
        working=("01-26", "02-08", "04-27", "09-28", "10-11")),
    2026: CnYear(
        periods=(("01-01", "01-03"), ("02-15", "02-23"), ("04-04", "04-06"),
                 ("05-01", "05-05"), ("06-19", "06-21"), ("09-25", "09-27"),
                 ("10-01", "10-07")),
        working=("01-04", "02-14", "02-28", "05-09", "09-20", "10-10")),
}
"""The State Council's arrangements, one entry per year covered."""


def _day(year: int, text: str) -> date:
    month, day = text.split("-")
    return date(year, int(month), int(day))


def days_off() -> frozenset[date]:
    """Return every day of every holiday period in :data:`CN_YEARS`."""
    out: set[date] = set()
    for year, notice in CN_YEARS.items():
        for first, last in notice.periods:
            day, end = _day(year, first), _day(year, last)
            while day <= end:
                out.add(day)
                day += timedelta(days=1)
    return frozenset(out)


def working_weekends() -> frozenset[date]:
    """Return the Saturdays and Sundays that are working days in :data:`CN_YEARS`."""
    return frozenset(_day(year, d) for year, notice in CN_YEARS.items() for d in notice.working)
