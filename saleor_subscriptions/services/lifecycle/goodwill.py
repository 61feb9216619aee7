"""Staff goodwill: a discount on the next N renewals, or a free period, always with a reason."""
from datetime import datetime, timedelta
from typing import Optional

from django.db import transaction

from ...discount_models import DiscountSource, SubscriptionDiscount
from ...domain import periods
from ...domain.text import text_problem
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from .. import discounts
from ..events import record_event
from . import Actor, lock, refuse
from .staff import MAX_DAYS_AHEAD, MAX_EXTENSION_DAYS, ensure_billable

MAX_REASON_LENGTH = 1000
MAX_FREE_CYCLES = 24


def clean_reason(reason: Optional[str]) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise refuse("Say why (the reason is kept with the event).",
                     SubscriptionErrorCode.REQUIRED, field="reason")
    problem = text_problem(reason, MAX_REASON_LENGTH)
    if problem:
        raise refuse(problem, SubscriptionErrorCode.INVALID, field="reason")
    return reason


@transaction.atomic
def grant_goodwill(subscription_id: int, actor: Actor, now: datetime, *, reason: str,
                   percent=None, amount=None, currency=None, renewals=None) -> Subscription:
    """A percent or an amount off the next `renewals` paid renewals (None: while it lasts)."""
    reason = clean_reason(reason)
    subscription = lock(subscription_id)
    discounts.grant_discount(subscription, source=DiscountSource.GOODWILL, reason=reason,
                             actor=actor, now=now, percent=percent, amount=amount,
                             currency=currency, renewals=renewals)
    return subscription


@transaction.atomic
def end_discount(discount_id: int, actor: Actor, now: datetime, reason: str) -> Subscription:
    reason = clean_reason(reason)
    subscription_id = (SubscriptionDiscount.objects.filter(pk=discount_id)
                       .values_list("subscription_id", flat=True).first())
    subscription = lock(subscription_id)
    discount = subscription.discounts.select_for_update().get(pk=discount_id)
    if discount.ended_at is not None:
        raise refuse("This discount has ended already.", SubscriptionErrorCode.INVALID_STATUS)
    discounts.end_discount(subscription, discount, now, "removed", actor, reason=reason)
    return subscription


@transaction.atomic
def give_free_period(subscription_id: int, actor: Actor, now: datetime, *, reason: str,
                     cycles: Optional[int] = None, days: Optional[int] = None) -> Subscription:
    """Push the next billing (and the paid period's end) by whole billing cycles on the
    anchor's grid, or by days (the anchor moves with them); nothing is charged for it."""
    if (cycles is None) == (days is None):
        raise refuse("Give either cycles or days.", SubscriptionErrorCode.REQUIRED,
                     field="cycles")
    if cycles is not None and not 1 <= cycles <= MAX_FREE_CYCLES:
        raise refuse("Give 1 to %d free cycles." % MAX_FREE_CYCLES,
                     SubscriptionErrorCode.INVALID, field="cycles")
    if days is not None and not 1 <= days <= MAX_EXTENSION_DAYS:
        raise refuse("Give 1 to %d free days." % MAX_EXTENSION_DAYS,
                     SubscriptionErrorCode.INVALID, field="days")
    reason = clean_reason(reason)
    subscription = lock(subscription_id)
    ensure_billable(subscription)
    previous = subscription.next_billing_at
    if cycles is not None:
        interval = subscription.plan.interval
        moved = previous
        for _cycle in range(cycles):
            moved = periods.next_billing_date_after(subscription.anchor_at, interval, moved)
    else:
        moved = previous + timedelta(days=days)
    if moved > now + MAX_DAYS_AHEAD:
        raise refuse("The next billing date may be at most %d days ahead." % MAX_DAYS_AHEAD.days,
                     SubscriptionErrorCode.INVALID, field="cycles" if cycles else "days")
    if days is not None:
        subscription.anchor_at += moved - previous  # later renewals keep the new day
    subscription.next_billing_at = moved
    subscription.current_period_end = moved
    subscription.save()
    record_event(subscription, EventType.FREE_PERIOD_GIVEN, date=now, cycles=cycles, days=days,
                 previous=previous, next_billing_at=moved, reason=reason, **actor.event_fields())
    return subscription
