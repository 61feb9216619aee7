"""Stripe webhooks in, sent by localstripe itself (signed with its own code) to a live server.

localstripe 1.15.4 sends no payment_intent.* or charge.refunded events, so this one proves the
endpoint accepts what a Stripe-like sender signs: an event type we do not handle (acknowledged,
stored, ignored), and one signed with another secret (refused, nothing stored)."""
import json
import time
import urllib.request

import pytest

from saleor_subscriptions.models import StripeWebhookEvent
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.live_server import serving
from saleor_subscriptions.testing.plugins import configure_plugin

STRIPE_TEST_KEY = "sk_test_subscriptions"  # what tests/conftest.py's plugin_on configures
SECRET = "whsec_live_subscriptions"


def register(localstripe_url: str, name: str, url: str, secret: str, events) -> None:
    body = json.dumps({"url": url, "secret": secret, "events": events}).encode()
    request = urllib.request.Request("%s/_config/webhooks/%s" % (localstripe_url, name),
                                     data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def live_url():
    with serving() as url:
        yield url


def wait_for(condition, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_localstripe_signs_and_sends_an_event_to_the_live_endpoint(
        keep_committed_data, transactional_db, staff_api, plugin_on, live_url, caplog):
    configure_plugin(staff_api, active=True, **{
        "Stripe secret key": STRIPE_TEST_KEY, "Stripe API base URL": plugin_on.url,
        "Stripe publishable key": "pk_test_subscriptions",
        "Stripe webhook signing secret": SECRET})
    url = live_url + "/subscriptions/stripe/webhook/"
    # localstripe sends to its endpoints one after the other, in this order: once the right
    # one is stored, the forged one has been answered.
    register(plugin_on.url, "h11_forged", url, "whsec_someone_else", ["customer.created"])
    register(plugin_on.url, "h11_right", url, SECRET, ["customer.created"])
    try:
        customer = rf.stripe_client(plugin_on.url, STRIPE_TEST_KEY).Customer.create(
            email="webhook@example.com")
        mine = StripeWebhookEvent.objects.filter(payload__data__object__id=customer["id"])
        assert wait_for(mine.exists)
    finally:  # localstripe lives for the session: stop sending to this server
        register(plugin_on.url, "h11_right", url, SECRET, [])
        register(plugin_on.url, "h11_forged", url, SECRET, [])
    # (Customers made by earlier tests in the second before may arrive too: filtered out.)
    (row,) = mine
    assert (row.type, row.result) == ("customer.created", "ignored") and row.processed_at
    # The copy signed with the other secret reached the endpoint first and was refused.
    assert any("Stripe webhook refused" in record.getMessage() for record in caplog.records)
