"""Pause (for N cycles or until resumed), resume with a new anchor, skip the next renewal."""
from datetime import datetime
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
    subscription.pause_resumes_at = (
        periods.billing_date(now, subscription.plan.interval, cycles) if cycles else None)
    subscription.next_billing_at = None
    subscription.save()
    record_event(subscription, EventType.PAUSED, date=now, cycles=cycles,
                 resumes_at=subscription.pause_resumes_at, **actor.event_fields())
    return subscription


@transaction.atomic
def resume(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    """Billing starts again from now: the new anchor, due at once (the renewal run charges it)."""
    subscription = lock(subscription_id)
    if subscription.status != Status.PAUSED.value:
        raise refuse("Only a paused subscription can be resumed.")
    automatic = subscription.pause_resumes_at is not None and subscription.pause_resumes_at <= now
    ensure_transition(subscription.status, Status.ACTIVE)
    subscription.status = Status.ACTIVE.value
    subscription.paused_at = subscription.pause_resumes_at = None
    subscription.anchor_at = subscription.next_billing_at = now
    subscription.save()
    record_event(subscription, EventType.RESUMED, date=now, anchor_at=now, automatic=automatic,
                 **actor.event_fields())
    return subscription


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
