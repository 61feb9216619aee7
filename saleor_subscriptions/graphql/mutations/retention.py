"""Retention offers: staff configure them per cancellation reason (MANAGE_ORDERS); a customer
about to cancel asks which apply to their subscription and accepts one instead (owner only)."""
from datetime import datetime, timezone

import graphene
from django.core.exceptions import ValidationError
from graphql_relay import to_global_id
from saleor.core.permissions import OrderPermissions
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.core.scalars import Decimal as DecimalScalar

from ...config import require_active
from ...error_codes import SubscriptionErrorCode
from ...offer_models import RetentionOffer, RetentionOfferKind
from ...services import retention
from ...services.lifecycle import Actor
from .. import permissions
from ..errors import SubscriptionError, subscription_errors
from ..ids import invalid, pk_or_error
from ..types import SubscriptionPlan
from .lifecycle import SubscriptionCancelReasonEnum, _LifecycleMutation, _meta
from .plans import get_plan_or_error

OFFER_TYPE = "SubscriptionRetentionOffer"
SubscriptionRetentionOfferKindEnum = graphene.Enum(
    "SubscriptionRetentionOfferKind",
    [(value.upper(), value) for value, _label in RetentionOfferKind.CHOICES])


class SubscriptionRetentionOffer(graphene.ObjectType):
    id = graphene.ID(required=True)
    reason = SubscriptionCancelReasonEnum(required=True,
                                          description="The cancellation reason it answers.")
    kind = SubscriptionRetentionOfferKindEnum(required=True)
    percent = graphene.Float(description="DISCOUNT: percent off each discounted renewal.")
    renewals = graphene.Int(description="DISCOUNT: how many renewals are discounted.")
    cycles = graphene.Int(description="PAUSE: billing cycles paused.")
    is_active = graphene.Boolean(required=True)

    class Meta:
        description = ("What a customer cancelling for a reason is offered instead: DISCOUNT, "
                       "SKIP (the next renewal), PAUSE (cycles), DOWNGRADE (a cheaper plan of "
                       "the family, from the next period).")

    @staticmethod
    def resolve_id(root, _info):
        return to_global_id(OFFER_TYPE, root.pk)

    @staticmethod
    def resolve_percent(root, _info):
        return float(root.percent) if root.percent is not None else None


class SubscriptionCancellationOffers(graphene.ObjectType):
    offers = graphene.List(graphene.NonNull(SubscriptionRetentionOffer), required=True)
    downgrade_plans = graphene.List(
        graphene.NonNull(SubscriptionPlan), required=True,
        description="The plans a DOWNGRADE offer can move to (pass one as planId).")
    subscription_errors = graphene.List(
        graphene.NonNull(SubscriptionError), required=True,
        description="Why the subscription can get no offer now (then offers is empty).")

    class Meta:
        description = "The retention offers a subscription may get for a cancellation reason."


def _owned_subscription(context, global_id, manage_token=None):
    """The caller's own subscription (retention offers are the customer's choice), or the one a
    manage link names for whoever holds it: anyone else's, staff included, answers NOT_FOUND."""
    if manage_token is not None:
        return permissions.get_subscription_or_error(context, global_id,
                                                     manage_token=manage_token)
    subscription = permissions.get_subscription_or_error(context, global_id)
    user = context.user
    if not user.is_authenticated or subscription.user_id != user.pk:
        raise invalid("id", "Subscription not found.", SubscriptionErrorCode.NOT_FOUND)
    return subscription


def resolve_cancellation_offers(info, id, reason, manage_token=None):
    empty = {"offers": [], "downgrade_plans": []}
    try:
        settings = require_active()
        subscription = _owned_subscription(info.context, id, manage_token)
        now = datetime.now(timezone.utc)
        offers = retention.offers_for(subscription, reason, now, settings)
    except ValidationError as error:
        return SubscriptionCancellationOffers(subscription_errors=subscription_errors(error),
                                              **empty)
    actor_type, user, app = permissions.actor(info.context, subscription)
    retention.record_offered(subscription.pk, reason, offers, Actor(actor_type, user, app), now)
    downgrades = (retention.downgrade_plans(subscription)
                  if any(o.kind == RetentionOfferKind.DOWNGRADE for o in offers) else [])
    return SubscriptionCancellationOffers(offers=offers, downgrade_plans=downgrades,
                                          subscription_errors=[])


