"""Introductory prices over a subscription's life: what it records at subscribe time and the
event when its first cycle at the regular price is billed (the pricing rule: domain/intro.py)."""
from datetime import datetime

from ..domain import intro
from ..models import EventType, Subscription, SubscriptionPlan
from . import plans
from .events import record_event


def intro_terms(plan: SubscriptionPlan, paid_cycles: int = 0) -> dict:
    """The Subscription fields that keep the plan's intro terms (grandfathered like its price):
    the intro price applies to the next `plan.intro_cycles` paid cycles after `paid_cycles`."""
    price = plans.plan_intro_price(plan)
    if price is None:
        return {"intro_price_amount": None, "intro_until_cycle": 0}
    return {"intro_price_amount": price.amount,
            "intro_until_cycle": paid_cycles + plan.intro_cycles}


def record_intro_end(subscription: Subscription, cycle, now: datetime) -> None:
    """Called when a renewal order is created: the first one at the regular price after the
    intro cycles writes `intro_price_ended` (once, also when the order is made again)."""
    if (subscription.intro_price_amount is None
            or not intro.intro_ends_with(subscription.intro_until_cycle, subscription.paid_cycles)):
        return
    already = subscription.events.filter(type=EventType.INTRO_PRICE_ENDED,
                                         parameters__cycle_index=cycle.cycle_index).exists()
    if already:
        return
    record_event(subscription, EventType.INTRO_PRICE_ENDED, date=now, order=cycle.order,
                 cycle_index=cycle.cycle_index, intro_cycles=subscription.intro_until_cycle,
                 intro_price=plans.subscription_intro_price(subscription),
                 regular_price=subscription.unit_price)


def unused_intro_price(subscription: Subscription, plan: SubscriptionPlan):
    """The new plan's intro price on a plan change, if the subscription never had intro terms
    (one intro per subscription: a subscription that had one, used up or not, gets no other)."""
    if plan.pk == subscription.plan_id or subscription.intro_price_amount is not None:
        return None
    return plans.plan_intro_price(plan)
