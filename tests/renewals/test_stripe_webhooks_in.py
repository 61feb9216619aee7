"""Stripe webhooks in: signed events from Stripe (built here with Stripe's own algorithm, over
the events' objects as localstripe holds them), stored once, handled through the one charging
path."""
import hashlib
import hmac
import json
import time
from decimal import Decimal

from saleor.order.models import OrderEvent
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment.models import Payment

from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    StripeWebhookEvent,
    SubscriptionEvent,
)
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

STRIPE_TEST_KEY = "sk_test_subscriptions"  # what tests/renewals/conftest.py configures

URL = "/subscriptions/stripe/webhook/"
SECRET = "whsec_test_subscriptions"
DUE = utc(2028, 2, 29, 10)


def signed(payload: bytes, secret: str = SECRET, at: int = None) -> str:
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), b"%d.%s" % (at, payload), hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (at, signature)


def post(client, event: dict, **sign):
    body = json.dumps(event).encode()
    return client.post(URL, data=body, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=signed(body, **sign))


def event(event_id: str, type_: str, obj) -> dict:
    return {"id": event_id, "object": "event", "type": type_, "created": int(time.time()),
            "data": {"object": obj}}


def stripe_object(renewal, kind: str, reference: str) -> dict:
    client = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    return getattr(client, kind).retrieve(reference).to_dict_recursive()


def configured(renewal):
    renewal.configure(**{"Payment retry schedule": "1,3,7",
                         "Stripe webhook signing secret": SECRET})


def test_a_3ds_renewal_completed_by_payment_intent_succeeded_is_recorded_once(renewal, client):
    configured(renewal)
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    intent = stripe_object(renewal, "PaymentIntent", attempt.gateway_reference)
    assert intent["status"] == "succeeded"

    succeeded = event("evt_3ds_1", "payment_intent.succeeded", intent)
    response = post(client, succeeded)
    assert response.status_code == 200 and response.json()["result"] == "recorded"
    # A replay of the same event, then a second delivery of the same news, change nothing.
    assert post(client, succeeded).json()["result"] == "duplicate"
    assert post(client, event("evt_3ds_2", "payment_intent.succeeded", intent)).json()[
        "result"] == "nothing_to_do"
    assert renewal.run(utc(2028, 3, 1, 11)) == {}

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "paid"
    payments = Payment.objects.filter(order_id=cycle.order_id)
    assert [payment.token for payment in payments] == [intent["id"]]
    assert payments[0].order.is_fully_paid()
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.paid_cycles == 2
    assert subscription.events.filter(type=EventType.RENEWED).count() == 1
    rows = StripeWebhookEvent.objects.order_by("pk")
    assert [(row.stripe_id, row.result) for row in rows] == [
        ("evt_3ds_1", "recorded: succeeded"), ("evt_3ds_2", "nothing_to_do: no open attempt")]
    assert rows[0].processed_at is not None and rows[0].payload["id"] == "evt_3ds_1"


def test_a_failed_3ds_is_recorded_as_a_failure_through_the_same_path(renewal, client):
    configured(renewal)
    subscription = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret, success=False)
    intent = stripe_object(renewal, "PaymentIntent", attempt.gateway_reference)

    response = post(client, event("evt_3ds_failed", "payment_intent.payment_failed", intent))
    assert response.status_code == 200 and response.json()["result"] == "recorded"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and subscription.paid_cycles == 1
    assert not subscription.events.filter(type=EventType.RENEWED).exists()


