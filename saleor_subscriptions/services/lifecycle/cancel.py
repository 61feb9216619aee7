"""Cancel now or at the period's end, undo a scheduled cancellation, reactivate."""
from datetime import datetime

from django.db import transaction

from ...domain import periods
from ...domain.states import Status, ensure_transition
from ...domain.text import REASON_TEXT_LENGTH, text_problem
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription
from ..abandon import IntentNotClosed, abandon_open_cycles, closed_intents_kept
from ..events import record_event
from . import Actor, lock, refuse

REASONS = ("too_expensive", "not_using", "switching", "missing_features", "quality",
           "shipping", "other")


def cancel(subscription_id: int, actor: Actor, now: datetime, *, immediately: bool = False,
           reason: str = "other", reason_text: str = "", refund_unused: bool = False,
           context=None) -> Subscription:
    """refund_unused (the store's setting): refund the unused part of the period after an
    immediate cancellation. `context` (renewals.make_context's, made when needed): closes a
    renewal's charge waiting for 3-D Secure, or records it when the customer completed it."""
    problem = text_problem(reason_text, REASON_TEXT_LENGTH)
    if problem:
        raise refuse(problem, SubscriptionErrorCode.INVALID, field="reason_text")
    contexts = [context]

    def context_now():
        if contexts[0] is None:
            from ..renewals import make_context

            contexts[0] = make_context()
        return contexts[0]

    period = None
    for _ in range(_MAX_COMPLETED):
        try:
            # An intent closed at Stripe stays closed if the cancellation rolls back after it.
            with closed_intents_kept(now) as closed, transaction.atomic():
                subscription = _cancel(subscription_id, actor, now, immediately, reason,
                                       reason_text, context_now, closed)
            break
        except IntentNotClosed as not_closed:
            _completed_or_refused(subscription_id, not_closed, now, context_now())
    else:
        raise _not_closed_refusal()
    if immediately and refund_unused:
        period = (subscription.current_period_start, subscription.current_period_end)
    if period is not None:
        from .unused_refund import refund_unused as refund

        refund(subscription, actor, now, *period)
        subscription.refresh_from_db()  # a refund ends the paid period now
    return subscription


#: cancellations tried again after an open intent of the subscription was found paid
_MAX_COMPLETED = 3


def _completed_or_refused(subscription_id: int, not_closed: IntentNotClosed, now, context):
    """Nothing of the cancellation was committed. An intent the customer completed just before
    our cancel is the cycle's payment, recorded (order placed, paid) before the cancellation is
    tried again on the paid period; one that could not be closed may still be completed, so the
    cancellation is refused until Stripe answers."""
    from .. import charging

    if not not_closed.result.succeeded:
        raise _not_closed_refusal()
    charging.record_outcome(subscription_id, not_closed.cycle_id, not_closed.attempt_id,
                            not_closed.result, now, context)


def _not_closed_refusal():
    return refuse("A renewal payment waiting for the customer's confirmation could not be "
                  "closed just now; try again in a moment.",
                  SubscriptionErrorCode.RENEWAL_IN_PROGRESS)


def _cancel(subscription_id, actor, now, immediately, reason, reason_text, context_now,
            closed) -> Subscription:
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
    abandoned = abandon_open_cycles(subscription, lambda: context_now().gateway, closed)
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
