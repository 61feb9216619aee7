"""A renewal payment that arrives for a cycle already abandoned: given back, never kept unrecorded.

A cycle is abandoned only once its open intent is closed (abandon.close_open_intent), so this is
the race or the past: cycles abandoned before that rule, or a cancel lost after the commit. The
cycle's order is gone (or cancelled) and the subscription has ended or paused, so there is no
order to place it on: the charge is refunded in full at the gateway, with a key made from the
attempt's, and the attempt records that the money was taken (SUCCEEDED) beside the REFUNDED
event that gave it back (staff see both in the history, and get an e-mail; revenue
reconciliation nets them).
"""
from datetime import datetime
from typing import Optional

from prices import Money

from ..gateway.interface import ChargeResult, GatewayRefund, RefundResult
from ..models import AttemptStatus, BillingCycle, CycleStatus, EventType, PaymentAttempt
from .events import record_event
from .notices import notify_staff_of_refunded_payment

REASON = "cycle_abandoned"


def is_lost(attempt: PaymentAttempt, cycle: BillingCycle) -> bool:
    """A renewal attempt closed (FAILED) with its cycle abandoned: a success arriving for it
    would be dropped by the open-attempt rule, so it is looked at here."""
    return attempt.status == AttemptStatus.FAILED and cycle.status == CycleStatus.ABANDONED


def refund_key(attempt: PaymentAttempt) -> str:
    return "refund:%s:%s" % (REASON, attempt.idempotency_key)


def _made_before(gateway, reference: str, key: str) -> Optional[GatewayRefund]:
    """Our refund with `key`, made by an earlier try whose commit was lost: the gateway refuses
    to refund the charge again once its idempotency window is over."""
    listed = gateway.list_refunds(reference) or ()
    return next((refund for refund in listed if refund.key == key), None)


def give_back(subscription, cycle: BillingCycle, attempt: PaymentAttempt, result: ChargeResult,
              now: datetime, context) -> bool:
    """Inside the outcome's transaction, rows locked (the gateway's refund is called under them,
    as a cycle's abandonment closes its intent): refund `result`'s charge; False when the
    gateway refused (nothing is recorded then: the caller tries again later)."""
    amount = result.amount or Money(attempt.amount, attempt.currency)
    refund = context.gateway.refund(result.reference, amount, refund_key(attempt))
    if not refund.succeeded:
        made = _made_before(context.gateway, result.reference, refund_key(attempt))
        if made is None:
            attempt.error_code, attempt.error_message = "refund_failed", refund.error_message
            return False
        refund, amount = RefundResult(True, reference=made.reference), made.amount
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.gateway_reference = result.reference
    attempt.error_code, attempt.error_message = REASON, "Refunded: the cycle was abandoned."
    attempt.finished_at = now
    record_event(subscription, EventType.REFUNDED, date=now, amount=amount, reason=REASON,
                 cycle_index=cycle.cycle_index, payment_reference=result.reference,
                 refund_reference=refund.reference, status=subscription.status)
    notify_staff_of_refunded_payment(subscription, cycle, amount=amount,
                                     reference=result.reference,
                                     refund_reference=refund.reference,
                                     settings=context.settings)
    return True
