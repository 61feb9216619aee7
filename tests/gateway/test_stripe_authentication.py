"""Stripe itself (not localstripe) answers an off-session charge that needs 3-D Secure with a
CardError `authentication_required` carrying the PaymentIntent, which stays
`requires_payment_method`: the gateway reports ACTION_REQUIRED with the intent and its client
secret, and a later retrieve of that intent says the same until the customer completes it."""
from decimal import Decimal

import stripe
from prices import Money

from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeRequest
from saleor_subscriptions.gateway.stripe_client import StripeClient
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway

INTENT = {
    "id": "pi_3ds", "object": "payment_intent", "amount": 2500, "currency": "eur",
    "client_secret": "pi_3ds_secret_abc", "status": "requires_payment_method",
    "last_payment_error": {"code": "authentication_required", "message": "Authenticate."},
}


def test_authentication_required_keeps_the_intent_and_its_secret(monkeypatch):
    retrieved = []

    def request(_client, method, url, params=None, idempotency_key=None):
        """Stripe's answers at our client's boundary: the off-session confirm asks for
        authentication; the intent stays retrievable."""
        if method == "post" and url == "/v1/payment_intents":
            raise stripe.error.CardError(
                "This payment requires authentication.", None, "authentication_required",
                json_body={"error": {"code": "authentication_required", "payment_intent": INTENT}})
        assert (method, url) == ("get", "/v1/payment_intents/pi_3ds")
        retrieved.append(url.rsplit("/", 1)[1])
        return stripe.PaymentIntent.construct_from(INTENT, "sk_test_x")

    monkeypatch.setattr(StripeClient, "request", request)
    gateway = StripeGateway("sk_test_x", "http://127.0.0.1:1")

    result = gateway.charge(ChargeRequest(Money(Decimal("25.00"), "EUR"), "cus_1", "pm_1", "k1"))
    assert result.outcome == ChargeOutcome.ACTION_REQUIRED
    assert (result.reference, result.client_secret) == ("pi_3ds", "pi_3ds_secret_abc")
    assert result.amount == Money(Decimal("25.00"), "EUR")

    again = gateway.retrieve_charge("pi_3ds")
    assert retrieved == ["pi_3ds"]
    assert again.outcome == ChargeOutcome.ACTION_REQUIRED
    assert again.client_secret == "pi_3ds_secret_abc"
