import graphene
from graphene import relay
from prices import Money as PricesMoney
from saleor.graphql.core.connection import CountableDjangoObjectType
from saleor.graphql.core.scalars import Decimal
from saleor.graphql.core.types import Money
from saleor.order import OrderStatus

from .. import models
from ..domain import problems
from ..services import discounts, plans
from . import permissions
from .enums import (
    SubscriptionActorTypeEnum,
    SubscriptionDiscountSourceEnum,
    SubscriptionEventTypeEnum,
    SubscriptionIntervalUnitEnum,
    SubscriptionProblemCodeEnum,
    SubscriptionStatusEnum,
)
from .event_parameters import visible_parameters
from .subscription_loaders import (
    ActiveDiscountsBySubscriptionIdLoader,
    PendingPaymentBySubscriptionLoader,
)


def _money(amount, currency: str):
    """A stored amount column with its currency column, or None where the amount is unset."""
    return PricesMoney(amount, currency) if amount is not None else None


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
    intro_price = graphene.Field(
        Money, description="Introductory price per unit for the first introCycles paid cycles "
        "(after the trial, if any); null without one.")
    intro_cycles = graphene.Int(
        required=True, description="How many paid cycles cost introPrice (0: no intro price).")

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
            "renewal_notice_days",
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

    @staticmethod
    def resolve_intro_price(root, _info):
        return plans.plan_intro_price(root)

    @staticmethod
    def resolve_intro_cycles(root, _info):
        return root.intro_cycles if plans.plan_intro_price(root) is not None else 0


class SubscriptionEvent(CountableDjangoObjectType):
    type = SubscriptionEventTypeEnum(required=True)
    actor_type = SubscriptionActorTypeEnum(required=True)
    amount = graphene.Field(Money, description="The amount this event moved, if any.")
    order_id = graphene.ID(description="The Saleor order this event belongs to.")
    user_email = graphene.String(
        description="Who did it, when a person did: shown to that person and to staff with "
        "MANAGE_USERS (as Saleor shows the user on an order event), else null.")
    parameters = graphene.JSONString(
        description="Details with global ids (plans, orders). Customers see the customer-safe "
        "ones and a `problem` code; raw codes, messages and payment references only for staff "
        "with MANAGE_ORDERS.")

    class Meta:
        model = models.SubscriptionEvent
        interfaces = [relay.Node]
        description = "One entry in a subscription's history."
        only_fields = ["id", "date"]

    @staticmethod
    def resolve_amount(root, _info):
        return _money(root.amount, root.currency)

    @staticmethod
    def resolve_order_id(root, _info):
        return graphene.Node.to_global_id("Order", root.order_id) if root.order_id else None

    @staticmethod
    def resolve_user_email(root, info):
        if not root.user_id or not permissions.can_see_user(info.context, root.user_id):
            return None
        return root.user.email if root.user else None

    @staticmethod
    def resolve_parameters(root, info):
        return visible_parameters(root, staff=permissions.can_manage_orders(info.context))


def _placed_or_staff(cycle, context):
    """A renewal order is a draft until it is paid: customers see it once placed, as Saleor
    shows drafts to staff only."""
    order = cycle.order if cycle.order_id else None
    draft = order is not None and order.status == OrderStatus.DRAFT
    if draft and not permissions.can_manage_orders(context):
        return None
    return order


