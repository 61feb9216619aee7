"""Stripe connection settings shared by checkout and renewals (api key, api base, api version).

Minimal version written for renewals; extend it rather than adding a second configuration path.
"""
from typing import Dict

import stripe

#: Saleor 2.10's Stripe plugin reads PaymentIntent.charges: pin a version contemporary with it.
API_VERSION = "2020-03-02"
DEFAULT_API_BASE = "https://api.stripe.com"
#: seconds; an off-session charge that takes longer is treated as an unknown outcome
REQUEST_TIMEOUT = 30


def configure(api_base: str = "") -> None:
    """Point the stripe library at Stripe (or localstripe). Process-wide, like the library."""
    stripe.api_base = api_base or DEFAULT_API_BASE
    if not getattr(stripe.default_http_client, "_subscriptions_timeout", False):
        client = stripe.http_client.new_default_http_client(timeout=REQUEST_TIMEOUT)
        client._subscriptions_timeout = True
        stripe.default_http_client = client


def request_options(api_key: str) -> Dict[str, str]:
    """Per-request options: never rely on the global stripe.api_key."""
    return {"api_key": api_key, "stripe_version": API_VERSION}


def from_settings(settings) -> Dict[str, str]:
    """Configure from SubscriptionSettings and return the per-request options."""
    configure(settings.stripe_api_base)
    return request_options(settings.stripe_secret_key)
