"""Stripe webhooks in, end to end: localstripe itself signs and sends the events (its webhook
code, through testing/localstripe_server.py, which adds the payment-intent and refund events
Stripe sends) to this Django served on a port: a refund made in the dashboard, a 3-D Secure
renewal the customer completes or fails away from the storefront, and our own refunds, which
are not counted twice."""
from decimal import Decimal

import pytest
from saleor.payment import TransactionKind
from saleor.payment.models import Payment
from test_stripe_webhooks_in import DUE, SECRET, STRIPE_TEST_KEY, configured
from test_stripe_webhooks_in_live import register, serving, wait_for

from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    StripeWebhookEvent,
)
from saleor_subscriptions.services.lifecycle import Actor, refund
from saleor_subscriptions.testing import renewal_factories as rf


@pytest.fixture
def endpoint(renewal):
    """Registers this server's endpoint with localstripe for `events`; unregistered after."""
    names = []
    with serving() as url:
        def listen(*events):
            name = "h3_e2e_%d" % len(names)
            names.append(name)
            register(renewal.localstripe.url, name, url + "/subscriptions/stripe/webhook/",
                     SECRET, list(events))
        yield listen
        for name in names:  # localstripe lives for the session: stop sending here
            register(renewal.localstripe.url, name, url, SECRET, [])


def _refunds(payment):
    return sorted(payment.transactions.filter(kind=TransactionKind.REFUND)
                  .values_list("amount", flat=True))


def test_a_dashboard_refund_is_recorded_and_our_own_is_not_counted_twice(
        keep_committed_data, transactional_db, renewal, endpoint):
    configured(renewal)
    subscription = renewal.subscription(card=renewal.card())
    assert renewal.run(DUE) == {"renewed": 1}
    endpoint("charge.refunded")
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    payment = Payment.objects.get(order_id=cycle.order_id)

    stripe = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    stripe.Refund.create(payment_intent=payment.token, amount=500)  # in Stripe's dashboard
    assert wait_for(lambda: _refunds(payment) == [Decimal("5.00")])
    refund.refund(subscription.pk, Actor(), DUE, cycle.order_id, Decimal("3.00"))  # ours
    # localstripe lives for the session: a refund of an earlier test may still be delivered
    # here, and is answered as not ours. Only this payment's two events count.
    events = StripeWebhookEvent.objects.filter(type="charge.refunded").exclude(
        result="nothing_to_do: not our payment")
    assert wait_for(lambda: events.filter(processed_at__isnull=False).count() == 2)

    assert sorted(events.values_list("result", flat=True)) == [
        "nothing_to_do: already recorded", "recorded: 5.00 USD"]
    assert _refunds(payment) == [Decimal("3.00"), Decimal("5.00")]
    payment.refresh_from_db()
    assert payment.captured_amount == cycle.amount - Decimal("8.00")
    sources = sorted(event.parameters.get("source", "")
                     for event in subscription.events.filter(type=EventType.REFUNDED))
    assert sources == ["", "stripe_dashboard"]


def test_a_3ds_renewal_failed_or_completed_away_from_the_storefront_is_recorded_once(
        keep_committed_data, transactional_db, renewal, endpoint):
    configured(renewal)
    failing = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    completing = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(DUE) == {"failed": 2}
    endpoint("payment_intent.succeeded", "payment_intent.payment_failed")
    failed_attempt = PaymentAttempt.objects.get(subscription=failing)
    paid_attempt = PaymentAttempt.objects.get(subscription=completing)

    rf.complete_authentication(renewal.localstripe.url, failed_attempt.client_secret,
                               success=False)
    rf.complete_authentication(renewal.localstripe.url, paid_attempt.client_secret)

    def settled():
        statuses = set(PaymentAttempt.objects.filter(
            pk__in=[failed_attempt.pk, paid_attempt.pk]).values_list("status", flat=True))
        return statuses == {AttemptStatus.FAILED, AttemptStatus.SUCCEEDED}

    assert wait_for(settled)
    failing.refresh_from_db()
    completing.refresh_from_db()
    assert failing.status == "past_due" and failing.paid_cycles == 1
    assert completing.status == "active" and completing.paid_cycles == 2
    assert completing.events.filter(type=EventType.RENEWED).count() == 1
    cycle = BillingCycle.objects.get(subscription=completing, cycle_index=1)
    assert cycle.status == "paid"
    assert Payment.objects.filter(order_id=cycle.order_id).count() == 1
    # The retries find nothing left to do for the completed one.
    assert "renewed" not in renewal.run(rf.utc(2028, 3, 1, 11))
    assert completing.events.filter(type=EventType.RENEWED).count() == 1
    assert Payment.objects.filter(order_id=cycle.order_id).count() == 1
