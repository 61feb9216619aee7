"""Staff move a plan's existing subscribers to its current price, with notice (MANAGE_PRODUCTS)."""
from datetime import datetime, timezone

import graphene
from saleor.core.permissions import ProductPermissions
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.core.types import Money

from ...config import require_active
from ...models import ActorType
from ...services import price_changes
from ..errors import SubscriptionError
from ..types import SubscriptionPlan
from .plans import get_plan_or_error


class SubscriptionPlanMigrateSubscribers(BaseMutation):
    subscription_plan = graphene.Field(SubscriptionPlan, description="The plan.")
    new_price = graphene.Field(Money, description="The price per unit the subscribers move to.")
    notice_until = graphene.DateTime(
        description="The new price applies from each subscriber's first renewal on or after "
        "this moment.")
    scheduled_count = graphene.Int(
        description="Subscribers told about a new price (and e-mailed).")

    class Arguments:
        plan_id = graphene.ID(required=True, description="ID of the plan.")
        notice_days = graphene.Int(
            required=True, description="Days of notice the customers get (0-365).")

    class Meta:
        description = (
            "Move every existing subscriber of a plan (trialing, active, past due or paused) to "
            "the plan's current price. Each is e-mailed the new price now, and it applies from "
            "their first renewal on or after noticeDays from now (events price_change_scheduled, "
            "then price_changed). Without this, subscribers keep the price they signed up for. "
            "Requires MANAGE_PRODUCTS."
        )
        permissions = (ProductPermissions.MANAGE_PRODUCTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        plan = get_plan_or_error(data["plan_id"], field="plan_id")
        migration = price_changes.schedule_for_plan(
            plan, data["notice_days"], datetime.now(timezone.utc), **_actor(info.context))
        return cls(subscription_plan=plan, new_price=migration.new_price,
                   notice_until=migration.notice_until,
                   scheduled_count=len(migration.scheduled))


def _actor(context) -> dict:
    app = getattr(context, "app", None)
    if app is not None:
        return {"actor_type": ActorType.APP, "app": app}
    return {"actor_type": ActorType.STAFF, "user": context.user}
