"""Business calendars (implementation; the public namespace is :mod:`oppcore.calendars`)."""

import functools
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

import attrs

from oppcore._calendar_cn import CN_YEARS, days_off, working_weekends
from oppcore._errors import ConfigError, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "BUILT_IN",
    "CN_YEARS",
    "WEEKENDS",
    "BusinessCalendar",
    "HolidayCalendar",
    "WeekendCalendar",
    "get",
    "load",
]


@runtime_checkable
class BusinessCalendar(Protocol):
    """What oppcore asks a business calendar (implement it for a calendar of your own)."""

    @property
    def name(self) -> str:
        """A short name shown in errors and reports."""

    def is_working_day(self, day: date) -> bool:
        """Return whether ``day`` is a working day."""

    def add_working_days(self, day: date, n: int) -> date:
        """Return the ``n``-th working day after ``day`` (``n >= 0``; ``n == 0`` gives
        ``day`` itself if it is a working day, else the next working day)."""

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days in the half-open range ``(start, end]`` (0 if
        ``end <= start``)."""


def _check_day(day: object, what: str) -> date:
    # datetime is a date subclass: a datetime here is a caller's bug (which zone?).
    if type(day) is not date:
        raise ValidationError(f"must be a datetime.date, got {type(day).__name__}",
                              model="BusinessCalendar", field=what, value=day)
    return day


MAX_COUNT: Final = 36500
"""The most working days one call adds (a hundred years of days, as ``FollowUp.max_days``)."""


def _check_count(n: object) -> int:
    if type(n) is not int or not 0 <= n <= MAX_COUNT:
        raise ValidationError(f"must be a whole number in 0..{MAX_COUNT}, got {n!r}",
                              model="BusinessCalendar", field="n", value=n)
    return n


def _past_the_end(day: date) -> ValidationError:
    return ValidationError("counting working days from this day runs past the last "
                           "date Python can represent", model="BusinessCalendar",
                           field="day", value=day)


@attrs.frozen
class WeekendCalendar:
    """Monday to Friday are working days, every year (oppcore's default)."""

    name: str = "weekends"

    def is_working_day(self, day: date) -> bool:
        """Return whether ``day`` is Monday to Friday."""
        return _check_day(day, "day").weekday() < 5

    def add_working_days(self, day: date, n: int) -> date:
        """Return the ``n``-th weekday after ``day`` (O(1) in ``n``)."""
        current = _check_day(day, "day")
        remaining = _check_count(n)
        try:
            if current.weekday() >= 5:
                current += timedelta(days=7 - current.weekday())
            weeks, remaining = divmod(remaining, 5)
            current += timedelta(weeks=weeks)
            while remaining:
                current += timedelta(days=1)
                if current.weekday() < 5:
                    remaining -= 1
        except OverflowError:
            raise _past_the_end(day) from None
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count the weekdays in ``(start, end]`` (O(1) in the range's length)."""
        start, end = _check_day(start, "start"), _check_day(end, "end")
        if end <= start:
            return 0
        weeks, extra = divmod((end - start).days, 7)
        count = weeks * 5
        day = start + timedelta(days=weeks * 7)
        for _ in range(extra):
            day += timedelta(days=1)
            if day.weekday() < 5:
                count += 1
        return count


WEEKENDS: Final = WeekendCalendar()


def _days(value: Iterable[date]) -> frozenset[date]:
    return frozenset(value)


@attrs.frozen
class HolidayCalendar:
    """Weekdays are working days except ``days_off``; weekend days in ``working_days`` work.

    Args:
        name: A short name (``"CN"``, ``"acme"``).
        days_off: Days off (holidays, company closures).
        working_days: Days that are working days although they fall on a weekend or in
            ``days_off`` of the base calendar (adjusted working weekends, on-call days).
        years: The years the calendar knows (``None``: all). A day in another year is
            refused: a holiday table cannot tell what it does not list.

    Raises:
        ValidationError: From the day methods, for a day outside ``years``.
    """

    name: str
    days_off: frozenset[date] = attrs.field(converter=_days)
    working_days: frozenset[date] = attrs.field(converter=_days)
    years: frozenset[int] | None = None

    def _known(self, day: date, what: str) -> date:
        day = _check_day(day, what)
        if self.years is not None and day.year not in self.years:
            raise ValidationError(
                f"the {self.name!r} calendar has no data for {day.year} (it covers "
                f"{min(self.years)}-{max(self.years)}); add the year's days off and "
                f"working days, or use another calendar",
                model="BusinessCalendar", field=what, value=day)
        return day

    def is_working_day(self, day: date) -> bool:
        """Return whether ``day`` is a working day in this calendar."""
        day = self._known(day, "day")
        if day in self.working_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def add_working_days(self, day: date, n: int) -> date:
        """Return the ``n``-th working day after ``day``."""
        current = self._known(day, "day")
        remaining = _check_count(n)
        try:
            while not self.is_working_day(current):
                current += timedelta(days=1)
            while remaining:
                current += timedelta(days=1)
                if self.is_working_day(current):
                    remaining -= 1
        except OverflowError:
            raise _past_the_end(day) from None
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days in ``(start, end]``."""
        start, end = self._known(start, "start"), self._known(end, "end")
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


@functools.cache
def _china() -> HolidayCalendar:
    return HolidayCalendar("CN", days_off(), working_weekends(), frozenset(CN_YEARS))


BUILT_IN: Final = ("weekends", "CN")
"""The names :func:`get` knows."""


def get(name: str) -> BusinessCalendar:
    """Return the built-in calendar ``name`` (``"weekends"`` or ``"CN"``), or the company
    calendar in the TOML file ``name`` (a name ending in ``.toml``, see :func:`load`).

    Raises:
        ConfigError: For an unknown name or an unreadable calendar file.
    """
    if not isinstance(name, str):
        raise ConfigError([("calendar", (f"must be a calendar name or a file path, got "
                                         f"{type(name).__name__}"))],
                          source="oppcore.calendars.get")
    if name.endswith(".toml"):
        return load(name)
    if name == "weekends":
        return WEEKENDS
    if name == "CN":
        return _china()
    raise ConfigError([("calendar", (f"unknown calendar {name!r} (built in: "
                                     f"{', '.join(BUILT_IN)}; or the path of a TOML "
                                     "calendar file)"))],
                      source="oppcore.calendars.get")


def _dates(values: object, key: str, source: str) -> Iterable[date]:
    if not isinstance(values, list):
        raise ConfigError([(key, "must be a list of dates (\"2025-10-08\")")], source=source)
    out = []
    for i, value in enumerate(values):
        if type(value) is date:
            out.append(value)
            continue
        try:
            out.append(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise ConfigError([(f"{key}[{i}]", f"not a date: {value!r}")],
                              source=source) from None
    return out


def load(path: str | Path) -> HolidayCalendar:
    """Load a company calendar from a TOML file (see the module docstring).

    The file names a ``base`` calendar (``"weekends"`` by default, or ``"CN"``) and lists
    ``days_off`` and ``working_days`` (ISO dates, or TOML dates) on top of it. The
    calendar covers the base's years.

    Raises:
        ConfigError: The file cannot be read or parsed, has unknown keys, an unknown base
            or a value that is not a date.
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([("file", f"cannot read a TOML calendar: {exc}")],
                          source=source) from exc
    unknown = set(data) - {"name", "base", "days_off", "working_days"}
    if unknown:
        raise ConfigError([(k, "unknown key") for k in sorted(unknown)], source=source)
    base_name = data.get("base", "weekends")
    if base_name not in BUILT_IN:
        raise ConfigError([("base", (f"unknown calendar {base_name!r} (known: "
                                     f"{', '.join(BUILT_IN)})"))], source=source)
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError([("name", "must be a non-empty string")], source=source)
    off = frozenset(_dates(data.get("days_off", []), "days_off", source))
    work = frozenset(_dates(data.get("working_days", []), "working_days", source))
    if base_name == "CN":
        china = _china()
        return HolidayCalendar(name, (china.days_off | off) - work,
                               china.working_days | work, china.years)
    return HolidayCalendar(name, off - work, work)

