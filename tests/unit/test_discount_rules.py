from decimal import Decimal

import pytest
from prices import Money

from saleor_subscriptions.domain.discounts import (
    DiscountTerms,
    apply,
    discounted,
    total_off,
    uses_left_after,
)


def usd(amount):
    return Money(Decimal(amount), "USD")


def test_percents_compound_then_amounts_in_granting_order():
    ten = DiscountTerms("Ten", percent=Decimal("10"))
    five_off = DiscountTerms("Five off", amount=usd("5.00"))
    twenty = DiscountTerms("Twenty", percent=Decimal("20"))
    parts = apply(usd("50.00"), [five_off, ten, twenty])
    assert [(terms.name, part) for terms, part in parts] == [
        ("Ten", usd("5.00")), ("Twenty", usd("9.00")), ("Five off", usd("5.00"))]
    assert discounted(usd("50.00"), [five_off, ten, twenty]) == usd("31.00")


def test_each_part_is_rounded_and_the_parts_add_up():
    third = DiscountTerms("A third", percent=Decimal("33.33"))
    price = usd("19.99")
    parts = apply(price, [third, third])
    assert [part for _terms, part in parts] == [usd("6.66"), usd("4.44")]
    assert total_off(price, [third, third]) + discounted(price, [third, third]) == price


def test_never_below_zero_and_zero_parts_left_out():
    parts = apply(usd("8.00"), [DiscountTerms("Big", amount=usd("10.00")),
                                DiscountTerms("More", amount=usd("1.00"))])
    assert [(terms.name, part) for terms, part in parts] == [("Big", usd("8.00"))]
    assert discounted(usd("8.00"), [DiscountTerms("Full", percent=Decimal("100"))]) == usd("0")


def test_zero_decimal_currency_rounds_to_whole_units():
    yen = Money(Decimal("999"), "JPY")
    assert apply(yen, [DiscountTerms("15", percent=Decimal("15"))])[0][1] == Money(
        Decimal("150"), "JPY")


def test_bad_terms_and_currencies_are_refused():
    with pytest.raises(ValueError):
        DiscountTerms("Both", percent=Decimal("10"), amount=usd("1"))
    with pytest.raises(ValueError):
        DiscountTerms("Over", percent=Decimal("100.01"))
    with pytest.raises(ValueError):
        DiscountTerms("Negative", amount=usd("-1"))
    with pytest.raises(ValueError):
        apply(usd("10"), [DiscountTerms("Euro", amount=Money(Decimal("1"), "EUR"))])


def test_renewals_left_counts_down_and_forever_stays():
    assert uses_left_after(3) == 2
    assert uses_left_after(1) == 0
    assert uses_left_after(None) is None
