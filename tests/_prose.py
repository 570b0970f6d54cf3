"""The one check that a text meant for a Chinese reader holds no English prose.

Shared by the tests of the zh-CN demo, report and CLI help. Data stays as it was written
(deal and company names, ids, owners, currency codes): callers pass the words that are
data, and the check looks for what remains: a run of three or more English words between
two Chinese characters is a sentence or a header that was never wrapped for translation.
"""

import re

__all__ = ["english_lines"]

# Words that are the same in a Chinese text: the product, command-line words, acronyms.
_NEUTRAL = frozenset({"oppcore"})
_CJK = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+")
_WORD = re.compile(r"[A-Za-z]{2,}(?:'[a-z]+)?")
_ACRONYM = re.compile(r"[A-Z]{2,5}")
_EDGES = "\"'.,;:!?()[]{}<>…“”‘’/|*=+~#"


def english_lines(text: str, data: frozenset[str], *, words: int = 3) -> list[str]:
    """The lines of ``text`` holding ``words`` or more English prose words in a row.

    Data words (and their cut-off beginnings, as tables shorten long names), numbers, ids,
    acronyms and command lines do not count and do not break a run; a Chinese character
    does.
    """
    found = []
    for line in text.splitlines():
        if line.strip().startswith("oppcore "):  # a command to type, not prose
            continue
        for segment in _CJK.split(line):
            run = 0
            for token in segment.split():
                token = token.strip(_EDGES)
                if not _WORD.fullmatch(token) or _ACRONYM.fullmatch(token):
                    continue
                if token in _NEUTRAL or _is_data(token, data):
                    continue
                run += 1
                if run >= words:
                    found.append(line.strip())
                    break
            else:
                continue
            break
    return found


def _is_data(token: str, data: frozenset[str]) -> bool:
    bare = token.split("'")[0]
    return bare in data or (len(bare) >= 3 and any(w.startswith(bare) for w in data))