class SubscriptionBillingCycle(CountableDjangoObjectType):
    status = graphene.String(required=True, description="pending, paid, failed or abandoned.")
    amount = graphene.Field(Money, required=True, description="What the period costs.")
    order_id = graphene.ID(
        description="The Saleor renewal order; a draft until it is paid (shown to staff only).")
    attempt_count = graphene.Int(required=True, description="Failed payment attempts.")
    error_code = graphene.String(
        description="The gateway's code for the last failure (e.g. fraudulent); staff with "
        "MANAGE_ORDERS only (customers get `problem`).")
    problem = SubscriptionProblemCodeEnum(description="Why the last try failed, as a stable code.")
    last_error = graphene.String(description="The last failure, in words a customer may read.")
    last_error_detail = graphene.String(
        description="The raw failure (gateway or exception text); staff with MANAGE_ORDERS only."
    )

    class Meta:
        model = models.BillingCycle
        interfaces = [relay.Node]
        description = "One billing period of a subscription and how its renewal went."
        only_fields = ["id", "cycle_index", "period_start", "period_end", "next_retry_at",
                       "first_failed_at", "order"]

    @staticmethod
    def resolve_amount(root, _info):
        return _money(root.amount, root.currency)

    @staticmethod
    def resolve_order(root, info):
        return _placed_or_staff(root, info.context)

    @staticmethod
    def resolve_order_id(root, info):
        order = _placed_or_staff(root, info.context)
        return graphene.Node.to_global_id("Order", order.pk) if order is not None else None

    @staticmethod
    def resolve_error_code(root, info):
        return (root.error_code or None) if permissions.can_manage_orders(info.context) else None

    @staticmethod
    def resolve_problem(root, _info):
        return _code(_cycle_problem(root))

    @staticmethod
    def resolve_last_error(root, _info):
        return problems.message(_cycle_problem(root))

    @staticmethod
    def resolve_last_error_detail(root, info):
        return (root.last_error or None) if permissions.can_manage_orders(info.context) else None


def _code(problem):
    return problem.value if problem is not None else None


def _cycle_problem(cycle):
    if not (cycle.error_code or cycle.last_error):
        return None
    return problems.classify(cycle.error_code) or problems.Problem.PAYMENT_FAILED


def _renewal_problem(subscription):
    """(problem, raw detail) of the failing open cycle, else of the parked subscription."""
    cycle = subscription.cycles.filter(status__in=models.OPEN_CYCLE_STATUSES).exclude(
        last_error="").order_by("-cycle_index").first()
    if cycle is None:
        reason = subscription.parked_reason
        return problems.classify_reason(reason), reason or None
    detail = "%s: %s" % (cycle.error_code, cycle.last_error) if cycle.error_code else (
        cycle.last_error)
    return _cycle_problem(cycle), detail


def _saleor_order_type():
    from saleor.graphql.order.types import Order

    return Order


class SubscriptionPendingPayment(graphene.ObjectType):
    client_secret = graphene.String(
        description="For Stripe.js confirmCardPayment; shown to the subscription's owner only.")
    payment_method_id = graphene.String(
        description="The card the payment is made with (Stripe PaymentMethod id).")
    status = graphene.String(
        required=True, description="ACTION_REQUIRED: the customer must confirm the payment.")
    amount = graphene.Field(Money, required=True, description="What the payment is for.")
    order = graphene.Field(lambda: _saleor_order_type(), description="The renewal order: a "
                           "draft until paid, so staff with MANAGE_ORDERS only.")

    class Meta:
        description = (
            "A renewal payment the customer's bank asked them to confirm (3-D Secure). Confirm "
            "it with Stripe.js, then call subscriptionPaymentConfirm."
        )

    @staticmethod
    def of(pending, context):
        is_owner = permissions.is_owner(context, pending.subscription)
        return SubscriptionPendingPayment(
            client_secret=(pending.attempt.client_secret or None) if is_owner else None,
            payment_method_id=pending.subscription.payment_method_reference or None,
            status="ACTION_REQUIRED", amount=pending.amount,
            order=_placed_or_staff(pending.cycle, context),
        )


