"""An attempt is looked up under the Stripe customer it was charged to, stored with the attempt
before the gateway call: the subscription may have moved to another customer (a new card) since,
and a lookup there finds nothing although the money was taken."""
from saleor.payment.models import Payment
from test_renewal_exactly_once import TimeoutAfterCharge

from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt, Subscription
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
LATER = utc(2028, 2, 29, 10, 10)  # after the unknown-outcome delay


def charged_then_moved(renewal):
    """The renewal charges customer A, the answer is lost; then the subscription's card is
    replaced by one of another Stripe customer B (as the store's tools may do)."""
    first = renewal.card()
    subscription = renewal.subscription(card=first)
    gateway = TimeoutAfterCharge(renewal.context().settings.stripe_secret_key,
                                 renewal.localstripe.url)
    assert renewal.run(DUE, gateway=gateway) == {"pending": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.STARTED
    assert attempt.customer_reference == first.customer_id  # stored before the call
    second = renewal.card()
    assert second.customer_id != first.customer_id
    Subscription.objects.filter(pk=subscription.pk).update(
        customer_reference=second.customer_id, payment_method_reference=second.payment_method_id)
    return subscription, attempt, first, second


def charges(renewal, card):
    return [intent for intent in renewal.intents(card.customer_id)
            if intent["status"] == "succeeded"]


def assert_recorded_once(renewal, subscription, attempt, first, second):
    attempt.refresh_from_db()
    (intent,) = charges(renewal, first)
    assert charges(renewal, second) == []  # not charged twice
    assert attempt.status == AttemptStatus.SUCCEEDED and attempt.gateway_reference == intent["id"]
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "paid"
    assert [p.token for p in Payment.objects.filter(order_id=cycle.order_id)] == [intent["id"]]
    assert Subscription.objects.get(pk=subscription.pk).paid_cycles == 2


def test_the_sweep_finds_the_charge_under_the_customer_it_was_made_for(renewal):
    subscription, attempt, first, second = charged_then_moved(renewal)
    # No longer billed: only the sweep looks at its attempt now.
    Subscription.objects.filter(pk=subscription.pk).update(
        status="paused", paused_at=DUE, next_billing_at=None)
    renewal.run(LATER)
    assert_recorded_once(renewal, subscription, attempt, first, second)
    assert renewal.run(utc(2028, 3, 1, 10)) == {}


def test_the_cycles_retry_finds_the_charge_instead_of_charging_the_new_customer(renewal):
    subscription, attempt, first, second = charged_then_moved(renewal)
    assert renewal.run(LATER) == {"renewed": 1}
    assert_recorded_once(renewal, subscription, attempt, first, second)


def test_an_attempt_stored_before_the_column_uses_the_subscriptions_customer(renewal):
    first = renewal.card()
    subscription = renewal.subscription(card=first)
    gateway = TimeoutAfterCharge(renewal.context().settings.stripe_secret_key,
                                 renewal.localstripe.url)
    assert renewal.run(DUE, gateway=gateway) == {"pending": 1}
    PaymentAttempt.objects.filter(subscription=subscription).update(customer_reference=None)
    assert renewal.run(LATER) == {"renewed": 1}
    assert len(charges(renewal, first)) == 1
    assert PaymentAttempt.objects.get(subscription=subscription).status == AttemptStatus.SUCCEEDED
