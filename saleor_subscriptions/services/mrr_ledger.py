"""The MRR ledger's writer: called by record_event, in the transaction of every state change."""
from decimal import Decimal
from typing import Dict, List, Optional

from django.db.models import Exists, OuterRef, Sum
from prices import Money

from ..domain.intro import cycle_unit_price
from ..domain.mrr import MovementKind, movement_kind, subscription_mrr
from ..models import EventType, MrrMovement, Subscription, SubscriptionEvent


def current_mrr(subscription: Subscription) -> Decimal:
    """The subscription's MRR from its (in-memory) state: the next paid cycle's price after its
    active discounts."""
    currency = subscription.currency
    intro = (Money(subscription.intro_price_amount, currency)
             if subscription.intro_price_amount is not None else None)
    unit = cycle_unit_price(Money(subscription.unit_price_amount, currency), intro,
                            subscription.intro_until_cycle, subscription.paid_cycles)
    plan = subscription.plan
    cycle_amount = unit.amount * subscription.quantity
    if subscription.discount_count:
        # Discounts count while they last: granting one contracts MRR, its end expands it.
        from .discounts import discounted_cycle_price

        cycle_amount = discounted_cycle_price(subscription).amount
    return subscription_mrr(subscription.status, cycle_amount, 1,
                            plan.interval_unit, plan.interval_count, currency)


#: Events whose writers change nothing that MRR is made of (status, price, quantity, plan,
#: intro terms): the ledger is not asked. A change of those always writes an event of its own.
NO_REVENUE_CHANGE = frozenset({
    EventType.RENEWAL_ORDER_CREATED, EventType.PAYMENT_RETRY_SCHEDULED, EventType.PAYMENT_RETRIED,
    EventType.ADDRESS_CHANGED, EventType.PAYMENT_METHOD_CHANGED, EventType.ACCOUNT_LINKED,
    EventType.PLAN_CHANGE_SCHEDULED, EventType.PRICE_CHANGE_SCHEDULED,
    EventType.NEXT_BILLING_DATE_CHANGED, EventType.FREE_PERIOD_GIVEN,
    EventType.RENEWAL_UPCOMING, EventType.TRIAL_ENDING, EventType.CARD_EXPIRING,
    EventType.CARD_UPDATED, EventType.CARD_DETACHED, EventType.MANAGE_LINKS_REVOKED,
    EventType.DISPUTE_OPENED, EventType.DISPUTE_CLOSED, EventType.RETENTION_OFFERED,
    EventType.RETENTION_OFFER_DECLINED, EventType.WIN_BACK_OFFERED,
})


def record_movement(subscription: Subscription, event: Optional[SubscriptionEvent],
                    date) -> Optional[MrrMovement]:
    """Writes the difference between the state's MRR and the ledger's last mrr_after, if any."""
    if event is not None and event.type in NO_REVENUE_CHANGE:
        return None
    row = _movement(subscription, event, date, _last_rows([subscription.pk]))
    if row is not None:
        row.save()
    return row


def record_movements(pairs) -> List[MrrMovement]:
    """record_movement for many (event, subscription) pairs of distinct subscriptions (a
    renewal batch's events): the ledger's last rows read in one query, written in one INSERT."""
    pairs = [(event, subscription) for event, subscription in pairs
             if event.type not in NO_REVENUE_CHANGE]
    if not pairs:
        return []
    last = _last_rows([subscription.pk for _event, subscription in pairs])
    rows = [_movement(subscription, event, event.date, last) for event, subscription in pairs]
    return MrrMovement.objects.bulk_create([row for row in rows if row is not None])


def _last_rows(subscription_ids) -> Dict[int, MrrMovement]:
    """One query: each subscription's last row (in writing order) and whether it ever
    churned."""
    churns = MrrMovement.objects.filter(subscription=OuterRef("subscription"),
                                        kind=MovementKind.CHURN)
    rows = (MrrMovement.objects.filter(subscription_id__in=subscription_ids)
            .annotate(churned=Exists(churns))
            .order_by("subscription_id", "-pk").distinct("subscription_id")
            .only("subscription_id", "mrr_after"))
    return {row.subscription_id: row for row in rows}


def _movement(subscription, event, date, last_rows) -> Optional[MrrMovement]:
    after = current_mrr(subscription)
    last = last_rows.get(subscription.pk)
    before = last.mrr_after if last is not None else Decimal(0)
    churned = last is not None and last.churned
    kind = movement_kind(before, after, churned)
    if kind is None:
        return None
    return MrrMovement(
        subscription=subscription, date=date, kind=kind, currency=subscription.currency,
        amount=after - before, mrr_after=after, event=event,
    )


def mrr_at(currency: str, date) -> Decimal:
    total = (MrrMovement.objects.filter(currency=currency, date__lte=date)
             .aggregate(total=Sum("amount"))["total"])
    return total or Decimal(0)


def movements_summary(currency: str, start, end) -> Dict[str, Decimal]:
    """Sum of the movements of each kind in [start, end], plus net new (all kinds together)."""
    rows = (MrrMovement.objects.filter(currency=currency, date__gte=start, date__lte=end)
            .order_by().values("kind").annotate(total=Sum("amount")))  # no ordering: one group per kind
    summary = {kind: Decimal(0) for kind in MovementKind.ALL}
    for row in rows:
        summary[row["kind"]] = row["total"]
    summary["net_new"] = sum(summary.values(), Decimal(0))
    return summary


def backfill(date) -> int:
    """One movement for each subscription the ledger does not know yet (written before the
    ledger existed), from its current state, dated `date`; returns how many were written."""
    from django.db import transaction

    written = 0
    pending = (Subscription.objects.filter(mrr_movements__isnull=True)
               .select_related("plan").order_by("pk"))
    for subscription in pending.iterator():
        with transaction.atomic():
            if record_movement(subscription, None, date) is not None:
                written += 1
    return written
