"""The one charging path: store the attempt, call the gateway, record what happened.

Every charge — a renewal, its dunning retries, a prorated upgrade — is a PaymentAttempt with a
deterministic idempotency key, committed under the subscription's row lock before the gateway is
called, and its outcome is recorded under the row lock again. An unknown outcome leaves the
attempt STARTED (the money may have been taken): renewals look it up when their cycle is retried;
`reconcile_started` (run by every renewal batch) looks up the STARTED attempts of every other
purpose, and of renewals whose subscription is no longer billed, whatever its status.
"""
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Optional

from django.db import transaction
from prices import Money

from .. import GATEWAY_ID
from ..domain.money import below_minimum_charge, quantize
from ..domain.states import Status
from ..gateway.interface import ChargeOutcome, ChargeRequest, ChargeResult
from ..models import (
    BILLABLE_STATUSES,
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    BillingCycle,
    CycleStatus,
    EventType,
    PaymentAttempt,
    Subscription,
)
from . import abandoned_payment, discounts, dunning, gateway_health
from .abandon import IntentNotClosed, close_open_intent
from .events import record_event
from .outcomes import FAILED, PENDING, RENEWED, SKIPPED, RenewalOutcome

logger = logging.getLogger(__name__)

#: the outcome's detail when the attempt's outcome was recorded before (nothing written now)
ALREADY_RECORDED = "already_recorded"

#: PaymentAttempt.purpose values
RENEWAL = "renewal"
PRORATION = "proration"

#: an unknown outcome (timeout, 5xx, 429 after backing off) is looked up again after this long
UNKNOWN_RETRY_DELAY = timedelta(minutes=5)
#: 429 answers: back off this many times inside one renewal before leaving it for later
RATE_LIMIT_RETRIES = 5
RATE_LIMIT_BACKOFF_SECONDS = 0.5


def idempotency_key(subscription: Subscription, cycle: BillingCycle, number: int) -> str:
    """Deterministic per (subscription, period, attempt number): a retry of a crashed call reuses
    it; a dunning retry is a new attempt with a new key."""
    return "renewal:%s:%d:%d" % (subscription.token, cycle.cycle_index, number)


def settle(subscription_id: int, cycle_id: int, started, now: datetime, context,
           order=None) -> RenewalOutcome:
    """Steps 3-4 for a committed attempt: (attempt id, request, reconcile?) from start_attempt.
    `order`: the cycle's order as this process just created it (saves reading it again)."""
    return finish(subscription_id, cycle_id, started, call_for(context, started), now, context,
                  order)


#: what `call_for` answers for an amount below the gateway's minimum: nothing was called
CARRIED = None


def call_for(context, started) -> Optional[ChargeResult]:
    """Step 3 of a committed attempt of any purpose (renewal, prorated upgrade), the gateway's
    part only: no ORM, so it may run on a thread of the batch's charging pool
    (services/charge_pool.py). An interrupted attempt is looked up first (same key); then the
    one rule for amounts the gateway is not asked for: nothing succeeds without a call, more
    than nothing but below the gateway's minimum is CARRIED (the caller carries it to the next
    renewal)."""
    _, request, reconcile = started
    result = look_up(context, request) if reconcile else None
    if result is not None:
        return result
    if below_minimum_charge(request.amount):
        return CARRIED
    if request.amount.amount <= 0:
        return ChargeResult(ChargeOutcome.SUCCEEDED, amount=request.amount)
    return call_gateway(context, request)


def finish(subscription_id: int, cycle_id: int, started, result: Optional[ChargeResult],
           now: datetime, context, order=None) -> RenewalOutcome:
    """Step 4 (ORM, the batch's own thread): the answer of `call_for` recorded under the lock."""
    attempt_id, request, _ = started
    if result is CARRIED:
        from .carry import carry_to_next_renewal

        return carry_to_next_renewal(subscription_id, cycle_id, attempt_id, request.amount,
                                     now, context)
    return record_outcome(subscription_id, cycle_id, attempt_id, result, now, context, order)


