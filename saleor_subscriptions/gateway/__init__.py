"""Payment gateways: Stripe for checkouts and renewals, an in-process fake for benchmarks.

Also a Django app of its own (no models): Saleor 3.x puts the gateway plugin's entry point name,
`saleor_subscriptions.gateway`, into INSTALLED_APPS.
"""

# Django < 3.2 reads this; 3.2+ finds the only AppConfig in apps.py.
default_app_config = "saleor_subscriptions.gateway.apps.SubscriptionsGatewayConfig"
