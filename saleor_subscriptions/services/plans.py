"""Plan pricing: the single place that turns a plan row into money."""
from decimal import Decimal
from typing import Optional, Tuple

from prices import Money

from ..domain import pricing
from ..models import SubscriptionPlan


def variant_price(plan: SubscriptionPlan) -> Money:
    """The one-off price of the plan's variant (what a non-subscriber pays)."""
    return plan.variant.base_price


def plan_unit_price(plan: SubscriptionPlan, one_off: Optional[Money] = None) -> Money:
    one_off = one_off if one_off is not None else variant_price(plan)
    own = Money(plan.price_amount, plan.currency) if plan.price_amount is not None else None
    return pricing.plan_unit_price(
        Money(one_off.amount, plan.currency), own_price=own, discount_percent=plan.discount_percent
    )


def plan_saving(plan: SubscriptionPlan) -> Tuple[Money, Decimal]:
    one_off = variant_price(plan)
    return pricing.saving(Money(one_off.amount, plan.currency), plan_unit_price(plan, one_off))


def plan_first_charge(plan: SubscriptionPlan, quantity: int) -> Money:
    return pricing.first_charge(
        plan_unit_price(plan), quantity, plan.signup_fee, has_trial=plan.trial_days > 0
    )


def recurring_charge(plan: SubscriptionPlan, quantity: int) -> Money:
    return pricing.recurring_charge(plan_unit_price(plan), quantity)
