"""Operator controls for renewals: renew now, retry a failed payment now, release a parked one."""
from datetime import datetime, timezone

import graphene
from django.core.exceptions import ValidationError
from saleor.core.permissions import OrderPermissions
from saleor.graphql.core.mutations import BaseMutation

from ...config import require_active
from ...error_codes import SubscriptionErrorCode
from ...models import BillingCycle, CycleStatus
from ...services import renewals
from ...services.lifecycle import charge_in_flight, in_flight_refusal
from .. import permissions
from ..errors import SubscriptionError
from ..types import CustomerSubscription


def _invalid(message: str, code=SubscriptionErrorCode.INVALID_STATUS):
    return ValidationError({"id": ValidationError(message, code=code.value)})


class _RenewalMutation(BaseMutation):
    subscription = graphene.Field(CustomerSubscription, description="The subscription afterwards.")
    renewal_status = graphene.String(
        description="renewed, failed, pending (outcome unknown, looked up later) or skipped."
    )
    renewal_detail = graphene.String(description="Why, when it did not renew.")

    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")

    class Meta:
        abstract = True

    @classmethod
    def _run(cls, info, subscription):
        outcome = renewals.renew_subscription(
            subscription.pk, datetime.now(timezone.utc), force=True
        )
        if outcome.status == renewals.SKIPPED:
            if charge_in_flight(subscription.pk):
                raise in_flight_refusal()
            raise _invalid("Nothing was renewed: %s." % outcome.detail)
        subscription.refresh_from_db()
        return cls(subscription=subscription, renewal_status=outcome.status,
                   renewal_detail=outcome.detail or None)


class SubscriptionRenewNow(_RenewalMutation):
    class Meta:
        description = (
            "Run the subscription's renewal now: its next period's order and charge (or the "
            "open one's, when a renewal is under way or failing). Requires MANAGE_ORDERS."
        )
        permissions = (OrderPermissions.MANAGE_ORDERS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        subscription = permissions.get_subscription_or_error(info.context, data["id"])
        if subscription.parked_at is not None:
            raise _invalid("The subscription is parked: release it first.")
        return cls._run(info, subscription)


class SubscriptionRetryPayment(_RenewalMutation):
    class Meta:
        description = "Retry the failed renewal payment now. Requires MANAGE_ORDERS."
        permissions = (OrderPermissions.MANAGE_ORDERS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        subscription = permissions.get_subscription_or_error(info.context, data["id"])
        failing = BillingCycle.objects.filter(
            subscription=subscription, status=CycleStatus.FAILED
        ).exists()
        if not failing:
            raise _invalid("The subscription has no failed renewal to retry.")
        if subscription.parked_at is not None:
            raise _invalid("The subscription is parked: release it first.")
        return cls._run(info, subscription)


class SubscriptionRelease(BaseMutation):
    subscription = graphene.Field(CustomerSubscription, description="The released subscription.")

    class Arguments:
        id = graphene.ID(required=True, description="ID of the parked subscription.")

    class Meta:
        description = (
            "Release a subscription set aside after repeated renewal failures; its renewal is "
            "due again at once. Requires MANAGE_ORDERS."
        )
        permissions = (OrderPermissions.MANAGE_ORDERS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        subscription = permissions.get_subscription_or_error(info.context, data["id"])
        actor_type, user, app = permissions.actor(info.context)
        released = renewals.release_subscription(
            subscription.pk, datetime.now(timezone.utc), actor_type=actor_type, user=user, app=app
        )
        if not released:
            raise _invalid("The subscription is not parked.")
        subscription.refresh_from_db()
        return cls(subscription=subscription)
