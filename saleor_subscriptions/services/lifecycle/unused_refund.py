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
    the cancellation stands either way. Each order refunds its own unused share: the period's
    order, then the orders of prorated upgrades made during the period."""
    if not period_start <= now <= period_end:
        return None
    total, ends_period = None, True
    for order_id, paid, covered_from in _paid_portions(subscription, period_start):
        amount = proration.unused_refund(paid, covered_from, period_end, now)
        if not amount.amount:
            continue
        refunded = _refund(subscription, actor, now, order_id, amount, ends_period)
        if refunded is not None:
            total = refunded if total is None else total + refunded
            ends_period = False  # the period ended with the first refund
    return total


def _paid_portions(subscription: Subscription, period_start: datetime):
    """(order id, money it holds for the period, from when it paid) for the period's orders."""
    from ...saleor_adapter.payments import order_by_pk, refundable_payment

    cycle = subscription.cycles.filter(cycle_index=subscription.cycle_index,
                                       status=CycleStatus.PAID).first()
    if cycle is not None and cycle.order_id is not None:
        paid = captured_for_period(subscription, cycle)
        if paid is not None:
            yield cycle.order_id, paid, period_start
    upgrades = subscription.events.filter(
        type=EventType.PLAN_CHANGED, date__gte=period_start).exclude(order=None)
    for event in upgrades.order_by("date", "pk"):
        payment = refundable_payment(order_by_pk(event.order_id))
        if payment is not None:
            yield event.order_id, Money(payment.captured_amount, payment.currency), event.date


def _refund(subscription, actor, now, order_id, amount: Money, ends_period) -> Optional[Money]:
    from .refund import refund

    try:
        return refund(subscription.pk, actor, now, order_id, amount.amount,
                      ends_paid_period=ends_period)
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
