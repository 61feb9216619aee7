"""Monthly recurring revenue: what one subscription is worth per month, and how a change of
that worth is classified.

Rules (the README's "MRR ledger" section shows a worked example):
- MRR is the price of the next paid cycle (unit price, the intro price while it lasts, times the
  quantity), excluding tax, normalised to one month: a month is 1/12 of a year; a year is
  365.25 days, so a week counts 365.25 / 12 / 7 times and a day 365.25 / 12 times per month.
  N-unit plans divide by N.
- A trialing subscription is worth 0 (a trial is not revenue until it converts); paused,
  cancelled and expired are worth 0. Past due stays in MRR until it is cancelled: dunning may
  still recover it, and its cancellation is the churn.
- The value is rounded to the currency's minor units once, so movements add up exactly.
"""
from decimal import Decimal
from typing import Optional

from .money import quantize

DAYS_PER_MONTH = Decimal("365.25") / Decimal(12)
#: how many of one interval unit fit in a month
PER_MONTH = {
    "day": DAYS_PER_MONTH,
    "week": DAYS_PER_MONTH / Decimal(7),
    "month": Decimal(1),
    "year": Decimal(1) / Decimal(12),
}
COUNTING_STATUSES = frozenset({"active", "past_due"})


class MovementKind:
    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"
    REACTIVATION = "reactivation"

    ALL = (NEW, EXPANSION, CONTRACTION, CHURN, REACTIVATION)
    CHOICES = [(kind, kind.capitalize()) for kind in ALL]


def monthly_value(cycle_amount: Decimal, interval_unit: str, interval_count: int,
                  currency: str) -> Decimal:
    """One cycle's price normalised to a month, rounded to the currency's minor units."""
    if not isinstance(cycle_amount, Decimal):
        raise TypeError("cycle_amount must be a Decimal")
    if interval_count < 1:
        raise ValueError("interval_count must be at least 1")
    return quantize(cycle_amount * PER_MONTH[interval_unit] / interval_count, currency)


def subscription_mrr(status: str, unit_amount: Decimal, quantity: int, interval_unit: str,
                     interval_count: int, currency: str) -> Decimal:
    """The subscription's MRR in its state (0 unless active or past due)."""
    if status not in COUNTING_STATUSES:
        return quantize(Decimal(0), currency)
    return monthly_value(unit_amount * quantity, interval_unit, interval_count, currency)


def movement_kind(before: Decimal, after: Decimal, churned_before: bool) -> Optional[str]:
    """The kind of movement from `before` to `after` MRR; None when nothing moved.

    `churned_before`: the subscription had MRR once and lost it (so a return is a reactivation,
    not a new subscriber)."""
    if after == before:
        return None
    if before == 0:
        return MovementKind.REACTIVATION if churned_before else MovementKind.NEW
    if after == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if after > before else MovementKind.CONTRACTION
