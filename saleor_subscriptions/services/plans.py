"""Plan pricing: the single place that turns a plan row into money."""
from decimal import Decimal
from typing import Optional, Tuple

from prices import Money

from ..domain import intro, pricing
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


def plan_intro_price(plan: SubscriptionPlan) -> Optional[Money]:
    """The plan's introductory unit price, or None when it has none."""
    if plan.intro_price_amount is None or not plan.intro_cycles:
        return None
    return Money(plan.intro_price_amount, plan.currency)


def first_paid_unit_price(plan: SubscriptionPlan) -> Money:
    """The unit price of a new subscriber's first paid cycle (the intro price, if any)."""
    return intro.cycle_unit_price(plan_unit_price(plan), plan_intro_price(plan),
                                  plan.intro_cycles, paid_cycles=0)


def plan_first_charge(plan: SubscriptionPlan, quantity: int) -> Money:
    return pricing.first_charge(
        first_paid_unit_price(plan), quantity, plan.signup_fee, has_trial=plan.trial_days > 0
    )


def subscription_intro_price(subscription) -> Optional[Money]:
    if subscription.intro_price_amount is None:
        return None
    return Money(subscription.intro_price_amount, subscription.currency)


def next_cycle_unit_price(subscription) -> Money:
    """What the subscription's next paid cycle costs per unit: its intro price while it has
    paid fewer than its intro cycles, then its regular (grandfathered) price."""
    return intro.cycle_unit_price(subscription.unit_price, subscription_intro_price(subscription),
                                  subscription.intro_until_cycle, subscription.paid_cycles)


def recurring_charge(plan: SubscriptionPlan, quantity: int) -> Money:
    return pricing.recurring_charge(plan_unit_price(plan), quantity)
