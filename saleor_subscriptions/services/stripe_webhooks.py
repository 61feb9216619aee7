"""Stripe webhooks in: store each verified event once, then act on the state it points to.

An event is a hint, never the truth: handlers read the intent again from Stripe (events come
late, twice, or out of order) and record through the one charging path — the same
`record_outcome` the renewal retries, the sweep and `subscriptionPaymentConfirm` use — whose
locked attempt row makes every outcome recorded once, whoever gets there first.
"""
import dataclasses
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from prices import Money

from .. import GATEWAY_ID
from ..gateway import stripe_events
from ..gateway.interface import ChargeOutcome
from ..models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    Subscription,
)
from ..stripe_webhook_models import StripeWebhookEvent
from . import charging
from .abandoned_payment import is_lost, lost_attempts
from .events import record_event
from .outcomes import PENDING

logger = logging.getLogger(__name__)

#: StripeWebhookEvent.result values
RECORDED = "recorded"
IGNORED = "ignored"
NOTHING_TO_DO = "nothing_to_do"
DUPLICATE = "duplicate"
#: not handled yet (a worker is charging the subscription, Stripe could not be asked): the row
#: stays unprocessed and the endpoint answers 503, so Stripe delivers it again
RETRY = "retry"

_OPEN = (AttemptStatus.STARTED, AttemptStatus.ACTION_REQUIRED)


def receive(event: dict, now: datetime, context) -> str:
    """Store the verified event (a redelivered id stops here once it was handled), then handle
    it. Handlers are safe to run twice (they record under row locks), so an event left
    unprocessed (RETRY, or a crash) is handled again when Stripe delivers it again."""
    try:
        with transaction.atomic():
            row = StripeWebhookEvent.objects.create(
                stripe_id=event["id"], type=event["type"], payload=event, received_at=now)
    except IntegrityError:
        row = StripeWebhookEvent.objects.get(stripe_id=event["id"])
        if row.processed_at is not None:
            return DUPLICATE
    handler = HANDLERS.get(event["type"])
    result = IGNORED if handler is None else handler(event, now, context)
    done = {} if result.startswith(RETRY) else {"processed_at": now}
    StripeWebhookEvent.objects.filter(pk=row.pk).update(result=result[:255], **done)
    return result


# -- payment_intent.succeeded / payment_intent.payment_failed ------------------------------------

def _open_attempt(facts):
    """Our attempt the intent belongs to, while its outcome is not recorded yet — or a closed
    one of an abandoned cycle, whose intent may still have been paid (never dropped: refunded,
    services/abandoned_payment.py)."""
    attempts = PaymentAttempt.objects.filter(status__in=_OPEN)
    attempt = attempts.filter(gateway_reference=facts.reference).first()
    if attempt is None and facts.idempotency_key:
        attempt = attempts.filter(idempotency_key=facts.idempotency_key).first()
    if attempt is None:
        attempt = lost_attempts().filter(gateway_reference=facts.reference).first()
    return attempt


def _to_record(attempt) -> bool:
    return attempt.status in _OPEN or (attempt.cycle_id is not None and is_lost(
        attempt, BillingCycle.objects.get(pk=attempt.cycle_id)))


def intent_changed(event: dict, now: datetime, context) -> str:
    from .claiming import processing_lock

    facts = stripe_events.intent_facts(event)
    attempt = _open_attempt(facts) if facts is not None else None
    if attempt is None:
        return NOTHING_TO_DO + ": no open attempt"
    # A worker charging this subscription now records the same intent itself.
    with processing_lock(attempt.subscription_id) as acquired:
        if not acquired:
            return RETRY + ": a worker is charging this subscription"
        attempt.refresh_from_db()
        if not _to_record(attempt):
            return NOTHING_TO_DO + ": already recorded"
        if attempt.status == AttemptStatus.ACTION_REQUIRED:
            # As a dunning retry checks an open intent (closing one that can no longer succeed).
            result = charging.check_open_intent(context.gateway, attempt.gateway_reference)
        else:
            result = context.gateway.retrieve_charge(attempt.gateway_reference or facts.reference)
        if result.outcome in (ChargeOutcome.UNKNOWN, ChargeOutcome.RATE_LIMITED) and (
                not result.reference):
            return RETRY + ": %s" % (result.error_code or result.outcome.value)
        final = result.outcome in (ChargeOutcome.SUCCEEDED, ChargeOutcome.DECLINED) or (
            result.outcome == ChargeOutcome.ACTION_REQUIRED
            and attempt.status == AttemptStatus.STARTED)
        if not final:
            return NOTHING_TO_DO + ": intent is %s" % (result.error_code or result.outcome.value)
        if attempt.purpose == charging.PRORATION:
            from .lifecycle.proration_charge import record_outcome as record_proration

            record_proration(attempt.pk, result, now, context)
        else:
            outcome = charging.record_outcome(attempt.subscription_id, attempt.cycle_id,
                                              attempt.pk, result, now, context)
            if outcome.status == PENDING:  # a payment not settled yet (a refund refused)
                return RETRY + ": %s" % outcome.detail
            if outcome.detail == charging.ALREADY_RECORDED:
                return NOTHING_TO_DO + ": already recorded"
    return "%s: %s" % (RECORDED, result.outcome.value)