def start_attempt(subscription: Subscription, cycle: BillingCycle, now: datetime):
    """The cycle's STARTED attempt (an interrupted one, to reconcile) or a new one; the caller
    holds both rows locked and commits before the gateway is called."""
    sid = subscription.pk
    if cycle.status not in OPEN_CYCLE_STATUSES:
        return RenewalOutcome(sid, SKIPPED, "cycle_%s" % cycle.status, cycle.cycle_index,
                              cycle.order_id)
    if subscription.status not in BILLABLE_STATUSES:
        return RenewalOutcome(sid, SKIPPED, "status_%s" % subscription.status)
    # A cycle made in this transaction has no attempts yet: no need to look.
    earlier = [] if getattr(cycle, "created_now", False) else list(
        PaymentAttempt.objects.filter(cycle=cycle).order_by("pk"))
    attempt = next((row for row in earlier if row.status == AttemptStatus.STARTED), None)
    if attempt is None:
        # A charge waiting for the customer (3-D Secure) is checked, never charged beside: two
        # open intents could both be completed.
        attempt = open_intent_attempt(earlier)
        if attempt is not None and cycle.attempt_count:
            record_event(subscription, EventType.PAYMENT_RETRIED, date=now,
                         order_id=cycle.order_id, cycle_index=cycle.cycle_index,
                         retry_number=cycle.attempt_count,
                         payment_reference=attempt.gateway_reference)
    reconcile = attempt is not None
    if attempt is None:
        attempt = PaymentAttempt.objects.create(
            subscription=subscription, cycle=cycle, purpose=RENEWAL,
            idempotency_key=idempotency_key(subscription, cycle, len(earlier) + 1),
            status=AttemptStatus.STARTED, currency=cycle.currency, amount=cycle.amount,
            customer_reference=subscription.customer_reference, created_at=now,
        )
        if cycle.attempt_count:
            record_event(subscription, EventType.PAYMENT_RETRIED, date=now,
                         order_id=cycle.order_id, cycle_index=cycle.cycle_index,
                         retry_number=cycle.attempt_count)
    request = charge_request(subscription, attempt, cycle_index=str(cycle.cycle_index),
                             order=str(cycle.order_id or ""))
    return attempt.pk, request, reconcile


def charge_request(subscription: Subscription, attempt: PaymentAttempt, description: str = "",
                   **metadata) -> ChargeRequest:
    """The gateway request of a stored attempt (the same for its first call and its lookups):
    a charge goes to the subscription's customer now; a lookup also looks under the customer
    stored with the attempt (rows stored before it was kept have none)."""
    metadata.update(subscription=str(subscription.token), subscription_id=str(subscription.pk))
    return ChargeRequest(
        amount=Money(attempt.amount, attempt.currency),
        customer_reference=subscription.customer_reference,
        charged_customer_reference=attempt.customer_reference or "",
        payment_method_reference=subscription.payment_method_reference,
        idempotency_key=attempt.idempotency_key,
        description=description,
        metadata=metadata,
        # A charge waiting for the customer (3-D Secure) is looked up by its intent.
        reference=attempt.gateway_reference
        if attempt.status == AttemptStatus.ACTION_REQUIRED else "",
    )


def start_charge(subscription: Subscription, purpose: str, key: str, amount: Money, now,
                 order=None, description: str = "", **details):
    """A new attempt of another purpose than renewal, under the caller's row lock; the caller
    commits before calling `call_for`. Returns (attempt id, request, reconcile=False)."""
    attempt = PaymentAttempt.objects.create(
        subscription=subscription, purpose=purpose, idempotency_key=key,
        status=AttemptStatus.STARTED, currency=amount.currency, amount=amount.amount,
        customer_reference=subscription.customer_reference, order=order, details=details,
        created_at=now,
    )
    request = charge_request(subscription, attempt, description, purpose=purpose,
                             order=str(order.pk if order is not None else ""))
    return attempt.pk, request, False


