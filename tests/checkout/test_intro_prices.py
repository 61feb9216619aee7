"""Intro prices end to end: set by staff, shown to visitors, charged at checkout, applied by
renewals (the first N paid cycles), then the regular price; localstripe holds the amounts."""
from datetime import timedelta
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"
PLAN_CREATE = """
mutation($input: SubscriptionPlanCreateInput!) {
  subscriptionPlanCreate(input: $input) {
    subscriptionPlan { id } subscriptionErrors { field message code }
  }
}"""
PLAN = """
query($id: ID!) {
  subscriptionPlan(id: $id) {
    price { amount currency } introPrice { amount currency } introCycles
    firstCharge { amount } trialDays
  }
}"""
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    subscriptionErrors { field message code }
  }
}"""
SUBSCRIPTION = """
query($id: ID!) {
  customerSubscription(id: $id) {
    introPrice { amount } introCyclesLeft nextCycleUnitPrice { amount }
    events { type parameters }
  }
}"""


def create_intro_plan(staff_api, store, **fields):
    plan_input = {"variantId": store.variants["COFFEE-250G"], "name": "Intro monthly",
                  "intervalUnit": "MONTH", "price": "19.99", "introPrice": "9.99",
                  "introCycles": 3}
    plan_input.update(fields)
    payload = staff_api.mutate(PLAN_CREATE, {"input": plan_input})
    return payload["subscriptionPlan"]["id"]


def renew_next(subscription):
    """Runs the renewal due next and returns the customer's intents at localstripe, in cents."""
    subscription.refresh_from_db()
    result = renew_due_subscriptions(subscription.next_billing_at + timedelta(hours=1))
    assert result.renewed == 1, result


def charged_cents(plugin_on, subscription):
    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert all(intent["status"] == "succeeded" for intent in intents)
    return sorted((intent["created"], intent["amount"]) for intent in intents)


def test_visitors_see_the_intro_terms(api, staff_api, store, plugin_on):
    plan_id = create_intro_plan(staff_api, store)
    plan = api.execute(PLAN, {"id": plan_id})["subscriptionPlan"]
    assert plan["price"] == {"amount": 19.99, "currency": "USD"}
    assert plan["introPrice"] == {"amount": 9.99, "currency": "USD"}
    assert plan["introCycles"] == 3
    assert plan["firstCharge"] == {"amount": 9.99}


def test_three_cycles_at_the_intro_price_then_the_regular_price(
        api, staff_api, store, new_card, plugin_on):
    plan_id = create_intro_plan(staff_api, store)
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"], quantity=2)
    chosen = storefront.choose_plan(api, checkout, plan_id)
    assert chosen["linePlan"]["firstCharge"] == {"amount": 19.98}
    storefront.choose_shipping(api, checkout)
    assert storefront.total(api, checkout) == Decimal("24.98")  # 2 x 9.99 + 5.00 shipping
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    assert subscription.unit_price_amount == Decimal("19.99")
    assert subscription.intro_price_amount == Decimal("9.99")
    assert subscription.intro_until_cycle == 3

    for _cycle in range(4):
        renew_next(subscription)

    amounts = [amount for _created, amount in charged_cents(plugin_on, subscription)]
    # checkout + 2 renewals at 2 x 9.99 (+5.00 shipping), then 2 x 19.99 + 5.00
    assert sorted(amounts) == sorted([2498, 2498, 2498, 4498, 4498])
    orders = {cycle.cycle_index: cycle.order for cycle in subscription.cycles.all()}
    units = {index: order.lines.get().unit_price_net_amount for index, order in orders.items()}
    assert units == {0: Decimal("9.99"), 1: Decimal("9.99"), 2: Decimal("9.99"),
                     3: Decimal("19.99"), 4: Decimal("19.99")}
    ended = subscription.events.get(type="intro_price_ended")
    assert ended.order == orders[3]
    assert ended.parameters["regular_price"] == {"amount": "19.990", "currency": "USD"}

    sid = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    shown = staff_api.execute(SUBSCRIPTION, {"id": sid})["customerSubscription"]
    assert shown["introPrice"] == {"amount": 9.99} and shown["introCyclesLeft"] == 0
    assert shown["nextCycleUnitPrice"] == {"amount": 19.99}
    assert [e["type"] for e in shown["events"]].count("INTRO_PRICE_ENDED") == 1


def test_with_a_trial_the_intro_price_starts_with_the_first_paid_cycle(
        api, staff_api, store, new_card, plugin_on):
    plan_id = create_intro_plan(staff_api, store, trialDays=7, introCycles=2)
    result = storefront.buy(api, store.variants["COFFEE-250G"], plan_id, new_card())
    assert result["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    assert subscription.status == "trialing"

    for _cycle in range(3):
        renew_next(subscription)

    amounts = [amount for _created, amount in charged_cents(plugin_on, subscription)]
    # the trial's checkout charges the shipping only; then 2 intro cycles, then regular
    assert sorted(amounts) == sorted([500, 1499, 1499, 2499])
    subscription.refresh_from_db()
    assert subscription.paid_cycles == 3
    assert subscription.events.filter(type="intro_price_ended").count() == 1


@freeze_time("2030-01-16 22:00:00")
@pytest.mark.parametrize("unused", [True, False])
def test_plan_change_preview_shows_the_new_plans_intro_price(
        customer, customer_api, store, plugin_on, unused):
    from saleor_subscriptions.testing.factories import create_plan

    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    basic = create_plan(variant, name="basic", family="club", tier_rank=1,
                        price_amount=Decimal("15.00"))
    plus = create_plan(variant, name="plus", family="club", tier_rank=2,
                       price_amount=Decimal("30.00"), intro_price_amount=Decimal("20.00"),
                       intro_cycles=2)
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    subscription = rf.make_subscription(
        basic, customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    ids = {"id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
           "plan": graphene.Node.to_global_id("SubscriptionPlan", plus.pk)}
    if not unused:  # it had an intro price on its own plan: no second one
        Subscription.objects.filter(pk=subscription.pk).update(
            intro_price_amount=Decimal("10.00"), intro_until_cycle=1)
    preview = customer_api.execute("""
      query($id: ID!, $plan: ID!) {
        subscriptionChangePlanPreview(id: $id, planId: $plan, quantity: 1) {
          quote { kind chargeNow { amount } newUnitPrice { amount } introPrice { amount }
                  introCycles }
          subscriptionErrors { field code }
        }
      }""", ids)
    assert preview["subscriptionChangePlanPreview"]["subscriptionErrors"] == []
    quote = preview["subscriptionChangePlanPreview"]["quote"]
    assert quote["kind"] == "upgrade" and quote["newUnitPrice"] == {"amount": 30.0}
    if not unused:
        assert quote["introPrice"] is None and quote["introCycles"] == 0
        assert quote["chargeNow"] == {"amount": 7.5}  # half a period of 30.00 - 15.00
        return
    assert quote["introPrice"] == {"amount": 20.0} and quote["introCycles"] == 2
    assert quote["chargeNow"] == {"amount": 2.5}  # half a period of 20.00 - 15.00
    changed = customer_api.execute(CHANGE, ids)["subscriptionChangePlan"]
    assert changed["subscriptionErrors"] == []
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.unit_price_amount == Decimal("30.00")
    assert (row.intro_price_amount, row.intro_until_cycle) == (Decimal("20.00"), 3)
    cents = [amount for _created, amount in charged_cents(plugin_on, row)]
    assert cents == [250]
