"""Exact money: a ``Decimal`` amount with an ISO 4217 currency code.

Floats are refused everywhere: ``0.1 + 0.2`` is not a price. Amounts in different currencies
never mix; an operation across currencies raises :class:`~oppcore.CurrencyMismatchError`.

Exactness: an amount has at most 37 significant digits (its magnitude is between 10**-18
and 10**18), and every sum, difference and product oppcore computes with amounts runs in
one wide context (:data:`EXACT`, 80 digits, inexact results trapped), so arithmetic never
rounds silently: Python's default context keeps only 28 digits. A result that Money cannot
hold (beyond 10**18) is refused with a :class:`~oppcore.ValidationError`. Rounding to a
currency's minor unit is one function, :func:`round_minor`, used by :meth:`Money.quantize`,
quote lines and the analytics.
"""

from collections.abc import Iterable
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from functools import lru_cache
from typing import Final

import attrs

from ._checks import Bounds, in_bounds
from ._errors import CurrencyMismatchError, ValidationError

__all__ = ["CURRENCY_MINOR_UNITS", "EXACT", "MAX_EXPONENT", "Money", "exact_add", "exact_mul",
           "exact_sum", "round_minor", "to_decimal"]

# Minor units (digits after the decimal point) of the active ISO 4217 codes, as published by
# the ISO 4217 maintenance agency (list one). Codes not listed here are refused, among them
# the codes ISO gives no minor unit ("N.A.": precious metals, bond-market and accounting
# units, XTS, XXX). tests/test_money_iso.py checks the table against pycountry's ISO list.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP "
    "GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT "
    "LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN "
    "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES "
    "WST "
    "XCD XCG YER ZAR ZMW ZWG"
)
CURRENCY_MINOR_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}
"""ISO 4217 code -> number of minor-unit digits (``CNY`` 2, ``JPY`` 0, ``KWD`` 3)."""

MAX_EXPONENT: Final = 18
"""Largest |adjusted exponent| a decimal may have (:func:`to_decimal`): enough for any real
amount (10**18 is a quintillion), small enough that a hostile ``"1e999999999"`` cannot make
arithmetic or ``quantize`` explode."""
_QUANTUM: Final[dict[int, Decimal]] = {n: Decimal(1).scaleb(-n) for n in range(5)}

_LARGEST: Final = Decimal(10) ** 19 - Decimal("1e-18")
AMOUNT: Final = Bounds(-_LARGEST, _LARGEST, kind=Decimal)
"""The range of a Money amount (below 10**19 in magnitude; see :func:`to_decimal` for the
precision rule: no more than 18 decimal places)."""

EXACT: Final = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
"""The decimal context of money arithmetic: 80 digits, any rounding trapped.

Two amounts of at most 37 significant digits add, subtract and multiply exactly in it (and
so do sums of up to 10**40 amounts); ``Inexact`` is trapped so that an exact result is a
checked promise, not a hope."""


def _exact(operation: str, a: Decimal, b: Decimal) -> Decimal:
    try:
        result: Decimal = getattr(EXACT, operation)(a, b)
    except ArithmeticError as exc:  # Inexact / Overflow: the inputs were out of range
        raise ValidationError(f"cannot {operation} {a} and {b} exactly: {exc!r}",
                              value=(a, b)) from exc
    return result


def exact_add(a: Decimal, b: Decimal) -> Decimal:
    """Return ``a + b`` computed exactly (in :data:`EXACT`).

    Raises:
        ValidationError: The exact sum needs more than 80 digits (inputs out of range).
    """
    return _exact("add", a, b)


def exact_mul(a: Decimal, b: Decimal) -> Decimal:
    """Return ``a * b`` computed exactly (in :data:`EXACT`).

    Raises:
        ValidationError: The exact product needs more than 80 digits.
    """
    return _exact("multiply", a, b)


def exact_sum(values: Iterable[Decimal], start: Decimal = Decimal(0)) -> Decimal:
    """Return the exact sum of ``values`` (``sum()`` would round to 28 digits).

    Raises:
        ValidationError: The exact sum needs more than 80 digits.
    """
    total = start
    add = EXACT.add
    try:
        for value in values:
            total = add(total, value)
    except ArithmeticError as exc:
        raise ValidationError(f"cannot add exactly: {exc!r}", value=total) from exc
    return total


