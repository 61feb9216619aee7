"""Discounts on renewals: granted (vouchers, staff goodwill, retention and win-back offers),
applied to each renewal order, used up one paid renewal at a time.

The pricing rule is domain/discounts.py. Callers hold the subscription's row lock
(services.lifecycle.lock, or the renewal's own lock) so a grant never races a renewal.
"""
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Dict, List, Optional, Sequence, Tuple

from prices import Money

from ..discount_models import DiscountSource, SubscriptionDiscount
from ..domain import discounts as rules
from ..domain.money import minor_units
from ..error_codes import SubscriptionErrorCode
from ..models import EventType, Subscription
from . import plans
from .events import record_event

#: staff and offers may grant at most this many renewals at once (None: forever)
MAX_RENEWALS = 120
DEFAULT_NAMES = {
    DiscountSource.VOUCHER: "Voucher",
    DiscountSource.GOODWILL: "Goodwill discount",
    DiscountSource.RETENTION_OFFER: "Retention offer",
    DiscountSource.WIN_BACK: "Welcome back offer",
}


def _refuse(field: str, message: str, code=SubscriptionErrorCode.INVALID):
    from .lifecycle import refuse

    return refuse(message, code, field=field)


def active_discounts(subscription: Subscription) -> List[SubscriptionDiscount]:
    """The discounts the next renewal gets, in granting order (none read when there are none)."""
    if not subscription.discount_count:
        return []
    return active_discounts_of([subscription.pk])[subscription.pk]


def active_discounts_of(subscription_ids: Sequence[int]) -> Dict[int, List[SubscriptionDiscount]]:
    """`active_discounts` of many subscriptions in one query (lists of subscriptions)."""
    found: Dict[int, List[SubscriptionDiscount]] = {pk: [] for pk in subscription_ids}
    for discount in SubscriptionDiscount.objects.filter(
            subscription_id__in=subscription_ids, ended_at__isnull=True).order_by(
            "created_at", "pk"):
        found[discount.subscription_id].append(discount)
    return found


def terms(discount: SubscriptionDiscount) -> rules.DiscountTerms:
    amount = (Money(discount.amount, discount.currency) if discount.amount is not None
              else None)
    return rules.DiscountTerms(name=discount.name, percent=discount.percent, amount=amount,
                               key=discount.pk)


def cycle_price(subscription: Subscription) -> Money:
    """The subscription's own price for its next paid cycle before discounts (before tax)."""
    return plans.next_cycle_unit_price(subscription) * subscription.quantity


def renewal_parts(subscription: Subscription,
                  found: Optional[Sequence[SubscriptionDiscount]] = None
                  ) -> List[Tuple[rules.DiscountTerms, Money]]:
    """What each active discount takes off the next renewal (zero parts left out)."""
    found = active_discounts(subscription) if found is None else found
    if not found:
        return []
    return rules.apply(cycle_price(subscription), [terms(discount) for discount in found])


def discounted_cycle_price(subscription: Subscription,
                           found: Optional[Sequence[SubscriptionDiscount]] = None) -> Money:
    """The next paid cycle's price after the active discounts, before tax (MRR, quotes);
    `found`: its active discounts when the caller has them."""
    price = cycle_price(subscription)
    found = active_discounts(subscription) if found is None else found
    if not found:
        return price
    return rules.discounted(price, [terms(discount) for discount in found])


def discounted_total(subscription: Subscription, total: Money, *,
                     other_plan: bool = False) -> Money:
    """`total` (a cycle's price before tax) after the subscription's active discounts; for
    `other_plan`, only those that follow a plan change (proration quotes)."""
    found = active_discounts(subscription)
    if other_plan:
        found = [discount for discount in found if discount.follows_plan_change]
    if not found:
        return total
    return rules.discounted(total, [terms(discount) for discount in found])


def _clean_percent(percent) -> Decimal:
    try:
        value = Decimal(str(percent))
    except (InvalidOperation, ValueError):
        raise _refuse("percent", "Give the percent as a number.")
    if not value.is_finite() or not 0 < value <= 100 or value != value.quantize(Decimal("0.001")):
        raise _refuse("percent", "A percent discount is more than 0 and at most 100, with at "
                      "most three decimals.")
    return value


def _clean_amount(amount, currency: str) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise _refuse("amount", "Give the amount as a number.")
    places = minor_units(currency)
    if (not value.is_finite() or value <= 0 or value >= Decimal(10) ** 9
            or value != value.quantize(Decimal(1).scaleb(-places))):
        raise _refuse("amount", "The amount must be more than 0 with at most %d decimals in %s."
                      % (places, currency))
    return value


def _clean_renewals(renewals: Optional[int]) -> Optional[int]:
    if renewals is None:
        return None
    if isinstance(renewals, bool) or not isinstance(renewals, int) or not (
            1 <= renewals <= MAX_RENEWALS):
        raise _refuse("renewals", "A discount lasts 1 to %d renewals (or, left out, for as long "
                      "as the subscription lasts)." % MAX_RENEWALS)
    return renewals


