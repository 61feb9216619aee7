from decimal import Decimal

import pytest

from saleor_subscriptions.domain.mrr import (
    MovementKind,
    monthly_value,
    movement_kind,
    subscription_mrr,
)


def test_monthly_value_normalises_each_interval():
    assert monthly_value(Decimal("10.00"), "month", 1, "USD") == Decimal("10.00")
    assert monthly_value(Decimal("120.00"), "year", 1, "USD") == Decimal("10.00")
    assert monthly_value(Decimal("30.00"), "month", 3, "USD") == Decimal("10.00")
    # 7 a week: 7 * 365.25 / 12 / 7 = 30.4375 -> 30.44
    assert monthly_value(Decimal("7.00"), "week", 1, "USD") == Decimal("30.44")
    # 30 for 30-day cycles: 30 * 30.4375 / 30 = 30.4375 -> 30.44
    assert monthly_value(Decimal("30.00"), "day", 30, "USD") == Decimal("30.44")
    assert monthly_value(Decimal("1000"), "year", 1, "JPY") == Decimal("83")


def test_monthly_value_refuses_floats():
    with pytest.raises(TypeError):
        monthly_value(10.0, "month", 1, "USD")


def test_only_active_and_past_due_count():
    for status, expected in [("active", "20.00"), ("past_due", "20.00"), ("trialing", "0.00"),
                             ("paused", "0.00"), ("cancelled", "0.00"), ("expired", "0.00")]:
        assert subscription_mrr(status, Decimal("10.00"), 2, "month", 1, "USD") == Decimal(expected)


def test_movement_kinds():
    zero, ten, twenty = Decimal(0), Decimal(10), Decimal(20)
    assert movement_kind(zero, ten, churned_before=False) == MovementKind.NEW
    assert movement_kind(zero, ten, churned_before=True) == MovementKind.REACTIVATION
    assert movement_kind(ten, twenty, churned_before=False) == MovementKind.EXPANSION
    assert movement_kind(twenty, ten, churned_before=False) == MovementKind.CONTRACTION
    assert movement_kind(ten, zero, churned_before=False) == MovementKind.CHURN
    assert movement_kind(ten, ten, churned_before=False) is None
