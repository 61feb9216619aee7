"""Abandon an open billing cycle: nothing more will be collected for its period.

One way for both reasons a cycle is given up: dunning is over (dunning.apply_final_action) and
the subscription is cancelled while a cycle is open (lifecycle/cancel.py). The cycle's unpaid
renewal order — a draft until paid — is removed with the stock it held, and the credit taken
off it goes back to the subscription. Runs inside the caller's transaction on locked rows.

A cycle whose charge waits for the customer (3-D Secure) is abandoned only once that intent is
closed: cancelled before the abandonment commits, under the row locks (a gateway call in the
transaction, but only when a cycle is given up). Abandoned with its intent open, it could be
paid with no open attempt left to record it. IntentNotClosed undoes the abandonment.
A cancel at Stripe is not undone with it: `closed_intents_kept` keeps the closure.
"""
import logging
from contextlib import contextmanager
from typing import Callable, List

from django.db import transaction
from prices import Money

from ..gateway.interface import CHARGE_CANCELED, ChargeOutcome, ChargeResult
from ..models import OPEN_CYCLE_STATUSES, AttemptStatus, BillingCycle, CycleStatus

logger = logging.getLogger(__name__)


class IntentNotClosed(Exception):
    """Raised in the abandonment's transaction when the open intent of a cycle being abandoned
    could not be closed (`result` UNKNOWN), or was completed meanwhile (SUCCEEDED): the caller
    rolls back and records `result` for `attempt_id`'s cycle instead."""

    def __init__(self, result: ChargeResult, attempt=None):
        super().__init__(result.outcome.value)
        self.result = result
        self.attempt_id = getattr(attempt, "pk", None)
        self.cycle_id = getattr(attempt, "cycle_id", None)


def close_open_intent(gateway, attempt) -> None:
    """Close `attempt`'s intent waiting for the customer before its cycle is abandoned (the
    attempt fails then; the caller saves it); raises IntentNotClosed when it is not closed."""
    from .charging import close_intent

    if attempt.gateway_reference:
        unpaid = ChargeResult(ChargeOutcome.DECLINED, reference=attempt.gateway_reference)
        answer = close_intent(gateway, unpaid)
        if answer is not unpaid:
            raise IntentNotClosed(answer, attempt)
    attempt.status = AttemptStatus.FAILED


def abandon_cycle(subscription, cycle: BillingCycle) -> dict:
    """Abandon `cycle` (the caller saves it and the subscription); returns what was undone, as
    event parameters: `credit_returned`, and `removed_order` (the draft's number) when it went."""
    from ..saleor_adapter.orders import carried_balance, discard_unpaid_order, order_credit

    cycle.status = CycleStatus.ABANDONED
    cycle.next_retry_at = None
    undone = {}
    order = cycle.order if cycle.order_id is not None else None
    if order is None:
        return undone
    number, credit, carried = order.pk, order_credit(order), carried_balance(order)
    discarded = discard_unpaid_order(order)
    if discarded is not None and credit:
        subscription.credit_amount += credit
        undone["credit_returned"] = Money(credit, cycle.currency)
    if discarded is not None and carried:
        # An earlier renewal's balance below the minimum charge is still owed (services/carry.py).
        subscription.carried_amount += carried
        undone["carried_returned"] = Money(carried, cycle.currency)
    if discarded == "removed":
        cycle.order = None
        undone["removed_order"] = number
    return undone


def abandon_open_cycles(subscription, gateway_of: Callable[[], object],
                        closed: List[int] = None) -> List[dict]:
    """Abandon the subscription's open cycles (saved here), except one whose charge is in
    flight: its outcome is still to be recorded (paid: its order is placed; declined: abandoned
    then, by dunning.record_payment_failure). A cycle's intent waiting for the customer is
    closed first, with the gateway `gateway_of()` answers (asked for only then); its attempt's
    id goes into `closed` (`closed_intents_kept`'s)."""
    from ..models import PaymentAttempt
    from .charging import open_intent_attempt

    cycles = (
        BillingCycle.objects.select_for_update(of=("self",)).select_related("order")
        .filter(subscription=subscription, status__in=OPEN_CYCLE_STATUSES)
        .exclude(attempts__status=AttemptStatus.STARTED)
        .order_by("cycle_index")
    )
    abandoned = []
    for cycle in cycles:
        waiting = open_intent_attempt(list(
            PaymentAttempt.objects.select_for_update().filter(cycle=cycle).order_by("pk")))
        if waiting is not None:
            close_open_intent(gateway_of(), waiting)
            waiting.save()
            if closed is not None:
                closed.append(waiting.pk)
        undone = abandon_cycle(subscription, cycle)
        cycle.save()
        abandoned.append(dict(undone, cycle_index=cycle.cycle_index))
    return abandoned



#: PaymentAttempt.error_message of an intent closed by an abandonment that was then undone
CLOSED_UNDONE = "Closed at the gateway; the cycle's abandonment did not go through."


@contextmanager
def closed_intents_kept(now):
    """Around a transaction that abandons cycles (`with closed_intents_kept(now) as closed,
    transaction.atomic():`, passing `closed` to abandon_open_cycles). An intent cancelled at
    Stripe stays cancelled when that transaction rolls back after it (another cycle's intent
    not closed, any later error): its attempt is failed then, in a transaction of its own, so
    that it is neither offered to the customer again nor taken for a declined card at the next
    retry, which charges again on the cycle's schedule."""
    closed: List[int] = []
    try:
        yield closed
    except BaseException:
        if closed:
            try:
                keep_closed(closed, now)
            except Exception:  # the original error is the one to report
                logger.exception("Could not record the closed intents of attempts %s", closed)
        raise


def keep_closed(attempt_ids: List[int], now, message: str = CLOSED_UNDONE) -> None:
    """The attempts whose intent is closed at the gateway fail, in a transaction of their own
    (unless recorded meanwhile)."""
    from ..models import PaymentAttempt, Subscription

    with transaction.atomic():
        attempts = PaymentAttempt.objects.filter(pk__in=attempt_ids)
        # The subscription's row lock first, as every writer of its attempts takes it.
        list(Subscription.objects.select_for_update(of=("self",)).filter(
            pk__in=attempts.values("subscription_id")).order_by("pk"))
        for attempt in attempts.select_for_update().order_by("pk"):
            if attempt.status != AttemptStatus.ACTION_REQUIRED:
                continue  # recorded meanwhile (a webhook saw it completed or closed)
            attempt.status, attempt.finished_at = AttemptStatus.FAILED, now
            attempt.error_code, attempt.error_message = CHARGE_CANCELED, message
            attempt.save()
