"""Upgrade or downgrade within a plan family: quotes, switches, scheduled changes.

Upgrades (a higher per-month value) take effect now and the prorated difference for the rest
of the period is charged at once as its own Saleor order — or, when the store bills upgrades
with the next renewal, they start with the next period. Downgrades start with the next period
(scheduled, cancellable) or, on request, now with the prorated difference kept as credit for the
next renewal.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from django.db import transaction
from prices import Money

from ...config import UPGRADE_IMMEDIATELY
from ...domain import pricing, proration
from ...domain.states import Status
from ...error_codes import SubscriptionErrorCode
from ...models import EventType, Subscription, SubscriptionPlan
from .. import charging, discounts, plans
from ..events import record_event
from ..intro_prices import unused_intro_price
from ..plan_admin import MAX_AMOUNT
from . import Actor, in_flight_refusal, lock, refuse

UPGRADE, DOWNGRADE = "upgrade", "downgrade"
#: Units per period a plan change may ask for.
MAX_QUANTITY = 10000
NOW, PERIOD_END = "now", "period_end"


@dataclass(frozen=True)
class PlanChangeQuote:
    kind: str
    applies: str  # NOW or PERIOD_END
    charge_now: Money
    credit: Money
    new_unit_price: Money
    new_quantity: int
    effective_at: datetime
    # The new plan's intro price when the subscription has not had one (services/intro_prices):
    # it prices the coming cycles (and the proration) for intro_cycles paid cycles.
    intro_price: Optional[Money] = None
    intro_cycles: int = 0


def quote(subscription: Subscription, plan: SubscriptionPlan, quantity: int, now: datetime,
          settings, immediately: bool = False) -> PlanChangeQuote:
    """What the change would do and cost; raises the typed refusal when it is not allowed."""
    current = subscription.plan
    if not 1 <= quantity <= MAX_QUANTITY:
        raise refuse("Quantity must be from 1 to %d." % MAX_QUANTITY,
                     SubscriptionErrorCode.INVALID, "quantity")
    if plan.pk == current.pk and quantity == subscription.quantity:
        raise refuse("The subscription is already on this plan and quantity.",
                     SubscriptionErrorCode.SAME_PLAN, "plan_id")
    if not plan.is_active:
        raise refuse("Plan %s is no longer available." % plan.name,
                     SubscriptionErrorCode.PLAN_NOT_AVAILABLE, "plan_id")
    if plan.pk != current.pk and (not current.family or plan.family != current.family):
        raise refuse("Plans can only change within the same plan family.",
                     SubscriptionErrorCode.OTHER_FAMILY, "plan_id")
    if plan.pk != current.pk and plan.variant.product_id != current.variant.product_id:
        # A family is a product's tiers (sizes, amounts): another product would be another
        # subscription, with its own stock and shipping; the store sells it as a new one.
        raise refuse("Plan %s sells another product: subscribe to it separately." % plan.name,
                     SubscriptionErrorCode.OTHER_PRODUCT, "plan_id")
    if plan.currency != subscription.currency:
        raise refuse("Plan %s is priced in another currency." % plan.name,
                     SubscriptionErrorCode.CURRENCY_MISMATCH, "plan_id")
    if subscription.status not in (Status.ACTIVE.value, Status.TRIALING.value):
        raise refuse("Only an active subscription can change plans (it is %s)."
                     % subscription.status)
    old_total = pricing.recurring_charge(subscription.unit_price, subscription.quantity)
    new_unit = plans.plan_unit_price(plan)
    intro = unused_intro_price(subscription, plan)
    intro_terms = {"intro_price": intro, "intro_cycles": plan.intro_cycles if intro else 0}
    new_total = pricing.recurring_charge(intro or new_unit, quantity)
    if new_total.amount > MAX_AMOUNT:
        raise refuse("%d units of plan %s cost more than one order can hold." % (quantity, plan.name),
                     SubscriptionErrorCode.INVALID, "quantity")
    if not subscription.current_period_start <= now < subscription.current_period_end:
        raise refuse("The current period is not running (a renewal is due): try again once it "
                     "has renewed.")
    upgrade = (pricing.monthly_value(new_total, plan.interval)
               > pricing.monthly_value(old_total, current.interval))
    zero = Money(0, subscription.currency)
    end = subscription.current_period_end
    same_grid = plan.interval == current.interval
    # What the customer pays per period, before and after: proration prices the discounts in.
    old_paid = discounts.discounted_total(subscription, old_total)
    new_paid = discounts.discounted_total(subscription, new_total,
                                          other_plan=plan.pk != current.pk)
    if upgrade and settings.upgrade_billing == UPGRADE_IMMEDIATELY and same_grid:
        charge = zero
        if subscription.status == Status.ACTIVE.value:
            charge = proration.prorate_change(old_paid, new_paid, subscription.current_period_start,
                                              end, now).charge_now
        return PlanChangeQuote(UPGRADE, NOW, charge, zero, new_unit, quantity, now, **intro_terms)
    if not upgrade and immediately and same_grid:
        credit = zero
        if subscription.status == Status.ACTIVE.value:
            credit = proration.prorate_change(old_paid, new_paid, subscription.current_period_start,
                                              end, now).credit
        return PlanChangeQuote(DOWNGRADE, NOW, zero, credit, new_unit, quantity, now,
                               **intro_terms)
    kind = UPGRADE if upgrade else DOWNGRADE
    return PlanChangeQuote(kind, PERIOD_END, zero, zero, new_unit, quantity,
                           subscription.next_billing_at or end, **intro_terms)


def change_plan(subscription_id: int, actor: Actor, now: datetime, settings,
                plan: SubscriptionPlan, quantity: int, immediately: bool = False):
    """Returns (subscription, quote). Quoted, charged and switched as one change: the attempt is
    stored under the row lock that quoted it, and the switch happens under the row lock that
    records the charge's outcome. A charge that fails changes nothing on the subscription; one
    whose outcome is unknown answers PAYMENT_PENDING and the renewal run's sweep settles it."""
    from ..claiming import processing_lock
    from . import proration_charge

    # The advisory lock a renewal worker holds while it charges this subscription: a double
    # click waits for nothing and is refused, as is a change while a renewal is being charged.
    with processing_lock(subscription_id) as acquired:
        if not acquired:
            raise in_flight_refusal()
        with transaction.atomic():
            subscription = lock(subscription_id)
            offer = quote(subscription, plan, quantity, now, settings, immediately)
            if offer.applies == PERIOD_END:
                subscription.scheduled_plan, subscription.scheduled_quantity = plan, quantity
                subscription.save()
                record_event(subscription, EventType.PLAN_CHANGE_SCHEDULED, date=now,
                             kind=offer.kind, from_plan=subscription.plan_id, to_plan=plan.pk,
                             quantity=quantity, effective_at=offer.effective_at,
                             **actor.event_fields())
                return subscription, offer
            if not offer.charge_now.amount:
                _switch(subscription, plan, offer, now, actor)
                return subscription, offer
            order, started = proration_charge.start(subscription, plan, offer, now, actor)
            if started is None:  # below the gateway's minimum: carried to the next renewal
                _switch(subscription, plan, offer, now, actor, order=order)
                return subscription, offer
        # Committed: the attempt and its key exist before the gateway is called.
        from ..renewals import make_context

        context = make_context(settings)
        # Never CARRIED: `start` carried an amount below the minimum instead of storing it.
        result = charging.call_for(context, started)
        outcome = proration_charge.record_outcome(started[0], result, now, context)
    if outcome != proration_charge.SUCCEEDED:
        raise proration_charge.refusal(started[0], outcome)
    return Subscription.objects.select_related("plan").get(pk=subscription_id), offer