# -- charge.refunded ------------------------------------------------------------------------------

def _subscription_of_order(order_id: int):
    cycle = BillingCycle.objects.filter(order_id=order_id).first()
    if cycle is not None:
        return cycle.subscription_id
    origin = Subscription.objects.filter(origin_order_id=order_id).values_list("pk", flat=True)
    if origin:
        return origin[0]
    from ..models import SubscriptionEvent

    return (SubscriptionEvent.objects.filter(order_id=order_id)
            .values_list("subscription_id", flat=True).first())


#: how long a refund our own code asked for may stay unrecorded before the event records it (the
#: request that asked for it died between Stripe's answer and its commit)
OWN_REFUND_GRACE = timedelta(minutes=15)


def _refunds_to_record(facts, payment, now: datetime):
    """(amounts to record as made outside Saleor, whether one of ours is not recorded yet).

    Each Stripe refund is recorded once, by its id: Saleor's refund path keeps the id as its
    transaction's token, and so do we. A refund of ours (its metadata) is recorded by the
    request that asked for it; until then (the event can come before that request commits) the
    event waits."""
    from ..saleor_adapter import gateway_refunds

    missing = facts.refunded.amount - gateway_refunds.refunded_in_saleor(payment)
    recorded = gateway_refunds.recorded_refund_references(payment)
    unrecorded = [refund for refund in facts.refunds if refund.reference not in recorded]
    waiting = any(refund.ours and now - refund.created < OWN_REFUND_GRACE
                  for refund in unrecorded)
    if waiting:
        return [], True
    outside = []
    for refund in unrecorded:  # never more than Stripe's total says Saleor lacks
        amount = min(refund.amount.amount, missing)
        if amount > 0:
            outside.append((refund.reference, amount))
            missing -= amount
    return outside, False


def _with_listed_refunds(facts, gateway_id: str, context):
    """`facts` with the charge's refunds as the gateway lists them now, when the event does not
    embed them (Stripe's API 2022-11-15 and later, or more than one page): the same by-id check
    then tells ours from the dashboard's. None when the gateway could not be asked."""
    if facts.refunds is not None:
        return facts
    from ..saleor_adapter import gateway_refunds

    # Only a charge of ours is worth asking the gateway about (no lock yet: no call under it).
    if gateway_refunds.payment_of(gateway_id, [facts.intent_reference,
                                               facts.charge_reference]) is None:
        return facts
    listed = context.gateway.list_refunds(facts.charge_reference)
    if listed is None:
        return None
    # The list is newer than the event's total: record against it, oldest refund first.
    total = Money(sum((refund.amount.amount for refund in listed), 0), facts.refunded.currency)
    return dataclasses.replace(facts, refunds=tuple(sorted(listed, key=lambda r: r.created)),
                               refunded=total)


def charge_refunded(event: dict, now: datetime, context) -> str:
    """A refund made in Stripe's dashboard: written on the order's Saleor payment and the
    subscription's history; refunds Saleor recorded already (ours) are not written again."""
    from ..saleor_adapter import gateway_refunds

    facts = stripe_events.refund_facts(event)
    if facts is None:
        return NOTHING_TO_DO + ": no charge"
    gateway_id = getattr(context.gateway, "saleor_gateway_id", "") or GATEWAY_ID
    facts = _with_listed_refunds(facts, gateway_id, context)
    if facts is None:
        return RETRY + ": the charge's refunds could not be listed"
    with transaction.atomic():
        payment = gateway_refunds.locked_payment(
            gateway_id, [facts.intent_reference, facts.charge_reference])
        if payment is None or payment.currency != facts.refunded.currency:
            return NOTHING_TO_DO + ": not our payment"
        if facts.refunds is None:  # the payment appeared after the look above
            return RETRY + ": the charge's refunds are not listed yet"
        outside, waiting = _refunds_to_record(facts, payment, now)
        if waiting:
            return RETRY + ": our own refund is not recorded yet"
        if not outside:
            return NOTHING_TO_DO + ": already recorded"
        total = Money(sum(amount for _, amount in outside), payment.currency)
        for reference, amount in outside:
            amount = Money(amount, payment.currency)
            order = gateway_refunds.record_outside_refund(payment, amount, reference)
            subscription_id = _subscription_of_order(order.pk) if order is not None else None
            if subscription_id is not None:
                subscription = Subscription.objects.select_for_update(of=("self",)).get(
                    pk=subscription_id)
                record_event(subscription, EventType.REFUNDED, date=now, order=order,
                             amount=amount, source="stripe_dashboard",
                             payment_reference=reference)
    return "%s: %s %s" % (RECORDED, total.amount, total.currency)


def _handlers():
    from .stripe_account_events import HANDLERS as ACCOUNT_HANDLERS

    return dict({
        "payment_intent.succeeded": intent_changed,
        "payment_intent.payment_failed": intent_changed,
        "charge.refunded": charge_refunded,
    }, **ACCOUNT_HANDLERS)


HANDLERS = _handlers()
