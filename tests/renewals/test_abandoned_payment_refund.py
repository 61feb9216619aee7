"""A success for an abandoned cycle is given back whatever happened to the charge meanwhile: a
refund of ours whose commit was lost is found again by its key, never asked twice."""
import pytest
from django.db import transaction
from test_cancel_open_intent import abandoned_with_the_intent_open, past_due, succeeded_event

from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, EventType
from saleor_subscriptions.services import stripe_webhooks
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

STRIPE_TEST_KEY = "sk_test_subscriptions"


class CommitLost(Exception):
    pass


def paid_after_abandonment(renewal):
    subscription, card, attempt = past_due(renewal)
    abandoned_with_the_intent_open(subscription, AttemptStatus.FAILED)
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
