"""Cancelling a past-due subscription whose renewal waits for 3-D Secure closes that intent
through the one rule (cancel it, honour the answer): closed, the cycle is abandoned; completed
by the customer first, it is the renewal's payment; not closed (Stripe unreachable), the
cancellation is refused and nothing changes. A success that still arrives for an abandoned
cycle (what cancellations left before) is refunded, never kept unrecorded."""
import graphene
import pytest
from django.db import transaction
from saleor.payment.models import Payment
from test_notices import staff_recipient, to  # noqa: F401
from test_open_intent_cancel import CancelUnreachable, CompletedBeforeTheCancel, gateway
from test_renewal_authentication import run_on_commit_callbacks

from saleor_subscriptions.domain.notices import NoticeKind
from saleor_subscriptions.gateway import registry
from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    Subscription,
)
from saleor_subscriptions.notice_models import CustomerNotice
from saleor_subscriptions.services import stripe_webhooks
from saleor_subscriptions.services.abandon import abandon_cycle
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
CANCEL = """
mutation($id: ID!) {
  subscriptionCancel(id: $id, immediately: true) {
    subscription { status }
    subscriptionErrors { field code message }
  }
}"""


def past_due(renewal):
    """A renewal that needs 3-D Secure: the subscription is past due, the intent open."""
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.AUTHENTICATION_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(DUE) == {"failed": 1}
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    return subscription, card, attempt