class SubscriptionDiscount(CountableDjangoObjectType):
    source = SubscriptionDiscountSourceEnum(required=True)
    percent = Decimal(description="Percent off the subscription's price; null for an amount.")
    amount = graphene.Field(Money, description="Amount off each renewal; null for a percent.")
    renewals_left = graphene.Int(
        description="Paid renewals still discounted; null: for as long as the subscription "
        "lasts.")
    reason = graphene.String(description="Why it was given; staff with MANAGE_ORDERS only.")
    voucher_code = graphene.String(description="The voucher code it came with, if any.")

    class Meta:
        model = models.SubscriptionDiscount
        interfaces = [relay.Node]
        description = ("A discount on a subscription's renewals (before tax, never below zero); "
                       "renewal orders show it under its name.")
        only_fields = ["id", "name", "renewals_used", "applies_to_first_charge",
                       "follows_plan_change", "created_at", "ended_at"]

    @staticmethod
    def resolve_amount(root, _info):
        return _money(root.amount, root.currency)

    @staticmethod
    def resolve_reason(root, info):
        return root.reason if permissions.can_manage_orders(info.context) else None

    @staticmethod
    def resolve_voucher_code(root, _info):
        return root.voucher_code or None


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
        description="Why the current renewal is failing, if it is, in words a customer may read."
    )
    last_renewal_problem = SubscriptionProblemCodeEnum(
        description="Why the current renewal is failing, as a stable code."
    )
    last_renewal_error_detail = graphene.String(
        description="The raw failure (gateway or exception text); staff with MANAGE_ORDERS only."
    )
    parked_reason = graphene.String(description="Why renewals are set aside, in safe words.")
    parked_problem = SubscriptionProblemCodeEnum(description="Why renewals are set aside.")
    parked_reason_detail = graphene.String(
        description="The raw reason renewals were set aside; staff with MANAGE_ORDERS only."
    )
    scheduled_price = graphene.Field(
        Money, description="A new price per unit staff moved this subscription to; it applies "
        "from the first renewal on or after scheduledPriceAt.")
    scheduled_price_at = graphene.DateTime(
        description="End of the customer's notice of scheduledPrice.")
    carried_balance = graphene.Field(
        Money, required=True,
        description="Owed from a renewal below the minimum charge; added to the next renewal.",
    )
    pending_payment = graphene.Field(
        SubscriptionPendingPayment,
        description="A renewal payment waiting for the customer to confirm it (3-D Secure).",
    )
    intro_price = graphene.Field(
        Money, description="The introductory price per unit agreed at sign-up (or plan change).")
    intro_cycles_left = graphene.Int(
        required=True, description="Paid cycles still to be billed at introPrice.")
    next_cycle_unit_price = graphene.Field(
        Money, required=True, description="What the next paid cycle costs per unit.")
    discounts = graphene.List(
        graphene.NonNull(SubscriptionDiscount), required=True,
        description="The discounts the next renewals get (active ones, in the order applied).")
    next_renewal_price = graphene.Field(
        Money, required=True, description="What the next paid cycle costs (all units) after "
        "its discounts, before tax and shipping.")

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
    def resolve_scheduled_price(root, _info):
        return _money(root.scheduled_price_amount, root.currency)

    @staticmethod
    def resolve_intro_price(root, _info):
        return plans.subscription_intro_price(root)

    @staticmethod
    def resolve_intro_cycles_left(root, _info):
        if root.intro_price_amount is None:
            return 0
        return max(root.intro_until_cycle - root.paid_cycles, 0)

    @staticmethod
    def resolve_next_cycle_unit_price(root, _info):
        return plans.next_cycle_unit_price(root)

    @staticmethod
    def resolve_discounts(root, info):
        if not root.discount_count:  # none to read
            return []
        return ActiveDiscountsBySubscriptionIdLoader(info.context).load(root.pk)

    @staticmethod
    def resolve_next_renewal_price(root, info):
        if not root.discount_count:
            return discounts.discounted_cycle_price(root, found=[])
        return ActiveDiscountsBySubscriptionIdLoader(info.context).load(root.pk).then(
            lambda found: discounts.discounted_cycle_price(root, found))

    @staticmethod
    def resolve_billing_cycles(root, _info):
        return root.cycles.select_related("order").order_by("-cycle_index")

    @staticmethod
    def resolve_last_renewal_error(root, _info):
        return problems.message(_renewal_problem(root)[0])

    @staticmethod
    def resolve_last_renewal_problem(root, _info):
        return _code(_renewal_problem(root)[0])

    @staticmethod
    def resolve_last_renewal_error_detail(root, info):
        return _renewal_problem(root)[1] if permissions.can_manage_orders(info.context) else None

    @staticmethod
    def resolve_parked_reason(root, _info):
        return problems.message(problems.classify_reason(root.parked_reason))

    @staticmethod
    def resolve_parked_problem(root, _info):
        return _code(problems.classify_reason(root.parked_reason))

    @staticmethod
    def resolve_parked_reason_detail(root, info):
        if not permissions.can_manage_orders(info.context):
            return None
        return root.parked_reason or None

    @staticmethod
    def resolve_carried_balance(root, _info):
        return _money(root.carried_amount, root.currency)

    @staticmethod
    def resolve_pending_payment(root, info):
        return PendingPaymentBySubscriptionLoader(info.context).load(root).then(
            lambda pending: SubscriptionPendingPayment.of(pending, info.context)
            if pending else None)

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
