"""No duplicate orders, no duplicate charges: crashes between charge and record, timeouts after
the money was taken, repeated runs. Counted in Saleor and at the gateway (localstripe)."""
from django.db import transaction
from saleor.order.models import Order

from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeResult
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt
from saleor_subscriptions.services import charging, renewals
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)


class TimeoutAfterCharge(StripeGateway):
    """Stripe took the money, then the connection dropped before we saw the answer."""

    def charge(self, request):
        super().charge(request)
        return ChargeResult(ChargeOutcome.UNKNOWN, error_code="timeout",
                            error_message="Read timed out.")


def renewal_orders(subscription):
    return Order.objects.filter(metadata__subscription_renewal=str(subscription.token))


def succeeded(intents):
    return [intent for intent in intents if intent["status"] == "succeeded"]


def test_crash_between_charge_and_record_is_reconciled_not_charged_again(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    context = renewal.context()
    # Step 1 and 2 commit, step 3 charges ... and the worker dies before step 4.
    with transaction.atomic():
        locked = renewals.lock_subscription(subscription.pk)
        cycle = renewals._prepare_cycle(locked, DUE, context, force=False)
        attempt_id, request, reconcile = charging.start_attempt(locked, cycle, DUE)
    assert not reconcile
    assert charging.call_gateway(context, request).succeeded
    assert PaymentAttempt.objects.get(pk=attempt_id).status == AttemptStatus.STARTED

    assert renewal.run(DUE) == {"renewed": 1}
    assert renewal.run(DUE) == {}
    assert len(renewal.intents(card.customer_id)) == 1
    attempt = PaymentAttempt.objects.get(pk=attempt_id)
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert attempt.gateway_reference.startswith("pi_")
    assert PaymentAttempt.objects.filter(subscription=subscription).count() == 1
    assert renewal_orders(subscription).count() == 1
    assert renewal_orders(subscription).get().is_fully_paid()


def test_crash_before_the_gateway_call_charges_once_with_the_same_key(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    context = renewal.context()
    with transaction.atomic():
        locked = renewals.lock_subscription(subscription.pk)
        cycle = renewals._prepare_cycle(locked, DUE, context, force=False)
        attempt_id, request, _ = charging.start_attempt(locked, cycle, DUE)
    # ... died before calling Stripe: the next run finds nothing at Stripe and charges.
    assert renewal.run(DUE) == {"renewed": 1}
    attempt = PaymentAttempt.objects.get(pk=attempt_id)
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert attempt.idempotency_key == request.idempotency_key
    assert len(renewal.intents(card.customer_id)) == 1


def test_timeout_after_the_money_was_taken(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    gateway = TimeoutAfterCharge(renewal.context().settings.stripe_secret_key,
                                 renewal.localstripe.url)
    assert renewal.run(DUE, gateway=gateway) == {"pending": 1}
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "pending" and cycle.error_code == "timeout"
    assert renewal.run(DUE, gateway=gateway) == {}  # looked up again in 5 minutes, not now
    # The lookup finds the charge: recorded, not charged again (even by the flaky gateway).
    assert renewal.run(utc(2028, 2, 29, 10, 6), gateway=gateway) == {"renewed": 1}
    assert len(succeeded(renewal.intents(card.customer_id))) == 1
    assert renewal_orders(subscription).get().is_fully_paid()


def test_many_runs_one_order_and_one_charge_per_period(renewal):
    card = renewal.card()
    subscriptions = [renewal.subscription(card=card) for _ in range(3)]
    for _ in range(3):
        renewal.run(DUE)
        renewal.run(utc(2028, 3, 31, 10))
    for subscription in subscriptions:
        assert renewal_orders(subscription).count() == 2
        assert BillingCycle.objects.filter(subscription=subscription).count() == 3
    assert len(renewal.intents(card.customer_id)) == 6
