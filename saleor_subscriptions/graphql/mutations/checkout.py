"""The storefront chooses a subscription plan for a checkout line."""
import graphene
from django.core.exceptions import ValidationError
from saleor.graphql.checkout.types import Checkout
from saleor.graphql.core.mutations import BaseMutation

from ...config import require_active
from ...error_codes import SubscriptionErrorCode
from ...saleor_adapter.checkout_discount import refresh_checkout_discount
from ...services.checkout_plans import set_line_plan
from ..errors import SubscriptionError
from ..ids import pk_or_error
from ..permissions import may_reach_checkout, visible_plans
from ..types import CheckoutLineSubscriptionPlan


def _not_found(field: str, what: str) -> ValidationError:
    return ValidationError({field: ValidationError(
        "%s not found." % what, code=SubscriptionErrorCode.NOT_FOUND.value)})


def get_checkout(context, global_id: str, field: str = "checkout_id"):
    """The checkout behind the id, if the requester may reach it (permissions.may_reach_checkout);
    anyone else is told it does not exist, so ids cannot be probed."""
    from saleor.checkout.models import Checkout as CheckoutModel

    checkout = CheckoutModel.objects.filter(pk=pk_or_error(global_id, "Checkout", field)).first()
    if checkout is None or not may_reach_checkout(context, checkout):
        raise _not_found(field, "Checkout")
    return checkout


class CheckoutLineSubscriptionPlanSet(BaseMutation):
    checkout = graphene.Field(Checkout, description="The checkout, priced with the plan.")
    line_plan = graphene.Field(CheckoutLineSubscriptionPlan)

    class Arguments:
        checkout_id = graphene.ID(required=True, description="ID of the checkout.")
        line_id = graphene.ID(required=True, description="ID of the checkout line.")
        plan_id = graphene.ID(description="The plan; null buys the line once, no subscription.")

    class Meta:
        description = "Choose a subscription plan for a checkout line (or remove the choice)."
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, checkout_id, line_id, plan_id=None):
        if plan_id is not None:
            # Removing a choice stays possible while subscriptions are switched off, so that a
            # checkout refused for PLUGIN_INACTIVE can still be completed as a one-off purchase.
            require_active()
        checkout = get_checkout(info.context, checkout_id)
        line = checkout.lines.filter(pk=pk_or_error(line_id, "CheckoutLine", "line_id")).first()
        if line is None:
            raise _not_found("line_id", "Checkout line")
        plan = None
        if plan_id is not None:
            # A plan a visitor can't see (unpublished product) is not found, as in listings.
            plan = visible_plans(info.context).filter(
                pk=pk_or_error(plan_id, "SubscriptionPlan", "plan_id")).first()
            if plan is None:
                raise _not_found("plan_id", "Subscription plan")
        set_line_plan(line, plan)
        refresh_checkout_discount(checkout)
        return cls(checkout=checkout, line_plan=CheckoutLineSubscriptionPlan.of(line, plan))
