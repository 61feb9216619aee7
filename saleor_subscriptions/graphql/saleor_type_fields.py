"""Subscription fields on Saleor's own types, so a storefront reads plans where it reads products:
`Product.subscriptionPlans`, `ProductVariant.subscriptionPlans`, `CheckoutLine.subscriptionPlan`,
`Order.subscriptions` and `User.subscriptions`.

Saleor 2.10 has no extension point for its GraphQL types, so the fields are added to the types'
field maps before the schema is built (api.py). Each field is batched by a DataLoader: a product
list with its plans costs one query for all rows, not one per row. A Saleor 3.x App cannot extend
Saleor's types; there the same data comes from the App's own queries (subscriptionPlans(productId),
mySubscriptions, customerSubscriptions), which is why those stay.
"""
from collections import defaultdict

import graphene
from saleor.graphql.account.types import User
from saleor.graphql.checkout.types import CheckoutLine
from saleor.graphql.core.dataloaders import DataLoader
from saleor.graphql.order.types import Order
from saleor.graphql.product.types import Product, ProductVariant

from ..models import BillingCycle, CheckoutLinePlan
from . import permissions
from .types import CustomerSubscription, SubscriptionPlan


def _active_visible_plans(context):
    return permissions.visible_plans(context).filter(is_active=True).order_by(
        "tier_rank", "interval_unit", "interval_count", "pk")


def _grouped(rows, key_of, keys):
    grouped = defaultdict(list)
    for row in rows:
        grouped[key_of(row)].append(row)
    return [grouped.get(key, []) for key in keys]


class PlansByVariantIdLoader(DataLoader):
    context_key = "subscriptions_plans_by_variant_id"

    def batch_load(self, keys):
        plans = _active_visible_plans(self.context).filter(variant_id__in=keys)
        return _grouped(plans, lambda plan: plan.variant_id, keys)


class PlansByProductIdLoader(DataLoader):
    context_key = "subscriptions_plans_by_product_id"

    def batch_load(self, keys):
        plans = _active_visible_plans(self.context).filter(
            variant__product_id__in=keys).select_related("variant")
        return _grouped(plans, lambda plan: plan.variant.product_id, keys)


class PlanByCheckoutLineIdLoader(DataLoader):
    context_key = "subscriptions_plan_by_checkout_line_id"

    def batch_load(self, keys):
        shown = _active_visible_plans(self.context)
        choices = CheckoutLinePlan.objects.filter(
            line_id__in=keys, plan__in=shown).select_related("plan")
        by_line = {choice.line_id: choice.plan for choice in choices}
        return [by_line.get(key) for key in keys]


class SubscriptionsByOrderIdLoader(DataLoader):
    """Subscriptions an order started (its origin) or renewed (a billing cycle's order)."""

    context_key = "subscriptions_by_order_id"

    def batch_load(self, keys):
        visible = permissions.visible_subscriptions(self.context).select_related("plan")
        started = visible.filter(origin_order_id__in=keys)
        renewals = BillingCycle.objects.filter(
            order_id__in=keys, subscription__in=visible).select_related("subscription__plan")
        by_order = defaultdict(dict)
        for subscription in started:
            by_order[subscription.origin_order_id][subscription.pk] = subscription
        for cycle in renewals:
            by_order[cycle.order_id][cycle.subscription_id] = cycle.subscription
        return [sorted(by_order[key].values(), key=lambda s: s.pk) for key in keys]


class SubscriptionsByUserIdLoader(DataLoader):
    context_key = "subscriptions_by_user_id"

    def batch_load(self, keys):
        subscriptions = permissions.visible_subscriptions(self.context).filter(
            user_id__in=keys).select_related("plan").order_by("-created_at", "-pk")
        return _grouped(subscriptions, lambda subscription: subscription.user_id, keys)


def _list_of(of_type):
    return graphene.List(graphene.NonNull(of_type))


def _add_field(saleor_type, name, field):
    saleor_type._meta.fields[name] = field


def install():
    """Add the fields; idempotent, called once before the schema is built."""
    _add_field(Product, "subscription_plans", graphene.Field(
        _list_of(SubscriptionPlan), required=True,
        resolver=lambda root, info: PlansByProductIdLoader(info.context).load(root.pk),
        description="The plans this product's variants can be bought on (active ones)."))
    _add_field(ProductVariant, "subscription_plans", graphene.Field(
        _list_of(SubscriptionPlan), required=True,
        resolver=lambda root, info: PlansByVariantIdLoader(info.context).load(root.pk),
        description="The plans this variant can be bought on (active ones)."))
    _add_field(CheckoutLine, "subscription_plan", graphene.Field(
        SubscriptionPlan,
        resolver=lambda root, info: PlanByCheckoutLineIdLoader(info.context).load(root.pk),
        description="The plan chosen for this line (checkoutLineSubscriptionPlanSet); null: "
        "bought once."))
    _add_field(Order, "subscriptions", graphene.Field(
        _list_of(CustomerSubscription), required=True,
        resolver=lambda root, info: SubscriptionsByOrderIdLoader(info.context).load(root.pk),
        description="Subscriptions this order started or renewed: shown to their owner and to "
        "staff with MANAGE_ORDERS, else empty."))
    _add_field(User, "subscriptions", graphene.Field(
        _list_of(CustomerSubscription), required=True,
        resolver=lambda root, info: SubscriptionsByUserIdLoader(info.context).load(root.pk),
        description="The user's subscriptions, newest first: shown to that user and to staff "
        "with MANAGE_ORDERS, else empty."))
