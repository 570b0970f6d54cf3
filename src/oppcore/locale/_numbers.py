"""Money, numbers and dates the way a locale writes them.

English (the default) keeps oppcore's neutral forms: ``"CNY 12,345.00"`` and ISO dates.
zh-CN writes ``"¥12,345.00"``, ``"2025年10月10日"`` and, when asked for short amounts,
counts in 万 (10⁴) and 亿 (10⁸) as Chinese business writing does: ``"¥123.46万"``.
Every amount shows its currency's minor unit (JPY none, KWD three).
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from oppcore._checks import aware
from oppcore._errors import ValidationError
from oppcore._money import CURRENCY_MINOR_UNITS, Money

from ._catalog import DEFAULT, active, normalize

__all__ = ["format_amount", "format_date", "format_money"]

_ZH_SYMBOLS: Final = {
    "CNY": "¥", "USD": "US$", "EUR": "€", "HKD": "HK$", "JPY": "JP¥", "GBP": "£",
    "TWD": "NT$", "MOP": "MOP$", "KRW": "₩", "SGD": "S$", "AUD": "A$", "CAD": "CA$",
}
"""How zh-CN text (CLDR's zh locale) writes the commonest currencies."""

_ZH_UNITS: Final = ((Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万"))


def _grouped(value: Decimal, digits: int) -> str:
    quantum = Decimal(1).scaleb(-digits)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,}"


def format_amount(value: Decimal, currency: str | None = None, *,
                  locale: str | None = None, units: bool = False) -> str:
    """Return an amount with thousands separators and ``currency``'s minor-unit digits.

    Args:
        value: The amount.
        currency: Its ISO 4217 code (two decimals when ``None`` or unknown).
        locale: ``"en"`` or ``"zh-CN"`` (default: the active locale).
        units: In zh-CN, write amounts of 10,000 and more in 万 or 亿 with two decimals
            (``1234567`` -> ``"123.46万"``). Ignored in English.

    Raises:
        ConfigError: For an unsupported locale.
    """
    name = active() if locale is None else normalize(locale)
    digits = CURRENCY_MINOR_UNITS.get(currency or "", 2)
    if units and name == "zh-CN":
        for size, unit in _ZH_UNITS:
            if abs(value) >= size:
                return f"{_grouped(value / size, 2)}{unit}"
    return _grouped(value, digits)


def format_money(value: Money | None, *, locale: str | None = None,
                 units: bool = False) -> str:
    """Return ``"CNY 12,345.00"`` (English) or ``"¥12,345.00"`` (zh-CN); ``"-"`` for None.

    Args:
        value: The money, or ``None`` for no amount.
        locale: ``"en"`` or ``"zh-CN"`` (default: the active locale).
        units: Use 万 and 亿 in zh-CN (see :func:`format_amount`).

    Raises:
        ConfigError: For an unsupported locale.
    """
    if value is None:
        return "-"
    name = active() if locale is None else normalize(locale)
    text = format_amount(value.amount, value.currency, locale=name, units=units)
    if name == DEFAULT:
        return f"{value.currency} {text}"
    symbol = _ZH_SYMBOLS.get(value.currency)
    if symbol is None:
        return f"{value.currency} {text}"
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{symbol}{digits}"


def format_date(value: date | datetime, *, locale: str | None = None,
                time: bool = False) -> str:
    """Return a date as ISO ``"2025-10-10"`` (English) or ``"2025年10月10日"`` (zh-CN).

    A datetime gives its own (local) date; with ``time=True`` it also gives its time to
    the minute and its UTC offset: ``"2025-10-10T09:30+08:00"`` (English, ISO 8601) or
    ``"2025年10月10日 09:30（UTC+08:00）"`` (zh-CN).

    Raises:
        ConfigError: For an unsupported locale.
        ValidationError: For ``time=True`` with a date, or a datetime without an offset.
    """
    name = active() if locale is None else normalize(locale)
    if time:
        if not isinstance(value, datetime):
            raise ValidationError("time=True needs a datetime", field="value", value=value)
        value = aware(value, "value")
        if name == DEFAULT:
            return value.isoformat(timespec="minutes")
        offset = value.isoformat(timespec="minutes")[16:]  # "+08:00", "-03:30"...
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}（UTC{offset}）"
    day = value.date() if isinstance(value, datetime) else value
    if name == DEFAULT:
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"
