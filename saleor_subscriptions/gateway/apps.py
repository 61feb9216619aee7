from django.apps import AppConfig


class SubscriptionsGatewayConfig(AppConfig):
    """Only so that Saleor 3.x can install the gateway plugin's entry point as an app: a label
    of our own, since the default ("gateway") could clash with another app's."""

    name = "saleor_subscriptions.gateway"
    label = "saleor_subscriptions_gateway"
    verbose_name = "Subscriptions: Stripe gateway"
