"""Renewal fixtures: the store, the plugin on against localstripe, Stripe cards, a due-run."""
import pytest

from saleor_subscriptions import PLUGIN_ID
from saleor_subscriptions.config import load_settings
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing import renewal_factories as rf

STRIPE_TEST_KEY = "sk_test_subscriptions"  # the key tests/conftest.py's plugin_on configures
PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) { plugin { id } pluginsErrors { field message code } }
}"""


def configure_plugin(staff_api, active=True, **values):
    configuration = [{"name": name, "value": value} for name, value in values.items()]
    return staff_api.mutate(
        PLUGIN_UPDATE, {"id": PLUGIN_ID, "input": {"active": active, "configuration": configuration}}
    )


class Renewals:
    """Test helper around the store: cards, plans, subscriptions and the due-run."""

    def __init__(self, store, staff_api, localstripe, customer):
        self.store = store
        self.staff_api = staff_api
        self.localstripe = localstripe
        self.customer = customer
        self.variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
        self.shipping_method = rf.shipping_method_from_global_id(store.shipping_method_id)

    def configure(self, active=True, **values):
        values.setdefault("Stripe secret key", STRIPE_TEST_KEY)
        values.setdefault("Stripe API base URL", self.localstripe.url)
        values.setdefault("Stripe publishable key", "pk_test_subscriptions")
        configure_plugin(self.staff_api, active=active, **values)

    def card(self, number=rf.GOOD_CARD, customer_id=None):
        return rf.create_card(self.localstripe.url, STRIPE_TEST_KEY, self.customer.email, number,
                              customer_id=customer_id)

    def intents(self, customer_id):
        return rf.payment_intents(self.localstripe.url, STRIPE_TEST_KEY, customer_id)

    def plan(self, **kwargs):
        return rf.make_plan(self.variant, **kwargs)

    def subscription(self, plan=None, card=None, start=None, **kwargs):
        kwargs.setdefault("shipping_method", self.shipping_method)
        return rf.make_subscription(
            plan or self.plan(), self.customer, card or self.card(),
            start=start or rf.utc(2028, 1, 31, 10), **kwargs
        )

    def context(self, **kwargs):
        return renewals.make_context(load_settings(), **kwargs)

    def run(self, now, **kwargs):
        """One due-run until nothing is claimed; returns the merged counts."""
        totals = {}
        context = self.context(**kwargs)
        while True:
            result = renewals.renew_due_subscriptions(now, context=context)
            for key, value in result.counts.items():
                totals[key] = totals.get(key, 0) + value
            if not result.claimed:
                return totals


@pytest.fixture
def renewal(store, staff_api, plugin_on, customer):
    return Renewals(store, staff_api, plugin_on, customer)
