"""Staff-only changes: move the next billing date, extend a period for free (goodwill)."""
from datetime import datetime, timedelta, timezone

from django.db import transaction

from ...domain.states import BILLABLE, Status
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..events import record_event
from . import Actor, lock, refuse

MAX_EXTENSION_DAYS = 366
#: How far ahead staff may move a billing date (10 years): later dates would outgrow the
#: calendar once periods are added to them (year 9999 + 1 month).
MAX_DAYS_AHEAD = timedelta(days=3653)


def _in_window(when: datetime, now: datetime) -> bool:
    try:
        return now < when.astimezone(timezone.utc) <= now + MAX_DAYS_AHEAD
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        return False


def ensure_billable(subscription: Subscription) -> None:
    if Status(subscription.status) not in BILLABLE or subscription.next_billing_at is None:
        raise refuse("Only a subscription that is being billed has a next billing date.")


@transaction.atomic
def move_next_billing(subscription_id: int, actor: Actor, now: datetime,
                      when: datetime) -> Subscription:
    """Bill next at `when` (in the future, at most 10 years ahead); later periods follow."""
    if when.tzinfo is None or when.utcoffset() is None:
        # Whose midnight would a date without a time zone be? Ask instead of guessing.
        raise refuse("Give the date with its time zone, e.g. 2030-01-31T10:00:00Z.",
                     SubscriptionErrorCode.INVALID, field="date")
    if not _in_window(when, now):
        raise refuse("The next billing date must be in the future and at most %d days ahead."
                     % MAX_DAYS_AHEAD.days, SubscriptionErrorCode.INVALID, field="date")
    subscription = lock(subscription_id)
    ensure_billable(subscription)
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
    ensure_billable(subscription)
    shift = timedelta(days=days)
    if subscription.next_billing_at + shift > now + MAX_DAYS_AHEAD:
        raise refuse("The next billing date may be at most %d days ahead."
                     % MAX_DAYS_AHEAD.days, SubscriptionErrorCode.INVALID, field="days")
    subscription.current_period_end += shift
    subscription.next_billing_at += shift
    subscription.anchor_at += shift
    subscription.save()
    record_event(subscription, EventType.PERIOD_EXTENDED, date=now, days=days,
                 next_billing_at=subscription.next_billing_at, **actor.event_fields())
    return subscription