def cancel_now(api, subscription):
    variables = {"id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk)}
    return api.execute(CANCEL, variables)["subscriptionCancel"]


def use_gateway(monkeypatch, made):
    monkeypatch.setattr(registry, "get_gateway", lambda settings=None: made)


def statuses(renewal, card):
    return [intent["status"] for intent in renewal.intents(card.customer_id)]


def cycle_of(subscription):
    return BillingCycle.objects.get(subscription=subscription, cycle_index=1)


def test_cancelling_closes_the_open_intent_then_abandons_the_cycle(renewal, customer_api):
    subscription, card, attempt = past_due(renewal)
    payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["status"] == "CANCELLED"
    assert statuses(renewal, card) == ["canceled"]  # can never be completed now
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED
    cycle = cycle_of(subscription)
    assert cycle.status == "abandoned" and cycle.order_id is None

    # Stripe then tells of the intent it closed: nothing more to record, and it says so.
    events = subscription.events.count()
    closed = dict(succeeded_event(1, attempt), type="payment_intent.payment_failed")
    answer = stripe_webhooks.receive(closed, utc(2028, 3, 2), renewal.context())
    assert answer.startswith(stripe_webhooks.NOTHING_TO_DO)
    assert subscription.events.count() == events


def test_an_intent_completed_before_the_cancel_is_the_renewals_payment(renewal, customer_api,
                                                                       monkeypatch):
    subscription, card, attempt = past_due(renewal)
    completing = gateway(renewal, CompletedBeforeTheCancel)
    completing.client_secret = attempt.client_secret
    use_gateway(monkeypatch, completing)
    payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["status"] == "CANCELLED"  # then cancelled as asked

    (intent,) = renewal.intents(card.customer_id)
    assert intent["status"] == "succeeded"
    attempt.refresh_from_db()
    cycle = cycle_of(subscription)
    assert attempt.status == AttemptStatus.SUCCEEDED and cycle.status == "paid"
    payments = Payment.objects.filter(order_id=cycle.order_id)
    assert [payment.token for payment in payments] == [intent["id"]]
    assert payments[0].order.is_fully_paid()
    subscription.refresh_from_db()
    assert subscription.paid_cycles == 2 and subscription.status == "cancelled"
    assert subscription.events.filter(type=EventType.RENEWED).count() == 1
    assert subscription.events.filter(type=EventType.CANCELLED).count() == 1


def test_a_cancel_that_cannot_close_the_intent_is_refused_and_changes_nothing(
        renewal, customer_api, monkeypatch):
    subscription, card, attempt = past_due(renewal)
    unreachable = gateway(renewal, CancelUnreachable)
    use_gateway(monkeypatch, unreachable)
    payload = cancel_now(customer_api, subscription)
    assert [(error["field"], error["code"]) for error in payload["subscriptionErrors"]] == [
        ("id", "RENEWAL_IN_PROGRESS")]
    subscription.refresh_from_db()
    attempt.refresh_from_db()
    cycle = cycle_of(subscription)
    assert subscription.status == "past_due" and cycle.status == "failed"
    assert cycle.order_id is not None and attempt.status == AttemptStatus.ACTION_REQUIRED
    assert statuses(renewal, card) == ["requires_action"]
    assert not subscription.events.filter(type=EventType.CANCELLED).exists()

    unreachable.cancel_fails = False  # Stripe answers again: the customer's retry goes through
    payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    assert statuses(renewal, card) == ["canceled"] and cycle_of(subscription).status == "abandoned"


def abandoned_with_the_intent_open(subscription, attempt_status):
    """What cancellations (the attempt left open) and dunning's cancel after the commit (the
    attempt failed, the cancel lost) left before the intent was closed first."""
    with transaction.atomic():
        cycle = BillingCycle.objects.select_related("order").get(subscription=subscription,
                                                                 cycle_index=1)
        abandon_cycle(subscription, cycle)
        cycle.save()
        Subscription.objects.filter(pk=subscription.pk).update(
            status="cancelled", cancelled_at=DUE, ended_at=DUE, next_billing_at=None)
        PaymentAttempt.objects.filter(subscription=subscription).update(status=attempt_status)


def succeeded_event(number, attempt):
    return {"id": "evt_abandoned_%d" % number, "type": "payment_intent.succeeded",
            "data": {"object": {"id": attempt.gateway_reference, "object": "payment_intent",
                                "metadata": {"idempotency_key": attempt.idempotency_key}}}}


@pytest.mark.parametrize("attempt_status", [AttemptStatus.ACTION_REQUIRED, AttemptStatus.FAILED])
def test_a_success_for_an_abandoned_cycle_is_refunded_once_not_lost(
        renewal, attempt_status, mailoutbox, staff_recipient):  # noqa: F811
    subscription, card, attempt = past_due(renewal)
    abandoned_with_the_intent_open(subscription, attempt_status)
    rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    context = renewal.context()
    answer = stripe_webhooks.receive(succeeded_event(1, attempt), utc(2028, 3, 2), context)
    assert answer.startswith(stripe_webhooks.RECORDED)
    # Delivered again (another event id): nothing refunded twice.
    stripe_webhooks.receive(succeeded_event(2, attempt), utc(2028, 3, 2, 1), context)
    run_on_commit_callbacks()

    (intent,) = renewal.intents(card.customer_id)
    (charge,) = intent["charges"]["data"]
    assert charge["refunded"] and charge["amount_refunded"] == intent["amount"]
    cycle = cycle_of(subscription)
    assert cycle.status == "abandoned"
    subscription.refresh_from_db()
    assert subscription.paid_cycles == 1 and subscription.status == "cancelled"
    assert not subscription.events.filter(type=EventType.RENEWED).exists()
    (refunded,) = subscription.events.filter(type=EventType.REFUNDED)
    assert refunded.parameters["payment_reference"] == intent["id"]
    assert refunded.parameters["reason"] == "cycle_abandoned"
    assert refunded.amount == cycle.amount
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED  # the money was taken, and given back
    (notice,) = CustomerNotice.objects.filter(subscription=subscription,
                                              kind=NoticeKind.STAFF_PAYMENT_REFUNDED)
    assert notice.details["payment_reference"] == intent["id"]
    (mail,) = [message for message in to(mailoutbox, staff_recipient)
               if "abandoned renewal was refunded" in message.subject]
    assert intent["id"] in mail.body and "25.00 USD" in mail.body


def test_an_intent_closed_by_a_cancel_that_rolled_back_is_not_a_decline(renewal, monkeypatch):
    """The intent is cancelled at Stripe, then a later step of the cancellation fails and all of
    it rolls back: the attempt is closed all the same (never offered again, never taken for a
    card declined at the next retry), and the cycle is charged again on its schedule."""
    from saleor_subscriptions.gateway.interface import CHARGE_CANCELED
    from saleor_subscriptions.services import abandon
    from saleor_subscriptions.services.lifecycle import Actor
    from saleor_subscriptions.services.lifecycle.cancel import cancel

    subscription, card, attempt = past_due(renewal)

    def fails(subscription, cycle):
        raise RuntimeError("Saleor could not delete the draft order")

    monkeypatch.setattr(abandon, "abandon_cycle", fails)
    with pytest.raises(RuntimeError):
        cancel(subscription.pk, Actor(), DUE, immediately=True, context=renewal.context())
    assert statuses(renewal, card) == ["canceled"]
    subscription.refresh_from_db()
    assert subscription.status == "past_due"  # the cancellation did not happen
    attempt.refresh_from_db()
    assert (attempt.status, attempt.error_code) == (AttemptStatus.FAILED, CHARGE_CANCELED)
    cycle = cycle_of(subscription)
    failed_before = cycle.attempt_count
    notices_before = CustomerNotice.objects.filter(
        subscription=subscription, kind=NoticeKind.PAYMENT_FAILED).count()

    monkeypatch.undo()
    renewal.run(cycle.next_retry_at)  # the retry charges again, as scheduled
    assert sorted(statuses(renewal, card)) == ["canceled", "requires_action"]
    assert not subscription.events.filter(type=EventType.PAYMENT_FAILED,
                                          parameters__error_code=CHARGE_CANCELED).exists()
    assert CustomerNotice.objects.filter(
        subscription=subscription, kind=NoticeKind.PAYMENT_FAILED).count() == notices_before
    attempts = list(PaymentAttempt.objects.filter(subscription=subscription).order_by("pk"))
    assert [row.status for row in attempts] == [AttemptStatus.FAILED,
                                                AttemptStatus.ACTION_REQUIRED]
    assert cycle_of(subscription).attempt_count == failed_before + 1  # the new charge's
