"""A former subscriber redeems their win-back code (signed in: the code's subscription must be
theirs)."""
from datetime import datetime, timezone

import graphene
from saleor.graphql.core.mutations import BaseMutation

from ...config import require_active
from ...services import win_back
from ...services.lifecycle import Actor
from .. import permissions
from ..errors import SubscriptionError
from ..types import CustomerSubscription
from .plans import get_plan_or_error


class SubscriptionWinBackRedeem(BaseMutation):
    subscription = graphene.Field(CustomerSubscription, description="The subscription, back: "
                                  "ACTIVE once its first period was charged (PAST_DUE if the "
                                  "card was declined: dunning retries it as any renewal).")

    class Arguments:
        code = graphene.String(required=True, description="The code from the win-back e-mail.")
        plan_id = graphene.ID(description="Another plan of the same family; default: the "
                              "subscription's own.")
        payment_method_id = graphene.String(
            description="A Stripe PaymentMethod id from Stripe.js: required when the "
            "subscription's card is gone, otherwise the saved card is charged.")

    class Meta:
        description = ("Bring a cancelled subscription back with its win-back code: single-use, "
                       "until it expires, only by the subscription's owner (signed in). The new "
                       "period is charged at once, at the offered terms.")
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def check_permissions(cls, context, permissions=None):
        return context.user.is_authenticated

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        settings = require_active()
        plan = get_plan_or_error(data["plan_id"], "plan_id") if data.get("plan_id") else None
        actor_type, user, app = permissions.actor(info.context)
        subscription = win_back.redeem(
            data["code"], info.context.user, Actor(actor_type, user, app),
            datetime.now(timezone.utc), settings, plan, data.get("payment_method_id"))
        return cls(subscription=subscription)
