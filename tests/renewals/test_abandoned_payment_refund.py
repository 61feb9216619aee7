"""A success for an abandoned cycle is given back whatever happened to the charge meanwhile: a
refund of ours whose commit was lost is found again by its key, never asked twice; what staff
refunded in Stripe's dashboard is not asked again; a refund Stripe refuses is written down,
staff are told, and the renewal sweep tries it again (no webhook needed), as it checks the
intents left open on abandoned cycles."""
import pytest
from django.db import transaction
from test_cancel_open_intent import abandoned_with_the_intent_open, past_due, succeeded_event
from test_notices import staff_recipient, to  # noqa: F401
from test_open_intent_cancel import UNREACHABLE
from test_renewal_authentication import run_on_commit_callbacks

from saleor_subscriptions.domain.notices import NoticeKind
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, BillingCycle, EventType
from saleor_subscriptions.notice_models import CustomerNotice
from saleor_subscriptions.services import stripe_webhooks
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

STRIPE_TEST_KEY = "sk_test_subscriptions"


class CommitLost(Exception):
    pass


class RefundUnreachable(StripeGateway):
    """localstripe for everything, except that a refund's connection fails."""

    def refund(self, reference, amount, idempotency_key):
        return StripeGateway(STRIPE_TEST_KEY, UNREACHABLE).refund(reference, amount,
                                                                  idempotency_key)


def paid_after_abandonment(renewal, attempt_status=AttemptStatus.FAILED, paid=True):
    subscription, card, attempt = past_due(renewal)
    abandoned_with_the_intent_open(subscription, attempt_status)
    if paid:
        rf.complete_authentication(renewal.localstripe.url, attempt.client_secret)
    return subscription, card, attempt


def charge_of(renewal, card):
    (intent,) = renewal.intents(card.customer_id)
    (charge,) = intent["charges"]["data"]
    return intent, charge


def refunds_of(renewal, charge_id):
    return StripeGateway(STRIPE_TEST_KEY, renewal.localstripe.url).list_refunds(charge_id)


def test_a_refund_whose_commit_was_lost_is_found_by_its_key_not_asked_again(renewal):
    subscription, card, attempt = paid_after_abandonment(renewal)
    context = renewal.context()
    with pytest.raises(CommitLost):
        with transaction.atomic():  # Stripe refunded, then our commit failed
            stripe_webhooks.receive(succeeded_event(1, attempt), utc(2028, 3, 2), context)
            raise CommitLost
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED  # nothing of it was kept

    # Delivered again (after Stripe's idempotency window): Stripe refuses a second full refund.
    answer = stripe_webhooks.receive(succeeded_event(2, attempt), utc(2028, 3, 3), context)
    assert answer.startswith(stripe_webhooks.RECORDED), answer
    _, charge = charge_of(renewal, card)
    (refund,) = refunds_of(renewal, charge["id"])
    assert refund.amount.amount == attempt.amount and refund.key.startswith("refund:")
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    (refunded,) = subscription.events.filter(type=EventType.REFUNDED)
    assert refunded.parameters["refund_reference"] == refund.reference
    assert refunded.amount == attempt.amount


def test_what_staff_refunded_in_the_dashboard_is_not_asked_again(renewal):
    subscription, card, attempt = paid_after_abandonment(renewal)
    stripe = StripeGateway(STRIPE_TEST_KEY, renewal.localstripe.url)._stripe
    stripe.Refund.create(payment_intent=attempt.gateway_reference, amount=500)  # no metadata
    answer = stripe_webhooks.receive(succeeded_event(1, attempt), utc(2028, 3, 2),
                                     renewal.context())
    assert answer.startswith(stripe_webhooks.RECORDED), answer
    intent, charge = charge_of(renewal, card)
    assert sorted(refund.amount.amount * 100 for refund in refunds_of(renewal, charge["id"])) == [
        500, intent["amount"] - 500]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    (refunded,) = subscription.events.filter(type=EventType.REFUNDED)
    assert refunded.amount * 100 == intent["amount"] - 500


def test_a_refused_refund_is_recorded_told_to_staff_and_retried_by_the_sweep(
        renewal, mailoutbox, staff_recipient):  # noqa: F811
    subscription, card, attempt = paid_after_abandonment(renewal)
    refused = RefundUnreachable(STRIPE_TEST_KEY, renewal.localstripe.url)
    answer = stripe_webhooks.receive(succeeded_event(1, attempt), utc(2028, 3, 2),
                                     renewal.context(gateway=refused))
    assert answer.startswith(stripe_webhooks.RETRY), answer
    run_on_commit_callbacks()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED and attempt.error_code == "refund_failed"
    (failed,) = subscription.events.filter(type=EventType.REFUND_FAILED)
    assert failed.parameters["payment_reference"] == attempt.gateway_reference
    (notice,) = CustomerNotice.objects.filter(subscription=subscription,
                                              kind=NoticeKind.STAFF_REFUND_FAILED)
    assert notice.details["payment_reference"] == attempt.gateway_reference
    (mail,) = [message for message in to(mailoutbox, staff_recipient)
               if "could not be refunded" in message.subject]
    assert attempt.gateway_reference in mail.body

    # Stripe stopped delivering the event: the renewal batch's sweep gives the money back.
    renewal.run(utc(2028, 3, 2, 1))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    _, charge = charge_of(renewal, card)
    assert charge["refunded"]
    assert subscription.events.filter(type=EventType.REFUNDED).count() == 1
    assert subscription.events.filter(type=EventType.REFUND_FAILED).count() == 1


def test_the_sweep_gives_back_a_payment_on_an_abandoned_cycle_no_webhook_told(renewal):
    subscription, card, attempt = paid_after_abandonment(renewal, AttemptStatus.ACTION_REQUIRED)
    renewal.run(utc(2028, 3, 2, 1))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    _, charge = charge_of(renewal, card)
    assert charge["refunded"]
    assert subscription.events.filter(type=EventType.REFUNDED).count() == 1


def test_the_sweep_closes_an_intent_left_open_on_an_abandoned_cycle(renewal):
    subscription, card, attempt = paid_after_abandonment(renewal, AttemptStatus.ACTION_REQUIRED,
                                                         paid=False)
    renewal.run(utc(2028, 3, 2, 1))
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.FAILED
    (intent,) = renewal.intents(card.customer_id)
    assert intent["status"] == "canceled"
    cycle = BillingCycle.objects.get(pk=attempt.cycle_id)
    assert cycle.status == "abandoned"
