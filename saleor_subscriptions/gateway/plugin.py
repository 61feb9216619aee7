"""Stripe gateway for checkouts that start subscriptions: it leaves a reusable card behind."""
from saleor.plugins.base_plugin import BasePlugin

from .. import GATEWAY_ID


class SubscriptionStripeGatewayPlugin(BasePlugin):
    PLUGIN_ID = GATEWAY_ID
    PLUGIN_NAME = "Stripe (subscriptions)"
    PLUGIN_DESCRIPTION = (
        "Stripe payments that keep the card for off-session renewals. Uses the Stripe keys "
        "of the Subscriptions plugin."
    )
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = []
    CONFIG_STRUCTURE = {}

    def process_payment(self, payment_information, previous_value):
        """Checkout: charge now (or only store the card for a free trial) and keep the card."""
        if not self.active:
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

    def refund_payment(self, payment_information, previous_value):
        """Refunds of renewal payments (recorded under this gateway id) from the dashboard."""
        if not self.active:
            return previous_value
        from ..config import load_settings
        from ..saleor_adapter.payments import refund_through
        from .stripe_gateway import StripeGateway

        return refund_through(StripeGateway.from_settings(load_settings()), payment_information)
