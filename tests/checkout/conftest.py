"""Checkout fixtures: plans on the store's variants and PaymentMethods made in localstripe."""
import pytest
import stripe

from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

STRIPE_TEST_KEY = "sk_test_subscriptions"  # the key tests/conftest.py configures


@pytest.fixture
def variant(store):
    return rf.variant_from_global_id(store.variants["COFFEE-250G"])


@pytest.fixture
def monthly(variant):
    return create_plan(variant, name="Monthly save 10%", price_amount=None, discount_percent="10")


@pytest.fixture
def new_card(plugin_on):
    """A fresh, unattached PaymentMethod id, like Stripe.js gives a storefront."""
    def make(number=rf.GOOD_CARD):
        options = rf.stripe_options(plugin_on.url, STRIPE_TEST_KEY)
        method = stripe.PaymentMethod.create(
            type="card", card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            **options)
        return method["id"]
    return make


@pytest.fixture
def intents(plugin_on):
    def count_all():
        options = rf.stripe_options(plugin_on.url, STRIPE_TEST_KEY)
        return list(stripe.PaymentIntent.list(limit=100, **options).auto_paging_iter())
    return count_all
