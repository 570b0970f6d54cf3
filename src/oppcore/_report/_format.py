"""Number and text formatting shared by the report renderers."""

import textwrap
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from oppcore._money import Money
from oppcore.locale._catalog import active
from oppcore.locale._messages import channel_label
from oppcore.locale._numbers import format_amount, format_money

if TYPE_CHECKING:  # _values imports the sections, which format with this module
    from ._values import RateRow

__all__ = ["amount", "compact", "fit", "money", "percent", "points", "printable",
           "shorten", "source_rows", "width", "wrap"]


def percent(value: float | None, *, digits: int = 1) -> str:
    """Return ``0.4037`` as ``"40.4%"``; ``None`` (no data) as ``"-"``."""
    if value is None or value != value:  # None or NaN
        return "-"
    return f"{value * 100:.{digits}f}%"


def points(value: float) -> str:
    """Return a reason's signed effect in points as every output shows it: ``+11.43``,
    ``-3``, ``+0`` (the score already rounds it to two decimals)."""
    return f"{value:+g}"


def amount(value: Decimal, currency: str | None = None) -> str:
    """Return a money amount with thousands separators and ``currency``'s minor-unit
    digits (two when not given: JPY has none, KWD three)."""
    return format_amount(value, currency)


def money(value: Money | None) -> str:
    """Return ``"EUR 12,000.00"`` (``"€12,000.00"`` in zh-CN; the currency's minor unit),
    or ``"-"`` when there is no amount."""
    return format_money(value)


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


def source_rows(rows: "Sequence[RateRow]") -> "list[RateRow]":
    """The win-rate rows of source channels, each named in the active locale."""
    if active() == "en":
        return list(rows)
    return [attrs.evolve(r, key=channel_label(r.key)) for r in rows]


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


def width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (CJK and other wide characters: 2)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def fit(text: str, columns: int, *, ellipsis: str = "...") -> str:
    """Cut or pad ``text`` to exactly ``columns`` terminal columns, marking a cut.

    Unlike ``str.ljust``, this counts a wide (CJK) character as two columns, so tables with
    Chinese or Japanese names stay aligned.
    """
    if width(text) <= columns:
        return text + " " * (columns - width(text))
    room = columns - width(ellipsis)
    out, used = [], 0
    for char in text:
        w = width(char)
        if used + w > room:
            break
        out.append(char)
        used += w
    cut = "".join(out) + (ellipsis if room >= 0 else "")
    return cut + " " * (columns - width(cut))


# Chinese punctuation that must not start a line (it stays with the character before it).
_NO_LINE_START = frozenset("，。、；：！？）】》」』”’")


def wrap(text: str, columns: int) -> list[str]:
    """Wrap ``text`` to lines of at most ``columns`` terminal columns.

    ASCII text wraps at spaces (:func:`textwrap.wrap`); text with CJK characters, which has
    no spaces between words, may also break between two characters, counting a wide
    character as two columns. Closing punctuation does not start a line: one such mark may
    overhang the width instead.
    """
    if text.isascii():
        return textwrap.wrap(text, columns, break_on_hyphens=False)
    lines: list[str] = []
    line = ""
    for char in " ".join(text.split()):
        overhang = char in _NO_LINE_START and width(line) <= columns
        if width(line) + width(char) <= columns or overhang or not line:
            line += char
            continue
        space = line.rfind(" ")
        inside_word = char.isascii() and char != " " and line[-1].isascii()
        if inside_word and space > 0 and line[-1] != " ":
            lines.append(line[:space].rstrip())
            line = line[space + 1:] + char
        else:
            lines.append(line.rstrip())
            line = char.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines
