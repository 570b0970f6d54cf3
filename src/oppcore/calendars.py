"""Business calendars: which days are working days, and counting in working days.

A :class:`BusinessCalendar` answers three questions about calendar days
(:meth:`~BusinessCalendar.is_working_day`, :meth:`~BusinessCalendar.add_working_days`,
:meth:`~BusinessCalendar.working_days_between`). A pipeline names one
(``Pipeline(calendar="CN")``, ``calendar = "CN"`` in its TOML file) and every count of
business days uses it: follow-up due dates and the next follow-up, stale checks with
``business_days = true``. An instant becomes a day in the instant's own time zone.

Built in (:func:`get`):

* ``"weekends"`` (the default): Monday to Friday are working days;
* ``"CN"``: mainland China's public holidays and adjusted working weekends (调休) as
  published by the State Council, for the years in :data:`CN_YEARS`. A day outside those
  years is refused with :class:`~oppcore.ValidationError`, never guessed.

A company calendar is data: a TOML file naming a base calendar and adding days off and
working days on top of it (:func:`load`, or :func:`get` with the file's path)::

    base = "CN"
    days_off = ["2025-12-31"]          # the company's own holidays
    working_days = ["2025-10-08"]      # an on-call day inside a public holiday
"""

from oppcore._calendars import (
    BUILT_IN,
    CN_YEARS,
    BusinessCalendar,
    HolidayCalendar,
    WeekendCalendar,
    get,
    load,
)
from oppcore._public import publish as _publish

__all__ = [
    "BUILT_IN",
    "CN_YEARS",
    "BusinessCalendar",
    "HolidayCalendar",
    "WeekendCalendar",
    "get",
    "load",
]

_publish(__name__, globals(), __all__)
