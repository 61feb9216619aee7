"""Pause (for N cycles or until resumed), resume with a new anchor, skip the next renewal.

Paid time is never billed twice: the unused paid time at the pause (paid period end - paused_at)
is carried to the resume, and a pause for N cycles starts counting at the paid period's end."""
from datetime import datetime, timedelta
from typing import Optional

from django.core.exceptions import ValidationError
from django.db import transaction

from ...domain import periods
from ...domain.states import Status, ensure_transition
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..events import record_event
from . import Actor, lock, refuse


@transaction.atomic
def pause(subscription_id: int, actor: Actor, now: datetime, settings,
          cycles: Optional[int] = None) -> Subscription:
    subscription = lock(subscription_id)
    if not settings.allow_pause:
        raise refuse("This store does not allow pausing subscriptions.",
                     SubscriptionErrorCode.NOT_ALLOWED)
    if cycles is not None and not 1 <= cycles <= settings.max_pause_cycles:
        raise refuse("Pause for 1 to %d cycles." % settings.max_pause_cycles,
                     SubscriptionErrorCode.INVALID, field="cycles")
    if subscription.status not in (Status.ACTIVE.value, Status.TRIALING.value):
        raise refuse("Only an active subscription can be paused (it is %s)." % subscription.status)
    ensure_transition(subscription.status, Status.PAUSED)
    subscription.status = Status.PAUSED.value
    subscription.paused_at = now
    paid_until = max(subscription.current_period_end, now)
    subscription.pause_resumes_at = (
        periods.billing_date(paid_until, subscription.plan.interval, cycles) if cycles else None)
    subscription.next_billing_at = None
    subscription.save()
    record_event(subscription, EventType.PAUSED, date=now, cycles=cycles, paid_until=paid_until,
                 resumes_at=subscription.pause_resumes_at, **actor.event_fields())
    return subscription


@transaction.atomic
def resume(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    """Billing starts again on a new anchor: now + the unused paid time at the pause (the
    renewal run charges it then), at once if nothing paid was left — never later than the end
    of a pause for N cycles."""
    subscription = lock(subscription_id)
    if subscription.status != Status.PAUSED.value:
        raise refuse("Only a paused subscription can be resumed.")
    resumes_at = subscription.pause_resumes_at
    automatic = resumes_at is not None and resumes_at <= now
    carried = unused_paid_time(subscription)
    next_billing = now + carried
    if resumes_at is not None:
        next_billing = min(next_billing, resumes_at)
    ensure_transition(subscription.status, Status.ACTIVE)
    subscription.status = Status.ACTIVE.value
    subscription.paused_at = subscription.pause_resumes_at = None
    subscription.anchor_at = subscription.next_billing_at = next_billing
    if next_billing > now:  # the paid time runs on until then
        subscription.current_period_end = next_billing
    subscription.save()
    record_event(subscription, EventType.RESUMED, date=now, anchor_at=next_billing,
                 next_billing_at=next_billing, automatic=automatic,
                 carried_seconds=int(carried.total_seconds()), **actor.event_fields())
    return subscription


def unused_paid_time(subscription: Subscription) -> timedelta:
    """What was paid for but not used when the pause began (none if the period had run out)."""
    if subscription.paused_at is None:
        return timedelta(0)
    return max(subscription.current_period_end - subscription.paused_at, timedelta(0))


@transaction.atomic
def skip_next_renewal(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    subscription = lock(subscription_id)
    if subscription.status not in (Status.ACTIVE.value, Status.TRIALING.value):
        raise refuse("Only an active subscription has a renewal to skip.")
    if subscription.next_billing_at is None:
        raise refuse("No renewal is scheduled.")
    skipped = subscription.next_billing_at
    subscription.next_billing_at = periods.next_billing_date_after(
        subscription.anchor_at, subscription.plan.interval, skipped)
    subscription.save()
    record_event(subscription, EventType.RENEWAL_SKIPPED, date=now, skipped=skipped,
                 next_billing_at=subscription.next_billing_at, **actor.event_fields())
    return subscription


def resume_due(now: datetime, limit: int = 500) -> int:
    """Pauses for N cycles end by themselves: resume those whose time has come (the renewal run
    calls this first, so they are billed in the same run)."""
    due = list(Subscription.objects.filter(status=Status.PAUSED.value, pause_resumes_at__lte=now)
               .order_by("pause_resumes_at").values_list("pk", flat=True)[:limit])
    resumed = 0
    for subscription_id in due:
        try:
            resume(subscription_id, Actor(), now)
            resumed += 1
        except ValidationError:  # a charge of it is in flight: resumed by a later run
            continue
    return resumed
