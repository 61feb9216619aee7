"""Which Stripe API base URLs the secret key may be sent to (the host's allow list)."""
import pytest
from django.test import override_settings

from saleor_subscriptions.gateway.api_bases import is_allowed

LOCAL = ["http://127.0.0.1:8420", "https://stripe-proxy.internal.example/v1proxy"]


@pytest.mark.parametrize("url", [
    "", "https://api.stripe.com", "https://api.stripe.com/", "HTTPS://API.STRIPE.COM",
    "http://127.0.0.1:8420", "http://127.0.0.1:8420/",
    "https://stripe-proxy.internal.example/v1proxy", "https://stripe-proxy.internal.example/v1proxy/a",
])
def test_allowed(url):
    with override_settings(SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=LOCAL):
        assert is_allowed(url)


@pytest.mark.parametrize("url", [
    "https://attacker.example.com",
    "http://api.stripe.com",                      # not https
    "https://api.stripe.com.attacker.example",    # a prefix of the string, not of the host
    "https://api.stripe.com@attacker.example",    # a user name, then the real host
    "http://127.0.0.1:8420@attacker.example",
    "http://127.0.0.1:8421",                      # another port
    "http://127.0.0.1",
    "http://localhost:8420",
    "http://169.254.169.254/latest/meta-data",
    "https://stripe-proxy.internal.example/v1proxyX",
    "https://stripe-proxy.internal.example/v1",
    "https://api.stripe.com?x=1", "https://api.stripe.com#x",
    "ftp://api.stripe.com", "api.stripe.com", "http://127.0.0.1:notaport",
])
def test_refused(url):
    with override_settings(SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=LOCAL):
        assert not is_allowed(url)


def test_by_default_only_stripe():
    with override_settings(SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=[]):
        assert is_allowed("https://api.stripe.com")
        assert not is_allowed("http://127.0.0.1:8420")


def test_a_prefix_without_a_port_allows_every_port_of_that_host():
    with override_settings(SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=["http://127.0.0.1"]):
        assert is_allowed("http://127.0.0.1:8420") and is_allowed("http://127.0.0.1:51234")
        assert not is_allowed("http://127.0.0.2:8420")
