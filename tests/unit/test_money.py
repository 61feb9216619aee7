from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prices import Money

from saleor_subscriptions.domain.money import (
    ensure_same_currency,
    from_minor,
    minor_units,
    percent_of,
    quantize,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("JPY", 0), ("KRW", 0), ("XOF", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3)],
)
def test_minor_units_follow_iso_4217(currency, exponent):
    assert minor_units(currency) == exponent


def test_minor_units_is_case_insensitive():
    assert minor_units("jpy") == 0


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "USD", "1.01"),
        ("1.004", "USD", "1.00"),
        ("2.5", "JPY", "3"),
        ("0.0005", "KWD", "0.001"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    result = quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -minor_units(currency)


def test_quantize_rejects_floats():
    with pytest.raises(TypeError):
        quantize(1.1, "USD")


def test_to_minor_and_from_minor_examples():
    assert to_minor(Money(Decimal("12.34"), "USD")) == 1234
    assert to_minor(Money(Decimal("500"), "JPY")) == 500
    assert to_minor(Money(Decimal("1.234"), "KWD")) == 1234
    assert from_minor(1234, "USD") == Money(Decimal("12.34"), "USD")
    assert from_minor(7, "KWD") == Money(Decimal("0.007"), "KWD")


def test_to_minor_accepts_trailing_zeros_but_rejects_sub_minor_precision():
    assert to_minor(Money(Decimal("10.000"), "USD")) == 1000
    with pytest.raises(ValueError, match="precision"):
        to_minor(Money(Decimal("10.005"), "USD"))


def test_from_minor_rejects_non_integers():
    with pytest.raises(TypeError):
        from_minor(1.5, "USD")
    with pytest.raises(TypeError):
        from_minor(True, "USD")


@given(units=st.integers(-(10**12), 10**12), currency=st.sampled_from(["JPY", "USD", "KWD"]))
def test_minor_round_trip(units, currency):
    assert to_minor(from_minor(units, currency)) == units


def test_percent_of_is_quantized():
    assert percent_of(Money(Decimal("19.99"), "USD"), Decimal("15")) == Money(
        Decimal("3.00"), "USD"
    )
    assert percent_of(Money(Decimal("999"), "JPY"), Decimal("10")) == Money(Decimal("100"), "JPY")


def test_ensure_same_currency():
    assert ensure_same_currency(Money(1, "USD"), Money(2, "USD")) == "USD"
    with pytest.raises(ValueError, match="EUR, USD"):
        ensure_same_currency(Money(1, "USD"), Money(2, "EUR"))
