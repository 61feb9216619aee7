"""Failed renewals: payment failures follow the store's retry schedule, then the final action;
failures that are not the card's fault are retried a few times, then the subscription is parked.

Every function runs inside the caller's transaction on a locked subscription and cycle.
"""
from datetime import datetime, timedelta
from typing import Callable, Optional

from prices import Money

from ..domain import dunning
from ..domain.money import quantize
from ..domain.notices import NoticeKind
from ..domain.states import Status, ensure_transition
from ..models import (
    BILLABLE_STATUSES,
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    BillingCycle,
    CycleStatus,
    EventType,
    Subscription,
)
from . import notices
from .abandon import abandon_cycle
from .events import record_event

#: consecutive non-payment failures of one cycle before the subscription is parked
PARK_AFTER_FAILURES = 3
#: when the store's retry schedule is empty, blocked renewals are tried again after this
DEFAULT_BLOCKED_DELAY = timedelta(days=1)


def cycle_amount(cycle: BillingCycle) -> Money:
    return Money(cycle.amount, cycle.currency)


def set_status(subscription: Subscription, target: Status) -> Optional[str]:
    """Change the status through the transition table; returns the previous status."""
    previous = subscription.status
    if previous == target.value:
        return None
    ensure_transition(previous, target)
    subscription.status = target.value
    return previous


def record_payment_failure(subscription, cycle, attempt, result, now: datetime, settings,
                           before_abandon: Optional[Callable[[], None]] = None) -> str:
    """A decline or an authentication request: past due, retry later or run the final action.
    `before_abandon`: called before the cycle is abandoned (its order removed or cancelled,
    which Saleor tells plugins at once): an open intent is closed then, and may undo it all."""
    action_required = attempt.status == AttemptStatus.ACTION_REQUIRED
    cycle.attempt_count += 1
    cycle.first_failed_at = cycle.first_failed_at or now
    cycle.status = CycleStatus.FAILED
    cycle.error_code = result.error_code or ("authentication_required" if action_required
                                             else "card_declined")
    cycle.last_error = result.error_message or cycle.error_code
    previous = abandoned = None
    if subscription.status in (Status.TRIALING.value, Status.ACTIVE.value):
        previous = set_status(subscription, Status.PAST_DUE)
    elif subscription.status not in BILLABLE_STATUSES:
        # Cancelled or paused while this charge was in flight: nothing more to collect.
        if before_abandon is not None:
            before_abandon()
        abandoned = dict(abandon_cycle(subscription, cycle), abandoned=True)
    failure = record_event(
        subscription, EventType.PAYMENT_FAILED, date=now, order=cycle.order, amount=cycle_amount(cycle),
        cycle_index=cycle.cycle_index, attempt=cycle.attempt_count, code=cycle.error_code,
        message=cycle.last_error, previous_status=previous, status=subscription.status,
        **(abandoned or {}),
    )
    if action_required:
        record_event(
            subscription, EventType.PAYMENT_ACTION_REQUIRED, date=now, order=cycle.order,
            amount=cycle_amount(cycle), cycle_index=cycle.cycle_index,
            payment_reference=attempt.gateway_reference,
        )
    if abandoned is not None:
        return "abandoned"
    retry_at = dunning.next_retry_at(
        cycle.first_failed_at, settings.retry_schedule, cycle.attempt_count
    )
    if retry_at is not None:
        cycle.next_retry_at = max(retry_at, now)
        record_event(
            subscription, EventType.PAYMENT_RETRY_SCHEDULED, date=now, order=cycle.order,
            cycle_index=cycle.cycle_index, retry_at=cycle.next_retry_at,
            retry_number=cycle.attempt_count,
        )
        _tell_staff(subscription, cycle, settings)
        if not action_required:  # an open 3-D Secure intent has its own e-mail (how to confirm)
            _tell_customer(subscription, cycle, failure, cycle.next_retry_at, settings,
                           action_required)
        return "failed"
    _tell_staff(subscription, cycle, settings)
    _tell_customer(subscription, cycle, failure, None, settings, action_required)
    apply_final_action(subscription, cycle, now, settings, before_abandon)
    return "exhausted"


