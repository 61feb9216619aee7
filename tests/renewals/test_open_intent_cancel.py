"""Closing an open 3-D Secure intent is part of the money path: a cancel that did not go through
(Stripe unreachable) leaves the intent open, so nothing may be charged beside it and no cycle
abandoned with it; an intent the customer completed just before our cancel is a payment."""
from saleor.payment.models import Payment
from test_renewal_authentication import run_on_commit_callbacks

from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, BillingCycle, EventType, PaymentAttempt
from saleor_subscriptions.services import stripe_webhooks
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
STRIPE_TEST_KEY = "sk_test_subscriptions"  # the key the renewal fixture configures
UNREACHABLE = "http://127.0.0.1:1"  # nothing listens: the stripe library's connection error


class CancelUnreachable(StripeGateway):
    """localstripe for everything, except that a cancel's connection fails while told so."""

    cancel_fails = True

    def cancel_charge(self, reference):
        if self.cancel_fails:
            return StripeGateway(STRIPE_TEST_KEY, UNREACHABLE).cancel_charge(reference)
        return super().cancel_charge(reference)


class CompletedBeforeTheCancel(StripeGateway):
    """The customer passes 3-D Secure on the storefront just before our cancel reaches Stripe."""

    client_secret = ""

    def cancel_charge(self, reference):
        rf.complete_authentication(self.localstripe_url, self.client_secret)
        return super().cancel_charge(reference)


def gateway(renewal, kind=CancelUnreachable):
    made = kind(STRIPE_TEST_KEY, renewal.localstripe.url)
    made.localstripe_url = renewal.localstripe.url
    return made


def statuses(renewal, card):
    return [intent["status"] for intent in renewal.intents(card.customer_id)]


def authentication_failed(renewal):
    """A renewal needing 3-D Secure, which the customer then fails: the intent can no longer
    succeed with this card and must be closed before the next retry charges."""
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret, success=False)
    return subscription, card, attempt


def test_a_failed_cancel_before_a_retry_charges_nothing_and_keeps_the_intent_checked(renewal):
    subscription, card, attempt = authentication_failed(renewal)
    assert renewal.run(utc(2028, 3, 1, 11), gateway=gateway(renewal)) == {"pending": 1}
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.ACTION_REQUIRED  # may still be completed
    assert PaymentAttempt.objects.filter(subscription=subscription).count() == 1
    assert statuses(renewal, card) == ["requires_payment_method"]  # no second charge
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "failed" and cycle.attempt_count == 1

    # Stripe answers again: the intent is closed, the failure counted, then a new card pays.
    assert renewal.run(utc(2028, 3, 1, 11, 10)) == {"failed": 1}
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED
    assert statuses(renewal, card) == ["canceled"]
    good = renewal.card(rf.GOOD_CARD, customer_id=card.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    assert renewal.run(utc(2028, 3, 3, 11)) == {"renewed": 1}
    assert sorted(statuses(renewal, card)) == ["canceled", "succeeded"]
    cycle.refresh_from_db()
    assert cycle.status == "paid" and Payment.objects.filter(order_id=cycle.order_id).count() == 1


def test_a_failed_cancel_seen_by_a_webhook_is_retried_not_recorded(renewal):
    subscription, card, attempt = authentication_failed(renewal)
    context = renewal.context(gateway=gateway(renewal))
    event = {"id": "evt_failed_cancel", "type": "payment_intent.payment_failed",
             "data": {"object": {"id": attempt.gateway_reference, "object": "payment_intent",
                                 "metadata": {"idempotency_key": attempt.idempotency_key}}}}
    answer = stripe_webhooks.receive(event, utc(2028, 2, 29, 12), context)
    assert answer.startswith(stripe_webhooks.RETRY)  # Stripe delivers it again
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    assert statuses(renewal, card) == ["requires_payment_method"]


def dunning_about_to_give_up(renewal):
    renewal.configure(**{"Payment retry schedule": "1", "Action after the last failed retry":
                         "cancel"})
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    return subscription, card


def test_a_failed_cancel_when_dunning_gives_up_keeps_the_cycle_open(renewal):
    subscription, card = dunning_about_to_give_up(renewal)
    assert renewal.run(utc(2028, 3, 1, 11), gateway=gateway(renewal)) == {"pending": 1}
    run_on_commit_callbacks()
    subscription.refresh_from_db()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert subscription.status == "past_due"  # not cancelled with the intent still open
    assert cycle.status == "failed" and cycle.next_retry_at is not None
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    assert statuses(renewal, card) == ["requires_action"]
    assert not subscription.events.filter(type=EventType.DUNNING_EXHAUSTED).exists()

    # The next try, with Stripe reachable, closes the intent and then gives up.
    assert renewal.run(utc(2028, 3, 1, 11, 10)) == {"failed": 1}
    run_on_commit_callbacks()
    subscription.refresh_from_db()
    cycle.refresh_from_db()
    attempt.refresh_from_db()
    assert subscription.status == "cancelled" and cycle.status == "abandoned"
    assert attempt.status == AttemptStatus.FAILED
    assert statuses(renewal, card) == ["canceled"]
    assert subscription.events.filter(type=EventType.DUNNING_EXHAUSTED).count() == 1


def test_an_intent_completed_just_before_the_final_cancel_is_recorded_once(renewal):
    subscription, card = dunning_about_to_give_up(renewal)
    completing = gateway(renewal, CompletedBeforeTheCancel)
    completing.client_secret = PaymentAttempt.objects.get(subscription=subscription).client_secret
    assert renewal.run(utc(2028, 3, 1, 11), gateway=completing) == {"renewed": 1}
    assert renewal.run(utc(2028, 3, 3, 11)) == {}

    subscription.refresh_from_db()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert subscription.status == "active" and cycle.status == "paid"
    assert attempt.status == AttemptStatus.SUCCEEDED
    (intent,) = renewal.intents(card.customer_id)
    assert intent["status"] == "succeeded"
    payments = Payment.objects.filter(order_id=cycle.order_id)
    assert [payment.token for payment in payments] == [intent["id"]]
    assert payments[0].order.is_fully_paid()
    assert subscription.events.filter(type=EventType.RENEWED).count() == 1
    assert not subscription.events.filter(type=EventType.DUNNING_EXHAUSTED).exists()


class WatchesTheOrder(CompletedBeforeTheCancel):
    """Notes the renewal order's status when the intent is closed: Saleor's cancel_order tells
    plugins and e-mails at once, so the order must not be cancelled before the close answers."""

    order_id = None
    seen = ()

    def cancel_charge(self, reference):
        from saleor.order.models import Order

        self.seen += (Order.objects.get(pk=self.order_id).status,)
        return super().cancel_charge(reference)


def test_dunning_closes_the_intent_before_it_cancels_a_placed_unpaid_order(renewal):
    from saleor.order.models import Order

    subscription, card = dunning_about_to_give_up(renewal)
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    # A renewal order placed unpaid, as renewals made them before they waited for the payment.
    Order.objects.filter(pk=cycle.order_id).update(status="unfulfilled")
    watching = gateway(renewal, WatchesTheOrder)
    watching.order_id = cycle.order_id
    watching.client_secret = PaymentAttempt.objects.get(subscription=subscription).client_secret
    assert renewal.run(utc(2028, 3, 1, 11), gateway=watching) == {"renewed": 1}
    assert watching.seen == ("unfulfilled",)
    assert Order.objects.get(pk=cycle.order_id).status != "canceled"
