"""Staff refund subscription payments through Saleor's refund path and Stripe."""
from decimal import Decimal

import graphene
import stripe

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
REFUND = """
mutation($id: ID!, $order: ID!, $amount: Decimal) {
  subscriptionRefund(id: $id, orderId: $order, amount: $amount) {
    refunded { amount currency } subscription { events { type } }
    subscriptionErrors { field code message }
  }
}"""


def bought(api, store, localstripe):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    plan = create_plan(variant, name="Monthly")
    options = rf.stripe_options(localstripe.url, KEY)
    method = stripe.PaymentMethod.create(type="card", card={
        "number": rf.GOOD_CARD, "exp_month": 12, "exp_year": 2034, "cvc": "123"}, **options)
    result = storefront.buy(api, store.variants["COFFEE-250G"],
                            graphene.Node.to_global_id("SubscriptionPlan", plan.pk), method["id"])
    assert result["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    return (subscription, graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
            graphene.Node.to_global_id("Order", subscription.origin_order_id))


def test_partial_then_too_much(api, staff_api, store, plugin_on):
    subscription, sid, order = bought(api, store, plugin_on)  # 20.00 + 5.00 shipping
    first = staff_api.execute(REFUND, {"id": sid, "order": order, "amount": "5.00"})[
        "subscriptionRefund"]
    assert first["subscriptionErrors"] == []
    assert first["refunded"] == {"amount": 5.0, "currency": "USD"}
    assert first["subscription"]["events"][-1]["type"] == "REFUNDED"
    payment = subscription.origin_order.payments.get()
    assert payment.captured_amount == Decimal("20.00")
    assert payment.transactions.filter(kind="refund", is_success=True).count() == 1
    refunds = stripe.Refund.list(limit=100, **rf.stripe_options(plugin_on.url, KEY))["data"]
    intent = payment.transactions.filter(kind="capture").first().token
    assert [r["amount"] for r in refunds if r["payment_intent"] == intent] == [500]
    too_much = staff_api.execute(REFUND, {"id": sid, "order": order, "amount": "20.01"})[
        "subscriptionRefund"]
    assert too_much["subscriptionErrors"][0]["code"] == "AMOUNT_TOO_HIGH"
    assert payment.transactions.filter(kind="refund").count() == 1
    assert subscription.events.filter(type="refunded").count() == 1


def test_orders_of_others_and_bad_amounts_are_refused(api, staff_api, store, plugin_on):
    _subscription, sid, order = bought(api, store, plugin_on)
    refunds_before = len(stripe.Refund.list(limit=100, **rf.stripe_options(plugin_on.url, KEY))["data"])
    foreign = graphene.Node.to_global_id("Order", 999999)
    for variables, field, code in (
            ({"order": foreign, "amount": "1.00"}, "orderId", "NOT_FOUND"),
            ({"order": order, "amount": "0"}, "amount", "INVALID"),
            ({"order": order, "amount": "1.001"}, "amount", "INVALID")):
        payload = staff_api.execute(REFUND, dict(variables, id=sid))["subscriptionRefund"]
        assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [(field, code)]
    refunds = stripe.Refund.list(limit=100, **rf.stripe_options(plugin_on.url, KEY))["data"]
    assert len(refunds) == refunds_before


def test_customers_cannot_refund(api, customer_api, store, plugin_on):
    _subscription, sid, order = bought(api, store, plugin_on)
    body = customer_api.raw(REFUND, {"id": sid, "order": order})
    assert body["errors"][0]["message"].startswith("You do not have permission")


CANCEL_NOW = """
mutation($id: ID!) {
  subscriptionCancel(id: $id, immediately: true) {
    subscription { status events { type amount { amount } } }
    subscriptionErrors { field code }
  }
}"""


def test_cancelling_now_refunds_the_unused_part_when_the_store_says_so(
        api, customer_api, staff_api, store, plugin_on):
    from freezegun import freeze_time

    staff_api.mutate("""mutation($input: PluginUpdateInput!) {
      pluginUpdate(id: "saleor.subscriptions", input: $input) { pluginsErrors { field } }
    }""", {"input": {"configuration": [
        {"name": "Refund unused time on immediate cancellation", "value": "true"}]}})
    with freeze_time("2030-01-01 10:00:00"):
        subscription, sid, _order = bought(api, store, plugin_on)
    with freeze_time("2030-01-16 22:00:00"):
        payload = staff_api.execute(CANCEL_NOW, {"id": sid})["subscriptionCancel"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["status"] == "CANCELLED"
    refunded = [e for e in payload["subscription"]["events"] if e["type"] == "REFUNDED"]
    assert refunded == [{"type": "REFUNDED", "amount": {"amount": 10.0}}]  # half of 20.00
    assert subscription.origin_order.payments.get().captured_amount == Decimal("15.00")
