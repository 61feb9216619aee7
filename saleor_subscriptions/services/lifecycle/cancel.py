"""Cancel now or at the period's end, undo a scheduled cancellation, reactivate."""
from datetime import datetime

from django.db import transaction

from ...domain import periods
from ...domain.states import Status, ensure_transition
from ...domain.text import REASON_TEXT_LENGTH, text_problem
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..abandon import abandon_open_cycles
from ..events import record_event
from . import Actor, lock, refuse

REASONS = ("too_expensive", "not_using", "switching", "missing_features", "quality",
           "shipping", "other")


def cancel(subscription_id: int, actor: Actor, now: datetime, *, immediately: bool = False,
           reason: str = "other", reason_text: str = "", refund_unused: bool = False
           ) -> Subscription:
    """refund_unused (the store's setting): refund the unused part of the period after an
    immediate cancellation."""
    problem = text_problem(reason_text, REASON_TEXT_LENGTH)
    if problem:
        raise refuse(problem, SubscriptionErrorCode.INVALID, field="reason_text")
    period = None
    with transaction.atomic():
        subscription = _cancel(subscription_id, actor, now, immediately, reason, reason_text)
        if immediately and refund_unused:
            period = (subscription.current_period_start, subscription.current_period_end)
    if period is not None:
        from .unused_refund import refund_unused as refund

        refund(subscription, actor, now, *period)
        subscription.refresh_from_db()  # a refund ends the paid period now
    return subscription


def _cancel(subscription_id, actor, now, immediately, reason, reason_text) -> Subscription:
    subscription = lock(subscription_id)
    if subscription.status in (Status.CANCELLED.value, Status.EXPIRED.value):
        raise refuse("The subscription is already %s." % subscription.status)
    if reason not in REASONS:
        raise refuse("Unknown reason %r." % reason, field="reason")
    subscription.cancel_reason, subscription.cancel_reason_text = reason, reason_text
    from ..retention import record_declined

    record_declined(subscription, reason, actor, now)  # offers were shown, and turned down
    if not immediately:
        if subscription.cancel_at_period_end:
            raise refuse("The subscription is already set to end on %s."
                         % subscription.current_period_end.date())
        subscription.cancel_at_period_end = True
        subscription.save()
        record_event(subscription, EventType.CANCELLATION_SCHEDULED, date=now, reason=reason,
                     reason_text=reason_text, ends_at=subscription.current_period_end,
                     **actor.event_fields())
        return subscription
    ensure_transition(subscription.status, Status.CANCELLED)
    previous = subscription.status
    subscription.status = Status.CANCELLED.value
    subscription.cancelled_at = subscription.ended_at = now
    subscription.next_billing_at = None
    subscription.cancel_at_period_end = False
    # A cycle in dunning is given up as when dunning ends: its draft order, stock and credit.
    abandoned = abandon_open_cycles(subscription)
    subscription.save()
    record_event(subscription, EventType.CANCELLED, date=now, reason=reason,
                 reason_text=reason_text, previous_status=previous,
                 **({"abandoned_cycles": abandoned} if abandoned else {}), **actor.event_fields())
    return subscription


@transaction.atomic
def undo_cancellation(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    subscription = lock(subscription_id)
    if not subscription.cancel_at_period_end:
        raise refuse("No cancellation is scheduled.")
    subscription.cancel_at_period_end = False
    subscription.cancel_reason = subscription.cancel_reason_text = ""
    subscription.save()
    record_event(subscription, EventType.CANCELLATION_UNDONE, date=now, **actor.event_fields())
    return subscription


@transaction.atomic
def reactivate(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    """A cancelled subscription comes back while the period it paid for still runs; billing
    continues on its original anchor. If the cancellation refunded the unused time, that time is
    gone: the subscription comes back (within the period it had paid for) with a new period
    from now on a new anchor, due at once (the renewal run charges it)."""
    subscription = lock(subscription_id)
    if subscription.status != Status.CANCELLED.value:
        raise refuse("Only a cancelled subscription can be reactivated.")
    refunded_until = None
    if subscription.current_period_end <= now:
        refunded_until = _refunded_paid_until(subscription)
        if refunded_until is None or refunded_until <= now:
            raise refuse("The paid period has ended: subscribe again instead.")
    ensure_transition(subscription.status, Status.ACTIVE)
    subscription.status = Status.ACTIVE.value
    subscription.cancelled_at = subscription.ended_at = None
    subscription.cancel_reason = subscription.cancel_reason_text = ""
    if refunded_until is None:
        subscription.next_billing_at = periods.next_billing_date_after(
            subscription.anchor_at, subscription.plan.interval, now)
    else:
        subscription.anchor_at = subscription.next_billing_at = now
    subscription.save()
    record_event(subscription, EventType.REACTIVATED, date=now,
                 next_billing_at=subscription.next_billing_at,
                 charged_now=refunded_until is not None, **actor.event_fields())
    return subscription


def restart(subscription: Subscription, actor: Actor, now: datetime, plan=None,
            **parameters) -> Subscription:
    """A cancelled subscription whose paid period is over comes back (a win-back; the caller
    holds the row lock): on `plan` (same family) or its own, with a new period from now on a new
    anchor, due at once — charged by the renewal run, or at once by the caller."""
    from .. import plans
    from ..discounts import on_plan_change

    ensure_transition(subscription.status, Status.ACTIVE)
    if plan is not None and plan.pk != subscription.plan_id:
        subscription.plan, subscription.variant_id = plan, plan.variant_id
        subscription.unit_price_amount = plans.plan_unit_price(plan).amount
        on_plan_change(subscription, now, actor)  # discounts that do not follow the plan end
    subscription.status = Status.ACTIVE.value
    subscription.cancelled_at = subscription.ended_at = None
    subscription.cancel_reason = subscription.cancel_reason_text = ""
    subscription.cancel_at_period_end = False
    subscription.scheduled_plan = subscription.scheduled_quantity = None
    subscription.anchor_at = subscription.next_billing_at = now
    subscription.save()
    record_event(subscription, EventType.REACTIVATED, date=now, next_billing_at=now,
                 charged_now=True, plan=subscription.plan_id, **parameters,
                 **actor.event_fields())
    return subscription


def _refunded_paid_until(subscription: Subscription):
    """The end of the paid period before its unused time was refunded at this cancellation."""
    event = subscription.events.filter(
        type=EventType.REFUNDED, date__gte=subscription.cancelled_at,
        parameters__unused_time=True).order_by("date", "pk").last()
    if event is None:
        return None
    return datetime.fromisoformat(event.parameters["paid_until"])
