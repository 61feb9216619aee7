"""DataLoaders of the fields of `CustomerSubscription` that read other tables: a list of
subscriptions (the staff's `customerSubscriptions`, `mySubscriptions`, `User.subscriptions`)
reads them once for all its rows, not once per row, as saleor_type_fields.py does for Saleor's
types."""
from saleor.graphql.core.dataloaders import DataLoader

from ..services.discounts import active_discounts_of
from ..services.pending_payment import pending_payments


class ActiveDiscountsBySubscriptionIdLoader(DataLoader):
    context_key = "subscriptions_active_discounts_by_subscription_id"

    def batch_load(self, keys):
        found = active_discounts_of(keys)
        return [found[key] for key in keys]


class PendingPaymentBySubscriptionLoader(DataLoader):
    """Keyed by the subscription itself (a model instance hashes by its id): the answer
    carries it."""

    context_key = "subscriptions_pending_payment_by_subscription"

    def batch_load(self, keys):
        found = pending_payments(keys)
        return [found.get(key.pk) for key in keys]