def look_up(context, request: ChargeRequest):
    """What the gateway did with an interrupted attempt (None: nothing was charged); an intent
    waiting for the customer is checked by its reference."""
    if request.reference:
        result = check_open_intent(context.gateway, request.reference)
    else:
        result = context.gateway.find_charge(request)
    if result is not None:
        logger.info("Reconciled attempt %s: %s", request.idempotency_key, result.outcome.value)
    return result


def open_intent_attempt(attempts):
    """The newest attempt when it is a charge still waiting for the customer, else None."""
    last = attempts[-1] if attempts else None
    if last is not None and last.status == AttemptStatus.ACTION_REQUIRED and last.gateway_reference:
        return last
    return None


def check_open_intent(gateway, reference: str) -> ChargeResult:
    """An open intent's state now; one that can no longer succeed with its card is closed
    first, so that a new attempt never runs beside it. UNKNOWN when it could not be closed: it
    may still be completed, so the attempt stays open and nothing is charged beside it."""
    result = gateway.retrieve_charge(reference)
    if result.outcome != ChargeOutcome.DECLINED or result.closed:
        return result
    answer = close_intent(gateway, result)
    if answer.outcome == ChargeOutcome.UNKNOWN:
        # No reference: a webhook that finds it so is delivered again (stripe_webhooks.RETRY).
        return ChargeResult(ChargeOutcome.UNKNOWN, error_code=answer.error_code,
                            error_message=answer.error_message)
    return answer


def close_intent(gateway, unpaid: ChargeResult) -> ChargeResult:
    """The one rule for closing an open intent that must not stay open (`unpaid`: its state as
    known, with its reference): cancel it and honour the answer. Answers what to record —
    `unpaid` when it is closed; SUCCEEDED when the customer completed it first (a payment);
    UNKNOWN, with the reference, when the cancel did not go through (it may still be paid)."""
    closed = gateway.cancel_charge(unpaid.reference)
    if closed.succeeded:
        return closed
    if closed.closed:
        return unpaid
    return ChargeResult(ChargeOutcome.UNKNOWN, reference=unpaid.reference,
                        error_code=closed.error_code, error_message=closed.error_message)


def call_gateway(context, request: ChargeRequest) -> ChargeResult:
    """Charge within the request budget; on 429, back off and try the same key again."""
    result = None
    for retry in range(RATE_LIMIT_RETRIES + 1):
        if context.throttle is not None:
            context.throttle()
        result = context.gateway.charge(request)
        if result.outcome != ChargeOutcome.RATE_LIMITED:
            return result
        context.sleep(RATE_LIMIT_BACKOFF_SECONDS * (2 ** retry))
    return result


def record_outcome(subscription_id, cycle_id, attempt_id, result: ChargeResult, now, context,
                   order=None):
    try:
        return _record_outcome(subscription_id, cycle_id, attempt_id, result, now, context,
                               order)
    except IntentNotClosed as not_closed:
        # Nothing of the abandonment was committed: the cycle stays open for the next try
        # (UNKNOWN), or is paid (the customer completed the intent first).
        return _record_outcome(subscription_id, cycle_id, attempt_id, not_closed.result, now,
                               context)


