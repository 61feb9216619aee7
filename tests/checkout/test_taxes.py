"""One tax rule for every charge: the checkout's first charge, an upgrade's order and the
renewal orders are taxed through Saleor's plugins manager by the store's tax plugin (here a
fixed-rate fake: 10 % on products, 20 % on shipping, added to net prices)."""
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time
from saleor.order.models import Order

from saleor_subscriptions.models import BillingCycle, Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront, tax_plugin
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    quote { chargeNow { amount } } subscriptionErrors { field code message }
  }
}"""


@pytest.fixture
def taxed_store(settings, plugin_on):
    # The store's tax plugin sits before ours, as Saleor's own tax plugins do in PLUGINS.
    settings.PLUGINS = [tax_plugin.PATH] + list(settings.PLUGINS)
    return plugin_on


@pytest.fixture
def tiers(store):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    return {name: create_plan(variant, name=name, family="club", tier_rank=rank,
                              price_amount=Decimal(price))
            for name, rank, price in (("basic", 1, "20.00"), ("medium", 2, "30.00"))}


def gid(kind, pk):
    return graphene.Node.to_global_id(kind, pk)


def intent_amounts(localstripe, customer_reference):
    return [intent["amount"] for intent in
            rf.payment_intents(localstripe.url, KEY, customer_reference)]


def test_checkout_upgrade_and_renewal_carry_the_same_tax(customer_api, customer, store, tiers,
                                                         new_card, taxed_store):
    with freeze_time("2030-01-01 10:00:00"):
        checkout = storefront.create_checkout(customer_api, store.variants["COFFEE-250G"],
                                              email=customer.email)
        chosen = storefront.choose_plan(customer_api, checkout, gid("SubscriptionPlan",
                                                                    tiers["basic"].pk))
        assert chosen["subscriptionErrors"] == []
        storefront.choose_shipping(customer_api, checkout)
        # 20.00 + 10 % and 5.00 shipping + 20 %
        assert storefront.total(customer_api, checkout) == Decimal("28.00")
        storefront.pay(customer_api, checkout, new_card())
        result = storefront.complete(customer_api, checkout)
        assert result["checkoutErrors"] == []
    first = Order.objects.get(pk=int(result["order"]["number"]))
    assert (first.total.net.amount, first.total.gross.amount) == (Decimal("25.00"),
                                                                  Decimal("28.00"))
    (line,) = first.lines.all()
    assert (line.unit_price.net.amount, line.unit_price.gross.amount) == (Decimal("20.00"),
                                                                          Decimal("22.00"))
    assert first.is_fully_paid()
    subscription = Subscription.objects.get()
    assert subscription.unit_price_amount == Decimal("20.000")  # renewals start from net
    assert intent_amounts(taxed_store, subscription.customer_reference) == [2800]

    # Half-way through the period: 5.00 net more for the rest of it, taxed like the line.
    with freeze_time("2030-01-16 22:00:00"):
        changed = customer_api.execute(CHANGE, {"id": gid("CustomerSubscription",
                                                          subscription.pk),
                                                "plan": gid("SubscriptionPlan",
                                                            tiers["medium"].pk)})
    assert changed["subscriptionChangePlan"]["subscriptionErrors"] == []
    upgrade = Subscription.objects.get().events.get(type="plan_changed").order
    assert (upgrade.total.net.amount, upgrade.total.gross.amount) == (Decimal("5.00"),
                                                                      Decimal("5.50"))
    assert upgrade.is_fully_paid()
    assert intent_amounts(taxed_store, subscription.customer_reference) == [2800, 550]

    renew_due_subscriptions(rf.utc(2030, 2, 1, 10))
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    renewal = Order.objects.get(pk=cycle.order_id)
    assert (renewal.total.net.amount, renewal.total.gross.amount) == (Decimal("35.00"),
                                                                      Decimal("39.00"))
    assert renewal.is_fully_paid()
    assert intent_amounts(taxed_store, subscription.customer_reference) == [2800, 550, 3900]


def test_a_free_trial_leaves_only_the_taxed_shipping_to_pay(customer_api, customer, store,
                                                            new_card, taxed_store):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    trial = create_plan(variant, name="Trial", price_amount=Decimal("20.00"), trial_days=14)
    checkout = storefront.create_checkout(customer_api, store.variants["COFFEE-250G"],
                                          email=customer.email)
    assert storefront.choose_plan(customer_api, checkout, gid("SubscriptionPlan", trial.pk))[
        "subscriptionErrors"] == []
    storefront.choose_shipping(customer_api, checkout)
    assert storefront.total(customer_api, checkout) == Decimal("6.00")  # 5.00 shipping + 20 %
    storefront.pay(customer_api, checkout, new_card())
    result = storefront.complete(customer_api, checkout)
    assert result["checkoutErrors"] == []
    order = Order.objects.get(pk=int(result["order"]["number"]))
    assert order.total.gross.amount == Decimal("6.00") and order.is_fully_paid()
    assert order.discount_amount == Decimal("22.00")  # the taxed first period, "Free trial"
    subscription = Subscription.objects.get()
    assert subscription.status == "trialing"
    assert intent_amounts(taxed_store, subscription.customer_reference) == [600]