def resolve_store_offers(info, include_archived=False):
    from graphql_jwt.exceptions import PermissionDenied

    if not permissions.can_manage_orders(info.context):
        raise PermissionDenied()
    offers = RetentionOffer.objects.all()
    return offers if include_archived else offers.filter(is_active=True)


class SubscriptionRetentionOfferAccept(_LifecycleMutation):
    class Arguments(_LifecycleMutation.Arguments):
        offer_id = graphene.ID(required=True, description="One of subscriptionCancellationOffers.")
        reason = SubscriptionCancelReasonEnum(required=True, description="Why the customer "
                                              "was leaving (the reason the offers were asked for).")
        plan_id = graphene.ID(description="DOWNGRADE: one of the offer's downgradePlans.")

    Meta = _meta("Take a retention offer instead of cancelling: it is applied (discount, "
                 "skipped renewal, pause or downgrade) and the subscription stays. The "
                 "subscription's owner only (signed in, or with the subscription's manage link).")

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        settings = require_active()
        subscription = _owned_subscription(info.context, data["id"], data.get("manage_token"))
        offer = RetentionOffer.objects.filter(
            pk=pk_or_error(data["offer_id"], OFFER_TYPE, "offer_id")).first()
        if offer is None:
            raise invalid("offer_id", "Offer not found.", SubscriptionErrorCode.NOT_FOUND)
        plan = get_plan_or_error(data["plan_id"], "plan_id") if data.get("plan_id") else None
        actor_type, user, app = permissions.actor(info.context, subscription)
        changed = retention.accept(subscription.pk, offer, data["reason"],
                                   Actor(actor_type, user, app), datetime.now(timezone.utc),
                                   settings, plan)
        return cls(subscription=changed)


class SubscriptionRetentionOfferInput(graphene.InputObjectType):
    reason = SubscriptionCancelReasonEnum(required=True, description="The reason it answers.")
    kind = SubscriptionRetentionOfferKindEnum(required=True)
    percent = DecimalScalar(description="DISCOUNT: percent off (above 0, up to 100).")
    renewals = graphene.Int(description="DISCOUNT: renewals discounted (1-120).")
    cycles = graphene.Int(description="PAUSE: cycles (1 to the store's maximum pause length).")


class _StaffOfferMutation(BaseMutation):
    offer = graphene.Field(SubscriptionRetentionOffer)

    class Meta:
        abstract = True


def _staff_offer_meta(description):
    meta = _meta(description + " Requires MANAGE_ORDERS.")
    meta.permissions = (OrderPermissions.MANAGE_ORDERS,)
    return meta


class SubscriptionRetentionOfferCreate(_StaffOfferMutation):
    class Arguments:
        input = SubscriptionRetentionOfferInput(required=True)

    Meta = _staff_offer_meta("Offer customers who cancel for a reason something instead.")

    @classmethod
    def perform_mutation(cls, _root, _info, **data):
        settings = require_active()
        values = dict(data["input"])
        offer = retention.create_offer(retention.OfferInput(
            reason=values["reason"], kind=values["kind"], percent=values.get("percent"),
            renewals=values.get("renewals"), cycles=values.get("cycles")), settings)
        return cls(offer=offer)


class SubscriptionRetentionOfferArchive(_StaffOfferMutation):
    class Arguments:
        id = graphene.ID(required=True)

    Meta = _staff_offer_meta("Stop making a retention offer (accepted ones stay applied).")

    @classmethod
    def perform_mutation(cls, _root, _info, **data):
        require_active()
        offer = RetentionOffer.objects.filter(pk=pk_or_error(data["id"], OFFER_TYPE, "id")).first()
        if offer is None:
            raise invalid("id", "Offer not found.", SubscriptionErrorCode.NOT_FOUND)
        return cls(offer=retention.archive_offer(offer))

