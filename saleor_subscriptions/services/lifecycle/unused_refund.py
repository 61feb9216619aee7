"""The store's "refund unused time on immediate cancellation": the unused share of what the
current period actually captured goes back through the period's order, and the paid period ends
at that moment (a reactivation afterwards is a new period, charged)."""
from datetime import datetime
from decimal import Decimal
from typing import Optional

from django.core.exceptions import ValidationError
from django.db.models import Sum
from prices import Money

from ...domain import proration
from ...models import CycleStatus, EventType, Subscription, SubscriptionPlan
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
    paid = captured_for_period(subscription, cycle)
    if paid is None:
        return None
    amount = proration.unused_refund(paid, period_start, period_end, now)
    if not amount.amount:
        return None
    try:
        return refund(subscription.pk, actor, now, order_id, amount.amount,
                      ends_paid_period=True)
    except ValidationError as error:
        record_event(subscription, EventType.PAYMENT_FAILED, date=now, order_id=order_id,
                     refund_of_unused_time=amount, error=" ".join(error.messages),
                     **actor.event_fields())
        return None


def captured_for_period(subscription: Subscription, cycle) -> Optional[Money]:
    """What the period's order still holds of the subscription's money: a renewal order's
    captured amount (refunds already taken off); of the checkout order only the recurring line
    (no sign-up fee, shipping or other lines; nothing during a free trial), less what was
    refunded of it before."""
    from ...saleor_adapter.payments import order_by_pk, refundable_payment

    payment = refundable_payment(order_by_pk(cycle.order_id))
    if payment is None:
        return None
    captured = Decimal(payment.captured_amount)
    if cycle.cycle_index > 0 or cycle.order_id != subscription.origin_order_id:
        return Money(captured, payment.currency)
    if subscription.trial_end_at is not None:  # cycle 0 was a trial: only the fee was paid
        return None
    recurring = cycle.amount - _signup_fee(subscription)
    refunded = subscription.events.filter(
        type=EventType.REFUNDED, order_id=cycle.order_id).aggregate(total=Sum("amount"))["total"]
    share = min(recurring - (refunded or 0), captured)
    return Money(share, payment.currency) if share > 0 else None


def _signup_fee(subscription: Subscription) -> Decimal:
    """The sign-up fee of the plan the subscription started on (cycle 0's amount includes it)."""
    created = subscription.events.filter(type=EventType.CREATED).first()
    plan_id = created.parameters.get("plan") if created is not None else None
    fee = SubscriptionPlan.objects.filter(pk=plan_id or subscription.plan_id).values_list(
        "signup_fee_amount", flat=True).first()
    return fee or Decimal(0)
