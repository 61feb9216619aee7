import graphene
from graphene import relay
from saleor.graphql.core.connection import CountableDjangoObjectType
from saleor.graphql.core.scalars import Decimal
from saleor.graphql.core.types import Money
from saleor.order import OrderStatus

from .. import models
from ..services import plans
from .enums import (
    SubscriptionActorTypeEnum,
    SubscriptionEventTypeEnum,
    SubscriptionIntervalUnitEnum,
    SubscriptionStatusEnum,
)
from .permissions import can_manage_orders


class SubscriptionPlan(CountableDjangoObjectType):
    interval_unit = SubscriptionIntervalUnitEnum(required=True)
    price = graphene.Field(
        Money, required=True, description="Price per unit for one billing period."
    )
    one_off_price = graphene.Field(
        Money, required=True, description="What the variant costs without a subscription."
    )
    saving = graphene.Field(
        Money, required=True, description="Saved per unit and period against a one-off purchase."
    )
    saving_percent = Decimal(required=True, description="The saving as a percentage.")
    signup_fee = graphene.Field(Money, required=True, description="Charged once at sign-up.")
    first_charge = graphene.Field(
        Money,
        required=True,
        quantity=graphene.Int(default_value=1),
        description="What checkout charges today: the sign-up fee during a trial, else the "
        "first period plus the sign-up fee.",
    )
    variant_id = graphene.ID(required=True, description="The product variant the plan sells.")

    class Meta:
        model = models.SubscriptionPlan
        interfaces = [relay.Node]
        description = "A way to buy a product variant on subscription."
        only_fields = [
            "id",
            "name",
            "family",
            "tier_rank",
            "interval_count",
            "currency",
            "discount_percent",
            "trial_days",
            "billing_cycles",
            "is_active",
            "created_at",
        ]

    @staticmethod
    def resolve_price(root, _info):
        return plans.plan_unit_price(root)

    @staticmethod
    def resolve_one_off_price(root, _info):
        return plans.variant_price(root)

    @staticmethod
    def resolve_saving(root, _info):
        return plans.plan_saving(root)[0]

    @staticmethod
    def resolve_saving_percent(root, _info):
        return plans.plan_saving(root)[1]

    @staticmethod
    def resolve_first_charge(root, _info, quantity=1):
        return plans.plan_first_charge(root, max(quantity, 1))

    @staticmethod
    def resolve_variant_id(root, _info):
        return graphene.Node.to_global_id("ProductVariant", root.variant_id)


class SubscriptionEvent(CountableDjangoObjectType):
    type = SubscriptionEventTypeEnum(required=True)
    actor_type = SubscriptionActorTypeEnum(required=True)
    amount = graphene.Field(Money, description="The amount this event moved, if any.")
    order_id = graphene.ID(description="The Saleor order this event belongs to.")
    user_email = graphene.String(description="Who did it, when a person did.")
    parameters = graphene.JSONString(description="Details (plan ids, reasons, errors).")

    class Meta:
        model = models.SubscriptionEvent
        interfaces = [relay.Node]
        description = "One entry in a subscription's history."
        only_fields = ["id", "date"]

    @staticmethod
    def resolve_amount(root, _info):
        from prices import Money as PricesMoney

        if root.amount is None:
            return None
        return PricesMoney(root.amount, root.currency)

    @staticmethod
    def resolve_order_id(root, _info):
        return graphene.Node.to_global_id("Order", root.order_id) if root.order_id else None

    @staticmethod
    def resolve_user_email(root, _info):
        return root.user.email if root.user_id and root.user else None

    @staticmethod
    def resolve_parameters(root, _info):
        return root.parameters


def _placed_or_staff(cycle, info):
    """A renewal order is a draft until it is paid: customers see it once placed, as Saleor
    shows drafts to staff only."""
    order = cycle.order if cycle.order_id else None
    if order is not None and order.status == OrderStatus.DRAFT and not can_manage_orders(info.context):
        return None
    return order


