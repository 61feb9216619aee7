"""3-D Secure off-session: one open PaymentIntent per renewal, completed by the customer on the
storefront (Stripe.js against localstripe), recorded exactly once, never charged twice."""
import graphene
from saleor.payment.models import Payment

from saleor_subscriptions.models import AttemptStatus, BillingCycle, EventType, PaymentAttempt
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

PENDING = """
query($id: ID!) {
  customerSubscription(id: $id) {
    status
    pendingPayment { clientSecret paymentMethodId status amount { amount currency }
                     order { number } }
  }
}"""
CONFIRM = """
mutation($id: ID!) {
  subscriptionPaymentConfirm(id: $id) {
    subscription { status pendingPayment { status } }
    subscriptionErrors { field code message }
  }
}"""
DUE = utc(2028, 2, 29, 10)


def run_on_commit_callbacks():
    """The test transaction never commits: run what would have run at commit."""
    from django.db import connection

    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def needs_authentication(renewal):
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    return subscription, card


def test_retries_recheck_the_one_open_intent_instead_of_charging_again(renewal):
    subscription, card = needs_authentication(renewal)
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}  # still waiting for the customer
    assert renewal.run(utc(2028, 3, 3, 11)) == {"failed": 1}

    intents = renewal.intents(card.customer_id)
    assert len(intents) == 1 and intents[0]["status"] == "requires_action"
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    assert attempt.gateway_reference == intents[0]["id"]
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.attempt_count == 3 and cycle.next_retry_at == utc(2028, 3, 7, 10)
    subscription.refresh_from_db()
    assert subscription.status == "past_due"


def test_only_the_owner_reads_the_client_secret(renewal, customer_api, other_customer_api,
                                                staff_api):
    subscription, card = needs_authentication(renewal)
    (intent,) = renewal.intents(card.customer_id)
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)

    mine = customer_api.execute(PENDING, {"id": gid(subscription)})["customerSubscription"]
    assert mine["status"] == "PAST_DUE"
    assert mine["pendingPayment"] == {
        "clientSecret": intent["client_secret"], "paymentMethodId": card.payment_method_id,
        "status": "ACTION_REQUIRED", "amount": {"amount": float(cycle.amount), "currency": "USD"},
        "order": None,  # a draft until paid: Saleor shows drafts to staff only
    }
    theirs = other_customer_api.execute(PENDING, {"id": gid(subscription)})
    assert theirs["customerSubscription"] is None
    staff = staff_api.execute(PENDING, {"id": gid(subscription)})["customerSubscription"]
    assert staff["pendingPayment"]["status"] == "ACTION_REQUIRED"
    assert staff["pendingPayment"]["clientSecret"] is None
    assert staff["pendingPayment"]["order"] == {"number": str(cycle.order_id)}


def test_the_customer_is_emailed_what_to_do_once(renewal, mailoutbox):
    subscription, _card = needs_authentication(renewal)
    run_on_commit_callbacks()
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    run_on_commit_callbacks()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    asks = [message for message in mailoutbox if "confirm" in message.subject.lower()]
    assert len(asks) == 1
    (message,) = asks
    assert message.to == [renewal.customer.email]
    assert str(cycle.order_id) in message.subject + message.body
    assert "25.00 USD" in message.body


def test_completed_on_the_storefront_then_confirmed_is_recorded_once(renewal, customer_api):
    subscription, card = needs_authentication(renewal)
    secret = customer_api.execute(PENDING, {"id": gid(subscription)})[
        "customerSubscription"]["pendingPayment"]["clientSecret"]
    assert rf.complete_authentication(renewal.localstripe.url, secret)["status"] == "succeeded"

    payload = customer_api.execute(CONFIRM, {"id": gid(subscription)})["subscriptionPaymentConfirm"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"] == {"status": "ACTIVE", "pendingPayment": None}
    # A second confirmation and the scheduled retry find nothing left to do.
    again = customer_api.execute(CONFIRM, {"id": gid(subscription)})["subscriptionPaymentConfirm"]
    assert again["subscriptionErrors"][0]["code"] == "INVALID_STATUS"
    assert renewal.run(utc(2028, 3, 1, 11)) == {}

    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "paid"
    intents = renewal.intents(card.customer_id)
    assert [intent["status"] for intent in intents] == ["succeeded"]
    payments = Payment.objects.filter(order_id=cycle.order_id)
    assert [payment.token for payment in payments] == [intents[0]["id"]]
    assert payments[0].order.is_fully_paid()
    subscription.refresh_from_db()
    assert subscription.paid_cycles == 2 and subscription.next_billing_at == utc(2028, 3, 31, 10)
    assert subscription.events.filter(type=EventType.RENEWED).count() == 1


def test_completed_on_the_storefront_is_recorded_by_the_next_retry(renewal):
    subscription, card = needs_authentication(renewal)
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    assert renewal.run(utc(2028, 3, 1, 11)) == {"renewed": 1}
    assert renewal.run(utc(2028, 3, 3, 11)) == {}
    assert [intent["status"] for intent in renewal.intents(card.customer_id)] == ["succeeded"]
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert Payment.objects.filter(order_id=cycle.order_id).count() == 1
    assert PaymentAttempt.objects.get(subscription=subscription).status == AttemptStatus.SUCCEEDED


def test_failed_authentication_closes_the_intent_and_the_next_retry_charges_anew(renewal):
    subscription, card = needs_authentication(renewal)
    first = PaymentAttempt.objects.get(subscription=subscription)
    rf.complete_authentication(renewal.localstripe.url, first.client_secret, success=False)
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}  # the dead intent is a failure
    first.refresh_from_db()
    assert first.status == AttemptStatus.FAILED
    # The customer's new card: the next retry makes a new intent (the old one can't be paid).
    good = renewal.card(rf.GOOD_CARD, customer_id=card.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    assert renewal.run(utc(2028, 3, 3, 11)) == {"renewed": 1}
    statuses = sorted(intent["status"] for intent in renewal.intents(card.customer_id))
    assert statuses == ["canceled", "succeeded"]


def test_when_dunning_gives_up_the_open_intent_is_cancelled(renewal):
    renewal.configure(**{"Payment retry schedule": "1", "Action after the last failed retry":
                         "cancel"})
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    run_on_commit_callbacks()
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    assert [intent["status"] for intent in renewal.intents(card.customer_id)] == ["canceled"]
    assert PaymentAttempt.objects.get(subscription=subscription).status == AttemptStatus.FAILED
