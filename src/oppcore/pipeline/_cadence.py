"""Follow-up cadences: a tiny, closed grammar parsed into ``relativedelta`` values.

Cadences come from configuration files, so they are parsed, never evaluated. Accepted forms
(case and surrounding spaces ignored)::

    daily | weekly | biweekly | fortnightly | monthly | quarterly | yearly | annually
    every day | every week | every month | every quarter | every year
    every N day(s) | week(s) | month(s) | quarter(s) | year(s)      (1 <= N <= 999)
    every other day | week | month                                 (N = 2)
"""

import re
from datetime import date, datetime, timedelta
from typing import Final, TypeVar

from dateutil.relativedelta import relativedelta

from oppcore._calendars import WEEKENDS, BusinessCalendar

__all__ = [
    "add_business_days",
    "business_days_between",
    "cadence_parts",
    "parse_cadence",
    "roll_to_weekday",
    "step",
]

_NAMED: Final = {
    "daily": (1, "day"),
    "weekly": (1, "week"),
    "biweekly": (2, "week"),
    "fortnightly": (2, "week"),
    "monthly": (1, "month"),
    "quarterly": (1, "quarter"),
    "yearly": (1, "year"),
    "annually": (1, "year"),
}
_EVERY: Final = re.compile(
    r"every\s+(?:(?P<n>\d{1,3})\s+|(?P<other>other)\s+)?"
    r"(?P<unit>day|week|month|quarter|year)(?P<plural>s?)"
)
MAX_COUNT: Final = 999
_Day = TypeVar("_Day", date, datetime)


def _delta(n: int, unit: str) -> relativedelta:
    if unit == "day":
        return relativedelta(days=n)
    if unit == "week":
        return relativedelta(weeks=n)
    if unit == "month":
        return relativedelta(months=n)
    if unit == "quarter":
        return relativedelta(months=3 * n)
    return relativedelta(years=n)


def parse_cadence(text: object) -> relativedelta:
    """Parse a cadence string such as ``"every 2 weeks"`` into a ``relativedelta``.

    Args:
        text: The cadence as written in the configuration.

    Returns:
        The interval between two follow-ups.

    Raises:
        ValueError: If ``text`` is not a string of the grammar in the module docstring; the
            message says what is accepted.
    """
    return _delta(*cadence_parts(text))


def cadence_parts(text: object) -> tuple[int, str]:
    """Parse a cadence into ``(count, unit)``, unit one of day/week/month/quarter/year.

    Raises:
        ValueError: As :func:`parse_cadence`.
    """
    if not isinstance(text, str):
        raise ValueError(f"cadence must be a string such as 'every 7 days', got "
                         f"{type(text).__name__}")
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in _NAMED:
        return _NAMED[cleaned]
    match = _EVERY.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"cannot read cadence {text!r}: use e.g. 'every 7 days', "
                         "'every 2 weeks', 'every month' or 'weekly'")
    if match["other"]:
        n = 2
    elif match["n"]:
        n = int(match["n"])
        if not 1 <= n <= MAX_COUNT:
            raise ValueError(f"cadence {text!r}: the count must be within 1..{MAX_COUNT}")
    else:
        n = 1
        if match["plural"]:
            raise ValueError(f"cannot read cadence {text!r}: say 'every N {match['unit']}s' "
                             f"or 'every {match['unit']}'")
    return n, match["unit"]


def add_business_days(start: _Day, days: int, calendar: BusinessCalendar = WEEKENDS) -> _Day:
    """Return ``start`` (a date or datetime) moved by ``days`` working days of ``calendar``
    (weekdays by default), same time of day; a negative ``days`` moves back.

    A start on a day off counts from the next working day going forward, from the previous
    working day going back.
    """
    day = start.date() if isinstance(start, datetime) else start
    target = (calendar.add_working_days(day, days) if days >= 0
              else _back_working_days(day, -days, calendar))
    return start + timedelta(days=(target - day).days)


def _back_working_days(day: date, n: int, calendar: BusinessCalendar) -> date:
    """The ``n``-th working day before ``day`` (a day off first rolls back to a working
    day); the calendar protocol counts forward only, so this walks day by day."""
    one = timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= one
    while n:
        day -= one
        if calendar.is_working_day(day):
            n -= 1
    return day


def roll_to_weekday(moment: _Day, calendar: BusinessCalendar = WEEKENDS) -> _Day:
    """Return ``moment``, or the next working day at the same time if it falls on a day
    off (the next Monday for the default calendar)."""
    return add_business_days(moment, 0, calendar)


def step(start: datetime, parts: tuple[int, str], *, business_days: bool,
         calendar: BusinessCalendar = WEEKENDS) -> datetime:
    """Return the follow-up due one cadence (``(count, unit)``) after ``start``.

    With ``business_days``, a cadence in days counts working days of ``calendar`` only
    ("every 5 days" is five working days), and a cadence in weeks, months... that lands on
    a day off moves to the next working day.
    """
    n, unit = parts
    if business_days and unit == "day":
        return add_business_days(start, n, calendar)
    due = start + _delta(n, unit)
    return roll_to_weekday(due, calendar) if business_days else due


def business_days_between(start: date, end: date,
                          calendar: BusinessCalendar = WEEKENDS) -> int:
    """Count the working days of ``calendar`` in the half-open day range ``(start, end]``
    (0 if end <= start)."""
    return calendar.working_days_between(start, end)
