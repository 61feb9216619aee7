"""Bad plan choices and payments are refused before any money moves, leaving nothing behind."""
import graphene
from saleor.order.models import Order
from saleor.payment.models import Payment

from saleor_subscriptions.models import CheckoutLinePlan, Subscription
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin


def gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def assert_nothing_happened(intents_before, intents):
    assert Order.objects.count() == 0
    assert Subscription.objects.count() == 0
    assert len(intents()) == intents_before


def test_plan_of_another_variant_is_refused(api, store, new_card):
    tea = rf.variant_from_global_id(store.variants["TEA-100G"])
    tea_plan = create_plan(tea, name="Tea monthly")
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    result = storefront.choose_plan(api, checkout, gid(tea_plan))
    assert result["subscriptionErrors"] == [{
        "field": "planId", "code": "PLAN_NOT_FOR_VARIANT",
        "message": "Plan Tea monthly is not sold with this line's variant."}]
    assert CheckoutLinePlan.objects.count() == 0


def test_archived_plan_is_refused_when_chosen(api, store, variant, new_card):
    plan = create_plan(variant, is_active=False)
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    result = storefront.choose_plan(api, checkout, gid(plan))
    assert [e["code"] for e in result["subscriptionErrors"]] == ["PLAN_NOT_AVAILABLE"]
    assert CheckoutLinePlan.objects.count() == 0


def test_plan_archived_after_choosing_stops_checkout_before_payment(
        api, store, monthly, new_card, intents):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(monthly))
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, new_card())
    monthly.is_active = False
    monthly.save()
    before = len(intents())
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert result["checkoutErrors"][0]["code"] == "INVALID"
    assert "no longer available" in result["checkoutErrors"][0]["message"]
    assert_nothing_happened(before, intents)


def test_subscription_paid_with_a_gateway_that_keeps_no_card_is_refused(
        api, staff_api, store, monthly, intents):
    configure_plugin(staff_api, plugin_id="mirumee.payments.dummy")
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(monthly))
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, "charged", gateway="mirumee.payments.dummy")
    before = len(intents())
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["PAYMENT_ERROR"]
    assert "charged again" in result["checkoutErrors"][0]["message"]
    assert_nothing_happened(before, intents)
    assert not Payment.objects.filter(captured_amount__gt=0).exists()


def test_declined_card_leaves_no_order_and_no_subscription(api, store, monthly, new_card, intents):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(monthly))
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, new_card("4000000000000002"))
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["PAYMENT_ERROR"]
    assert Order.objects.count() == 0 and Subscription.objects.count() == 0


def test_inactive_plugin_refuses_plan_choice(api, staff_api, store, monthly, plugin_on):
    configure_plugin(staff_api, active=False)
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    result = storefront.choose_plan(api, checkout, gid(monthly))
    assert [e["code"] for e in result["subscriptionErrors"]] == ["PLUGIN_INACTIVE"]
    assert CheckoutLinePlan.objects.count() == 0


def test_another_customers_checkout_is_not_found(
        customer, customer_api, other_customer_api, store, monthly, plugin_on):
    checkout = storefront.create_checkout(customer_api, store.variants["COFFEE-250G"],
                                          email=customer.email)
    result = storefront.choose_plan(other_customer_api, checkout, gid(monthly))
    assert [(e["field"], e["code"]) for e in result["subscriptionErrors"]] == [
        ("checkoutId", "NOT_FOUND")]
    assert CheckoutLinePlan.objects.count() == 0


def test_malformed_ids_are_invalid(api, store, monthly, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    result = storefront.choose_plan(api, checkout, "not-an-id")
    assert [(e["field"], e["code"]) for e in result["subscriptionErrors"]] == [("planId", "INVALID")]
    bad_checkout = dict(checkout, id=graphene.Node.to_global_id("Product", 1))
    result = storefront.choose_plan(api, bad_checkout, gid(monthly))
    assert [(e["field"], e["code"]) for e in result["subscriptionErrors"]] == [
        ("checkoutId", "INVALID")]


def test_removing_the_plan_buys_the_line_once(api, store, monthly, new_card, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(monthly))
    removed = storefront.choose_plan(api, checkout, None)
    assert removed["subscriptionErrors"] == [] and removed["linePlan"]["plan"] is None
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    assert Order.objects.count() == 1 and Subscription.objects.count() == 0
