"""Stripe gateway for checkouts that start subscriptions: it leaves a reusable card behind.

It is offered (`availablePaymentGateways`, stored cards) only while the Subscriptions plugin is
switched on with both Stripe keys, and takes payments only while it is on with a secret key: it
has no keys of its own. Refunds need only the
key, so a store owner who switches subscriptions off can still refund what was charged.

Payments are captured at once (`process_payment`): there is no authorise-then-capture, no void
and no 3-D Secure confirm step (a card that asks for authentication is refused, as with Saleor
2.10's own Stripe plugin), so `authorize_payment`, `capture_payment`, `void_payment` and
`confirm_payment` are not implemented and Saleor reports them as unavailable.
"""
from saleor.plugins.base_plugin import BasePlugin

from .. import GATEWAY_ID


def _subscriptions_ready() -> bool:
    from ..config import load_settings

    settings = load_settings()
    # Without the publishable key a storefront could not make a card (Stripe.js).
    return bool(settings.active and settings.stripe_secret_key
                and settings.stripe_publishable_key)


class SubscriptionStripeGatewayPlugin(BasePlugin):
    PLUGIN_ID = GATEWAY_ID
    PLUGIN_NAME = "Stripe (subscriptions)"
    PLUGIN_DESCRIPTION = (
        "Stripe payments that keep the card for off-session renewals. Uses the Stripe keys "
        "of the Subscriptions plugin and works while that plugin is on."
    )
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = []
    CONFIG_STRUCTURE = {}

    _ready = None

    @property
    def active(self) -> bool:
        """Switched on here *and* the Subscriptions plugin on with a secret key (read once per
        plugin instance: Saleor builds new instances for every request)."""
        if self.enabled and self._ready is None:
            self._ready = _subscriptions_ready()
        return bool(self.enabled and self._ready)

    @active.setter
    def active(self, value) -> None:
        self.enabled = bool(value)
        self._ready = None

    def process_payment(self, payment_information, previous_value):
        """Checkout: charge now (or only store the card for a free trial) and keep the card.

        Runs whenever this plugin is switched on, so that a payment created before subscriptions
        were switched off fails with a clear message (not Saleor's "inaccessible" exception).
        """
        if not self.enabled:
            return previous_value
        from .checkout_charge import process_checkout_payment

        return process_checkout_payment(payment_information)

    def get_payment_config(self, previous_value):
        if not self.active:
            return previous_value
        from ..config import load_settings

        settings = load_settings()
        return [
            {"field": "api_key", "value": settings.stripe_publishable_key},
            {"field": "store_customer_card", "value": True},
        ]

    def list_payment_sources(self, customer_id, previous_value):
        """The cards stored on the customer's Stripe customer (`me { storedPaymentSources }`)."""
        if not self.active:
            return previous_value
        from .customers import list_cards

        return list(previous_value or []) + list_cards(customer_id)

    def refund_payment(self, payment_information, previous_value):
        """Refunds of checkout and renewal payments (dashboard orderRefund)."""
        from ..config import load_settings

        settings = load_settings()
        if not (self.enabled and settings.stripe_secret_key):
            return previous_value
        from ..saleor_adapter.payments import refund_through
        from .simulated import with_simulated_cards
        from .stripe_gateway import StripeGateway

        return refund_through(with_simulated_cards(StripeGateway.from_settings(settings)),
                              payment_information)
