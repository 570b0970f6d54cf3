"""Money: exact Decimal amounts, one currency at a time, floats refused."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oppcore import CURRENCY_MINOR_UNITS, CurrencyMismatchError, Money, ValidationError
from oppcore.testing import strategies as ost


def test_constructs_from_decimal_int_and_string() -> None:
    assert Money(amount=Decimal("12.50"), currency="CNY").amount == Decimal("12.50")
    assert Money(amount=12, currency="USD").amount == Decimal(12)
    assert Money(amount=" 12.5 ", currency="eur").amount == Decimal("12.5")
    assert Money(amount="1", currency=" jpy ").currency == "JPY"
    assert Money.of("3.10", "CNY") == Money(amount=Decimal("3.1"), currency="CNY")


@pytest.mark.parametrize("bad", [0.1, 1.0, float("nan"), True, False, [1], None, object()])
def test_refuses_floats_bools_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        Money(amount=bad, currency="CNY")  # type: ignore[arg-type]
    assert info.value.model == "Money"
    assert info.value.field == "amount"


def test_float_error_explains_what_to_pass() -> None:
    with pytest.raises(ValidationError, match=r"float 0\.1 refused: pass a Decimal"):
        Money(amount=0.1, currency="CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "", "12,5", "1_000", "１２", "١٢", "NaN", "Infinity",
                                 "-inf", "1e999999",
                                 "1e-999999", Decimal("NaN"), Decimal("sNaN")])
def test_refuses_invalid_non_finite_and_absurd_decimals(bad: object) -> None:
    with pytest.raises(ValidationError):
        Money(amount=bad, currency="CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["XYZ", "RMB", "", "US", 840, None])
def test_refuses_unknown_currency_codes(bad: object) -> None:
    with pytest.raises(ValidationError, match="currency"):
        Money(amount=1, currency=bad)  # type: ignore[arg-type]


def test_minor_units_follow_iso_4217() -> None:
    assert CURRENCY_MINOR_UNITS["CNY"] == 2
    assert CURRENCY_MINOR_UNITS["USD"] == 2
    assert CURRENCY_MINOR_UNITS["EUR"] == 2
    assert CURRENCY_MINOR_UNITS["JPY"] == 0
    assert CURRENCY_MINOR_UNITS["KWD"] == 3
    assert Money.of("1", "KWD").minor_units == 3


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("10.005", "CNY", "10.01"),   # half-up, not banker's rounding
    ("10.015", "USD", "10.02"),
    ("-10.005", "EUR", "-10.01"),
    ("1234.5", "JPY", "1235"),
    ("1.0005", "KWD", "1.001"),
    ("7", "CNY", "7.00"),
])
def test_quantize_rounds_half_up_to_the_minor_unit(amount: str, currency: str,
                                                    expected: str) -> None:
    result = Money.of(amount, currency).quantize()
    assert str(result.amount) == expected


def test_arithmetic_within_one_currency() -> None:
    a, b = Money.of("10.10", "CNY"), Money.of("0.20", "CNY")
    assert a + b == Money.of("10.30", "CNY")
    assert a - b == Money.of("9.90", "CNY")
    assert -a == Money.of("-10.10", "CNY")
    assert a * 3 == Money.of("30.30", "CNY")
    assert a * Decimal("0.5") == Money.of("5.05", "CNY")
    assert 2 * a == Money.of("20.20", "CNY")
    assert sum([a, b, b]) == Money.of("10.50", "CNY")
    assert b < a and a > b and a >= a and b <= b
    assert Money.zero("USD").is_zero()
    assert str(a) == "10.10 CNY"


def test_multiplying_by_a_float_is_refused() -> None:
    with pytest.raises(ValidationError, match="float"):
        Money.of("10", "CNY") * 0.1  # type: ignore[operator]


@pytest.mark.parametrize("operation", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b,
])
def test_mixing_currencies_raises(operation: object) -> None:
    with pytest.raises(CurrencyMismatchError) as info:
        operation(Money.of("1", "CNY"), Money.of("1", "USD"))  # type: ignore[operator]
    assert {info.value.left, info.value.right} == {"CNY", "USD"}


def test_adding_a_plain_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Money.of("1", "CNY") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        1 + Money.of("1", "CNY")


@given(ost.money("CNY"), ost.money("CNY"), ost.money("CNY"))
def test_addition_is_exact_associative_and_commutative(a: Money, b: Money, c: Money) -> None:
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert (a + b - b) == a
    assert (a + b).amount == a.amount + b.amount


@given(ost.money(), ost.money())
def test_money_never_mixes_currencies(a: Money, b: Money) -> None:
    if a.currency == b.currency:
        assert (a + b).currency == a.currency
    else:
        with pytest.raises(CurrencyMismatchError):
            a + b


@given(ost.money(), st.integers(0, 1000))
def test_quantized_values_sit_on_the_minor_unit_grid(m: Money, factor: int) -> None:
    q = (m * Decimal(factor) * Decimal("0.333")).quantize()
    assert -q.amount.as_tuple().exponent == q.minor_units  # type: ignore[operator]
    assert abs(q.amount - m.amount * factor * Decimal("0.333")) <= Decimal(1).scaleb(
        -q.minor_units) / 2


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_refused(value: float) -> None:
    with pytest.raises(ValidationError):
        Money(amount=value, currency="USD")  # type: ignore[arg-type]


# --- exact arithmetic: nothing is rounded behind the caller's back ------------------------

from oppcore._money import exact_sum, round_minor  # noqa: E402

_WIDE = st.decimals(min_value=Decimal("-1e17"), max_value=Decimal("1e17"), places=18,
                    allow_nan=False, allow_infinity=False)


@given(_WIDE, _WIDE)
def test_money_adds_and_subtracts_exactly(a: Decimal, b: Decimal) -> None:
    x, y = Money.of(a, "USD"), Money.of(b, "USD")
    assert (x + y - y).amount == a
    assert (x - y + y) == x
    assert -x + x == Money.zero("USD")


def test_a_sum_beyond_28_digits_is_exact() -> None:
    big = Money.of("99999999999999999.999999999999999999", "USD")  # 35 digits
    tiny = Money.of("0.000000000000000001", "USD")
    total = big + tiny
    assert total.amount == Decimal("100000000000000000.000000000000000000")
    assert total - tiny == big  # Python's default context (28 digits) loses the tiny part
    assert (total + tiny).amount != total.amount + tiny.amount  # as plain Decimals show
    assert exact_sum([big.amount, tiny.amount, big.amount.copy_negate()]) == tiny.amount


def test_a_result_money_cannot_hold_is_refused_not_rounded() -> None:
    top = Money.of("9999999999999999999", "USD")
    with pytest.raises(ValidationError, match="out of range"):
        top + Money.of("1", "USD")


def test_one_rounding_rule_for_money_quotes_and_analytics() -> None:
    assert round_minor(Decimal("2.345"), "USD") == Decimal("2.35")  # half-up, as invoices
    assert round_minor(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_minor(Decimal("1.0005"), "KWD") == Decimal("1.001")
    huge = Decimal("123456789012345678901234567890.125")  # beyond 28 digits
    assert round_minor(huge, "USD") == Decimal("123456789012345678901234567890.13")
    assert Money.of("2.345", "USD").quantize().amount == round_minor(Decimal("2.345"), "USD")
