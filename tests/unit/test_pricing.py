from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prices import Money

from saleor_subscriptions.domain.money import from_minor
from saleor_subscriptions.domain.periods import Interval, IntervalUnit
from saleor_subscriptions.domain.pricing import (
    first_charge,
    monthly_value,
    plan_unit_price,
    recurring_charge,
    saving,
)


def usd(amount):
    return Money(Decimal(amount), "USD")


def test_own_price_wins_and_is_quantized():
    assert plan_unit_price(usd("20"), own_price=usd("15.5"), discount_percent=None) == usd("15.50")


@pytest.mark.parametrize(
    ("variant", "percent", "expected"),
    [("19.99", "15", "16.99"), ("10.00", "12.5", "8.75"), ("0.10", "5", "0.10")],
)
def test_discount_applies_to_variant_price_rounding_half_up(variant, percent, expected):
    result = plan_unit_price(usd(variant), own_price=None, discount_percent=Decimal(percent))
    assert result == usd(expected)


def test_discount_in_zero_decimal_currency():
    result = plan_unit_price(
        Money(Decimal("999"), "JPY"), own_price=None, discount_percent=Decimal("10")
    )
    assert result == Money(Decimal("899"), "JPY")


@pytest.mark.parametrize(
    ("own_price", "discount_percent", "message"),
    [
        (None, None, "exactly one"),
        (usd("5"), Decimal("10"), "exactly one"),
        (None, Decimal("0"), "between 0 and 100"),
        (None, Decimal("100"), "between 0 and 100"),
        (None, 10.0, "between 0 and 100"),
        (usd("-1"), None, "negative"),
        (Money(Decimal("5"), "EUR"), None, "Currency mismatch"),
    ],
)
def test_plan_unit_price_rejects_bad_configuration(own_price, discount_percent, message):
    with pytest.raises(ValueError, match=message):
        plan_unit_price(usd("20"), own_price=own_price, discount_percent=discount_percent)


@given(
    st.integers(0, 10**9),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2),
)
def test_discounted_price_stays_between_zero_and_variant_price(units, percent):
    variant = from_minor(units, "USD")
    result = plan_unit_price(variant, own_price=None, discount_percent=percent)
    assert Money(0, "USD") <= result <= variant


def test_saving_reports_amount_and_percent():
    assert saving(usd("10"), usd("8")) == (usd("2.00"), Decimal("20.00"))
    assert saving(usd("3"), usd("2")) == (usd("1.00"), Decimal("33.33"))


def test_saving_is_never_negative():
    assert saving(usd("8"), usd("10")) == (usd("0.00"), Decimal("0.00"))
    assert saving(usd("0"), usd("0")) == (usd("0.00"), Decimal("0.00"))


def test_first_charge_with_and_without_trial():
    assert first_charge(usd("9.99"), 3, usd("5"), has_trial=False) == usd("34.97")
    assert first_charge(usd("9.99"), 3, usd("5"), has_trial=True) == usd("5")
    assert first_charge(usd("9.99"), 1, usd("0"), has_trial=True) == usd("0")


def test_first_charge_validation():
    with pytest.raises(ValueError, match="Currency mismatch"):
        first_charge(usd("9.99"), 1, Money(Decimal("5"), "EUR"), has_trial=False)
    with pytest.raises(ValueError, match="Quantity"):
        first_charge(usd("9.99"), 0, usd("0"), has_trial=False)


def test_recurring_charge_multiplies_by_quantity():
    assert recurring_charge(usd("12.50"), 4) == usd("50.00")
    with pytest.raises(ValueError, match="Quantity"):
        recurring_charge(usd("12.50"), -1)


@pytest.mark.parametrize(
    ("amount", "interval", "expected"),
    [
        (usd("120"), Interval(IntervalUnit.YEAR, 1), usd("10.00")),
        (usd("30"), Interval(IntervalUnit.MONTH, 3), usd("10.00")),
        (usd("7"), Interval(IntervalUnit.WEEK, 1), usd("30.44")),
        (usd("1"), Interval(IntervalUnit.DAY, 1), usd("30.44")),
        (Money(Decimal("1000"), "JPY"), Interval(IntervalUnit.YEAR, 1), Money(83, "JPY")),
    ],
)
def test_monthly_value_normalises_to_one_month(amount, interval, expected):
    assert monthly_value(amount, interval) == expected


@given(st.integers(0, 10**9), st.sampled_from(["JPY", "USD", "KWD"]))
def test_monthly_value_of_a_monthly_price_is_unchanged(units, currency):
    amount = from_minor(units, currency)
    assert monthly_value(amount, Interval(IntervalUnit.MONTH, 1)) == amount
