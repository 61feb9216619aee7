"""The Stripe secret key goes only to allowed servers, with each request (never through the stripe
module's globals, which Saleor's own Stripe plugin uses), and a card saved for one Stripe customer
is never attached to another (real Stripe refuses it; localstripe does not, so we check)."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import graphene
import pytest
import stripe
from saleor.order.models import Order
from saleor.plugins.models import PluginConfiguration

from saleor_subscriptions import PLUGIN_ID
from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"  # tests/conftest.py's plugin_on
CARD_UPDATE = """
mutation($id: ID!, $pm: String!) {
  subscriptionPaymentMethodUpdate(id: $id, paymentMethodId: $pm) {
    subscription { cardLast4 } subscriptionErrors { field code message }
  }
}"""
STORED_CARDS = "{ me { storedPaymentSources { gateway creditCardInfo { lastDigits } } } }"
REFUND = """mutation($id: ID!) {
  orderRefund(id: $id, amount: 1) { order { paymentStatus } orderErrors { field code } } }"""


def gid(kind, pk):
    return graphene.Node.to_global_id(kind, pk)


class Recorder(BaseHTTPRequestHandler):
    """A server of a staff member's own: records what reaches it."""

    def _answer(self):
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = json.dumps({"id": "cus_stolen", "object": "customer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def attacker():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    # "localhost", not the 127.0.0.1 the tests allow for localstripe: an internal address.
    server.url = "http://localhost:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_stored_disallowed_api_base_is_never_called(api, store, monthly, attacker):
    # Written straight to the database (before the allow list, or by hand): pluginUpdate
    # refuses such a value (tests/plans/test_stripe_settings.py).
    PluginConfiguration.objects.create(identifier=PLUGIN_ID, name="Subscriptions", active=True,
                                       configuration=[
                                           {"name": "Stripe secret key", "value": KEY},
                                           {"name": "Stripe publishable key", "value": "pk_test_x"},
                                           {"name": "Stripe API base URL", "value": attacker.url}])
    result = storefront.buy(api, store.variants["COFFEE-250G"], gid("SubscriptionPlan", monthly.pk),
                            "pm_card_visa")
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["PAYMENT_ERROR"]
    message = result["checkoutErrors"][0]["message"]
    assert "not set up correctly" in message and "SUBSCRIPTIONS_" not in message

    subscription = rf.make_subscription(
        rf.make_plan(monthly.variant), None, rf.StripeCard("cus_1", "pm_1"),
        start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    assert renew_due_subscriptions(subscription.next_billing_at + timedelta(hours=1)).renewed == 0
    assert attacker.seen == []
    assert Order.objects.filter(payments__captured_amount__gt=0).count() == 0


def test_stripe_module_globals_are_untouched(
        customer, customer_api, staff_api, store, monthly, new_card, plugin_on, monkeypatch):
    first, second = new_card(), new_card()  # (the tests' own helper uses the globals)
    saleor_stripe_plugin = object()  # an HTTP client of someone else: unusable by us
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")
    monkeypatch.setattr(stripe, "api_key", "sk_test_saleor_stripe_plugin")
    monkeypatch.setattr(stripe, "default_http_client", saleor_stripe_plugin)

    bought = storefront.buy(customer_api, store.variants["COFFEE-250G"],
                            gid("SubscriptionPlan", monthly.pk), first, email=customer.email)
    assert bought["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    updated = customer_api.execute(CARD_UPDATE, {"id": gid("CustomerSubscription",
                                                           subscription.pk), "pm": second})
    assert updated["subscriptionPaymentMethodUpdate"]["subscriptionErrors"] == []
    assert renew_due_subscriptions(subscription.next_billing_at + timedelta(hours=1)).renewed == 1
    cards = customer_api.execute(STORED_CARDS)["me"]["storedPaymentSources"]
    assert len(cards) == 2
    refunded = staff_api.execute(REFUND, {"id": bought["order"]["id"]})["orderRefund"]
    assert refunded["orderErrors"] == []

    assert stripe.api_base == "http://127.0.0.1:9"
    assert stripe.api_key == "sk_test_saleor_stripe_plugin"
    assert stripe.default_http_client is saleor_stripe_plugin


def test_card_update_refuses_another_customers_card(customer, customer_api, store, plugin_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    mine = rf.create_card(plugin_on.url, KEY, customer.email)
    subscription = rf.make_subscription(rf.make_plan(variant), customer, mine,
                                        start=rf.utc(2030, 1, 1, 10))
    before = subscription.events.count()
    theirs = rf.create_card(plugin_on.url, KEY, "someone.else@example.com")

    payload = customer_api.execute(CARD_UPDATE, {"id": gid("CustomerSubscription", subscription.pk),
                                                 "pm": theirs.payment_method_id})[
        "subscriptionPaymentMethodUpdate"]
    assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [
        ("paymentMethodId", "PAYMENT_ERROR")]
    assert "another customer" in payload["subscriptionErrors"][0]["message"]
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.payment_method_reference == mine.payment_method_id
    assert row.events.count() == before
    method = stripe.PaymentMethod.retrieve(theirs.payment_method_id,
                                           **rf.stripe_options(plugin_on.url, KEY))
    assert method["customer"] == theirs.customer_id


def test_checkout_refuses_another_customers_card(api, store, monthly, plugin_on):
    theirs = rf.create_card(plugin_on.url, KEY, "someone.else@example.com")
    result = storefront.buy(api, store.variants["COFFEE-250G"], gid("SubscriptionPlan", monthly.pk),
                            theirs.payment_method_id)
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["PAYMENT_ERROR"]
    assert "another customer" in result["checkoutErrors"][0]["message"]
    assert Order.objects.count() == 0 and Subscription.objects.count() == 0
    method = stripe.PaymentMethod.retrieve(theirs.payment_method_id,
                                           **rf.stripe_options(plugin_on.url, KEY))
    assert method["customer"] == theirs.customer_id
    assert rf.payment_intents(plugin_on.url, KEY, theirs.customer_id) == []
