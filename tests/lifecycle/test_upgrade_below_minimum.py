"""An upgrade whose prorated difference is below Stripe's minimum charge (USD 0.50) is not
charged: the difference is carried to the next renewal, and the upgrade happens."""
from decimal import Decimal

import graphene
from freezegun import freeze_time
from saleor.order.models import Order

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    quote { chargeNow { amount } } subscriptionErrors { field code message }
  }
}"""


def test_a_tiny_upgrade_is_carried_to_the_next_renewal(customer_api, customer, store, plugin_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    basic, plus = (create_plan(variant, name=name, family="club", tier_rank=rank,
                               price_amount=Decimal(price))
                   for name, rank, price in (("basic", 1, "15.00"), ("plus", 2, "15.50")))
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    subscription = rf.make_subscription(
        basic, customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    with freeze_time("2030-01-16 22:00:00"):  # half the period left: 0.25 more
        result = customer_api.execute(CHANGE, {
            "id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
            "plan": graphene.Node.to_global_id("SubscriptionPlan", plus.pk)})[
            "subscriptionChangePlan"]
    assert result["subscriptionErrors"] == []
    assert result["quote"]["chargeNow"] == {"amount": 0.25}
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == plus and row.carried_amount == Decimal("0.25")
    assert rf.payment_intents(plugin_on.url, KEY, card.customer_id) == []
    carried = row.events.get(type="charge_carried")
    assert carried.amount == Decimal("0.25") and carried.order.total.gross.amount == 0

    renew_due_subscriptions(rf.utc(2030, 2, 1, 10))
    renewal = Order.objects.get(pk=row.cycles.get(cycle_index=1).order_id)
    assert renewal.total.gross.amount == Decimal("20.75")  # 15.50 + 5.00 shipping + 0.25
    assert [intent["amount"] for intent in
            rf.payment_intents(plugin_on.url, KEY, card.customer_id)] == [2075]
