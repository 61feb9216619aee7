"""The store the permission matrix and the input fuzz call: users, staff and Apps with and
without each permission, plans, a subscription, a checkout with a plan chosen."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Dict

from graphene import Node
from graphql import parse
from saleor.discount.models import Voucher

from saleor_subscriptions.discount_models import (
    DiscountSource,
    SubscriptionDiscount,
    SubscriptionVoucherTerms,
)
from saleor_subscriptions.models import (
    CheckoutLinePlan,
    RetentionOffer,
    Subscription,
    SubscriptionEvent,
    SubscriptionPlan,
    WinBackOffer,
)
from saleor_subscriptions.services.discounts import grant_discount
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin
from saleor_subscriptions.testing.store import add_product, build_store
from saleor_subscriptions.testing.users import create_user, login

KEY = "sk_test_matrix"
ORDERS, PRODUCTS, CHECKOUTS = "MANAGE_ORDERS", "MANAGE_PRODUCTS", "MANAGE_CHECKOUTS"
DISCOUNTS = "MANAGE_DISCOUNTS"
#: Our operations need one of these; "without" requesters hold all the others.
PERMISSIONS = (ORDERS, PRODUCTS, CHECKOUTS)
#: The fuzz's staff member holds every permission any of our fields asks for (webhooks: apps).
EVERY_PERMISSION = PERMISSIONS + ("MANAGE_APPS", DISCOUNTS)
CODENAMES = {ORDERS: "order.manage_orders", PRODUCTS: "product.manage_products",
             CHECKOUTS: "checkout.manage_checkouts", "MANAGE_DISCOUNTS": "discount.manage_discounts",
             "MANAGE_APPS": "app.manage_apps"}


@dataclass
class World:
    ids: Dict[str, str]                      # GraphQL variables by name: sub, plan, cheap, ...
    clients: Dict[str, ApiClient] = field(default_factory=dict)
    subscription_pk: int = 0

    def requester(self, who: str, permission) -> ApiClient:
        """`who` for an operation that needs `permission` (None: a public one)."""
        if who in ("anonymous", "owner", "other customer"):
            return self.clients[who]
        kind, with_it = who.split()[0], who.endswith(" with")
        if permission is None:
            perms = ("MANAGE_DISCOUNTS",)
        elif with_it:
            perms = (permission,)
        else:
            perms = tuple(p for p in PERMISSIONS if p != permission)
        return self.clients[(kind, perms)]

    def subscription(self) -> Subscription:
        return Subscription.objects.get(pk=self.subscription_pk)


def snapshot():
    """Every row a refused call must leave alone."""
    from saleor.order.models import Order

    return (
        list(Subscription.objects.order_by("pk").values_list(
            "status", "next_billing_at", "anchor_at", "paused_at", "cancel_at_period_end",
            "cancel_reason_text", "scheduled_plan_id", "scheduled_quantity", "plan_id", "quantity",
            "unit_price_amount", "credit_amount", "shipping_address_id", "billing_address_id",
            "parked_at", "payment_method_reference", "current_period_end")),
        list(SubscriptionPlan.objects.order_by("pk").values_list(
            "name", "family", "is_active", "price_amount", "discount_percent", "signup_fee_amount",
            "trial_days", "billing_cycles", "interval_unit", "interval_count", "tier_rank")),
        SubscriptionEvent.objects.count(),
        list(CheckoutLinePlan.objects.order_by("pk").values_list("pk", "plan_id")),
        Order.objects.count(),
        list(RetentionOffer.objects.order_by("pk").values_list("pk", "is_active")),
        list(WinBackOffer.objects.order_by("pk").values_list("pk", "redeemed_at")),
        list(SubscriptionDiscount.objects.order_by("pk").values_list(
            "percent", "amount", "renewals_left", "ended_at")),
        list(SubscriptionVoucherTerms.objects.order_by("pk").values_list(
            "voucher_id", "duration", "renewals", "follows_plan_change")),
    )


def build(localstripe) -> World:
    create_user("matrix-admin@example.com", superuser=True)
    admin = ApiClient().as_user(login(ApiClient(), "matrix-admin@example.com"))
    store = build_store(admin)
    add_product(admin, store, "Coffee beans", Decimal("20.00"),
                {"COFFEE-250G": Decimal("20.00"), "COFFEE-1KG": Decimal("60.00")})
    add_product(admin, store, "Tea", Decimal("10.00"), {"TEA-100G": Decimal("10.00")})
    configure_plugin(admin, active=True, **{"Stripe secret key": KEY,
                                            "Stripe API base URL": localstripe.url})
    owner = create_user("matrix-owner@example.com")
    create_user("matrix-other@example.com")
    world = World(ids={})
    world.clients["anonymous"] = ApiClient()
    for who, email in (("owner", owner.email), ("other customer", "matrix-other@example.com")):
        world.clients[who] = ApiClient().as_user(login(ApiClient(), email))
    # PERMISSIONS alone: "without" for the MANAGE_DISCOUNTS fields (voucher terms).
    sets = [(p,) for p in PERMISSIONS] + [tuple(q for q in PERMISSIONS if q != p)
                                          for p in PERMISSIONS] + [("MANAGE_DISCOUNTS",), EVERY_PERMISSION,
                                                                   PERMISSIONS]
    for number, perms in enumerate(sets):
        email = "matrix-staff%d@example.com" % number
        create_user(email, staff=True, permissions=[CODENAMES[p] for p in perms])
        world.clients[("staff", perms)] = ApiClient().as_user(login(ApiClient(), email))
        world.clients[("app", perms)] = app_api(admin, "matrix app %d" % number, perms)

    coffee = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    monthly = create_plan(coffee, name="Monthly", family="club", tier_rank=2)
    cheap = create_plan(coffee, name="Small", family="club", tier_rank=1,
                        price_amount=Decimal("10.00"))
    spare = create_plan(coffee, name="Archived", family="club", is_active=False)
    tea = create_plan(rf.variant_from_global_id(store.variants["TEA-100G"]), name="Tea",
                      family="tea")
    card = rf.create_card(localstripe.url, KEY, owner.email)
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    subscription = rf.make_subscription(
        monthly, owner, card, start=start,
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    world.subscription_pk = subscription.pk
    discount = grant_discount(subscription, source=DiscountSource.GOODWILL, reason="matrix",
                              now=start, percent=Decimal("10"), renewals=2)
    voucher = Voucher.objects.create(code="MATRIX10", name="Matrix", discount_value=Decimal("10"),
                                     discount_value_type="percentage")
    checkout = storefront.create_checkout(world.clients["owner"], store.variants["COFFEE-250G"],
                                          email=owner.email)
    chosen = storefront.choose_plan(world.clients["owner"], checkout,
                                    Node.to_global_id("SubscriptionPlan", monthly.pk))
    assert chosen["subscriptionErrors"] == []
    world.ids.update(
        sub=Node.to_global_id("CustomerSubscription", subscription.pk),
        plan=Node.to_global_id("SubscriptionPlan", monthly.pk),
        cheap=Node.to_global_id("SubscriptionPlan", cheap.pk),
        spare=Node.to_global_id("SubscriptionPlan", spare.pk),
        tea=Node.to_global_id("SubscriptionPlan", tea.pk),
        variant=store.variants["COFFEE-250G"],
        checkout=checkout["id"],
        line=checkout["lines"][0]["id"],
        order=Node.to_global_id("Order", 10 ** 6),
        offer=Node.to_global_id("SubscriptionRetentionOffer", RetentionOffer.objects.create(
            reason="too_expensive", kind="skip").pk),
        discount=Node.to_global_id("SubscriptionDiscount", discount.pk),
        voucher=Node.to_global_id("Voucher", voucher.pk),
    )
    return world


def fields_of_ours():
    """Query/Mutation fields in schema.graphql that Saleor's own schema does not have."""
    from pathlib import Path

    from saleor.graphql.api import schema as saleor_schema

    printed = parse((Path(__file__).parents[2] / "schema.graphql").read_text())
    ours = set()
    for definition in printed.definitions:
        name = getattr(getattr(definition, "name", None), "value", None)
        if name in ("Query", "Mutation"):
            saleor_type = saleor_schema.get_type(name)
            ours |= {f.name.value for f in definition.fields} - set(saleor_type.fields)
    return ours