def grant_offer_discount(subscription: Subscription, offer, *, source: str, reason: str,
                         actor, now: datetime) -> SubscriptionDiscount:
    """An offer's percent off its next renewals (a retention offer, a win-back code): the
    offer's terms were checked when it was made; the caller holds the row lock."""
    return grant_discount(subscription, source=source, percent=offer.percent,
                          renewals=offer.renewals, reason=reason, actor=actor, now=now)


def grant_discount(subscription: Subscription, *, source: str, reason: str = "",
                   actor=None, now: datetime, percent=None, amount=None,
                   currency: Optional[str] = None, renewals: Optional[int] = None,
                   name: str = "", voucher=None, voucher_code: str = "",
                   applies_to_first_charge: bool = False, follows_plan_change: bool = True,
                   order=None) -> SubscriptionDiscount:
    """Give `subscription` a percent or an amount off its next `renewals` paid renewals (None:
    for as long as it lasts). The caller holds the row lock; bad input raises ValidationError
    (typed, with the field) before anything is written. Writes DISCOUNT_GRANTED (an MRR
    contraction) in the caller's transaction."""
    if (percent is None) == (amount is None):
        raise _refuse("percent" if percent is None else "amount",
                      "Give either a percent or an amount.", SubscriptionErrorCode.REQUIRED
                      if percent is None else SubscriptionErrorCode.INVALID)
    if currency is not None and currency != subscription.currency:
        raise _refuse("amount", "The subscription is billed in %s, not %s."
                      % (subscription.currency, currency), SubscriptionErrorCode.CURRENCY_MISMATCH)
    clean_percent = _clean_percent(percent) if percent is not None else None
    clean_amount = (_clean_amount(amount, subscription.currency) if amount is not None
                    else None)
    left = _clean_renewals(renewals)
    if subscription.ended_at is not None or subscription.status in ("cancelled", "expired"):
        raise _refuse("id", "The subscription has ended.", SubscriptionErrorCode.INVALID_STATUS)
    user = actor.user if actor is not None else None
    discount = SubscriptionDiscount.objects.create(
        subscription=subscription, source=source, name=(name or DEFAULT_NAMES[source])[:255],
        percent=clean_percent, currency=subscription.currency, amount=clean_amount,
        renewals_left=left, applies_to_first_charge=applies_to_first_charge,
        follows_plan_change=follows_plan_change, reason=reason, voucher=voucher,
        voucher_code=voucher_code, created_by=user, created_at=now,
    )
    subscription.discount_count += 1
    subscription.save(update_fields=["discount_count", "updated_at"])
    event_actor = actor.event_fields() if actor is not None else {}
    record_event(subscription, EventType.DISCOUNT_GRANTED, date=now, order=order,
                 amount=Money(clean_amount, subscription.currency) if clean_amount else None,
                 discount=discount.pk, source=source, name=discount.name,
                 percent=str(clean_percent) if clean_percent is not None else None,
                 renewals=left, reason=reason, voucher_code=voucher_code, **event_actor)
    return discount


def end_discount(subscription: Subscription, discount: SubscriptionDiscount, now: datetime,
                 why: str, actor=None, reason: str = "") -> None:
    """Stop an active discount (used up, removed by staff, not following a plan change):
    DISCOUNT_ENDED, an MRR expansion, in the caller's transaction."""
    if discount.ended_at is not None:
        return
    discount.ended_at = now
    discount.end_reason = why
    discount.save(update_fields=["ended_at", "end_reason", "renewals_left", "renewals_used"])
    subscription.discount_count = max(subscription.discount_count - 1, 0)
    subscription.save(update_fields=["discount_count", "updated_at"])
    event_actor = actor.event_fields() if actor is not None else {}
    record_event(subscription, EventType.DISCOUNT_ENDED, date=now, discount=discount.pk,
                 source=discount.source, name=discount.name, why=why,
                 renewals_used=discount.renewals_used, reason=reason, **event_actor)


def use_for_paid_renewal(subscription: Subscription, order, now: datetime) -> None:
    """The renewal paying `order` succeeded: each discount it carried has one renewal fewer
    left (ended when none are left). Called once per paid cycle, in the outcome's transaction;
    a declined or abandoned renewal never gets here, so it uses nothing."""
    from ..saleor_adapter.orders import applied_discount_ids

    if not subscription.discount_count:
        return
    ids = applied_discount_ids(order)
    if not ids:
        return
    for discount in subscription.discounts.select_for_update().filter(
            pk__in=ids, ended_at__isnull=True).order_by("pk"):
        discount.renewals_used += 1
        discount.renewals_left = rules.uses_left_after(discount.renewals_left)
        if discount.renewals_left == 0:
            end_discount(subscription, discount, now, "used_up")
        else:
            discount.save(update_fields=["renewals_left", "renewals_used"])


def on_plan_change(subscription: Subscription, now: datetime, actor=None) -> None:
    """The subscription moved to another plan: discounts that do not follow it end."""
    for discount in active_discounts(subscription):
        if not discount.follows_plan_change:
            end_discount(subscription, discount, now, "plan_changed", actor)