def _tell_staff(subscription, cycle, settings) -> None:
    """Once per failing cycle, at its first failure (with the next try); dunning carries on."""
    if cycle.attempt_count == 1:
        notices.notify_staff_of_payment_failure(subscription, cycle, settings)


def _tell_customer(subscription, cycle, failure, retry_at, settings, action_required: bool
                   ) -> None:
    """The payment-failed e-mail, once per decline: update the card before the next try, or
    what happened after the last one."""
    notices.decide(
        subscription, NoticeKind.PAYMENT_FAILED, failure.pk, settings,
        amount=str(quantize(cycle.amount, cycle.currency)), currency=cycle.currency,
        retry_at=retry_at, final_action=settings.final_action.value,
        action_required=action_required,
    )


def apply_final_action(subscription, cycle, now: datetime, settings,
                       before_abandon: Optional[Callable[[], None]] = None) -> None:
    """Dunning is over: abandon the cycle (its unpaid draft order and the stock it held go, its
    credit comes back), then cancel or pause."""
    if before_abandon is not None:
        before_abandon()
    undone = abandon_cycle(subscription, cycle)
    action = settings.final_action
    record_event(
        subscription, EventType.DUNNING_EXHAUSTED, date=now, order=cycle.order,
        amount=cycle_amount(cycle), cycle_index=cycle.cycle_index, attempts=cycle.attempt_count,
        action=action.value, **undone,
    )
    subscription.next_billing_at = None
    if action == dunning.FinalAction.PAUSE:
        previous = set_status(subscription, Status.PAUSED)
        subscription.paused_at = now
        record_event(subscription, EventType.PAUSED, date=now, previous_status=previous,
                     reason="dunning_exhausted")
    else:
        previous = set_status(subscription, Status.CANCELLED)
        subscription.cancelled_at = now
        subscription.ended_at = now
        subscription.cancel_reason = "payment_failed"
        record_event(subscription, EventType.CANCELLED, date=now, previous_status=previous,
                     reason="dunning_exhausted")


def record_blocked(subscription, cycle, code: str, message: str, now: datetime, settings) -> str:
    """A renewal that failed for a reason other than the card; parks repeated offenders."""
    cycle.blocked_count += 1
    cycle.status = CycleStatus.FAILED
    cycle.error_code = code
    cycle.last_error = message
    schedule = settings.retry_schedule
    delay = schedule[min(cycle.blocked_count, len(schedule)) - 1] if schedule else (
        DEFAULT_BLOCKED_DELAY)
    cycle.next_retry_at = now + delay
    record_event(
        subscription, EventType.RENEWAL_FAILED, date=now, order=cycle.order, cycle_index=cycle.cycle_index,
        code=code, message=message, failures=cycle.blocked_count, retry_at=cycle.next_retry_at,
    )
    if cycle.blocked_count >= PARK_AFTER_FAILURES:
        park(subscription, "%s: %s" % (code, message), now)
        return "parked"
    return "blocked"


def park(subscription, reason: str, now: datetime) -> None:
    subscription.parked_at = now
    subscription.parked_reason = reason
    record_event(subscription, EventType.PARKED, date=now, reason=reason)


def release(subscription, now: datetime, **actor) -> None:
    """Un-park: the open cycle (if any) is due again right away."""
    reason = subscription.parked_reason
    subscription.parked_at = None
    subscription.parked_reason = ""
    BillingCycle.objects.filter(
        subscription=subscription, status__in=OPEN_CYCLE_STATUSES
    ).update(blocked_count=0, next_retry_at=now)
    record_event(subscription, EventType.RELEASED, date=now, previous_reason=reason, **actor)
