"""Scoring reasons in the reader's language.

The built-in scoring rules phrase each reason in English with its figures in it ("customer
deadline in 12 day(s)"). Each sentence shape is listed here once, as its gettext message
id; the English message is matched against the shapes and the figures are carried into the
translation. A message no shape matches (a plugin rule's own reason) stays as it is.
``tests/test_locale.py`` scores generated deals with the default scorecard and fails if a
reason the built-in rules give has no shape here.
"""

import functools
import re
from typing import Final

from ._catalog import DEFAULT, N_, active
from ._catalog import _ as gettext

__all__ = ["REASON_MESSAGES", "translate_reason"]

REASON_MESSAGES: Final[tuple[str, ...]] = (
    # budget
    N_("no budget information"),
    N_("budget is confirmed"),
    N_("budget is not confirmed"),
    N_("customer named no budget figure"),
    N_("deal amount unknown: budget ratio not assessed"),
    N_("budget in {budget}, deal in {deal}: ratio not assessed (no conversion)"),
    # TRANSLATORS: {share} is a percentage ("164%") or the word "all".
    N_("budget covers {share} of the deal amount"),
    N_("confirmed budget covers {share} of the deal, below the {limit} limit"),
    N_("capped at the maximum sub-score"),
    N_("raised to the minimum sub-score"),
    # competition
    N_("competition not assessed"),
    N_("no competitor in the deal"),
    # TRANSLATORS: {position} is one of leading, even, trailing, unknown.
    N_("our position against {name}: {position}"),
    N_("{count} competitors"),
    N_("incumbent {name} is in the deal"),
    # decision cycle
    N_("no decision process information"),
    N_("no decision date, cycle or decision maker information"),
    N_("decision maker identified"),
    N_("decision maker not identified"),
    N_("decision maker engaged"),
    N_("decision maker not engaged"),
    N_("expected decision passed {days} day(s) ago"),
    N_("decision in {days} day(s) (norm {norm})"),
    N_("buying cycle of {days} day(s) (norm {norm})"),
    # urgency
    N_("no urgency level, deadline or expected close date known"),
    # TRANSLATORS: {level} is one of low, medium, high, critical.
    N_("customer states {level} urgency"),
    N_("customer deadline passed {days} day(s) ago"),
    N_("customer deadline in {days} day(s)"),
    N_("expected close date passed {days} day(s) ago"),
    N_("expected close in {days} day(s)"),
    N_("expected close date slipped {count} time(s)"),
)
"""The English shapes of the built-in rules' reasons (the message ids)."""

# Words the rules put into their sentences, translated on their own.
_WORDS: Final = {
    "leading": N_("leading"), "even": N_("even"), "trailing": N_("trailing"),
    "unknown": N_("unknown"), "low": N_("low"), "medium": N_("medium"), "high": N_("high"),
    "critical": N_("critical"), "all": N_("all"),
}
_FIELD = re.compile(r"\{(\w+)\}")


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for message in REASON_MESSAGES:
        parts = _FIELD.split(message)
        # split gives literal, name, literal, name, ...: literals escaped, names captured.
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                        for i, p in enumerate(parts))
        out.append((re.compile(regex + r"\Z"), message))
    return tuple(out)


def translate_reason(message: str) -> str:
    """Return a built-in rule's reason ``message`` in the active locale (else unchanged)."""
    if active() == DEFAULT:
        return message
    for pattern, msgid in _patterns():
        match = pattern.match(message)
        if match:
            values = {k: gettext(_WORDS[v]) if v in _WORDS else v
                      for k, v in match.groupdict().items()}
            return gettext(msgid).format(**values)
    return message
