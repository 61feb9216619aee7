"""An immediate cancellation refunds the unused share of what the period captured, ends the paid
period then, and a reactivation afterwards is charged as a new period."""
from decimal import Decimal

import graphene
import stripe
from freezegun import freeze_time

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin

KEY = "sk_test_subscriptions"
FIELDS = """status currentPeriodEnd nextBillingAt anchorAt
            events { type amount { amount } orderId parameters }"""
MUTATION = """
mutation($id: ID!) {
  %s(id: $id%s) { subscription { %s } subscriptionErrors { field code message } }
}"""


def refunds_on(staff_api, localstripe):
    configure_plugin(staff_api, **{"Stripe secret key": KEY, "Stripe API base URL": localstripe.url,
                                   "Refund unused time on immediate cancellation": "true"})


def cancel_now(api, subscription):
    sid = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    return api.execute(MUTATION % ("subscriptionCancel", ", immediately: true", FIELDS),
                       {"id": sid})["subscriptionCancel"]


def reactivate(api, subscription):
    sid = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    return api.execute(MUTATION % ("subscriptionReactivate", "", FIELDS),
                       {"id": sid})["subscriptionReactivate"]


def refunded(payload):
    return [(e["amount"]["amount"], e["orderId"]) for e in payload["subscription"]["events"]
            if e["type"] == "REFUNDED"]


def order_gid(pk):
    return graphene.Node.to_global_id("Order", pk)


def test_refund_follows_what_the_renewal_captured_and_reactivation_is_charged(
        customer, customer_api, staff_api, store, plugin_on):
    refunds_on(staff_api, plugin_on)
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    plan = rf.make_plan(rf.variant_from_global_id(store.variants["COFFEE-250G"]))
    subscription = rf.make_subscription(
        plan, customer, card, start=rf.utc(2030, 1, 1, 10), quantity=2,
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    Subscription.objects.filter(pk=subscription.pk).update(credit_amount=Decimal("10.00"))
    assert renew_due_subscriptions(rf.utc(2030, 2, 1, 10, 1)).counts == {"renewed": 1}
    order = subscription.cycles.get(cycle_index=1).order
    # 2 x 20.00 + 5.00 shipping - 10.00 credit, for Feb 1 10:00 -> Mar 1 10:00 (28 days).
    assert order.payments.get().captured_amount == Decimal("35.00")
    with freeze_time("2030-02-15 10:00:00"):  # half of the period unused
        payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["status"] == "CANCELLED"
    assert refunded(payload) == [(17.5, order_gid(order.pk))]
    assert order.payments.get().captured_amount == Decimal("17.50")
    intent = order.payments.get().transactions.filter(kind="capture").get().token
    stripe_refunds = stripe.Refund.list(limit=100, **rf.stripe_options(plugin_on.url, KEY))["data"]
    assert [r["amount"] for r in stripe_refunds if r["payment_intent"] == intent] == [1750]
    # The paid period ends now: the refunded half is not the customer's any more.
    assert payload["subscription"]["currentPeriodEnd"].startswith("2030-02-15T10:00:00")

    with freeze_time("2030-02-20 09:00:00"):
        back = reactivate(customer_api, subscription)
    assert back["subscriptionErrors"] == []
    assert back["subscription"]["status"] == "ACTIVE"
    assert back["subscription"]["nextBillingAt"].startswith("2030-02-20T09:00")
    assert back["subscription"]["anchorAt"].startswith("2030-02-20T09:00")
    assert renew_due_subscriptions(rf.utc(2030, 2, 20, 9, 1)).counts == {"renewed": 1}
    cycle = subscription.cycles.get(cycle_index=2)
    assert (cycle.status, cycle.period_start, cycle.period_end) == (
        "paid", rf.utc(2030, 2, 20, 9), rf.utc(2030, 3, 20, 9))
    assert cycle.order.payments.get().captured_amount == Decimal("45.00")  # 2 x 20.00 + 5.00
    assert len(rf.payment_intents(plugin_on.url, KEY, card.customer_id)) == 2


CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1, immediately: true) {
    subscriptionErrors { field code message }
  }
}"""


def test_after_an_upgrade_each_order_refunds_its_own_unused_share(
        customer, customer_api, staff_api, store, plugin_on):
    refunds_on(staff_api, plugin_on)
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    basic, medium = (create_plan(variant, name=name, family="club", tier_rank=rank,
                                 price_amount=Decimal(price))
                     for name, rank, price in (("basic", 1, "20.00"), ("medium", 2, "30.00")))
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    subscription = rf.make_subscription(
        basic, customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    assert renew_due_subscriptions(rf.utc(2030, 2, 1, 10, 1)).counts == {"renewed": 1}
    renewal_order = subscription.cycles.get(cycle_index=1).order  # 20.00 + 5.00 shipping
    with freeze_time("2030-02-15 10:00:00"):  # half of Feb 1 10:00 -> Mar 1 10:00 left
        changed = customer_api.execute(CHANGE, {
            "id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
            "plan": graphene.Node.to_global_id("SubscriptionPlan", medium.pk)})
    assert changed["subscriptionChangePlan"]["subscriptionErrors"] == []
    upgrade = subscription.events.get(type="plan_changed").order  # (30 - 20) x 1/2 = 5.00
    assert upgrade.payments.get().captured_amount == Decimal("5.00")
    with freeze_time("2030-02-22 10:00:00"):  # a quarter of the period left
        payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    # 25.00 x 1/4 from the renewal order, 5.00 x 7/14 days from the upgrade's order: never
    # today's 30.00 price taken from an order that was charged 25.00.
    assert refunded(payload) == [(6.25, order_gid(renewal_order.pk)), (2.5, order_gid(upgrade.pk))]
    assert renewal_order.payments.get().captured_amount == Decimal("18.75")
    assert upgrade.payments.get().captured_amount == Decimal("2.50")


def test_a_trial_refunds_nothing_of_the_sign_up_fee(api, customer_api, staff_api, store,
                                                    plugin_on):
    refunds_on(staff_api, plugin_on)
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    plan = create_plan(variant, name="Trial", trial_days=14, signup_fee_amount=Decimal("5.00"))
    method = stripe.PaymentMethod.create(type="card", card={
        "number": rf.GOOD_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        **rf.stripe_options(plugin_on.url, KEY))
    with freeze_time("2030-01-01 10:00:00"):
        result = storefront.buy(customer_api, store.variants["COFFEE-250G"],
                                graphene.Node.to_global_id("SubscriptionPlan", plan.pk),
                                method["id"], email="customer@example.com")
    assert result["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    captured = subscription.origin_order.payments.get().captured_amount  # fee + shipping
    with freeze_time("2030-01-14 10:00:00"):  # one day of the trial left
        payload = cancel_now(customer_api, subscription)
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["status"] == "CANCELLED"
    types = [e["type"] for e in payload["subscription"]["events"]]
    assert "REFUNDED" not in types and "PAYMENT_FAILED" not in types
    assert subscription.origin_order.payments.get().captured_amount == captured
