"""A customer buys a subscription through Saleor's normal checkout, paid with a reusable card."""
from datetime import datetime, timezone
from decimal import Decimal

import graphene
import stripe
from freezegun import freeze_time

from saleor_subscriptions.models import (
    BillingCycle,
    CheckoutLinePlan,
    StripeCustomer,
    Subscription,
    SubscriptionEvent,
)
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"


def plan_id(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def test_guest_buys_a_monthly_subscription(api, store, monthly, new_card, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"], quantity=2,
                                          email="guest@example.com")
    chosen = storefront.choose_plan(api, checkout, plan_id(monthly))
    assert chosen["subscriptionErrors"] == []
    assert Decimal(str(chosen["linePlan"]["firstCharge"]["amount"])) == Decimal("36.00")
    storefront.choose_shipping(api, checkout)
    assert storefront.total(api, checkout) == Decimal("41.00")  # 2 x 18.00 + 5.00 shipping
    card = new_card()
    storefront.pay(api, checkout, card)
    result = storefront.complete(api, checkout)

    assert result["checkoutErrors"] == []
    assert Decimal(str(result["order"]["total"]["gross"]["amount"])) == Decimal("41.00")
    assert result["order"]["paymentStatus"] == "FULLY_CHARGED"
    subscription = Subscription.objects.get()
    assert subscription.status == "active"
    assert subscription.email == "guest@example.com" and subscription.user is None
    assert subscription.quantity == 2 and subscription.unit_price_amount == Decimal("18.000")
    assert subscription.origin_order.pk == int(result["order"]["number"])
    assert subscription.payment_method_reference == card
    assert subscription.customer_reference.startswith("cus_")
    assert subscription.card_last4 == "4242"
    assert subscription.shipping_address.city == "MOUNTAIN VIEW"
    assert subscription.shipping_address.pk != subscription.origin_order.shipping_address_id
    assert subscription.billing_address is not None and subscription.shipping_method is not None
    assert subscription.paid_cycles == 1 and subscription.cycle_index == 0
    assert subscription.next_billing_at == rf.periods.billing_date(
        subscription.anchor_at, monthly.interval, 1)
    cycle = BillingCycle.objects.get(subscription=subscription)
    assert cycle.status == "paid" and cycle.amount == Decimal("36.000")
    assert list(subscription.events.values_list("type", flat=True)) == ["created"]
    # The card is attached to the customer for off-session renewals.
    options = rf.stripe_options(plugin_on.url, KEY)
    method = stripe.PaymentMethod.retrieve(card, **options)
    assert method["customer"] == subscription.customer_reference
    (intent,) = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert intent["amount"] == 4100 and intent["status"] == "succeeded"
    # The checkout's plan choice is gone with the checkout.
    assert CheckoutLinePlan.objects.count() == 0


def test_signed_in_customer_reuses_one_stripe_customer(
        customer, customer_api, store, monthly, new_card, plugin_on):
    first = storefront.buy(customer_api, store.variants["COFFEE-250G"], plan_id(monthly),
                           new_card(), email=customer.email)
    second = storefront.buy(customer_api, store.variants["COFFEE-250G"], plan_id(monthly),
                            new_card(), email=customer.email)
    assert first["checkoutErrors"] == [] and second["checkoutErrors"] == []
    subscriptions = list(Subscription.objects.filter(user=customer))
    assert len(subscriptions) == 2
    (stripe_customer,) = StripeCustomer.objects.filter(user=customer)
    assert {s.customer_reference for s in subscriptions} == {stripe_customer.customer_id}
    options = rf.stripe_options(plugin_on.url, KEY)
    cards = stripe.PaymentMethod.list(customer=stripe_customer.customer_id, type="card", **options)
    assert len(cards["data"]) == 2
    listed = customer_api.execute("{ mySubscriptions(first: 10) { edges { node { status } } } }")
    assert len(listed["mySubscriptions"]["edges"]) == 2


def test_trial_charges_only_the_signup_fee_and_bills_at_trial_end(
        api, store, variant, new_card, plugin_on):
    plan = create_plan(variant, name="Trial", trial_days=14, signup_fee_amount=Decimal("3.00"))
    result = storefront.buy(api, store.variants["COFFEE-250G"], plan_id(plan), new_card())
    assert result["checkoutErrors"] == []
    assert Decimal(str(result["order"]["total"]["gross"]["amount"])) == Decimal("8.00")  # 3 + 5
    subscription = Subscription.objects.get()
    assert subscription.status == "trialing" and subscription.paid_cycles == 0
    assert subscription.trial_end_at == subscription.anchor_at == subscription.next_billing_at
    assert (subscription.trial_end_at - subscription.created_at).days == 14
    assert set(subscription.events.values_list("type", flat=True)) == {"created", "trial_started"}


def test_free_trial_stores_the_card_without_charging(api, store, new_card, plugin_on, intents):
    staff_variant = rf.variant_from_global_id(store.variants["TEA-100G"])
    # A digital-like trial: the tea ships, so shipping is charged; make it free for this test.
    plan = create_plan(staff_variant, name="Free trial", trial_days=7)
    checkout = storefront.create_checkout(api, store.variants["TEA-100G"])
    storefront.choose_plan(api, checkout, plan_id(plan))
    storefront.choose_shipping(api, checkout)
    assert storefront.total(api, checkout) == Decimal("5.00")  # only shipping today
    before = len(intents())
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    assert len(intents()) == before + 1  # shipping only
    subscription = Subscription.objects.get()
    assert subscription.status == "trialing"
    order = subscription.origin_order
    assert order.total.gross.amount == Decimal("5.00")
    assert order.discount_amount == Decimal("10.00") and order.discount_name == "Free trial"


@freeze_time("2028-01-31 10:00:00")
def test_jan_31_subscription_renews_on_the_last_day_of_february(
        api, store, monthly, new_card, plugin_on):
    storefront.buy(api, store.variants["COFFEE-250G"], plan_id(monthly), new_card())
    subscription = Subscription.objects.get()
    assert subscription.anchor_at == datetime(2028, 1, 31, 10, tzinfo=timezone.utc)
    assert subscription.next_billing_at == datetime(2028, 2, 29, 10, tzinfo=timezone.utc)
    assert rf.periods.billing_date(subscription.anchor_at, monthly.interval, 2) == datetime(
        2028, 3, 31, 10, tzinfo=timezone.utc)


def test_one_off_line_next_to_a_subscribed_line(api, store, monthly, new_card, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    api.mutate("""mutation($id: ID!, $lines: [CheckoutLineInput]!) {
      checkoutLinesAdd(checkoutId: $id, lines: $lines) { checkoutErrors { field message code } }
    }""", {"id": checkout["id"], "lines": [{"variantId": store.variants["TEA-100G"], "quantity": 1}]})
    storefront.choose_plan(api, checkout, plan_id(monthly))
    storefront.choose_shipping(api, checkout)
    assert storefront.total(api, checkout) == Decimal("33.00")  # 18 + 10 + 5
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    assert Subscription.objects.get().variant == monthly.variant
    assert SubscriptionEvent.objects.count() == 1
