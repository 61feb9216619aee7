"""Plan choices on checkout lines: validated when chosen and again before the order exists."""
from typing import Dict, List, Optional

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import GATEWAY_ID
from ..error_codes import SubscriptionErrorCode
from ..models import CheckoutLinePlan, SubscriptionPlan
from . import plans, trials


def _error(field: str, message: str, code: SubscriptionErrorCode) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code.value)})


def ensure_plan_fits_line(plan: SubscriptionPlan, line, currency: str, field: str = "plan_id"):
    if plan.variant_id != line.variant_id:
        raise _error(field, "Plan %s is not sold with this line's variant." % plan.name,
                     SubscriptionErrorCode.PLAN_NOT_FOR_VARIANT)
    if not plan.is_active:
        raise _error(field, "Plan %s is no longer available." % plan.name,
                     SubscriptionErrorCode.PLAN_NOT_AVAILABLE)
    if plan.currency != currency:
        raise _error(field, "Plan %s is priced in %s, the checkout in %s."
                     % (plan.name, plan.currency, currency),
                     SubscriptionErrorCode.CURRENCY_MISMATCH)


@transaction.atomic
def set_line_plan(line, plan: Optional[SubscriptionPlan]) -> Optional[CheckoutLinePlan]:
    """Choose `plan` for the checkout line, or buy it one-off when plan is None."""
    if plan is None:
        CheckoutLinePlan.objects.filter(line=line).delete()
        return None
    ensure_plan_fits_line(plan, line, line.checkout.currency)
    choice, _created = CheckoutLinePlan.objects.update_or_create(line=line, defaults={"plan": plan})
    return choice


def plans_by_line(checkout) -> Dict[int, SubscriptionPlan]:
    choices = CheckoutLinePlan.objects.filter(line__checkout=checkout).select_related("plan")
    return {choice.line_id: choice.plan for choice in choices}


def plan_for_line(line) -> Optional[SubscriptionPlan]:
    choice = CheckoutLinePlan.objects.filter(line_id=line.pk).select_related("plan").first()
    return choice.plan if choice else None


def validate_before_order(checkout, lines: List, settings, payment_gateway: Optional[str]):
    """Everything that must hold before Saleor charges the customer and creates the order."""
    chosen = plans_by_line(checkout)
    if not chosen:
        return
    if not settings.active:
        raise ValidationError(
            "Subscriptions are switched off in this store: remove the subscription plan from "
            "the line to buy it once.", code=SubscriptionErrorCode.PLUGIN_INACTIVE.value)
    for line in lines:
        plan = chosen.get(line.pk)
        if plan is not None:
            ensure_plan_fits_line(plan, line, checkout.currency, field="lines")
    trials.check_checkout(checkout, chosen.values(), settings)
    _check_voucher(checkout)
    if payment_gateway != GATEWAY_ID:
        raise ValidationError(
            "Subscriptions need a card that can be charged again: pay with the %s gateway."
            % GATEWAY_ID,
            code=SubscriptionErrorCode.PAYMENT_METHOD_REQUIRED.value,
        )


def _check_voucher(checkout) -> None:
    """A voucher's fixed amount in another currency can't discount a subscription."""
    from ..saleor_adapter.vouchers import checkout_voucher
    from .voucher_terms import currency_problem

    voucher = checkout_voucher(checkout)
    problem = currency_problem(voucher, checkout.currency) if voucher is not None else None
    if problem is not None:
        raise _error("promo_code", problem, SubscriptionErrorCode.CURRENCY_MISMATCH)


# Saleor 2.10.1 cannot order a line that costs nothing (its tax rate divides 0 by 0), so a free
# trial line is priced at its first period and the same amount comes off the checkout total
# (the checkout's discount, and the order's, named "Free trial": saleor_adapter/checkout_discount.py).


def is_free_start(plan: SubscriptionPlan) -> bool:
    return plan.trial_days > 0 and not plan.signup_fee_amount


def line_total(plan: SubscriptionPlan, quantity: int):
    """What a subscribed checkout line shows: its first charge, or for a free trial its first
    period (taken off again: saleor_adapter/checkout_discount.py)."""
    if is_free_start(plan):
        return plans.recurring_charge(plan, quantity)
    return plans.plan_first_charge(plan, quantity)


def line_charge_parts(plan: SubscriptionPlan, quantity: int):
    """`line_total` as (unit price, units, one-off fee), for taxing each part like a renewal
    order line: unit × units + fee == line_total(plan, quantity)."""
    from prices import Money

    no_fee = Money(0, plan.currency)
    if is_free_start(plan):
        return plans.plan_unit_price(plan), quantity, no_fee
    unit = plans.first_paid_unit_price(plan)  # the intro price, if the plan has one
    if plan.trial_days > 0:
        return unit, 0, plan.signup_fee
    return unit, quantity, plan.signup_fee