def test_a_refund_made_in_stripes_dashboard_is_recorded_on_the_order_and_history(renewal,
                                                                                  client):
    configured(renewal)
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"renewed": 1}
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    payment = Payment.objects.get(order_id=cycle.order_id)
    stripe = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    stripe.Refund.create(payment_intent=payment.token, amount=500)  # 5.00 in the dashboard
    charge_id = stripe_object(renewal, "PaymentIntent", payment.token)["charges"]["data"][0]["id"]
    charge = stripe_object(renewal, "Charge", charge_id)
    assert charge["amount_refunded"] == 500
    # Stripe's charges name their PaymentIntent; localstripe 1.15.4's do not.
    charge.setdefault("payment_intent", payment.token)

    refunded = event("evt_refund_1", "charge.refunded", charge)
    assert post(client, refunded).json()["result"] == "recorded"
    assert post(client, refunded).json()["result"] == "duplicate"
    # Stripe's second delivery of the same refund (another event id): already on the order.
    assert post(client, event("evt_refund_2", "charge.refunded", charge)).json()[
        "result"] == "nothing_to_do"

    payment.refresh_from_db()
    refunds = payment.transactions.filter(kind=TransactionKind.REFUND)
    assert [(row.amount, row.is_success) for row in refunds] == [(Decimal("5.00"), True)]
    assert payment.captured_amount == cycle.amount - Decimal("5.00")
    assert payment.charge_status == ChargeStatus.PARTIALLY_REFUNDED
    assert OrderEvent.objects.filter(order_id=cycle.order_id, type="payment_refunded").count() == 1
    (history,) = SubscriptionEvent.objects.filter(subscription=subscription,
                                                  type=EventType.REFUNDED)
    assert (history.order_id, history.amount, history.currency) == (
        cycle.order_id, Decimal("5.00"), "USD")
    assert history.parameters["source"] == "stripe_dashboard"


def test_forged_and_stale_signatures_are_refused_and_nothing_changes(renewal, client):
    configured(renewal)
    subscription = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    intent = stripe_object(renewal, "PaymentIntent", attempt.gateway_reference)
    succeeded = event("evt_forged", "payment_intent.succeeded", intent)

    assert post(client, succeeded, secret="whsec_someone_else").status_code == 400
    assert post(client, succeeded, at=int(time.time()) - 301).status_code == 400
    body = json.dumps(succeeded).encode()
    assert client.post(URL, data=body, content_type="application/json").status_code == 400
    assert client.get(URL).status_code == 405

    assert not StripeWebhookEvent.objects.exists()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and subscription.paid_cycles == 1


def test_unknown_event_types_are_acknowledged_and_ignored(renewal, client):
    configured(renewal)
    response = post(client, event("evt_other", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.json()["result"] == "ignored"
    (row,) = StripeWebhookEvent.objects.all()
    assert (row.type, row.result) == ("customer.created", "ignored")


def test_without_a_signing_secret_every_event_is_refused(renewal, client):
    renewal.configure()
    response = post(client, event("evt_any", "customer.created", {"id": "cus_1"}))
    assert response.status_code == 400 and not StripeWebhookEvent.objects.exists()


def test_an_event_met_while_a_worker_charges_is_answered_503_and_handled_when_sent_again(
        renewal, client):
    import psycopg2
    from django.db import connection

    from saleor_subscriptions.services.claiming import _ADVISORY_NAMESPACE

    configured(renewal)
    subscription = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    succeeded = event("evt_busy", "payment_intent.succeeded",
                      stripe_object(renewal, "PaymentIntent", attempt.gateway_reference))

    worker = psycopg2.connect(**connection.get_connection_params())  # the test database
    try:  # another session holds the subscription's processing lock, as a charging worker does
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_ADVISORY_NAMESPACE,
                                                               subscription.pk])
        assert post(client, succeeded).status_code == 503
    finally:
        worker.close()
    row = StripeWebhookEvent.objects.get(stripe_id="evt_busy")
    assert row.processed_at is None
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.ACTION_REQUIRED

    # Stripe sends it again: now it is handled, once.
    assert post(client, succeeded).json()["result"] == "recorded"
    assert post(client, succeeded).json()["result"] == "duplicate"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert subscription.events.filter(type=EventType.RENEWED).count() == 1


def test_an_older_failure_event_after_the_success_was_recorded_changes_nothing(renewal, client):
    """Out of order: the intent's earlier state (failed, then retried and paid) arrives last."""
    configured(renewal)
    subscription = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    requires_action = stripe_object(renewal, "PaymentIntent", attempt.gateway_reference)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    succeeded = stripe_object(renewal, "PaymentIntent", attempt.gateway_reference)
    assert post(client, event("evt_new", "payment_intent.succeeded", succeeded)).json()[
        "result"] == "recorded"
    history = subscription.events.count()
    stale = dict(requires_action, status="requires_payment_method",
                 last_payment_error={"code": "card_declined"})
    assert post(client, event("evt_old", "payment_intent.payment_failed", stale)).json()[
        "result"] == "nothing_to_do"
    attempt.refresh_from_db()
    subscription.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED and subscription.status == "active"
    assert subscription.events.count() == history
