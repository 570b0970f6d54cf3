"""What the after-win analytics share: one currency for money figures, periods of a date."""

from collections.abc import Iterable
from datetime import date, datetime

from oppcore._checks import aware
from oppcore._errors import CurrencyMismatchError, ValidationError

from ._forecast import period_label

__all__ = ["PERIODS", "check_now", "check_period", "choose_currency", "period_of"]

PERIODS = ("month", "quarter", "year")


def check_now(now: object) -> datetime:
    """Return ``now`` if it is timezone-aware (the one check, named ``now``)."""
    return aware(now, "now")


def check_period(period: object) -> str:
    """Return ``period`` if it is ``"month"``, ``"quarter"`` or ``"year"``."""
    if period not in PERIODS:
        raise ValidationError(f"period must be one of {', '.join(PERIODS)}, got {period!r}",
                              field="period", value=period)
    return str(period)


def period_of(day: date, period: str) -> str:
    """Return the calendar period label of ``day`` (``2026-Q1``), as the forecast does."""
    return period_label(day, period)


def choose_currency(found: Iterable[str], currency: str | None, what: str) -> str | None:
    """Return the one currency money figures are given in.

    ``currency`` when given; else the only currency ``found``; ``None`` when none.

    Raises:
        CurrencyMismatchError: Several currencies found and ``currency`` not given.
    """
    if currency is not None:
        if type(currency) is not str:
            raise ValidationError(f"currency must be an ISO 4217 code, got {currency!r}",
                                  field="currency", value=currency)
        return currency
    codes = sorted(set(found))
    if len(codes) > 1:
        raise CurrencyMismatchError(codes[0], codes[1], what)
    return codes[0] if codes else None
