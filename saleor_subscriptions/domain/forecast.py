"""The billing forecast: what current subscriptions will bill in each of the next months, from
their next billing date, interval, intro price, scheduled price change and cycle limit."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import List, Optional, Sequence

from .metrics import add_months
from .periods import Interval, billing_date


@dataclass(frozen=True)
class ScheduledBilling:
    """Subscriptions that bill alike (summed): their next billing, then every interval."""

    first_billing: datetime
    interval: Interval
    subscriptions: int
    regular: Decimal  # the sum of their regular cycle prices
    intro: Decimal = Decimal(0)  # the sum of their intro cycle prices
    intro_cycles_left: int = 0
    cycles_left: Optional[int] = None  # None: until cancelled
    changed: Optional[Decimal] = None  # the sum of their prices after a scheduled price change
    change_from: Optional[datetime] = None  # first billing at the changed price: on/after this


@dataclass(frozen=True)
class ForecastMonth:
    month: date
    amount: Decimal
    renewals: int


def forecast(groups: Sequence[ScheduledBilling], first_month: date, months: int,
             not_before: datetime) -> List[ForecastMonth]:
    """Billing in each of `months` calendar months from `first_month` (billings before
    `not_before` are not counted: they are overdue, not scheduled)."""
    amounts = [Decimal(0)] * months
    renewals = [0] * months
    horizon = add_months(first_month, months)
    for group in groups:
        cycle = 0
        while group.cycles_left is None or cycle < group.cycles_left:
            when = billing_date(group.first_billing, group.interval, cycle)
            if when.date() >= horizon:
                break
            index = (when.year - first_month.year) * 12 + when.month - first_month.month
            if index >= 0 and when >= not_before:
                amounts[index] += _price(group, cycle, when)
                renewals[index] += group.subscriptions
            cycle += 1
    return [ForecastMonth(add_months(first_month, index), amounts[index], renewals[index])
            for index in range(months)]


def _price(group: ScheduledBilling, cycle: int, when: datetime) -> Decimal:
    if cycle < group.intro_cycles_left:
        return group.intro
    if group.changed is not None and group.change_from is not None and when >= group.change_from:
        return group.changed
    return group.regular
