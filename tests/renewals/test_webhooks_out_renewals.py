"""Webhooks out from renewals: renewed, payment failed and past due reach a subscribed App."""
import graphene

from saleor_subscriptions.models import BillingCycle
from saleor_subscriptions.services import webhook_outbox
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc
from saleor_subscriptions.testing.webhook_api import create_app, create_webhook
from saleor_subscriptions.testing.webhook_receiver import WebhookReceiver


def test_renewal_outcomes_reach_the_app_signed(renewal, staff_api):
    receiver = WebhookReceiver()
    try:
        _app, crm = create_app(staff_api, "CRM")
        secret = create_webhook(crm, receiver.url, [
            "SUBSCRIPTION_RENEWED", "SUBSCRIPTION_PAYMENT_FAILED", "SUBSCRIPTION_PAST_DUE"])[
            "secret"]
        paying = renewal.subscription(start=utc(2028, 1, 31, 10))
        declining = renewal.subscription(card=renewal.card(rf.DECLINED_CARD),
                                         start=utc(2028, 1, 31, 10))

        assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1, "failed": 1}
        webhook_outbox.sweep()

        assert receiver.all_signed_with(secret)
        by_subscription = {}
        for request in receiver.requests:
            payload = request.payload
            by_subscription.setdefault(payload["subscription"]["id"], []).append(payload)
        gid = lambda row: graphene.Node.to_global_id("CustomerSubscription", row.pk)  # noqa: E731
        (renewed,) = by_subscription[gid(paying)]
        order_id = BillingCycle.objects.get(subscription=paying, cycle_index=1).order_id
        assert renewed["type"] == "subscription_renewed"
        assert renewed["occurred_at"] == "2028-02-29T10:00:00+00:00"
        assert renewed["data"]["order_id"] == graphene.Node.to_global_id("Order", order_id)
        assert renewed["data"]["amount"]["currency"] == "USD"
        assert renewed["subscription"]["current_period_start"] == "2028-02-29T10:00:00+00:00"
        failed, past_due = by_subscription[gid(declining)]
        assert failed["type"] == "subscription_payment_failed"
        assert past_due["type"] == "subscription_past_due"
        assert past_due["subscription"]["status"] == "past_due"
        assert past_due["data"]["previous_status"] == "active"
    finally:
        receiver.close()
