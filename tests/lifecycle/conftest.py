"""Lifecycle fixtures: the plugin on (no Stripe calls needed), a customer's subscription."""
import graphene
import pytest

from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan, create_subscription
from saleor_subscriptions.testing.plugins import configure_plugin


def configure(staff_api, **values):
    values.setdefault("Stripe secret key", "sk_test_lifecycle")
    configure_plugin(staff_api, **values)


@pytest.fixture
def subscriptions_on(staff_api):
    configure(staff_api)
    return lambda **values: configure(staff_api, **values)


@pytest.fixture
def subscription(store, customer, subscriptions_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    plan = create_plan(variant, name="Monthly")
    return create_subscription(customer, plan, start=rf.utc(2030, 1, 31, 10))


@pytest.fixture
def gid():
    return lambda subscription: graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
