"""Number and text formatting the charts draw with (and the report renderers share)."""

from decimal import Decimal

__all__ = ["amount", "compact", "percent", "printable", "shorten"]


def percent(value: float | None, *, digits: int = 1) -> str:
    """Return ``0.4037`` as ``"40.4%"``; ``None`` (no data) as ``"-"``."""
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value * 100:.{digits}f}%"


def amount(value: Decimal) -> str:
    """Return a money amount with thousands separators and two decimals."""
    return f"{value.quantize(Decimal('0.01')):,}"


def compact(value: Decimal | float) -> str:
    """Return a short axis label: ``1234567`` -> ``"1.2M"``, ``4500`` -> ``"4.5k"``."""
    number = float(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= size:
            text = f"{number / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{number:.0f}"


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
