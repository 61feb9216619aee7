from decimal import Decimal
from typing import Optional, Tuple

from prices import Money

from .money import ensure_same_currency, quantize
from .periods import Interval

HUNDRED = Decimal(100)
PERCENT_PLACES = Decimal("0.01")
MONTHS_PER_YEAR = 12


def plan_unit_price(
    variant_price: Money, *, own_price: Optional[Money], discount_percent: Optional[Decimal]
) -> Money:
    if (own_price is None) == (discount_percent is None):
        raise ValueError("Set exactly one of own_price and discount_percent")
    if own_price is not None:
        ensure_same_currency(variant_price, own_price)
        if own_price.amount < 0:
            raise ValueError(f"Plan price cannot be negative: {own_price!r}")
        return Money(quantize(own_price.amount, own_price.currency), own_price.currency)
    if not isinstance(discount_percent, Decimal) or not 0 < discount_percent < HUNDRED:
        raise ValueError(
            "Discount percent must be a Decimal strictly between 0 and 100, "
            f"got {discount_percent!r}"
        )
    currency = variant_price.currency
    discounted = variant_price.amount * (HUNDRED - discount_percent) / HUNDRED
    return Money(quantize(discounted, currency), currency)


def saving(variant_price: Money, plan_price: Money) -> Tuple[Money, Decimal]:
    currency = ensure_same_currency(variant_price, plan_price)
    saved = max(variant_price.amount - plan_price.amount, Decimal(0))
    if variant_price.amount <= 0:
        percent = Decimal(0)
    else:
        percent = saved * HUNDRED / variant_price.amount
    return Money(quantize(saved, currency), currency), percent.quantize(PERCENT_PLACES)


def _ensure_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValueError(f"Quantity must be a positive integer, got {quantity!r}")


def recurring_charge(plan_price: Money, quantity: int) -> Money:
    _ensure_quantity(quantity)
    return plan_price * quantity


def first_charge(plan_price: Money, quantity: int, signup_fee: Money, has_trial: bool) -> Money:
    ensure_same_currency(plan_price, signup_fee)
    _ensure_quantity(quantity)
    if has_trial:
        return signup_fee
    return recurring_charge(plan_price, quantity) + signup_fee


def monthly_value(amount: Money, interval: Interval) -> Money:
    per_month = amount.amount * interval.periods_per_year / MONTHS_PER_YEAR
    return Money(quantize(per_month, amount.currency), amount.currency)
