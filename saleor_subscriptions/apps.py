from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "saleor_subscriptions"
    label = "saleor_subscriptions"
    verbose_name = "Subscriptions"
