"""A month's subscription revenue: Saleor's payments against our own records.

Scope: every order linked to a subscription of the currency (renewal cycles' orders, payment
attempts' orders such as prorated upgrades' adjustment orders, orders of its events), and the
refunds of the checkout's origin orders.
- Saleor: successful CAPTURE minus REFUND transactions on those orders, created in the month.
- Ours: SUCCEEDED attempts' amounts (finished in the month) minus REFUNDED events' amounts
  (dated in the month).
The checkout's own capture is Saleor's checkout's (with shipping and one-off lines) and is on
neither side.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Dict, List, Tuple

from ..models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    Subscription,
    SubscriptionEvent,
)
from ..saleor_adapter.revenue import net_captured_by_order


@dataclass
class OrderDifference:
    order_id: int
    subscription_id: int
    saleor: Decimal
    ours: Decimal

    @property
    def difference(self) -> Decimal:
        return self.saleor - self.ours


@dataclass
class Reconciliation:
    currency: str
    start: datetime
    end: datetime
    saleor: Decimal = Decimal(0)
    ours: Decimal = Decimal(0)
    differences: List[OrderDifference] = field(default_factory=list)

    @property
    def difference(self) -> Decimal:
        return self.saleor - self.ours


def month_range(month: str) -> Tuple[datetime, datetime]:
    """"2028-03" -> [2028-03-01, 2028-04-01) in UTC; ValueError for anything else."""
    year, number = month.split("-")
    if len(year) != 4 or len(number) != 2:
        raise ValueError(month)
    start = datetime(int(year), int(number), 1, tzinfo=timezone.utc)
    end = (datetime(start.year + 1, 1, 1, tzinfo=timezone.utc) if start.month == 12
           else datetime(start.year, start.month + 1, 1, tzinfo=timezone.utc))
    return start, end


def reconcile(month: str, currency: str) -> Reconciliation:
    start, end = month_range(month)
    ours: Dict[int, Decimal] = defaultdict(Decimal)
    owner: Dict[int, int] = {}
    attempts = (PaymentAttempt.objects
                .filter(status=AttemptStatus.SUCCEEDED, currency=currency,
                        finished_at__gte=start, finished_at__lt=end)
                .values_list("order_id", "cycle__order_id", "subscription_id", "amount"))
    for order_id, cycle_order_id, subscription_id, amount in attempts:
        order_id = order_id or cycle_order_id
        ours[order_id] += amount
        owner[order_id] = subscription_id
    refunds = (SubscriptionEvent.objects
               .filter(type=EventType.REFUNDED, currency=currency, date__gte=start, date__lt=end)
               .values_list("order_id", "subscription_id", "amount"))
    for order_id, subscription_id, amount in refunds:
        ours[order_id] -= amount or Decimal(0)
        owner[order_id] = subscription_id
    origins = set(Subscription.objects.filter(currency=currency).exclude(origin_order=None)
                  .values_list("origin_order_id", flat=True))
    linked = (list(BillingCycle.objects.filter(currency=currency, cycle_index__gt=0)
                   .exclude(order=None).values_list("order_id", "subscription_id"))
              + list(SubscriptionEvent.objects.filter(subscription__currency=currency)
                     .exclude(order=None).values_list("order_id", "subscription_id")))
    for order_id, subscription_id in linked:
        owner.setdefault(order_id, subscription_id)
    saleor = net_captured_by_order([pk for pk in owner if pk is not None], currency, start, end,
                                   refunds_only=origins)
    result = Reconciliation(currency=currency, start=start, end=end,
                            saleor=sum(saleor.values(), Decimal(0)),
                            ours=sum(ours.values(), Decimal(0)))
    for order_id in sorted(owner, key=lambda pk: pk or 0):
        theirs, mine = saleor.get(order_id, Decimal(0)), ours.get(order_id, Decimal(0))
        if theirs != mine:
            result.differences.append(OrderDifference(order_id, owner[order_id], theirs, mine))
    return result
