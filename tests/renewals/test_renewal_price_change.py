"""Staff move a plan's existing subscribers to its new price with notice: the customer is
e-mailed N days ahead, renewals before the notice date keep the old price, the first renewal on
or after it bills the new one, and the history and the subscription type show it."""
from decimal import Decimal

import graphene
from django.db import connection
from freezegun import freeze_time
from saleor.order.models import Order

from saleor_subscriptions.models import BillingCycle, EventType
from saleor_subscriptions.testing.renewal_factories import utc

MIGRATE = """
mutation($plan: ID!, $days: Int!) {
  subscriptionPlanMigrateSubscribers(planId: $plan, noticeDays: $days) {
    scheduledCount noticeUntil newPrice { amount currency }
    subscriptionErrors { field message code }
  }
}"""
UPDATE_PRICE = """
mutation($id: ID!, $price: Decimal) {
  subscriptionPlanUpdate(id: $id, input: { price: $price }) {
    subscriptionErrors { field message code }
  }
}"""
SUBSCRIPTION = """
query($id: ID!) {
  customerSubscription(id: $id) {
    unitPrice { amount } scheduledPrice { amount currency } scheduledPriceAt
  }
}"""


def run_on_commit_callbacks():
    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def gid(kind, pk):
    return graphene.Node.to_global_id(kind, pk)


def line_price(subscription, cycle_index):
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=cycle_index)
    return Order.objects.get(pk=cycle.order_id).lines.get().unit_price_gross_amount


def price_emails(mailoutbox):
    return [mail for mail in mailoutbox if "price of your subscription" in mail.subject]


def test_price_change_with_notice(renewal, mailoutbox):
    api = renewal.staff_api
    subscription = renewal.subscription()  # Jan 31, 20.00 a month: renews Feb 29, Mar 31
    plan = subscription.plan
    ended = renewal.subscription(plan=plan)
    ended.status = "cancelled"
    ended.save(update_fields=["status"])
    with freeze_time("2028-02-20 09:00:00"):
        updated = api.execute(UPDATE_PRICE, {"id": gid("SubscriptionPlan", plan.pk),
                                             "price": "25.00"})
        assert updated["subscriptionPlanUpdate"]["subscriptionErrors"] == []
        refused = api.execute(MIGRATE, {"plan": gid("SubscriptionPlan", plan.pk), "days": -1})
        payload = api.execute(MIGRATE, {"plan": gid("SubscriptionPlan", plan.pk), "days": 30})
    refused = refused["subscriptionPlanMigrateSubscribers"]
    assert refused["subscriptionErrors"][0]["field"] == "noticeDays"
    assert refused["subscriptionErrors"][0]["code"] == "INVALID"
    payload = payload["subscriptionPlanMigrateSubscribers"]
    assert payload["subscriptionErrors"] == []
    assert payload["scheduledCount"] == 1  # the cancelled subscription is left alone
    assert Decimal(str(payload["newPrice"]["amount"])) == Decimal("25.00")

    # The customer hears about it once the change commits, with the date.
    assert price_emails(mailoutbox) == []
    run_on_commit_callbacks()
    (notice,) = price_emails(mailoutbox)
    assert notice.to == [renewal.customer.email]
    assert "20.00 USD" in notice.body and "25.00 USD" in notice.body
    assert "March 21, 2028" in notice.body and "March 31, 2028" in notice.body
    (scheduled,) = subscription.events.filter(type=EventType.PRICE_CHANGE_SCHEDULED)
    assert scheduled.actor_type == "staff"
    assert scheduled.parameters["old_price"]["amount"] == "20.000"
    assert scheduled.parameters["new_price"]["amount"] == "25.00"
    assert scheduled.parameters["expected_from"] == "2028-03-31T10:00:00+00:00"
    assert not ended.events.filter(type=EventType.PRICE_CHANGE_SCHEDULED).exists()
    shown = api.execute(SUBSCRIPTION, {"id": gid("CustomerSubscription", subscription.pk)})
    shown = shown["customerSubscription"]
    assert Decimal(str(shown["scheduledPrice"]["amount"])) == Decimal("25.00")
    assert shown["scheduledPriceAt"].startswith("2028-03-21T09:00:00")

    # Feb 29 is inside the notice: the old price.
    assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}
    assert line_price(subscription, 1) == Decimal("20.00")
    assert not subscription.events.filter(type=EventType.PRICE_CHANGED).exists()
    # Mar 31 is the first renewal after it: the new price, recorded in the history.
    assert renewal.run(utc(2028, 3, 31, 10)) == {"renewed": 1}
    assert line_price(subscription, 2) == Decimal("25.00")
    (changed,) = subscription.events.filter(type=EventType.PRICE_CHANGED)
    assert changed.parameters["old_price"]["amount"] == "20.000"
    assert changed.parameters["new_price"]["amount"] == "25.000"
    assert changed.parameters["cycle_index"] == 2
    subscription.refresh_from_db()
    assert subscription.unit_price_amount == Decimal("25.00")
    assert subscription.scheduled_price_amount is None and subscription.scheduled_price_at is None
    shown = api.execute(SUBSCRIPTION, {"id": gid("CustomerSubscription", subscription.pk)})
    assert shown["customerSubscription"]["scheduledPrice"] is None
