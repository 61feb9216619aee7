"""The sweep looks up a renewal charge whose outcome was lost, under the Stripe customer the
attempt was stored for. When that customer was deleted at Stripe, Stripe refuses to list its
intents: nothing is known then, and the attempt stays STARTED (looked up again, visible to
staff), never dropped as not charged while the money may have been taken."""
import stripe
from test_renewal_exactly_once import TimeoutAfterCharge

from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt, Subscription
from saleor_subscriptions.services import charging
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
LATER = utc(2028, 2, 29, 11)
KEY = "sk_test_subscriptions"


class RefusesDeletedCustomers(StripeGateway):
    """As Stripe answers a list of PaymentIntents filtered by a deleted customer ("No such
    customer"); localstripe lists every intent, so its answer for the customer is asked first."""

    def _customer_intents(self, customer):
        self._stripe.Customer.retrieve(customer)  # localstripe: 404 for a deleted customer
        return super()._customer_intents(customer)


def charged_then_lost(renewal):
    """The money was taken, the answer lost; then the subscription was cancelled (the sweep's
    to look up) and its Stripe customer deleted."""
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    lost = TimeoutAfterCharge(KEY, renewal.localstripe.url)
    assert renewal.run(DUE, gateway=lost) == {"pending": 1}
    Subscription.objects.filter(pk=subscription.pk).update(status="cancelled")
    stripe.Customer.delete(card.customer_id, **rf.stripe_options(renewal.localstripe.url, KEY))
    (intent,) = renewal.intents(card.customer_id)
    assert intent["status"] == "succeeded"
    return subscription, intent


def sweep(renewal):
    gateway = RefusesDeletedCustomers(KEY, renewal.localstripe.url)
    return charging.reconcile_started(LATER, renewal.context(gateway=gateway))


def test_a_refused_lookup_keeps_the_attempt_started_not_dropped(renewal):
    subscription, intent = charged_then_lost(renewal)
    assert sweep(renewal) == 0
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.STARTED and attempt.finished_at is None


def test_an_attempt_with_its_intent_stored_is_looked_up_by_id(renewal):
    subscription, intent = charged_then_lost(renewal)
    PaymentAttempt.objects.filter(subscription=subscription).update(
        gateway_reference=intent["id"])
    assert sweep(renewal) == 1
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.SUCCEEDED
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "paid"
