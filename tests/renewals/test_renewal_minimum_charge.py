"""A renewal below Stripe's minimum charge (USD 0.50) is not charged and not failed: the amount
is carried to the next renewal's order, with an event."""
from decimal import Decimal

import graphene
from saleor.order.models import Order

from saleor_subscriptions.models import BillingCycle, EventType
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

BALANCE = """
query($id: ID!) { customerSubscription(id: $id) { carriedBalance { amount currency } } }"""


def test_amount_below_the_minimum_is_carried_to_the_next_renewal(renewal, customer_api):
    # A service (nothing ships): 20.00 less 19.70 credit leaves 0.30, below USD's 0.50 minimum.
    product_type = renewal.variant.product.product_type
    product_type.is_shipping_required = False
    product_type.save(update_fields=["is_shipping_required"])
    subscription = renewal.subscription(start=utc(2028, 1, 31, 10))
    subscription.credit_amount = Decimal("19.70")
    subscription.save(update_fields=["credit_amount"])
    customer_id = subscription.customer_reference

    assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.paid_cycles == 2
    assert subscription.carried_amount == Decimal("0.30")
    assert renewal.intents(customer_id) == []
    first = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert first.status == "paid" and first.amount == Decimal("0")
    order = Order.objects.get(pk=first.order_id)
    assert order.total.gross.amount == Decimal("0.00") and order.is_fully_paid()
    shown = customer_api.execute(BALANCE, {"id": graphene.Node.to_global_id(
        "CustomerSubscription", subscription.pk)})["customerSubscription"]
    assert shown["carriedBalance"] == {"amount": 0.3, "currency": "USD"}
    carried = subscription.events.get(type=EventType.CHARGE_CARRIED)
    assert carried.amount == Decimal("0.30") and carried.order_id == order.pk

    assert renewal.run(utc(2028, 3, 31, 10)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.carried_amount == Decimal("0")
    second = BillingCycle.objects.get(subscription=subscription, cycle_index=2)
    next_order = Order.objects.get(pk=second.order_id)
    assert next_order.total.gross.amount == Decimal("20.30") and next_order.is_fully_paid()
    assert [intent["amount"] for intent in renewal.intents(customer_id)] == [2030]


def test_a_carried_balance_comes_back_when_dunning_abandons_its_order(renewal):
    renewal.configure(**{"Payment retry schedule": "1", "Action after the last failed retry":
                         "pause"})
    subscription = renewal.subscription(card=renewal.card(rf.DECLINED_CARD))
    subscription.carried_amount = Decimal("0.30")
    subscription.save(update_fields=["carried_amount"])
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.carried_amount == Decimal("0")  # on the unpaid order now
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.status == "paused"
    assert subscription.carried_amount == Decimal("0.30")  # still owed, not lost


def test_a_carried_renewal_bills_nothing_in_the_revenue_reconciliation(renewal, staff_api):
    product_type = renewal.variant.product.product_type
    product_type.is_shipping_required = False
    product_type.save(update_fields=["is_shipping_required"])
    subscription = renewal.subscription(start=utc(2028, 1, 31, 10))
    subscription.credit_amount = Decimal("19.70")
    subscription.save(update_fields=["credit_amount"])
    assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}  # 0.30 carried, nothing charged

    report = staff_api.execute("""{
      subscriptionRevenueReconciliation(month: "2028-02", currency: "USD") {
        saleor ours difference subscriptionErrors { code } } }""")[
        "subscriptionRevenueReconciliation"]
    assert report["subscriptionErrors"] == []
    assert (report["saleor"], report["ours"], report["difference"]) == (0, 0, 0)
