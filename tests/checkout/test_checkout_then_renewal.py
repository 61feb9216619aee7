"""The subscription a checkout starts is renewed off-session with the card it kept."""
from datetime import timedelta
from decimal import Decimal

import graphene

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"


def test_checkout_subscription_renews_with_the_stored_card(api, store, monthly, new_card, plugin_on):
    plan = graphene.Node.to_global_id("SubscriptionPlan", monthly.pk)
    storefront.buy(api, store.variants["COFFEE-250G"], plan, new_card(), quantity=2)
    subscription = Subscription.objects.get()
    due = subscription.next_billing_at

    result = renew_due_subscriptions(due + timedelta(hours=1))

    assert result.renewed == 1
    subscription.refresh_from_db()
    assert subscription.cycle_index == 1 and subscription.paid_cycles == 2
    assert subscription.current_period_start == due
    renewal = subscription.cycles.get(cycle_index=1).order
    assert renewal.pk != subscription.origin_order_id
    assert renewal.total.gross.amount == Decimal("41.00")  # 2 x 18.00 + 5.00 shipping
    assert renewal.shipping_address.city == "MOUNTAIN VIEW"
    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert sorted(intent["amount"] for intent in intents) == [4100, 4100]
    assert all(intent["status"] == "succeeded" for intent in intents)