def _record_outcome(subscription_id, cycle_id, attempt_id, result: ChargeResult, now, context,
                    order=None):
    with transaction.atomic():
        # The plan comes along: the outcome's events price the subscription (MRR ledger).
        subscription = (Subscription.objects.select_for_update(of=("self",))
                        .select_related("plan").get(pk=subscription_id))
        cycles = BillingCycle.objects.select_for_update(of=("self",))
        if order is None:
            cycles = cycles.select_related("order__billing_address", "order__user")
        cycle = cycles.get(pk=cycle_id)
        if order is not None and order.pk == cycle.order_id:
            cycle.order = order
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        outcome = RenewalOutcome(subscription_id, FAILED, "", cycle.cycle_index, cycle.order_id)
        lost = result.succeeded and abandoned_payment.is_lost(attempt, cycle)
        if attempt.status not in (AttemptStatus.STARTED, AttemptStatus.ACTION_REQUIRED) and (
                not lost):
            outcome.status, outcome.detail = SKIPPED, ALREADY_RECORDED
            return outcome
        if result.succeeded and cycle.status == CycleStatus.ABANDONED:
            # No order to place it on, nothing owed: given back (services/abandoned_payment).
            given = abandoned_payment.give_back(subscription, cycle, attempt, result, now,
                                                context)
            attempt.save()
            outcome.status, outcome.detail = ((SKIPPED, abandoned_payment.REASON) if given
                                              else (PENDING, attempt.error_message))
            return outcome
        # An ACTION_REQUIRED attempt is an open intent checked again (still not final).
        rechecked = attempt.status == AttemptStatus.ACTION_REQUIRED
        attempt.gateway_reference = result.reference or attempt.gateway_reference
        attempt.client_secret = result.client_secret or attempt.client_secret
        attempt.error_code = result.error_code
        attempt.error_message = result.error_message
        attempt.finished_at = now
        kind = result.outcome
        if kind == ChargeOutcome.SUCCEEDED:
            attempt.status = AttemptStatus.SUCCEEDED
            record_success(subscription, cycle, attempt, result, now, context)
            outcome.status, outcome.detail = RENEWED, attempt.gateway_reference
        elif kind in (ChargeOutcome.DECLINED, ChargeOutcome.ACTION_REQUIRED):
            attempt.status = (AttemptStatus.ACTION_REQUIRED if kind == ChargeOutcome.ACTION_REQUIRED
                              else AttemptStatus.FAILED)
            def close_first():
                # The intent is closed before the order goes (abandon.close_open_intent).
                close_open_intent(context.gateway, attempt)

            state = dunning.record_payment_failure(
                subscription, cycle, attempt, result, now, context.settings,
                close_first if kind == ChargeOutcome.ACTION_REQUIRED else None)
            outcome.detail = "%s: %s (%s)" % (cycle.error_code, cycle.last_error, state)
            if kind == ChargeOutcome.ACTION_REQUIRED:
                action_required(subscription, cycle, attempt, rechecked, context)
        elif kind == ChargeOutcome.INVALID:
            attempt.status = AttemptStatus.FAILED
            state = dunning.record_blocked(subscription, cycle, result.error_code or "invalid",
                                           result.error_message, now, context.settings)
            outcome.detail = "%s: %s (%s)" % (cycle.error_code, cycle.last_error, state)
        elif kind == ChargeOutcome.AUTH_FAILED:
            # Our key was refused: nothing was charged. The attempt stays STARTED (looked up
            # before any new charge), the subscription is parked and the batch stops.
            attempt.finished_at = None
            gateway_health.record_refusal(subscription, cycle, result, now, context.settings)
            outcome.detail = "%s: %s" % (cycle.error_code, cycle.last_error)
        else:
            # UNKNOWN or still RATE_LIMITED: the attempt stays as it is and is looked up later.
            attempt.finished_at = None
            cycle.next_retry_at = now + UNKNOWN_RETRY_DELAY
            cycle.error_code = result.error_code or kind.value
            cycle.last_error = result.error_message
            outcome.status, outcome.detail = PENDING, "%s: %s" % (kind.value, result.error_message)
        attempt.save()
        cycle.save()
        subscription.renewal_lease_until = None
        subscription.save()
    outcome.lease_released = True
    return outcome


def action_required(subscription, cycle, attempt, rechecked: bool, context) -> None:
    """The intent stays open for the customer: e-mail them when it is new. When dunning gave
    up on the cycle, it was closed before the cycle was abandoned (dunning's before_abandon)."""
    from ..domain.notices import NoticeKind
    from . import notices

    if cycle.status == CycleStatus.ABANDONED:
        return
    if not rechecked:  # one e-mail per open 3-D Secure charge
        notices.decide(subscription, NoticeKind.PAYMENT_ACTION_REQUIRED, attempt.pk,
                       context.settings, amount=str(quantize(cycle.amount, cycle.currency)),
                       currency=cycle.currency, order_id=cycle.order_id,
                       order_number=cycle.order_id, retry_at=cycle.next_retry_at)


