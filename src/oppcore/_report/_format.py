"""Number and text formatting shared by the report renderers.

What the charts draw with (percent, amounts, axis labels, printable and shortened text)
lives in :mod:`oppcore._charts._format`, one definition for the report and the analytics
charts; this module adds what only the report needs.
"""

import textwrap
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from oppcore._charts._format import amount, compact, percent, printable, shorten
from oppcore._money import Money
from oppcore.locale._catalog import active
from oppcore.locale._messages import channel_label
from oppcore.locale._numbers import format_money

if TYPE_CHECKING:  # _values imports the sections, which format with this module
    from ._values import RateRow

__all__ = ["amount", "compact", "fit", "money", "percent", "points", "printable",
           "shorten", "source_rows", "width", "wrap"]


def points(value: float) -> str:
    """Return a reason's signed effect in points as every output shows it: ``+11.43``,
    ``-3``, ``+0`` (the score already rounds it to two decimals)."""
    return f"{value:+g}"


def money(value: Money | None) -> str:
    """Return ``"EUR 12,000.00"`` (``"€12,000.00"`` in zh-CN; the currency's minor unit),
    or ``"-"`` when there is no amount."""
    return format_money(value)


def source_rows(rows: "Sequence[RateRow]") -> "list[RateRow]":
    """The win-rate rows of source channels, each named in the active locale."""
    if active() == "en":
        return list(rows)
    return [attrs.evolve(r, key=channel_label(r.key)) for r in rows]


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
