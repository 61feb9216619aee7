"""Upgrades charge the prorated difference now as a Saleor order; downgrades wait for the period
end (or give credit now); the preview shows the same amounts first."""
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
CHANGE = """
mutation($id: ID!, $plan: ID!, $quantity: Int!, $now: Boolean) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: $quantity, immediately: $now) {
    quote { kind applies chargeNow { amount } credit { amount } }
    subscription { plan { name } quantity events { type } }
    subscriptionErrors { field code message }
  }
}"""
PREVIEW = """
query($id: ID!, $plan: ID!, $quantity: Int!) {
  subscriptionChangePlanPreview(id: $id, planId: $plan, quantity: $quantity) {
    quote { kind applies chargeNow { amount } credit { amount } }
    subscriptionErrors { field code }
  }
}"""
MID_PERIOD = "2030-01-16 22:00:00"  # half of Jan 1 10:00 -> Feb 1 10:00 remains


@pytest.fixture
def tiers(store):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    return {name: create_plan(variant, name=name, family="club", tier_rank=rank,
                              price_amount=Decimal(price))
            for name, rank, price in (("basic", 1, "15.00"), ("medium", 2, "25.00"),
                                      ("premium", 3, "45.00"))}


def subscribe(store, customer, plan, localstripe, number=rf.GOOD_CARD):
    card = rf.create_card(localstripe.url, KEY, customer.email, number)
    return rf.make_subscription(
        plan, customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))


def ids(subscription, plan):
    return (graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
            graphene.Node.to_global_id("SubscriptionPlan", plan.pk))


@freeze_time(MID_PERIOD)
def test_upgrade_charges_the_prorated_difference_now(customer_api, customer, store, tiers,
                                                     plugin_on):
    subscription = subscribe(store, customer, tiers["basic"], plugin_on)
    sid, medium = ids(subscription, tiers["medium"])
    preview = customer_api.execute(PREVIEW, {"id": sid, "plan": medium, "quantity": 1})
    assert preview["subscriptionChangePlanPreview"] == {"quote": {
        "kind": "upgrade", "applies": "now", "chargeNow": {"amount": 5.0},
        "credit": {"amount": 0.0}}, "subscriptionErrors": []}
    result = customer_api.execute(CHANGE, {"id": sid, "plan": medium, "quantity": 1})[
        "subscriptionChangePlan"]
    assert result["subscriptionErrors"] == []
    assert result["quote"]["chargeNow"] == {"amount": 5.0}
    assert result["subscription"]["plan"]["name"] == "medium"
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.unit_price_amount == Decimal("25.000")
    event = row.events.get(type="plan_changed")
    assert event.amount == Decimal("5.000") and event.order.is_fully_paid()
    assert event.order.total.gross.amount == Decimal("5.00")
    intents = rf.payment_intents(plugin_on.url, KEY, row.customer_reference)
    assert [intent["amount"] for intent in intents] == [500]


@freeze_time(MID_PERIOD)
def test_declined_upgrade_changes_nothing(customer_api, customer, store, tiers, plugin_on):
    subscription = subscribe(store, customer, tiers["basic"], plugin_on, rf.DECLINED_CARD)
    sid, premium = ids(subscription, tiers["premium"])
    result = customer_api.execute(CHANGE, {"id": sid, "plan": premium, "quantity": 1})[
        "subscriptionChangePlan"]
    assert [e["code"] for e in result["subscriptionErrors"]] == ["PAYMENT_ERROR"]
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == tiers["basic"] and row.unit_price_amount == Decimal("15.00")
    assert not row.events.filter(type="plan_changed").exists()


def test_downgrade_waits_for_the_period_end_and_the_renewal_applies_it(
        customer_api, customer, store, tiers, plugin_on):
    subscription = subscribe(store, customer, tiers["premium"], plugin_on)
    sid, basic = ids(subscription, tiers["basic"])
    with freeze_time(MID_PERIOD):
        result = customer_api.execute(CHANGE, {"id": sid, "plan": basic, "quantity": 2})[
            "subscriptionChangePlan"]
    assert result["quote"]["applies"] == "period_end"
    assert result["subscription"]["plan"]["name"] == "premium"
    assert result["subscription"]["events"][-1]["type"] == "PLAN_CHANGE_SCHEDULED"
    renew_due_subscriptions(rf.utc(2030, 2, 1, 11))
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == tiers["basic"] and row.quantity == 2 and row.scheduled_plan is None
    assert row.cycles.get(cycle_index=1).amount == Decimal("35.000")  # 2 x 15.00 + 5.00 shipping
    assert [t for t in row.events.values_list("type", flat=True) if t.startswith("plan")] == [
        "plan_change_scheduled", "plan_changed"]


@freeze_time(MID_PERIOD)
def test_immediate_downgrade_keeps_the_difference_as_credit(customer_api, customer, store, tiers,
                                                            plugin_on):
    subscription = subscribe(store, customer, tiers["medium"], plugin_on)
    sid, basic = ids(subscription, tiers["basic"])
    result = customer_api.execute(CHANGE, {"id": sid, "plan": basic, "quantity": 1, "now": True})[
        "subscriptionChangePlan"]
    assert result["quote"]["credit"] == {"amount": 5.0}
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == tiers["basic"] and row.credit_amount == Decimal("5.000")


@freeze_time(MID_PERIOD)
def test_invalid_changes_are_refused_and_change_nothing(customer_api, customer, store, tiers,
                                                        plugin_on):
    subscription = subscribe(store, customer, tiers["basic"], plugin_on)
    outsider = create_plan(tiers["basic"].variant, name="other", family="tea")
    cases = [(outsider, 1, "OTHER_FAMILY"), (tiers["basic"], 1, "SAME_PLAN"),
             (tiers["medium"], 0, "INVALID"), (tiers["medium"], -4, "INVALID")]
    for plan, quantity, code in cases:
        sid, pid = ids(subscription, plan)
        result = customer_api.execute(CHANGE, {"id": sid, "plan": pid, "quantity": quantity})[
            "subscriptionChangePlan"]
        assert [e["code"] for e in result["subscriptionErrors"]] == [code]
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == tiers["basic"] and row.events.count() == 0
