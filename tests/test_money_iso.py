"""The ISO 4217 table is complete: every current code of a maintained ISO list is known."""

import pycountry
import pytest

from oppcore import Money
from oppcore._money import CURRENCY_MINOR_UNITS

# ISO 4217 gives these codes no minor unit ("N.A."): precious metals, bond-market and
# accounting units, the testing code and "no currency". Money needs a minor unit to round,
# so they stay refused.
NO_MINOR_UNIT = frozenset({"XAD", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD",
                           "XPT", "XSU", "XTS", "XUA", "XXX"})


def test_every_current_iso_4217_code_is_known() -> None:
    current = {c.alpha_3 for c in pycountry.currencies}
    assert len(current) > 150
    missing = sorted(current - set(CURRENCY_MINOR_UNITS) - NO_MINOR_UNIT)
    assert not missing, f"add to oppcore._money (with their minor units): {missing}"
    assert not NO_MINOR_UNIT & set(CURRENCY_MINOR_UNITS)


@pytest.mark.parametrize(("code", "digits"), [
    ("UYU", 2), ("JPY", 0), ("KWD", 3), ("CNY", 2), ("CLF", 4), ("UYW", 4),
])
def test_minor_units(code: str, digits: int) -> None:
    assert Money.of(1, code).quantize().amount.as_tuple().exponent == -digits
    assert Money.of(1, code).minor_units == digits