class SubscriptionBillingCycle(CountableDjangoObjectType):
    status = graphene.String(required=True, description="pending, paid, failed or abandoned.")
    amount = graphene.Field(Money, required=True, description="What the period costs.")
    order_id = graphene.ID(
        description="The Saleor renewal order; a draft until it is paid (shown to staff only).")
    attempt_count = graphene.Int(required=True, description="Failed payment attempts.")
    error_code = graphene.String(description="Why the last try failed (e.g. card_declined).")
    last_error = graphene.String(description="The last failure, in words.")

    class Meta:
        model = models.BillingCycle
        interfaces = [relay.Node]
        description = "One billing period of a subscription and how its renewal went."
        only_fields = ["id", "cycle_index", "period_start", "period_end", "next_retry_at",
                       "first_failed_at", "order"]

    @staticmethod
    def resolve_amount(root, _info):
        from prices import Money as PricesMoney

        return PricesMoney(root.amount, root.currency)

    @staticmethod
    def resolve_order(root, info):
        return _placed_or_staff(root, info)

    @staticmethod
    def resolve_order_id(root, info):
        order = _placed_or_staff(root, info)
        return graphene.Node.to_global_id("Order", order.pk) if order is not None else None

    @staticmethod
    def resolve_error_code(root, _info):
        return root.error_code or None

    @staticmethod
    def resolve_last_error(root, _info):
        return root.last_error or None


class CustomerSubscription(CountableDjangoObjectType):
    status = SubscriptionStatusEnum(required=True)
    plan = graphene.Field(SubscriptionPlan, required=True)
    unit_price = graphene.Field(Money, required=True)
    credit = graphene.Field(Money, required=True)
    events = graphene.List(
        graphene.NonNull(SubscriptionEvent), required=True, description="The full history."
    )
    variant_id = graphene.ID()
    origin_order_id = graphene.ID()
    card_last4 = graphene.String()
    card_brand = graphene.String()
    billing_cycles = graphene.List(
        graphene.NonNull(SubscriptionBillingCycle), required=True,
        description="Billing periods, newest first, with their renewal orders and failures.",
    )
    last_renewal_error = graphene.String(
        description="Why the current renewal is failing, if it is (open cycle's last error)."
    )

    class Meta:
        model = models.Subscription
        interfaces = [relay.Node]
        description = "A customer's subscription to a plan."
        only_fields = [
            "id",
            "token",
            "email",
            "quantity",
            "currency",
            "anchor_at",
            "cycle_index",
            "current_period_start",
            "current_period_end",
            "next_billing_at",
            "trial_end_at",
            "paid_cycles",
            "cancel_at_period_end",
            "cancelled_at",
            "cancel_reason",
            "cancel_reason_text",
            "paused_at",
            "pause_resumes_at",
            "ended_at",
            "scheduled_plan",
            "scheduled_quantity",
            "shipping_address",
            "billing_address",
            "parked_at",
            "parked_reason",
            "created_at",
        ]

    @staticmethod
    def resolve_billing_cycles(root, _info):
        return root.cycles.order_by("-cycle_index")

    @staticmethod
    def resolve_last_renewal_error(root, _info):
        cycle = root.cycles.filter(status__in=["pending", "failed"]).exclude(
            last_error="").order_by("-cycle_index").first()
        if cycle is None:
            return root.parked_reason or None
        return "%s: %s" % (cycle.error_code, cycle.last_error) if cycle.error_code else (
            cycle.last_error)

    @staticmethod
    def resolve_events(root, _info):
        return root.events.select_related("user").all()

    @staticmethod
    def resolve_variant_id(root, _info):
        return graphene.Node.to_global_id("ProductVariant", root.variant_id) if root.variant_id else None

    @staticmethod
    def resolve_origin_order_id(root, _info):
        return graphene.Node.to_global_id("Order", root.origin_order_id) if root.origin_order_id else None


class CheckoutLineSubscriptionPlan(graphene.ObjectType):
    line_id = graphene.ID(required=True, description="The checkout line.")
    plan = graphene.Field(SubscriptionPlan, description="Null: bought once, no subscription.")
    first_charge = graphene.Field(Money, description="What the line costs at checkout.")

    class Meta:
        description = "The subscription plan chosen for a checkout line."

    @classmethod
    def of(cls, line, plan):
        return cls(
            line_id=graphene.Node.to_global_id("CheckoutLine", line.pk), plan=plan,
            first_charge=plans.plan_first_charge(plan, line.quantity) if plan else None,
        )
