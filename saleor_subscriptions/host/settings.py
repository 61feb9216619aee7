"""Host settings: Saleor 2.10.1's settings plus the subscriptions app, plugins and URLconf.

Point DJANGO_SETTINGS_MODULE here, or copy the few additions below into your own settings.
"""
import os
from datetime import timedelta

import dj_database_url
from saleor.settings import *

_HERE = os.path.dirname(os.path.abspath(__file__))

DATABASES = {
    "default": dj_database_url.config(
        default="postgres://postgres@127.0.0.1:5432/saleor_subscriptions", conn_max_age=600
    )
}

INSTALLED_APPS = INSTALLED_APPS + ["saleor_subscriptions"]

PLUGINS = PLUGINS + [
    "saleor_subscriptions.plugin.SubscriptionsPlugin",
    "saleor_subscriptions.gateway.plugin.SubscriptionStripeGatewayPlugin",
]

ROOT_URLCONF = "saleor_subscriptions.host.urls"

# Where the plugin may send the Stripe secret key besides https://api.stripe.com: URL prefixes,
# comma-separated (scripts/pytest.sh and scripts/demo.sh allow their localstripe). The plugin's
# "Stripe API base URL" setting must match one; staff cannot widen this list.
SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES = [
    prefix.strip()
    for prefix in os.environ.get("SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES", "").split(",")
    if prefix.strip()
]

# The wheel ships no templates: Saleor's e-mails and the playground use ours.
TEMPLATES[0]["DIRS"] = [os.path.join(_HERE, "templates")] + TEMPLATES[0]["DIRS"]
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "store@example.com")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"

SUBSCRIPTIONS_RENEWAL_INTERVAL = timedelta(
    seconds=int(os.environ.get("SUBSCRIPTIONS_RENEWAL_INTERVAL_SECONDS", "300"))
)
# How long a worker's claim on a due subscription lasts before another worker may take it over
# (a killed worker's claims expire; its advisory locks die with its connection at once).
SUBSCRIPTIONS_RENEWAL_LEASE_SECONDS = int(os.environ.get("SUBSCRIPTIONS_RENEWAL_LEASE_SECONDS", "600"))
# Charges in flight at once per worker process (services/charge_pool.py; README "Scaling").
SUBSCRIPTIONS_RENEWAL_CONCURRENCY = int(os.environ.get("SUBSCRIPTIONS_RENEWAL_CONCURRENCY", "8"))

CELERY_BEAT_SCHEDULE = {
    "subscriptions-renew-due": {
        "task": "saleor_subscriptions.tasks.renew_due_subscriptions_task",
        "schedule": SUBSCRIPTIONS_RENEWAL_INTERVAL,
    },
    # E-mail reminders (renewal coming up, trial ending, card expiring) and their webhook events.
    "subscriptions-notices": {
        "task": "saleor_subscriptions.tasks.send_notices_task",
        "schedule": timedelta(seconds=int(
            os.environ.get("SUBSCRIPTIONS_NOTICE_INTERVAL_SECONDS", "3600"))),
    },
    # Webhooks out: retries that came due, and deliveries the on-commit task missed.
    "subscriptions-webhook-deliveries": {
        "task": "saleor_subscriptions.webhook_tasks.sweep_webhook_deliveries_task",
        "schedule": timedelta(seconds=int(
            os.environ.get("SUBSCRIPTIONS_WEBHOOK_SWEEP_SECONDS", "30"))),
    },
    # Win-back codes for subscriptions cancelled the configured number of days ago.
    "subscriptions-win-back": {
        "task": "saleor_subscriptions.tasks.send_win_back_offers_task",
        "schedule": timedelta(hours=1),
    },
}
