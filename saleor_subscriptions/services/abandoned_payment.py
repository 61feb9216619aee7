"""A renewal payment that arrives for a cycle already abandoned: given back, never kept unrecorded.

A cycle is abandoned only once its open intent is closed (abandon.close_open_intent), so this is
the race or the past: cycles abandoned before that rule, or a cancel lost after the commit. The
cycle's order is gone (or cancelled) and the subscription has ended or paused, so there is no
order to place it on: what is left of the charge (staff may have refunded part of it in
Stripe's dashboard) is refunded at the gateway, with a key made from the attempt's, and the
attempt records that the money was taken (SUCCEEDED) beside the REFUNDED event that gave it
back (staff see both in the history, and get an e-mail; revenue reconciliation nets them). A
refund the gateway refuses is written down (REFUND_FAILED event, staff e-mail) and asked again
by the renewal sweep, which also checks intents left open on abandoned cycles: no webhook is
needed for the money to go back.
"""
from datetime import datetime, timedelta

from prices import Money

from ..gateway.interface import ChargeResult
from ..models import AttemptStatus, BillingCycle, CycleStatus, EventType, PaymentAttempt
from .events import record_event
from .notices import notify_staff_of_refunded_payment, notify_staff_of_unrefunded_payment

REASON = "cycle_abandoned"
REFUND_FAILED = "refund_failed"
#: a refused give-back is asked again by the renewal sweep after this long
RETRY_DELAY = timedelta(minutes=5)


LEFT_OPEN_CLOSED = "Closed at the gateway by the sweep: its cycle was abandoned."


def is_lost(attempt: PaymentAttempt, cycle: BillingCycle) -> bool:
    """A renewal attempt closed (FAILED) with its cycle abandoned: a success arriving for it
    would be dropped by the open-attempt rule, so it is looked at here."""
    return attempt.status == AttemptStatus.FAILED and cycle.status == CycleStatus.ABANDONED


def lost_attempts():
    """is_lost, as a query."""
    return PaymentAttempt.objects.filter(status=AttemptStatus.FAILED,
                                         cycle__status=CycleStatus.ABANDONED)


def refund_key(attempt: PaymentAttempt) -> str:
    return "refund:%s:%s" % (REASON, attempt.idempotency_key)


def give_back(subscription, cycle: BillingCycle, attempt: PaymentAttempt, result: ChargeResult,
              now: datetime, context) -> bool:
    """Inside the outcome's transaction, rows locked (the gateway is called under them, as a
    cycle's abandonment closes its intent): refund what is left of `result`'s charge. False
    when the gateway refused: the attempt says so (REFUND_FAILED), and the first refusal is an
    event and a staff e-mail; the renewal sweep tries again (`stranded`)."""
    charged = result.amount or Money(attempt.amount, attempt.currency)
    key = refund_key(attempt)
    listed = context.gateway.list_refunds(result.reference)
    if listed is None:
        return _refused(subscription, cycle, attempt, result, charged, now, context,
                        "The charge's refunds could not be listed.")
    # Ours, from a try whose commit was lost: Stripe refuses a second one once its
    # idempotency window is over.
    made = next((refund for refund in listed if refund.key == key), None)
    left = Money(charged.amount - sum(refund.amount.amount for refund in listed),
                 charged.currency)
    if made is not None:
        reference, amount = made.reference, made.amount
    elif left.amount <= 0:  # staff gave it all back in Stripe's dashboard
        reference, amount = ",".join(refund.reference for refund in listed), charged
    else:
        refund = context.gateway.refund(result.reference, left, key)
        if not refund.succeeded:
            return _refused(subscription, cycle, attempt, result, left, now, context,
                            refund.error_message)
        reference, amount = refund.reference, left
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.gateway_reference = result.reference
    attempt.error_code, attempt.error_message = REASON, "Refunded: the cycle was abandoned."
    attempt.finished_at = now
    record_event(subscription, EventType.REFUNDED, date=now, amount=amount, reason=REASON,
                 cycle_index=cycle.cycle_index, payment_reference=result.reference,
                 refund_reference=reference, status=subscription.status)
    notify_staff_of_refunded_payment(subscription, cycle, amount=amount,
                                     reference=result.reference, refund_reference=reference,
                                     settings=context.settings)
    return True


def _refused(subscription, cycle, attempt, result, left: Money, now, context, error: str):
    first = attempt.error_code != REFUND_FAILED
    attempt.gateway_reference = result.reference or attempt.gateway_reference
    attempt.error_code, attempt.error_message = REFUND_FAILED, error
    attempt.finished_at = now  # the sweep tries again after a while
    if first:
        record_event(subscription, EventType.REFUND_FAILED, date=now, amount=left,
                     reason=REASON, cycle_index=cycle.cycle_index,
                     payment_reference=result.reference, error=error,
                     status=subscription.status)
        notify_staff_of_unrefunded_payment(subscription, cycle, amount=left,
                                           reference=result.reference, error=error,
                                           settings=context.settings)
    return False


def stranded(now: datetime, limit: int):
    """For the renewal sweep (charging.reconcile_started): attempts of abandoned cycles whose
    money may be kept with no webhook left to tell — a give-back the gateway refused (tried
    again after RETRY_DELAY), an intent left open (it may be paid, or must be closed)."""
    left_open = PaymentAttempt.objects.filter(status=AttemptStatus.ACTION_REQUIRED,
                                              cycle__status=CycleStatus.ABANDONED)
    return list(
        (left_open | lost_attempts().filter(error_code=REFUND_FAILED))
        .exclude(error_code=REFUND_FAILED, finished_at__gt=now - RETRY_DELAY)
        .exclude(gateway_reference="")
        .select_related("subscription").order_by("pk")[:limit])


def close_left_open(attempt_id: int, now: datetime) -> None:
    """Its intent is closed unpaid: the attempt of the abandoned cycle fails."""
    from .abandon import keep_closed

    keep_closed([attempt_id], now, message=LEFT_OPEN_CLOSED)
