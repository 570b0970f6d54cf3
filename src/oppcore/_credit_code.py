"""The unified social credit code (统一社会信用代码) of a Chinese organisation, GB 32100-2015.

Eighteen characters: the registering authority (1), the organisation type (1), the
administrative division (6 digits), the organisation code (9) and a check character (1),
drawn from the digits and the capital letters without I, O, Z, S and V. The check character
makes the weighted sum of all eighteen values divisible by 31 (weights ``3**i mod 31``).
"""

import unicodedata
from typing import Final

__all__ = ["CREDIT_CODE_CHARS", "credit_code_key", "credit_code_problem"]

CREDIT_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of the code, in the order of their values 0..30."""

_VALUE: Final = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARS)}
_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))


def credit_code_key(value: str) -> str:
    """Return ``value`` NFKC-normalised, upper-cased, without spaces and dashes."""
    text = unicodedata.normalize("NFKC", value).upper()
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def check_character(first17: str) -> str:
    """Return the check character of the first 17 characters of a code."""
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(value: str) -> str | None:
    """Return why ``value`` is not a valid credit code, or ``None`` if it is one."""
    code = credit_code_key(value)
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return (f"has characters outside the code's alphabet ({', '.join(bad)}; I, O, Z, S "
                "and V are never used)")
    if not code[2:8].isdigit():
        return "characters 3 to 8 must be the digits of an administrative division code"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, the first 17 characters give {expected!r}"
    return None