def record_success(subscription, cycle, attempt, result: ChargeResult, now, context) -> None:
    """The money is in: the order is placed with its Saleor payment, cycle paid, period
    advanced, events."""
    from ..saleor_adapter.orders import place_paid_order, renewal_note

    amount = Money(cycle.amount, cycle.currency)
    if cycle.order_id is not None:
        charge = None
        if result.reference and amount.amount > 0:
            charge = dict(
                gateway_id=context.gateway.saleor_gateway_id or GATEWAY_ID,
                reference=result.reference,
                amount=result.amount or amount,
                customer_reference=subscription.customer_reference,
                card=result.card,
                check_existing=False,  # recorded only with its attempt, which is still STARTED
            )
        note = renewal_note(subscription, cycle.cycle_index, declined_attempts=cycle.attempt_count)
        place_paid_order(cycle.order, charge, effects=context.order_effects(), note=note)
    had_failures = cycle.attempt_count > 0
    cycle.status = CycleStatus.PAID
    cycle.next_retry_at = None
    cycle.error_code = ""
    # Paid time is never lost: the period advances whatever the status is now.
    subscription.cycle_index = cycle.cycle_index
    subscription.current_period_start = cycle.period_start
    subscription.current_period_end = cycle.period_end
    subscription.paid_cycles += 1
    discounts.use_for_paid_renewal(subscription, cycle.order, now)
    if subscription.status not in BILLABLE_STATUSES:
        # No longer billed (paused or cancelled, e.g. by the store's tools while the charge was
        # in flight): the paid period is theirs; billing stays stopped.
        record_event(subscription, EventType.RENEWED, date=now, order=cycle.order, amount=amount,
                     cycle_index=cycle.cycle_index, status=subscription.status,
                     period_start=cycle.period_start, period_end=cycle.period_end,
                     payment_reference=result.reference)
        return
    subscription.next_billing_at = cycle.period_end
    previous = dunning.set_status(subscription, Status.ACTIVE)
    if previous == Status.TRIALING.value:
        record_event(subscription, EventType.TRIAL_ENDED, date=now, previous_status=previous,
                     cycle_index=cycle.cycle_index)
    if had_failures or previous == Status.PAST_DUE.value:
        record_event(subscription, EventType.PAYMENT_RECOVERED, date=now, order=cycle.order,
                     amount=amount, previous_status=previous, attempts=cycle.attempt_count + 1)
    record_event(
        subscription, EventType.RENEWED, date=now, order=cycle.order, amount=amount,
        cycle_index=cycle.cycle_index, period_start=cycle.period_start,
        period_end=cycle.period_end, payment_reference=result.reference,
    )


# -- the sweep: STARTED attempts nobody else will look at ----------------------------------------

#: what a lookup answers when the gateway has no charge with the attempt's key
NOT_CHARGED = "not_charged"


def reconcile_started(now: datetime, context, limit: int = 100) -> int:
    """Look up STARTED attempts older than UNKNOWN_RETRY_DELAY, of every purpose, whatever the
    subscription's status; returns how many were settled. A renewal attempt of a billable,
    unparked subscription whose cycle is open is left to that cycle's retry (which looks it up
    and may charge again with the same key). Only looks up, never charges: an attempt the
    gateway has no charge for ends as FAILED `not_charged`.
    A subscription a worker or request is charging right now (its advisory lock) is skipped."""
    from .claiming import processing_lock

    rows = list(
        PaymentAttempt.objects.filter(status=AttemptStatus.STARTED,
                                      created_at__lte=now - UNKNOWN_RETRY_DELAY)
        .select_related("subscription", "cycle").order_by("created_at", "pk")[:limit]
    )
    settled = 0
    for attempt in rows:
        subscription = attempt.subscription
        if (attempt.purpose == RENEWAL and subscription.status in BILLABLE_STATUSES
                and subscription.parked_at is None and attempt.cycle is not None
                and attempt.cycle.status in OPEN_CYCLE_STATUSES):
            continue  # its open cycle is due for a retry, which looks it up first
        with processing_lock(subscription.pk) as acquired:
            if not acquired:
                continue
            try:
                settled += _reconcile(attempt, now, context)
            except Exception:  # one bad row never stops the sweep or the batch after it
                logger.exception("Could not reconcile attempt %s", attempt.idempotency_key)
    for attempt in abandoned_payment.stranded(now, limit):
        with processing_lock(attempt.subscription_id) as acquired:
            if not acquired:
                continue
            try:
                settled += _settle_stranded(attempt, now, context)
            except Exception:
                logger.exception("Could not settle attempt %s", attempt.idempotency_key)
    return settled


