"""Staff-only changes: move the next billing date, extend a period for free (goodwill)."""
from datetime import datetime, timedelta

from django.db import transaction

from ...domain.states import BILLABLE, Status
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..events import record_event
from . import Actor, lock, refuse

MAX_EXTENSION_DAYS = 366


def _ensure_billable(subscription: Subscription) -> None:
    if Status(subscription.status) not in BILLABLE or subscription.next_billing_at is None:
        raise refuse("Only a subscription that is being billed has a next billing date.")


@transaction.atomic
def move_next_billing(subscription_id: int, actor: Actor, now: datetime,
                      when: datetime) -> Subscription:
    """Bill next at `when` (in the future); later periods follow from there."""
    if when.tzinfo is None or when <= now:
        raise refuse("The next billing date must be in the future.",
                     SubscriptionErrorCode.INVALID, field="date")
    subscription = lock(subscription_id)
    _ensure_billable(subscription)
    previous = subscription.next_billing_at
    # The new date becomes the anchor, so later renewals keep its day of the month.
    subscription.anchor_at = subscription.next_billing_at = when
    subscription.current_period_end = when
    subscription.save()
    record_event(subscription, EventType.NEXT_BILLING_DATE_CHANGED, date=now, previous=previous,
                 next_billing_at=when, **actor.event_fields())
    return subscription


@transaction.atomic
def extend_period(subscription_id: int, actor: Actor, now: datetime, days: int) -> Subscription:
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise refuse("Extend by 1 to %d days." % MAX_EXTENSION_DAYS,
                     SubscriptionErrorCode.INVALID, field="days")
    subscription = lock(subscription_id)
    _ensure_billable(subscription)
    shift = timedelta(days=days)
    subscription.current_period_end += shift
    subscription.next_billing_at += shift
    subscription.anchor_at += shift
    subscription.save()
    record_event(subscription, EventType.PERIOD_EXTENDED, date=now, days=days,
                 next_billing_at=subscription.next_billing_at, **actor.event_fields())
    return subscription
