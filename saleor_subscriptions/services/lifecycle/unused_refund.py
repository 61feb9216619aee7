"""The store's "refund unused time on immediate cancellation": the unused share of what the
current period's subscription charge paid goes back through the period's order."""
from datetime import datetime
from typing import Optional

from django.core.exceptions import ValidationError
from prices import Money

from ...domain import pricing, proration
from ...models import CycleStatus, EventType, Subscription
from ..events import record_event
from . import Actor


def refund_unused(subscription: Subscription, actor: Actor, now: datetime,
                  period_start: datetime, period_end: datetime) -> Optional[Money]:
    """Call after the cancellation committed; a refused refund is recorded, not raised, because
    the cancellation stands either way."""
    from .refund import refund

    cycle = subscription.cycles.filter(cycle_index=subscription.cycle_index,
                                       status=CycleStatus.PAID).first()
    order_id = cycle.order_id if cycle is not None else None
    if order_id is None or not period_start <= now <= period_end:
        return None
    paid = pricing.recurring_charge(subscription.unit_price, subscription.quantity)
    amount = proration.unused_refund(paid, period_start, period_end, now)
    if not amount.amount:
        return None
    try:
        return refund(subscription.pk, actor, now, order_id, amount.amount)
    except ValidationError as error:
        record_event(subscription, EventType.PAYMENT_FAILED, date=now, order_id=order_id,
                     refund_of_unused_time=amount, error=" ".join(error.messages),
                     **actor.event_fields())
        return None
