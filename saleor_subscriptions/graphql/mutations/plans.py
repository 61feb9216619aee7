"""Staff mutations for plans: create, update, archive and unarchive (MANAGE_PRODUCTS)."""
import graphene
from django.core.exceptions import ValidationError
from saleor.core.permissions import ProductPermissions
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.core.scalars import Decimal

from ...config import require_active
from ...error_codes import SubscriptionErrorCode
from ...models import SubscriptionPlan as PlanModel
from ...services import plan_admin
from ..enums import SubscriptionIntervalUnitEnum
from ..errors import SubscriptionError
from ..ids import pk_or_error
from ..types import SubscriptionPlan


class SubscriptionPlanInput(graphene.InputObjectType):
    variant_id = graphene.ID(description="The product variant sold on this plan.")
    name = graphene.String(description="Shown to customers, e.g. 'Every month, save 10%'.")
    family = graphene.String(
        description="Plans of one family are tiers a customer can switch between."
    )
    tier_rank = graphene.Int(description="Order of the tier within its family (0 and up).")
    interval_unit = SubscriptionIntervalUnitEnum(description="Billing period unit.")
    interval_count = graphene.Int(
        description="Billing period length in units (up to 730 days, 104 weeks, 24 months or "
        "5 years)."
    )
    currency = graphene.String(
        description="Optional; must be the store's currency when given."
    )
    price = Decimal(
        description="The plan's own price per unit and period. Set this or discountPercent."
    )
    discount_percent = Decimal(
        description="'Subscribe & save': percent off the variant's price (0-100, exclusive). "
        "Set this or price."
    )
    trial_days = graphene.Int(description="Free trial length in days (0-730).")
    renewal_notice_days = graphene.Int(
        description="E-mail customers (and send the renewal-upcoming webhook event) this many "
        "days before each renewal; 0: no notice. Shorter than the billing period, at most 365.")
    signup_fee = Decimal(description="Charged once at sign-up (0 or more).")
    billing_cycles = graphene.Int(
        description="Number of paid periods before the subscription ends; null renews until "
        "cancelled."
    )
    is_active = graphene.Boolean(description="Whether visitors can see and choose the plan.")
    intro_price = Decimal(
        description="Introductory price per unit for the first introCycles paid cycles (after "
        "a trial); greater than 0, in the store's currency. Existing subscribers keep theirs.")
    intro_cycles = graphene.Int(
        description="How many paid cycles cost introPrice (1-120, at most billingCycles); 0 "
        "removes the intro price.")


class SubscriptionPlanCreateInput(SubscriptionPlanInput):
    variant_id = graphene.ID(
        required=True, description="The product variant sold on this plan."
    )
    name = graphene.String(required=True, description="Shown to customers.")
    interval_unit = SubscriptionIntervalUnitEnum(
        required=True, description="Billing period unit."
    )


def _invalid(field, message, code=SubscriptionErrorCode.INVALID):
    return ValidationError({field: ValidationError(message, code=code.value)})


def get_variant_or_error(global_id: str, field: str = "variant_id"):
    from saleor.product.models import ProductVariant

    pk = pk_or_error(global_id, "ProductVariant", field)
    variant = ProductVariant.objects.select_related("product").filter(pk=pk).first()
    if variant is None:
        raise _invalid(field, "Product variant not found.", SubscriptionErrorCode.NOT_FOUND)
    return variant


def get_plan_or_error(global_id: str, field: str = "id") -> PlanModel:
    # Staff act on archived plans too.
    pk = pk_or_error(global_id, "SubscriptionPlan", field)
    plan = PlanModel.objects.filter(pk=pk).first()
    if plan is None:
        raise _invalid(field, "Subscription plan not found.", SubscriptionErrorCode.NOT_FOUND)
    return plan


class _PlanMutation(BaseMutation):
    subscription_plan = graphene.Field(SubscriptionPlan, description="The plan afterwards.")

    class Meta:
        abstract = True


class SubscriptionPlanCreate(_PlanMutation):
    class Arguments:
        input = SubscriptionPlanCreateInput(required=True, description="The new plan.")

    class Meta:
        description = "Create a subscription plan for a product variant. Requires MANAGE_PRODUCTS."
        permissions = (ProductPermissions.MANAGE_PRODUCTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, _info, **data):
        require_active()
        values = dict(data["input"])
        variant = get_variant_or_error(values.pop("variant_id"))
        return cls(subscription_plan=plan_admin.create_plan(variant, values))


class SubscriptionPlanUpdate(_PlanMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the plan.")
        input = SubscriptionPlanInput(
            required=True, description="Fields to change; omitted fields keep their values."
        )

    class Meta:
        description = (
            "Change a subscription plan. Existing subscribers keep the price they signed up "
            "for; the variant, interval and number of billing cycles can't change once a "
            "customer subscribed. Requires MANAGE_PRODUCTS."
        )
        permissions = (ProductPermissions.MANAGE_PRODUCTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, _info, **data):
        require_active()
        plan = get_plan_or_error(data["id"])
        values = dict(data["input"])
        variant_id = values.pop("variant_id", None)
        variant = get_variant_or_error(variant_id) if variant_id else None
        return cls(subscription_plan=plan_admin.update_plan(plan, values, variant=variant))


class _PlanActivation(_PlanMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the plan.")

    class Meta:
        abstract = True

    make_active = True

    @classmethod
    def perform_mutation(cls, _root, _info, **data):
        require_active()
        plan = get_plan_or_error(data["id"])
        return cls(subscription_plan=plan_admin.set_plan_active(plan, cls.make_active))


class SubscriptionPlanArchive(_PlanActivation):
    make_active = False

    class Meta:
        description = (
            "Archive a plan: visitors no longer see it and checkouts can't choose it (new sales "
            "stop). Its existing subscribers keep renewing. Requires MANAGE_PRODUCTS."
        )
        permissions = (ProductPermissions.MANAGE_PRODUCTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"


class SubscriptionPlanUnarchive(_PlanActivation):
    make_active = True

    class Meta:
        description = "Offer an archived plan again. Requires MANAGE_PRODUCTS."
        permissions = (ProductPermissions.MANAGE_PRODUCTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"