def _switch(subscription, plan, offer: PlanChangeQuote, now, actor: Actor, order=None) -> None:
    previous_plan, previous_quantity = subscription.plan_id, subscription.quantity
    subscription.plan = plan
    subscription.variant_id = plan.variant_id
    subscription.quantity = offer.new_quantity
    subscription.unit_price_amount = offer.new_unit_price.amount
    if offer.intro_price is not None:
        subscription.intro_price_amount = offer.intro_price.amount
        subscription.intro_until_cycle = subscription.paid_cycles + offer.intro_cycles
    subscription.credit_amount += offer.credit.amount
    subscription.scheduled_plan, subscription.scheduled_quantity = None, None
    # A new price scheduled for the old plan's subscribers no longer concerns this one.
    subscription.scheduled_price_amount = subscription.scheduled_price_at = None
    subscription.save()
    if plan.pk != previous_plan:
        discounts.on_plan_change(subscription, now, actor)
    record_event(subscription, EventType.PLAN_CHANGED, date=now, order=order,
                 amount=offer.charge_now if offer.charge_now.amount else None, kind=offer.kind,
                 from_plan=previous_plan, to_plan=plan.pk, from_quantity=previous_quantity,
                 to_quantity=offer.new_quantity, credit=offer.credit, **actor.event_fields())


@transaction.atomic
def cancel_scheduled(subscription_id: int, actor: Actor, now: datetime) -> Subscription:
    subscription = lock(subscription_id)
    if subscription.scheduled_plan_id is None:
        raise refuse("No plan change is scheduled.")
    plan_id = subscription.scheduled_plan_id
    subscription.scheduled_plan, subscription.scheduled_quantity = None, None
    subscription.save()
    record_event(subscription, EventType.PLAN_CHANGE_CANCELLED, date=now, to_plan=plan_id,
                 **actor.event_fields())
    return subscription


def apply_scheduled(subscription: Subscription, now: datetime) -> Optional[SubscriptionPlan]:
    """Called by the renewal run (subscription locked) before it bills the next period."""
    plan = subscription.scheduled_plan
    if plan is None:
        return None
    quantity = subscription.scheduled_quantity or subscription.quantity
    zero = Money(0, subscription.currency)
    intro = unused_intro_price(subscription, plan)
    offer = PlanChangeQuote("scheduled", PERIOD_END, zero, zero, plans.plan_unit_price(plan),
                            quantity, now, intro, plan.intro_cycles if intro else 0)
    _switch(subscription, plan, offer, now, Actor())
    return plan
