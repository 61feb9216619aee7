"""Free trials and vouchers priced honestly on the checkout.

A free-trial line is priced at its first period (Saleor 2.10.1 can't order a line that costs
nothing) and that amount comes off again. The checkout shows it the way its order will: as the
checkout's discount, named "Free trial" (with the voucher's name when there is one). A voucher
discounts only what is charged now: Saleor's own voucher rule applied to the lines that are not
free trials (an entire-order voucher never reaches the shipping through a trial line).

`checkout.discount` is Saleor's column, written by Saleor whenever the voucher discount is
recalculated (lines, addresses, promo codes); a pre_save receiver adds the trial to it then.
The total the customer pays is computed afresh by the plugin (`charged_now`), never read back
from that column.
"""
from typing import List, Tuple

from prices import Money, TaxedMoney
from saleor.checkout.models import Checkout
from saleor.checkout.utils import get_voucher_discount_for_checkout, get_voucher_for_checkout
from saleor.core.taxes import zero_taxed_money
from saleor.discount import VoucherType
from saleor.discount.models import NotApplicable

FREE_TRIAL_NAME = "Free trial"


def taxed_plan_line(checkout_line, plan) -> TaxedMoney:
    """A subscribed line's price on the checkout (its first charge, or for a free trial its
    first period), taxed by the store's tax plugins the way renewal order lines are."""
    from ..services.checkout_plans import line_charge_parts
    from .taxes import taxed_checkout_line

    unit, quantity, once = line_charge_parts(plan, checkout_line.quantity)
    return taxed_checkout_line(checkout_line, unit, quantity, once)


def _trial_lines(checkout, lines) -> Tuple[List, TaxedMoney]:
    """(the lines charged now, what the free-trial lines cost on the checkout)."""
    from ..services.checkout_plans import is_free_start, plans_by_line

    chosen = plans_by_line(checkout)
    credit = zero_taxed_money(checkout.currency)
    charged = []
    for line in lines:
        plan = chosen.get(line.pk)
        if plan is not None and is_free_start(plan):
            credit += taxed_plan_line(line, plan)
        else:
            charged.append(line)
    return charged, credit


def _voucher_part(checkout, charged_lines) -> Tuple[Money, object]:
    """Saleor's voucher discount on the lines charged now (zero when it no longer applies)."""
    from saleor.checkout import calculations

    zero = Money(0, checkout.currency)
    voucher = get_voucher_for_checkout(checkout)
    if voucher is None:
        return zero, None
    try:
        part = get_voucher_discount_for_checkout(voucher, checkout, charged_lines, [])
    except NotApplicable:
        return zero, voucher
    if voucher.type != VoucherType.SHIPPING:
        subtotal = calculations.checkout_subtotal(checkout=checkout, lines=charged_lines).gross
        part = min(part, subtotal)
    return part, voucher


def trial_discount(checkout, lines=None):
    """(trial credit, voucher part, voucher) of a checkout; a zero credit without trial lines."""
    lines = list(checkout) if lines is None else list(lines)
    charged, credit = _trial_lines(checkout, lines)
    if not credit.gross.amount:
        return credit, None, None
    part, voucher = _voucher_part(checkout, charged)
    return credit, part, voucher


def charged_now(checkout, lines, previous_total: TaxedMoney) -> TaxedMoney:
    """The checkout's total with its free trials and the voucher on what is charged now:
    `previous_total` is Saleor's (lines + shipping - checkout.discount, taxed by the plugins)."""
    credit, part, _voucher = trial_discount(checkout, lines)
    if not credit.gross.amount:
        return previous_total
    before_discounts = previous_total + checkout.discount
    return max(before_discounts - part - credit, zero_taxed_money(previous_total.currency))


def show_trial_on_checkout(sender, instance, update_fields=None, **kwargs):
    """pre_save of Saleor's Checkout: where Saleor writes its discount, the trial joins it."""
    if instance._state.adding or (update_fields is not None
                                  and "discount_amount" not in update_fields):
        return
    from ..config import load_settings

    if not load_settings().active:
        return
    credit, part, voucher = trial_discount(instance)
    if not credit.gross.amount:
        return
    instance.discount_amount = credit.gross.amount + part.amount
    instance.discount_name = (FREE_TRIAL_NAME if voucher is None
                              else "%s, %s" % (FREE_TRIAL_NAME, voucher))


def refresh_checkout_discount(checkout) -> None:
    """A plan chosen or removed: Saleor's voucher discount recalculated, the trial with it."""
    from saleor.checkout.utils import recalculate_checkout_discount

    recalculate_checkout_discount(checkout, list(checkout), [])


def order_has_trial_discount(order) -> bool:
    """Saleor copied the checkout's discount (trial included) to an order with a voucher."""
    return bool(order.voucher_id) and (order.discount_name or "").startswith(FREE_TRIAL_NAME)


def connect() -> None:
    from django.db.models.signals import pre_save

    pre_save.connect(show_trial_on_checkout, sender=Checkout,
                     dispatch_uid="subscriptions_show_trial_on_checkout")
