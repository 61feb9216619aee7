"""Declines, retries on the store's schedule, recovery on the same order, final actions."""
import stripe
from saleor.order import OrderStatus
from saleor.order.models import Order

from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    EventType,
    PaymentAttempt,
    SubscriptionEvent,
)
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc


def events(subscription):
    return list(SubscriptionEvent.objects.filter(subscription=subscription)
                .values_list("type", flat=True))


def test_decline_retries_then_recovery_on_the_same_order_keeps_the_anchor(renewal):
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(card=card, start=utc(2028, 1, 31, 10))
    due = utc(2028, 2, 29, 10)

    assert renewal.run(due) == {"failed": 1}
    subscription.refresh_from_db()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert subscription.status == "past_due"
    assert cycle.status == "failed" and cycle.attempt_count == 1
    assert cycle.first_failed_at == due
    assert cycle.next_retry_at == utc(2028, 3, 1, 10)
    assert cycle.error_code == "card_declined"
    order = Order.objects.get(pk=cycle.order_id)
    assert not order.is_fully_paid()
    assert order.status == OrderStatus.DRAFT  # placed only once paid
    assert {EventType.PAYMENT_FAILED, EventType.PAYMENT_RETRY_SCHEDULED} <= set(events(subscription))

    assert renewal.run(utc(2028, 2, 29, 23)) == {}  # retry not due yet
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    cycle.refresh_from_db()
    assert cycle.attempt_count == 2 and cycle.next_retry_at == utc(2028, 3, 3, 10)

    # The customer fixes the card; the next retry pays the same order.
    good = renewal.card(rf.GOOD_CARD, customer_id=card.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    assert renewal.run(utc(2028, 3, 3, 12)) == {"renewed": 1}

    subscription.refresh_from_db()
    cycle.refresh_from_db()
    order.refresh_from_db()
    assert subscription.status == "active"
    assert cycle.status == "paid"
    assert order.is_fully_paid() and order.status == OrderStatus.UNFULFILLED
    assert subscription.next_billing_at == utc(2028, 3, 31, 10)  # anchor kept
    assert Order.objects.filter(metadata__subscription_renewal=str(subscription.token)).count() == 1
    keys = list(PaymentAttempt.objects.filter(cycle=cycle).values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 3
    assert EventType.PAYMENT_RECOVERED in events(subscription)
    assert EventType.PAYMENT_RETRIED in events(subscription)
    intents = renewal.intents(card.customer_id)
    assert [i["status"] for i in intents].count("succeeded") == 1


def _exhaust(renewal, final_action):
    renewal.configure(**{"Payment retry schedule": "1,2",
                         "Action after the last failed retry": final_action})
    subscription = renewal.subscription(card=renewal.card(rf.DECLINED_CARD),
                                        start=utc(2028, 1, 1, 10))
    for now in (utc(2028, 2, 1, 10), utc(2028, 2, 2, 10), utc(2028, 2, 3, 10)):
        assert renewal.run(now) == {"failed": 1}
    assert renewal.run(utc(2028, 3, 5, 10)) == {}  # nothing more, ever
    subscription.refresh_from_db()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "abandoned" and cycle.attempt_count == 3
    # The unpaid draft is gone (never placed, so nothing to cancel), and with it its stock.
    assert cycle.order_id is None
    assert not Order.objects.filter(metadata__subscription_renewal=str(subscription.token)).exists()
    assert subscription.next_billing_at is None
    assert EventType.DUNNING_EXHAUSTED in events(subscription)
    return subscription


def test_decline_until_the_final_action_cancel(renewal):
    subscription = _exhaust(renewal, "cancel")
    assert subscription.status == "cancelled"
    assert EventType.CANCELLED in events(subscription)


def test_decline_until_the_final_action_pause(renewal):
    subscription = _exhaust(renewal, "pause")
    assert subscription.status == "paused"
    assert EventType.PAUSED in events(subscription)


def test_authentication_required_is_recorded_as_needing_the_customer(renewal):
    subscription = renewal.subscription(card=renewal.card(rf.AUTHENTICATION_CARD))
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    attempt = PaymentAttempt.objects.get(subscription=subscription)
    assert attempt.status == AttemptStatus.ACTION_REQUIRED
    assert attempt.error_code == "authentication_required"
    assert attempt.gateway_reference.startswith("pi_")
    assert EventType.PAYMENT_ACTION_REQUIRED in events(subscription)


def test_retries_stop_when_the_subscription_is_cancelled(renewal):
    card = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    subscription.status = "cancelled"
    subscription.save(update_fields=["status"])
    assert renewal.run(utc(2028, 4, 1, 10)) == {}
    assert len(renewal.intents(card.customer_id)) == 1


def test_stripe_rejects_unknown_customers_as_invalid_not_declined(renewal):
    card = renewal.card()
    stripe.Customer.delete(card.customer_id, **rf.stripe_options(renewal.localstripe.url,
                                                                   "sk_test_subscriptions"))
    subscription = renewal.subscription(card=card)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.status == "active"  # not the card's fault: no dunning
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.blocked_count == 1 and cycle.error_code == "invalid_request"
