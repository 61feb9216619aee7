from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prices import Money

from saleor_subscriptions.domain.money import from_minor, to_minor
from saleor_subscriptions.domain.proration import (
    ProrationResult,
    prorate_change,
    unused_refund,
)

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
END = datetime(2024, 1, 31, tzinfo=timezone.utc)
MIDDLE = datetime(2024, 1, 16, tzinfo=timezone.utc)


def usd(amount):
    return Money(Decimal(amount), "USD")


def test_upgrade_halfway_charges_half_the_difference():
    result = prorate_change(usd("10"), usd("20"), START, END, MIDDLE)
    assert result == ProrationResult(
        charge_now=usd("5.00"), credit=usd("0.00"), unused_fraction=Decimal("0.5")
    )


def test_downgrade_halfway_credits_half_the_difference():
    result = prorate_change(usd("20"), usd("10"), START, END, MIDDLE)
    assert (result.charge_now, result.credit) == (usd("0.00"), usd("5.00"))


def test_change_at_the_boundaries():
    at_start = prorate_change(usd("10"), usd("25"), START, END, START)
    assert (at_start.charge_now, at_start.unused_fraction) == (usd("15.00"), Decimal(1))
    at_end = prorate_change(usd("10"), usd("25"), START, END, END)
    assert (at_end.charge_now, at_end.credit, at_end.unused_fraction) == (
        usd("0.00"),
        usd("0.00"),
        Decimal(0),
    )


def test_each_side_is_rounded_half_up_in_minor_units():
    third_left = END - (END - START) / 3
    result = prorate_change(
        Money(Decimal("1000"), "JPY"), Money(Decimal("1500"), "JPY"), START, END, third_left
    )
    # 1500/3 = 500 and 1000/3 = 333.33 -> 333, so 167 yen.
    assert result.charge_now == Money(Decimal("167"), "JPY")


def test_three_decimal_currency():
    result = prorate_change(
        Money(Decimal("1.000"), "KWD"), Money(Decimal("4.001"), "KWD"), START, END, MIDDLE
    )
    assert result.charge_now == Money(Decimal("1.501"), "KWD")


def test_sub_second_precision_is_ignored():
    exact = prorate_change(usd("10"), usd("20"), START, END, MIDDLE)
    jittered = prorate_change(
        usd("10"), usd("20"), START, END, MIDDLE - timedelta(microseconds=400)
    )
    assert exact == jittered


def test_rejects_now_outside_the_period():
    with pytest.raises(ValueError, match="outside the period"):
        prorate_change(usd("10"), usd("20"), START, END, END + timedelta(seconds=1))
    with pytest.raises(ValueError, match="outside the period"):
        unused_refund(usd("10"), START, END, START - timedelta(days=1))


def test_rejects_bad_inputs():
    with pytest.raises(ValueError, match="Currency mismatch"):
        prorate_change(usd("10"), Money(Decimal("20"), "EUR"), START, END, MIDDLE)
    with pytest.raises(ValueError, match="after start"):
        prorate_change(usd("10"), usd("20"), END, START, MIDDLE)
    with pytest.raises(ValueError, match="after start"):
        unused_refund(usd("10"), START, START + timedelta(microseconds=999), START)
    with pytest.raises(ValueError, match="negative"):
        prorate_change(usd("-10"), usd("20"), START, END, MIDDLE)
    with pytest.raises(ValueError, match="timezone-aware"):
        prorate_change(usd("10"), usd("20"), START, END, MIDDLE.replace(tzinfo=None))


def test_unused_refund_examples():
    assert unused_refund(usd("30"), START, END, MIDDLE) == usd("15.00")
    assert unused_refund(usd("30"), START, END, START) == usd("30.00")
    assert unused_refund(usd("30"), START, END, END) == usd("0.00")


currencies = st.sampled_from(["JPY", "USD", "KWD"])
minor_amounts = st.integers(0, 10**8)
periods = st.integers(1, 400 * 86400).flatmap(
    lambda length: st.tuples(st.just(length), st.integers(0, length))
)


def period_bounds(length_and_elapsed):
    length, elapsed = length_and_elapsed
    end = START + timedelta(seconds=length)
    return START, end, START + timedelta(seconds=elapsed)


@given(currencies, minor_amounts, minor_amounts, periods)
def test_proration_invariants(currency, old_units, new_units, period):
    start, end, now = period_bounds(period)
    old, new = from_minor(old_units, currency), from_minor(new_units, currency)
    result = prorate_change(old, new, start, end, now)
    assert result.credit <= old
    assert result.charge_now <= new
    assert to_minor(result.charge_now) >= 0 and to_minor(result.credit) >= 0
    assert to_minor(result.charge_now) == 0 or to_minor(result.credit) == 0
    assert 0 <= result.unused_fraction <= 1
    assert result.charge_now.currency == result.credit.currency == currency


@given(currencies, minor_amounts, minor_amounts, periods)
def test_upgrade_then_immediate_downgrade_nets_out(currency, old_units, new_units, period):
    start, end, now = period_bounds(period)
    old, new = from_minor(old_units, currency), from_minor(new_units, currency)
    there = prorate_change(old, new, start, end, now)
    back = prorate_change(new, old, start, end, now)
    net = to_minor(there.charge_now) - to_minor(there.credit)
    net += to_minor(back.charge_now) - to_minor(back.credit)
    assert abs(net) <= 1


@given(currencies, minor_amounts, periods)
def test_unused_refund_is_bounded_by_what_was_paid(currency, paid_units, period):
    start, end, now = period_bounds(period)
    paid = from_minor(paid_units, currency)
    refund = unused_refund(paid, start, end, now)
    assert Money(0, currency) <= refund <= paid
    assert unused_refund(paid, start, end, start) == paid


@given(currencies, minor_amounts, st.integers(2, 400 * 86400), st.data())
def test_refund_shrinks_as_time_passes(currency, paid_units, length, data):
    earlier, later = sorted(data.draw(st.lists(st.integers(0, length), min_size=2, max_size=2)))
    paid = from_minor(paid_units, currency)
    end = START + timedelta(seconds=length)
    assert unused_refund(paid, START, end, START + timedelta(seconds=earlier)) >= unused_refund(
        paid, START, end, START + timedelta(seconds=later)
    )