def _settle_stranded(attempt: PaymentAttempt, now: datetime, context) -> int:
    """An attempt of an abandoned cycle (abandoned_payment.stranded): paid, it is given back
    (record_outcome); still open, its intent is closed."""
    result = context.gateway.retrieve_charge(attempt.gateway_reference)
    if not result.succeeded and attempt.status == AttemptStatus.ACTION_REQUIRED and (
            result.outcome in (ChargeOutcome.DECLINED, ChargeOutcome.ACTION_REQUIRED)):
        result = result if result.closed else close_intent(context.gateway, ChargeResult(
            ChargeOutcome.DECLINED, reference=attempt.gateway_reference))
        if result.outcome == ChargeOutcome.DECLINED:  # closed (close_intent answers SUCCEEDED
            # when the customer paid first, UNKNOWN when it may still be paid)
            abandoned_payment.close_left_open(attempt.pk, now)
            return 1
    if not result.succeeded:
        return 0  # not answered (looked at again next time), or a refused refund's charge gone
    outcome = record_outcome(attempt.subscription_id, attempt.cycle_id, attempt.pk, result, now,
                             context)
    return int(outcome.status != PENDING)


def _reconcile(attempt: PaymentAttempt, now: datetime, context) -> int:
    # Its charge's id, when stored, is looked up first: a customer's intents may not be listed.
    request = replace(charge_request(attempt.subscription, attempt),
                      reference=attempt.gateway_reference)
    result = context.gateway.find_charge(request)
    if result is not None and result.outcome in (ChargeOutcome.UNKNOWN,
                                                 ChargeOutcome.RATE_LIMITED,
                                                 ChargeOutcome.AUTH_FAILED):
        # The gateway could not answer (a refused key says nothing of the charge either):
        # still unknown, looked up again next time.
        return 0
    if result is None:
        # Nothing was charged with this key, and nobody is calling the gateway with it now.
        result = ChargeResult(ChargeOutcome.DECLINED, error_code=NOT_CHARGED,
                              error_message="The gateway has no charge for this attempt.")
    logger.info("Sweep: attempt %s is %s", attempt.idempotency_key, result.error_code
                or result.outcome.value)
    if attempt.purpose == PRORATION:
        from .lifecycle.proration_charge import record_outcome as record_proration

        record_proration(attempt.pk, result, now, context)
    elif result.error_code == NOT_CHARGED:
        _drop_uncharged_renewal(attempt.subscription_id, attempt.pk, now)
    else:
        record_outcome(attempt.subscription_id, attempt.cycle_id, attempt.pk, result, now,
                       context)
    return 1


def _drop_uncharged_renewal(subscription_id: int, attempt_id: int, now: datetime) -> None:
    """A renewal attempt of a subscription no longer billed, never charged: it ends; the cycle
    stays as it was (billed again if the subscription is billed again)."""
    with transaction.atomic():
        Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        if attempt.status != AttemptStatus.STARTED:
            return
        attempt.status, attempt.error_code, attempt.finished_at = (
            AttemptStatus.FAILED, NOT_CHARGED, now)
        attempt.save()
