"""Discounts and plan changes: proration prices the discounts in (the old period at its
discounted price, the new plan after the discounts that follow it), and a discount that does not
follow a plan change ends with it. Charged at localstripe."""
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.discount_models import DiscountSource, SubscriptionDiscount
from saleor_subscriptions.models import BillingCycle, Subscription
from saleor_subscriptions.services import renewals
from saleor_subscriptions.services.discounts import grant_discount
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
MID_PERIOD = "2030-01-16 22:00:00"  # exactly half of Jan 1 10:00 -> Feb 1 10:00
PREVIEW = """
query($id: ID!, $plan: ID!) {
  subscriptionChangePlanPreview(id: $id, planId: $plan, quantity: 1) {
    quote { kind applies chargeNow { amount } } subscriptionErrors { field code }
  }
}"""
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    subscription { plan { name } discounts { name } } subscriptionErrors { field code }
  }
}"""
GRANT = """
mutation($id: ID!) {
  subscriptionDiscountGrant(id: $id, percent: 20, reason: "Loyal customer") {
    subscriptionErrors { field code }
  }
}"""


@pytest.fixture
def tiers(store):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    return {name: create_plan(variant, name=name, family="club", tier_rank=rank,
                              price_amount=Decimal(price))
            for name, rank, price in (("basic", 1, "15.00"), ("medium", 2, "25.00"))}


@pytest.fixture
def basic(store, customer, tiers, plugin_on):
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    return rf.make_subscription(
        tiers["basic"], customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))


def ids(subscription, plan):
    return {"id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
            "plan": graphene.Node.to_global_id("SubscriptionPlan", plan.pk)}


def charged(plugin_on, subscription):
    return [intent["amount"] for intent in rf.payment_intents(
        plugin_on.url, KEY, subscription.customer_reference) if intent["status"] == "succeeded"]


def next_renewal_order(subscription):
    subscription.refresh_from_db()
    renewals.renew_due_subscriptions(subscription.next_billing_at + rf.days(0))
    return BillingCycle.objects.get(subscription=subscription, cycle_index=1).order


def test_an_upgrade_is_prorated_at_the_discounted_prices(
        staff_api, customer_api, basic, tiers, plugin_on):
    assert staff_api.execute(GRANT, {"id": ids(basic, tiers["medium"])["id"]})[
        "subscriptionDiscountGrant"]["subscriptionErrors"] == []
    with freeze_time(MID_PERIOD):
        preview = customer_api.execute(PREVIEW, ids(basic, tiers["medium"]))
        # Half a period: (25.00 - 20 %) / 2 - (15.00 - 20 %) / 2 = 10.00 - 6.00 = 4.00
        assert preview["subscriptionChangePlanPreview"]["quote"] == {
            "kind": "upgrade", "applies": "now", "chargeNow": {"amount": 4.0}}
        changed = customer_api.execute(CHANGE, ids(basic, tiers["medium"]))
    assert changed["subscriptionChangePlan"] == {
        "subscription": {"plan": {"name": "medium"}, "discounts": [{"name": "Goodwill discount"}]},
        "subscriptionErrors": []}
    assert charged(plugin_on, basic) == [400]
    order = next_renewal_order(basic)
    assert order.discount_amount == Decimal("5.000")  # 20 % of 25.00
    assert order.total_gross_amount == Decimal("20.00") + order.shipping_price_gross_amount


def test_a_discount_that_does_not_follow_the_plan_ends_with_the_change(
        customer_api, basic, tiers, plugin_on):
    subscription = Subscription.objects.get(pk=basic.pk)
    grant_discount(subscription, source=DiscountSource.VOUCHER, now=rf.utc(2030, 1, 1, 10),
                   percent=Decimal("20"), renewals=3, name="Basic only",
                   follows_plan_change=False)
    with freeze_time(MID_PERIOD):
        preview = customer_api.execute(PREVIEW, ids(basic, tiers["medium"]))
        # 25.00 / 2 - (15.00 - 20 %) / 2 = 12.50 - 6.00 = 6.50
        assert preview["subscriptionChangePlanPreview"]["quote"]["chargeNow"] == {"amount": 6.5}
        changed = customer_api.execute(CHANGE, ids(basic, tiers["medium"]))
    assert changed["subscriptionChangePlan"]["subscription"]["discounts"] == []
    assert charged(plugin_on, basic) == [650]
    discount = SubscriptionDiscount.objects.get()
    assert discount.end_reason == "plan_changed" and discount.renewals_left == 3
    order = next_renewal_order(basic)
    assert order.discount_amount == 0
    assert order.total_gross_amount == Decimal("25.00") + order.shipping_price_gross_amount
