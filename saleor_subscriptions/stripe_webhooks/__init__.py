"""Stripe webhooks in: the endpoint (view.py); storing and handling in services/stripe_webhooks."""
