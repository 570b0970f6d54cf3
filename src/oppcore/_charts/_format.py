"""Number and text formatting the charts draw with (and the report renderers share)."""

from decimal import Decimal

from oppcore.locale._catalog import active
from oppcore.locale._numbers import format_amount

__all__ = ["amount", "compact", "percent", "printable", "shorten"]


def percent(value: float | None, *, digits: int = 1) -> str:
    """Return ``0.4037`` as ``"40.4%"``; ``None`` (no data) as ``"-"``."""
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value * 100:.{digits}f}%"


def amount(value: Decimal, currency: str | None = None) -> str:
    """Return a money amount with thousands separators and ``currency``'s minor-unit
    digits (two when not given: JPY has none, KWD three)."""
    return format_amount(value, currency)


def compact(value: Decimal | float) -> str:
    """Return a short axis label: ``1234567`` -> ``"1.2M"``, ``4500`` -> ``"4.5k"``.

    In zh-CN, counted in 万 and 亿 as Chinese business writing does: ``"123.5万"``.
    """
    number = float(value)
    units = _ZH_UNITS if active() == "zh-CN" else _UNITS
    for size, suffix in units:
        if abs(number) >= size:
            text = f"{number / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{number:.0f}"


_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))
_ZH_UNITS = ((1e8, "亿"), (1e4, "万"))


def printable(text: str) -> str:
    """Replace control characters (escape sequences, newlines) so text stays on its line.

    User data (names, owners) goes to terminals: an ESC or a newline in a name must not
    move the cursor or forge report lines.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "?" for c in text)


def shorten(text: str, width: int, *, ellipsis: str = "...") -> str:
    """Return ``text`` cut to ``width`` characters, marked with ``ellipsis`` when cut."""
    if len(text) <= width:
        return text
    if width <= len(ellipsis):
        return text[:width]
    return text[: width - len(ellipsis)] + ellipsis
