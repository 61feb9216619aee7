"""Staff refund a payment of one of the subscription's orders, fully or in part."""
from datetime import datetime
from decimal import Decimal
from typing import Optional

from django.db import transaction
from prices import Money

from ...domain.money import minor_units, quantize
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..events import record_event
from ..plan_admin import MAX_AMOUNT
from . import Actor, lock, refuse


def subscription_order_ids(subscription: Subscription) -> set:
    """The checkout order, the renewal orders and the adjustment (prorated upgrade) orders."""
    ids = set(subscription.cycles.exclude(order=None).values_list("order_id", flat=True))
    ids |= set(subscription.events.exclude(order=None).values_list("order_id", flat=True))
    if subscription.origin_order_id:
        ids.add(subscription.origin_order_id)
    return ids


def _check_amount(amount: Decimal, currency: str) -> None:
    """A positive, finite amount with the currency's decimals (NaN, Infinity and 1e30 are
    Decimals too); anything above MAX_AMOUNT is more than any payment."""
    if not (amount.is_finite() and 0 < amount <= MAX_AMOUNT) or quantize(amount, currency) != amount:
        raise refuse("Give a positive amount in %s, with at most %d decimal places."
                     % (currency, minor_units(currency)), SubscriptionErrorCode.INVALID,
                     field="amount")


def refund(subscription_id: int, actor: Actor, now: datetime, order_id: int,
           amount: Optional[Decimal], ends_paid_period: bool = False) -> Money:
    """ends_paid_period: the refund gives back the rest of the period (an immediate
    cancellation's unused time), so the paid period ends now, recorded on the refund's event."""
    from ...saleor_adapter.payments import (
        RefundRefused,
        order_by_pk,
        refund_order_payment,
        refundable_payment,
    )

    subscription = Subscription.objects.get(pk=subscription_id)
    if amount is not None:
        _check_amount(amount, subscription.currency)
    if order_id not in subscription_order_ids(subscription):
        raise refuse("The order is not one of this subscription's orders.",
                     SubscriptionErrorCode.NOT_FOUND, field="order_id")
    order = order_by_pk(order_id)
    payment = refundable_payment(order)
    if payment is None:
        raise refuse("Nothing was paid on this order.", SubscriptionErrorCode.INVALID,
                     field="order_id")
    amount = payment.captured_amount if amount is None else amount
    _check_amount(amount, payment.currency)
    if amount > payment.captured_amount:
        raise refuse("At most %s %s can be refunded." % (payment.captured_amount, payment.currency),
                     SubscriptionErrorCode.AMOUNT_TOO_HIGH, field="amount")
    try:
        refund_order_payment(order, amount, actor.user)
    except RefundRefused as error:
        raise refuse(str(error), SubscriptionErrorCode.PAYMENT_ERROR, field="amount")
    refunded = Money(amount, payment.currency)
    with transaction.atomic():
        period = {}
        if ends_paid_period:
            subscription = lock(subscription_id)
            period = {"unused_time": True, "paid_until": subscription.current_period_end,
                      "paid_period_ended_at": now}
            subscription.current_period_end = now
            subscription.save()
        record_event(subscription, EventType.REFUNDED, date=now, order=order, amount=refunded,
                     **period, **actor.event_fields())
    return refunded
