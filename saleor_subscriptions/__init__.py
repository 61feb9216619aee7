"""Subscriptions for Saleor: plans on variants, stored-card renewals, dunning, lifecycle."""

default_app_config = "saleor_subscriptions.apps.SubscriptionsConfig"

PLUGIN_ID = "saleor.subscriptions"
GATEWAY_ID = "saleor.subscriptions.stripe"