def round_minor(value: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round ``value`` to ``currency``'s minor unit (half-up by default, as on invoices).

    The one rounding rule of the library: money, quote lines and analytics use it. It
    works for values of any size (the context is widened as needed), so a large total is
    never rounded to 28 digits first.

    Raises:
        KeyError: ``currency`` is not an ISO 4217 code oppcore knows.
    """
    places = CURRENCY_MINOR_UNITS[currency]
    context = Context(prec=max(EXACT.prec, value.adjusted() + places + 2), rounding=rounding,
                      traps=[InvalidOperation])
    return value.quantize(_QUANTUM[places], context=context)


def to_decimal(value: object, *, what: str = "amount") -> Decimal:
    """Convert ``value`` to a finite ``Decimal``, refusing floats and absurd magnitudes.

    Accepts a ``Decimal``, an ``int`` or a decimal string (surrounding spaces ignored).

    Raises:
        ValidationError: For a float, a bool, NaN/Infinity, an exponent beyond 10**18 in
            either direction, or anything that is not a decimal number.
    """
    if type(value) is str:
        d = _read_text(value)
        if d is not None:
            return d
    return _to_decimal(value, what)


@lru_cache(maxsize=4096)
def _read_text(text: str) -> Decimal | None:
    """:func:`to_decimal` of a string it accepts, or ``None`` (it then explains the refusal).

    Cached: amounts, prices, rates and quantities repeat across a CRM's records, and a hit
    costs one dict lookup where the rule costs about a microsecond. Decimals are immutable,
    so sharing one between values is safe; the cache is bounded.
    """
    try:
        return _to_decimal(text, "amount")
    except ValidationError:
        return None


def _to_decimal(value: object, what: str) -> Decimal:
    if type(value) is Decimal:
        d = value
    elif isinstance(value, (bool, float)):
        kind = type(value).__name__
        raise ValidationError(
            f"{kind} {value!r} refused: pass a Decimal, an int or a string such as '12.50'",
            value=value,
        )
    elif isinstance(value, (int, Decimal)):
        d = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        # Decimal() also reads "1_000" and non-ASCII digits ("１２"); money takes plain ASCII
        # decimals only, so what was typed is what is stored.
        if not text.isascii() or "_" in text:
            raise ValidationError(f"invalid decimal {value!r}", value=value)
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"invalid decimal {value!r}", value=value) from None
    else:
        raise ValidationError(
            f"expected a Decimal, int or decimal string, got {type(value).__name__}",
            value=value,
        )
    if not d.is_finite():
        raise ValidationError(f"{what} must be finite, got {value!r}", value=value)
    if d and abs(d.adjusted()) > MAX_EXPONENT:
        raise ValidationError(f"{what} {value!r} is out of range (|exponent| > 18)", value=value)
    return d


def _amount(value: Decimal | int | str) -> Decimal:
    try:
        return to_decimal(value)
    except ValidationError as exc:
        raise ValidationError(str(exc), model="Money", field="amount", value=value) from None


def _currency(value: str) -> str:
    if type(value) is str and value in CURRENCY_MINOR_UNITS:
        return value
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in CURRENCY_MINOR_UNITS:
        raise ValidationError(
            f"unknown ISO 4217 currency code {value!r}", model="Money", field="currency",
            value=value,
        )
    return str(code)


@attrs.frozen(kw_only=True, order=False)
class Money:
    """An exact amount of money in one currency.

    Args:
        amount: A ``Decimal``, ``int`` or decimal string. Floats are refused.
        currency: An ISO 4217 code such as ``"CNY"`` (case-insensitive on input).

    Money compares, adds and subtracts only within one currency; anything else raises
    :class:`~oppcore.CurrencyMismatchError`. Multiplying by a rate (``Decimal``, ``int`` or
    decimal string) keeps full precision; call :meth:`quantize` to round to the currency's
    minor unit. Arithmetic is exact (see the module notes): a result is never rounded
    behind your back, and one Money cannot hold is refused with ``ValidationError``.

    Example:
        >>> Money(amount="19.99", currency="CNY") * 3
        Money(amount=Decimal('59.97'), currency='CNY')
    """

    amount: Decimal = attrs.field(metadata=in_bounds(AMOUNT), converter=_amount)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> "Money":
        """Build money positionally: ``Money.of("12.50", "USD")``."""
        return cls(amount=amount, currency=currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        """Return zero in ``currency``."""
        return cls(amount=Decimal(0), currency=currency)

    @property
    def minor_units(self) -> int:
        """Digits after the decimal point for this currency (``2`` for CNY, ``0`` for JPY)."""
        return CURRENCY_MINOR_UNITS[self.currency]

    def quantize(self, rounding: str = ROUND_HALF_UP) -> "Money":
        """Round to the currency's minor unit (half-up by default, as on invoices)."""
        return Money(amount=round_minor(self.amount, self.currency, rounding),
                     currency=self.currency)

    def is_zero(self) -> bool:
        """Return whether the amount is zero."""
        return not self.amount

    def _check(self, other: object, operation: str) -> "Money":
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)
        return other

    def __add__(self, other: "Money") -> "Money":
        o = self._check(other, "add")
        return Money(amount=exact_add(self.amount, o.amount), currency=self.currency)

    def __radd__(self, other: object) -> "Money":
        # Lets ``sum(moneys)`` work: sum() starts from the int 0.
        if type(other) is int and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: "Money") -> "Money":
        o = self._check(other, "subtract")
        return Money(amount=_exact("subtract", self.amount, o.amount), currency=self.currency)

    def __neg__(self) -> "Money":
        return Money(amount=self.amount.copy_negate(), currency=self.currency)  # exact

    def __mul__(self, rate: Decimal | int | str) -> "Money":
        return Money(amount=exact_mul(self.amount, to_decimal(rate, what="rate")),
                     currency=self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: "Money") -> bool:
        return self.amount < self._check(other, "compare").amount

    def __le__(self, other: "Money") -> bool:
        return self.amount <= self._check(other, "compare").amount

    def __gt__(self, other: "Money") -> bool:
        return self.amount > self._check(other, "compare").amount

    def __ge__(self, other: "Money") -> bool:
        return self.amount >= self._check(other, "compare").amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
