"""How long a Saleor voucher lasts on a subscription bought with it.

At checkout the voucher discounts the first charge the way Saleor discounts any order (and
Saleor counts its use then, once). The store's terms for the voucher decide what follows: the
first charge only (the default, as for any order), the first N renewals, or every renewal for
as long as the subscription lasts. The renewals get a SubscriptionDiscount (services/discounts)
under the voucher's name: a percentage voucher takes its percent off each renewal, a fixed one
its amount (on one subscription of the order: one voucher use, one subscription). The terms are
the subscription's from then on: the voucher's later end dates or usage limits do not take
them back.
"""
from datetime import datetime
from typing import List, Optional

from django.db import transaction

from ..discount_models import (
    DiscountSource,
    SubscriptionVoucherTerms,
    VoucherDuration,
)
from ..domain.money import quantize
from ..error_codes import SubscriptionErrorCode
from ..models import ActorType
from . import discounts
from .discounts import MAX_RENEWALS


def _refuse(field: str, message: str, code=SubscriptionErrorCode.INVALID):
    from .lifecycle import refuse

    return refuse(message, code, field=field)


def terms_of(voucher) -> Optional[SubscriptionVoucherTerms]:
    return SubscriptionVoucherTerms.objects.filter(voucher=voucher).first()


@transaction.atomic
def set_terms(voucher, duration: str, renewals: Optional[int] = None,
              follows_plan_change: bool = True) -> SubscriptionVoucherTerms:
    from ..saleor_adapter.vouchers import is_shipping_voucher

    if duration not in dict(VoucherDuration.CHOICES):
        raise _refuse("duration", "Unknown duration.")
    if duration == VoucherDuration.RENEWALS:
        if renewals is None or not 1 <= renewals <= MAX_RENEWALS:
            raise _refuse("renewals", "Give 1 to %d renewals for this duration." % MAX_RENEWALS)
    elif renewals is not None:
        raise _refuse("renewals", "Renewals are given only with the RENEWALS duration.")
    if duration != VoucherDuration.FIRST_CHARGE and is_shipping_voucher(voucher):
        raise _refuse("voucher_id", "A shipping voucher discounts the first order's shipping "
                      "only; renewals are discounted by entire-order or product vouchers.")
    terms, _created = SubscriptionVoucherTerms.objects.update_or_create(
        voucher=voucher, defaults={"duration": duration, "renewals": renewals,
                                   "follows_plan_change": follows_plan_change})
    return terms


def currency_problem(voucher, currency: str) -> Optional[str]:
    """Why the voucher can't discount a subscription in `currency` (None: it can)."""
    from ..saleor_adapter.vouchers import offer_of

    offer = offer_of(voucher)
    if offer.amount is None:
        return None
    if offer.currency != currency:
        return "Voucher %s is in %s; this checkout is in %s." % (offer.code, offer.currency,
                                                                 currency)
    if offer.amount != quantize(offer.amount, currency):
        return "Voucher %s has more decimals than %s allows." % (offer.code, currency)
    return None


def grant_from_order(order, started: List, now: datetime) -> None:
    """After checkout: the voucher's renewal discount for the subscriptions it applies to
    (`started`: (subscription, order line) pairs), per the voucher's terms."""
    from ..saleor_adapter.vouchers import applies_to_line, offer_of, order_voucher

    voucher = order_voucher(order)
    terms = terms_of(voucher) if voucher is not None else None
    if terms is None or terms.duration == VoucherDuration.FIRST_CHARGE:
        return
    from .lifecycle import Actor

    offer = offer_of(voucher)
    renewals = terms.renewals if terms.duration == VoucherDuration.RENEWALS else None
    actor = Actor(ActorType.CUSTOMER, order.user)
    for subscription, order_line in started:
        if not applies_to_line(voucher, order_line):
            continue
        if offer.amount is not None and offer.currency != subscription.currency:
            continue  # refused at checkout (services/checkout_plans); never priced here
        discounts.grant_discount(
            subscription, source=DiscountSource.VOUCHER, now=now, name=offer.name,
            percent=offer.percent, amount=offer.amount, renewals=renewals, voucher=voucher,
            voucher_code=offer.code, applies_to_first_charge=True,
            follows_plan_change=terms.follows_plan_change, order=order, actor=actor)
        if offer.amount is not None:
            return  # a fixed amount is one order's discount: one subscription carries it
