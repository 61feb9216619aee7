"""The storefront's side of a renewal payment that needed the customer (3-D Secure)."""
from datetime import datetime, timezone

import graphene
from saleor.graphql.core.mutations import BaseMutation

from ...config import require_active
from ...services import pending_payment, renewals
from .. import permissions
from ..errors import SubscriptionError
from ..types import CustomerSubscription


class SubscriptionPaymentConfirm(BaseMutation):
    subscription = graphene.Field(CustomerSubscription, description="The subscription afterwards.")

    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")

    class Meta:
        description = (
            "Call after Stripe.js confirmed the subscription's pending payment "
            "(pendingPayment.clientSecret): records it once Stripe says it succeeded. The "
            "subscription's owner, or MANAGE_ORDERS."
        )
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def check_permissions(cls, context, permissions=None):
        # Ownership is checked per subscription; anonymous visitors own none.
        return context.user.is_authenticated or getattr(context, "app", None) is not None

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        settings = require_active()
        subscription = permissions.get_subscription_or_error(info.context, data["id"])
        pending_payment.confirm_pending_payment(
            subscription.pk, datetime.now(timezone.utc), renewals.make_context(settings))
        subscription.refresh_from_db()
        return cls(subscription=subscription)
