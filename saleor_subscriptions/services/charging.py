"""Steps 2-4 of a renewal: store the attempt, call the gateway, record what happened."""
import logging
from datetime import datetime, timedelta

from django.db import transaction
from prices import Money

from .. import GATEWAY_ID
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
from . import dunning
from .events import record_event
from .outcomes import FAILED, PENDING, RENEWED, SKIPPED, RenewalOutcome

logger = logging.getLogger(__name__)

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
    attempt_id, request, reconcile = started
    result = None
    if reconcile:
        result = context.gateway.find_charge(request)
        if result is not None:
            logger.info("Reconciled attempt %s: %s", request.idempotency_key, result.outcome.value)
    if result is None:
        if request.amount.amount <= 0:
            result = ChargeResult(ChargeOutcome.SUCCEEDED, amount=request.amount)
        else:
            result = call_gateway(context, request)
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
    reconcile = attempt is not None
    if attempt is None:
        attempt = PaymentAttempt.objects.create(
            subscription=subscription, cycle=cycle, purpose="renewal",
            idempotency_key=idempotency_key(subscription, cycle, len(earlier) + 1),
            status=AttemptStatus.STARTED, currency=cycle.currency, amount=cycle.amount,
            created_at=now,
        )
        if cycle.attempt_count:
            record_event(subscription, EventType.PAYMENT_RETRIED, date=now,
                         order_id=cycle.order_id, cycle_index=cycle.cycle_index,
                         retry_number=cycle.attempt_count)
    request = ChargeRequest(
        amount=Money(attempt.amount, attempt.currency),
        customer_reference=subscription.customer_reference,
        payment_method_reference=subscription.payment_method_reference,
        idempotency_key=attempt.idempotency_key,
        metadata={
            "subscription": str(subscription.token),
            "subscription_id": str(sid),
            "cycle_index": str(cycle.cycle_index),
            "order": str(cycle.order_id or ""),
        },
    )
    return attempt.pk, request, reconcile


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
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        cycles = BillingCycle.objects.select_for_update(of=("self",))
        if order is None:
            cycles = cycles.select_related("order__billing_address", "order__user")
        cycle = cycles.get(pk=cycle_id)
        if order is not None and order.pk == cycle.order_id:
            cycle.order = order
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        outcome = RenewalOutcome(subscription_id, FAILED, "", cycle.cycle_index, cycle.order_id)
        if attempt.status != AttemptStatus.STARTED:
            outcome.status, outcome.detail = SKIPPED, "already_recorded"
            return outcome
        attempt.gateway_reference = result.reference or attempt.gateway_reference
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
            state = dunning.record_payment_failure(subscription, cycle, attempt, result, now,
                                                   context.settings)
            outcome.detail = "%s: %s (%s)" % (cycle.error_code, cycle.last_error, state)
        elif kind == ChargeOutcome.INVALID:
            attempt.status = AttemptStatus.FAILED
            state = dunning.record_blocked(subscription, cycle, result.error_code or "invalid",
                                           result.error_message, now, context.settings)
            outcome.detail = "%s: %s (%s)" % (cycle.error_code, cycle.last_error, state)
        else:
            # UNKNOWN or still RATE_LIMITED: the attempt stays STARTED and is looked up later.
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


def record_success(subscription, cycle, attempt, result: ChargeResult, now, context) -> None:
    """The money is in: the order is placed with its Saleor payment, cycle paid, period
    advanced, events."""
    from ..saleor_adapter.orders import place_paid_order

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
        place_paid_order(cycle.order, charge, effects=context.order_effects())
    had_failures = cycle.attempt_count > 0
    cycle.status = CycleStatus.PAID
    cycle.next_retry_at = None
    cycle.error_code = ""
    if subscription.status not in BILLABLE_STATUSES:
        # Cancelled or paused while the charge was in flight: the order is paid, nothing else.
        record_event(subscription, EventType.RENEWED, date=now, order=cycle.order, amount=amount,
                     cycle_index=cycle.cycle_index, status=subscription.status,
                     payment_reference=result.reference)
        return
    subscription.cycle_index = cycle.cycle_index
    subscription.current_period_start = cycle.period_start
    subscription.current_period_end = cycle.period_end
    subscription.next_billing_at = cycle.period_end
    subscription.paid_cycles += 1
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
