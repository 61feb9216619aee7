"""Discounts on a subscription's renewals (vouchers, goodwill, retention and win-back offers).

The rule, one place for every caller (renewal orders, quotes, MRR):

- A discount comes off the subscription's own price for the cycle (unit price × quantity, the
  intro price while it lasts), before tax; never off shipping, sign-up fees or carried balances.
- Several discounts combine in a fixed order: every percent discount first, each on what the
  earlier ones left (10 % and 20 % take 28 % off, so stacked percents never pass 100 %), then the
  fixed amounts, in the order they were granted.
- Each discount's part is rounded on its own to the currency's minor units (half up), so the
  parts shown on an order add up to exactly what came off; a discount never takes more than
  what is left (the discounted price is never below zero).
"""
from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional, Sequence, Tuple

from prices import Money

from .money import ensure_same_currency, quantize

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DiscountTerms:
    name: str
    percent: Optional[Decimal] = None
    amount: Optional[Money] = None
    key: object = None  # the caller's handle on the discount (its row id)

    def __post_init__(self):
        if (self.percent is None) == (self.amount is None):
            raise ValueError("A discount is either a percent or an amount")
        if self.percent is not None:
            if not isinstance(self.percent, Decimal) or not 0 < self.percent <= HUNDRED:
                raise ValueError("A percent discount is a Decimal in (0, 100], got %r"
                                 % (self.percent,))
        elif not isinstance(self.amount.amount, Decimal) or self.amount.amount <= 0:
            raise ValueError("An amount discount is more than zero, got %r" % (self.amount,))


def _ordered(discounts: Sequence[DiscountTerms]) -> List[DiscountTerms]:
    # sorted() is stable: within each kind the granting order stays.
    return sorted(discounts, key=lambda terms: terms.percent is None)


def apply(price: Money, discounts: Sequence[DiscountTerms]) -> List[Tuple[DiscountTerms, Money]]:
    """Each discount with the part it takes off `price` (zero parts left out)."""
    currency = price.currency
    left = price.amount
    parts = []
    for terms in _ordered(discounts):
        if terms.percent is not None:
            off = quantize(left * terms.percent / HUNDRED, currency)
        else:
            ensure_same_currency(price, terms.amount)
            off = quantize(terms.amount.amount, currency)
        off = min(off, left)
        if off > 0:
            parts.append((terms, Money(off, currency)))
            left -= off
    return parts


def total_off(price: Money, discounts: Sequence[DiscountTerms]) -> Money:
    return sum((part for _terms, part in apply(price, discounts)), Money(0, price.currency))


def discounted(price: Money, discounts: Sequence[DiscountTerms]) -> Money:
    """`price` less its discounts, never below zero."""
    return price - total_off(price, discounts)


def uses_left_after(renewals_left: Optional[int]) -> Optional[int]:
    """The renewals a discount has left after one more paid renewal (None: it lasts forever)."""
    if renewals_left is None:
        return None
    return max(renewals_left - 1, 0)
