from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "saleor_subscriptions"
    label = "saleor_subscriptions"
    verbose_name = "Subscriptions"

    def ready(self):
        # Saleor maps any error code it does not know to "invalid": teach it ours.
        from saleor.graphql.core.utils import error_codes

        from .error_codes import SubscriptionErrorCode
        from .saleor_adapter import checkout_discount

        checkout_discount.connect()

        known = set(error_codes.saleor_error_codes)
        error_codes.saleor_error_codes.extend(
            code.value for code in SubscriptionErrorCode if code.value not in known
        )
