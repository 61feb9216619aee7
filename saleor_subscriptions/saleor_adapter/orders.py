"""Renewal orders as normal Saleor 2.10 orders: lines, shipping, taxes, stock, `order_created`.

The only module that builds Saleor orders. Like a checkout, a renewal order is placed only once
it is paid: until then it is a Saleor draft (status DRAFT: not in the customer's or the staff's
order lists, no order events, hooks, webhooks or e-mails) that already holds its stock, so a
customer is never charged for what can't ship. `place_paid_order` places it when the money is
in; `discard_unpaid_order` removes it (and its stock allocation) when it never will be.
Failures that are not the card's fault are raised as `OrderBlocked` with a stable code, so the
renewal service can record them instead of crashing.
"""
from decimal import Decimal
from typing import Optional, Sequence

from django.contrib.auth.models import AnonymousUser
from prices import Money, TaxedMoney
from saleor.account.models import Address
from saleor.core.exceptions import InsufficientStock
from saleor.core.taxes import zero_taxed_money
from saleor.order import OrderStatus
from saleor.order.actions import cancel_order, order_created
from saleor.order.models import Order, OrderLine
from saleor.order.utils import recalculate_order

from ..services.plans import next_cycle_unit_price
from .emails import schedule_order_emails
from .stock import allocate_line

#: order.metadata key marking a renewal order (hooks must not start a new subscription for it)
RENEWAL_METADATA_KEY = "subscription_renewal"
CREDIT_DISCOUNT_NAME = "Subscription credit"
CARRIED_BALANCE_NAME = "Balance carried from an earlier renewal"
CARRIED_DISCOUNT_NAME = "Carried to the next renewal (below the minimum charge)"
#: private metadata of a renewal order: the subscription discounts (ids) and credit it used
DISCOUNTS_METADATA_KEY = "subscription_discounts"
CREDIT_METADATA_KEY = "subscription_credit"


class OrderBlocked(Exception):
    """The renewal order cannot be created for a reason that is not a payment failure."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _copy(address):
    return address.get_copy() if address is not None else None


def check_orderable(subscription) -> None:
    """Raise OrderBlocked when the subscription's product can't be ordered any more."""
    variant = subscription.variant
    if variant is None:
        raise OrderBlocked("variant_deleted", "The subscribed product variant was deleted.")
    if subscription.billing_address is None and subscription.shipping_address is None:
        raise OrderBlocked("address_missing", "The subscription has no billing address.")
    if variant.is_shipping_required():
        if subscription.shipping_method is None:
            raise OrderBlocked(
                "shipping_method_missing", "The subscription's shipping method no longer exists."
            )
        if subscription.shipping_address is None:
            raise OrderBlocked("address_missing", "The subscription has no shipping address.")


def create_renewal_order(
    subscription, cycle_index: int, credit: Decimal = Decimal(0), effects=None,
    carried: Decimal = Decimal(0), discounts: Sequence = (),
) -> Order:
    """Create the draft order for one renewal, its stock allocated; call inside the caller's
    transaction. `place_paid_order` places it once the charge succeeds.

    `discounts` ((DiscountTerms, Money) pairs, services/discounts.renewal_parts) come off the
    total as the order's discount under their names, as Saleor shows a voucher's discount;
    `credit` is taken off what is left, also as an order discount; `carried` (owed from an earlier
    renewal below the minimum charge, taxes included) is added as a line of its own.
    `effects`: the batch's OrderEffects.
    Raises OrderBlocked (variant deleted, no shipping method, out of stock); the caller's
    transaction must then roll back.
    """
    from .order_effects import OrderEffects

    check_orderable(subscription)
    effects = effects or OrderEffects()
    variant = subscription.variant
    shipping_required = variant.is_shipping_required()
    currency = subscription.currency
    billing, shipping = _address_copies(*order_addresses(subscription))
    order = draft_order(subscription, cycle_index, billing, shipping)
    order.save()
    line = _add_line(order, subscription, effects.manager)
    balance = _add_balance_line(order, Money(carried, currency)) if carried > 0 else None
    if shipping_required:
        order.shipping_price = effects.manager.calculate_order_shipping(order)
    _set_totals(order, line, credit, balance, discounts)
    if variant.track_inventory:
        country = (order.shipping_address or order.billing_address).country.code
        try:
            allocate_line(line, country)
        except InsufficientStock:
            raise OrderBlocked(
                "out_of_stock", "%s (%s) is out of stock." % (line.product_name, line.product_sku)
            )
    return order


def order_addresses(subscription):
    """(billing, shipping) of the subscription's renewal orders, before they are copied."""
    shipping_required = subscription.variant.is_shipping_required()
    return (subscription.billing_address or subscription.shipping_address,
            subscription.shipping_address if shipping_required else None)


def draft_order(subscription, cycle_index: int, billing, shipping) -> Order:
    """The renewal's draft Order (not saved), with its copies of the addresses."""
    shipping_required = subscription.variant.is_shipping_required()
    user = subscription.user
    currency = subscription.currency
    return Order(
        status=OrderStatus.DRAFT,
        user=user,
        user_email=user.email if user is not None else subscription.email,
        billing_address=billing,
        shipping_address=shipping,
        shipping_method=subscription.shipping_method if shipping_required else None,
        shipping_method_name=str(subscription.shipping_method) if shipping_required else None,
        currency=currency,
        total=zero_taxed_money(currency),
        metadata={RENEWAL_METADATA_KEY: str(subscription.token), "subscription_cycle": cycle_index},
    )


#: where staff open a subscription in the package's console (`<id>`: its GraphQL id)
CONSOLE_SUBSCRIPTION_PATH = "/subscriptions/dashboard/subscriptions/%s"


def renewal_note(subscription, cycle_index: int, declined_attempts: int = 0) -> str:
    """The note a placed renewal order carries in Saleor's order history, so staff recognise
    it in the dashboard where checkout orders are: "Subscription renewal: Coffee monthly,
    cycle 3 …" with the subscription's console page; a renewal paid after declines says so."""
    from graphql_relay import to_global_id

    plan = subscription.plan
    text = "Subscription renewal: %s, cycle %d." % (plan.name if plan else "plan", cycle_index)
    if declined_attempts:
        text += " Paid on a dunning retry after %d failed attempt%s." % (
            declined_attempts, "" if declined_attempts == 1 else "s")
    page = CONSOLE_SUBSCRIPTION_PATH % to_global_id("CustomerSubscription", subscription.pk)
    return "%s Subscription console: %s" % (text, page)


def place_paid_order(order: Order, charge: Optional[dict] = None, effects=None,
                     note: str = "") -> None:
    """The money is in: place the renewal draft as checkoutComplete places an order.

    As Saleor's checkout/utils.py create_order: the captured payment is on the order first
    (`charge`: record_captured_charge's arguments; None when nothing was charged), then the
    order is placed (status UNFULFILLED, `order_created` events and plugin hooks, which see the
    payment) and the confirmation e-mails go out after the commit; then, as for any order paid
    after it was created, Saleor's fully-paid effects. An order placed already (one made before
    renewals waited for their payment) is only paid. `note` (renewal_note) goes into the
    order's history with the "placed" event.
    """
    from .order_effects import OrderEffects
    from .payments import write_captured_payment

    effects = effects or OrderEffects()
    payment = write_captured_payment(order, **charge) if charge else None
    draft = order.status == OrderStatus.DRAFT
    if draft:
        order.status = OrderStatus.UNFULFILLED
        order.save(update_fields=["status"])
        user = order.user
        effects.order_created(order, user if user is not None else AnonymousUser(), note=note)
        schedule_order_emails(order.pk, user.pk if user is not None else None)
    if payment is None:
        return
    # A draft had no payment before this one: it alone decides Saleor's is_fully_paid (the
    # sum of captured payments against the total), without reading the payments again.
    paid = payment.captured_amount >= order.total.gross.amount if draft else order.is_fully_paid()
    if paid:
        effects.order_fully_paid(order)


def _address_copies(billing, shipping):
    """Saleor's Address.get_copy for both addresses, in one INSERT."""
    originals = [address for address in (billing, shipping) if address is not None]
    copies = iter(Address.objects.bulk_create(
        [Address(**address.as_data()) for address in originals]))
    return tuple(next(copies) if address is not None else None for address in (billing, shipping))


def _add_line(order: Order, subscription, manager) -> OrderLine:
    line = new_line(order, subscription, manager)
    line.save()
    return line


def new_line(order: Order, subscription, manager) -> OrderLine:
    """The renewal line of `order` (saved), taxed by the plugins; not saved yet."""
    variant = subscription.variant
    # The intro price while the subscription is in its intro cycles (domain/intro.py).
    unit = Money(next_cycle_unit_price(subscription).amount, order.currency)
    line = OrderLine(
        order=order,
        variant=variant,
        product_name=str(variant.product),
        variant_name=str(variant),
        product_sku=variant.sku,
        is_shipping_required=variant.is_shipping_required(),
        quantity=subscription.quantity,
        unit_price=TaxedMoney(net=unit, gross=unit),
        tax_rate=Decimal("0.0"),
    )
    # Tax plugins compute the taxed unit price from the (untaxed) subscription price.
    taxed = manager.calculate_order_line_unit(line)
    line.unit_price = taxed
    line.tax_rate = taxed.tax.amount / taxed.net.amount if taxed.net.amount else Decimal("0.0")
    return line


def _add_balance_line(order: Order, amount: Money) -> OrderLine:
    """The amount an earlier renewal carried (below the gateway's minimum charge): already
    taxed on that renewal's order, so not taxed again."""
    return OrderLine.objects.create(
        order=order, variant=None, product_name=CARRIED_BALANCE_NAME, variant_name="",
        product_sku="", is_shipping_required=False, quantity=1,
        unit_price=TaxedMoney(net=amount, gross=amount), tax_rate=Decimal("0.0"),
    )


def carried_balance(order: Order) -> Decimal:
    """The carried balance a renewal order holds (its balance line), 0 if none."""
    lines = order.lines.filter(variant__isnull=True, product_name=CARRIED_BALANCE_NAME)
    return sum((line.unit_price_gross_amount * line.quantity for line in lines), Decimal(0))


def carry_order_balance(order: Order, amount: Money) -> None:
    """Leave `amount` of the order's total to the next renewal: an order discount (the order is
    then settled at what is left, usually nothing)."""
    order.discount_amount = (order.discount_amount or Decimal(0)) + amount.amount
    order.discount_name = (CARRIED_DISCOUNT_NAME if not order.discount_name
                           else "%s, %s" % (order.discount_name, CARRIED_DISCOUNT_NAME))
    order.total = max(order.total - amount, zero_taxed_money(order.currency))
    order.save(update_fields=["discount_amount", "discount_name", "total_net_amount",
                              "total_gross_amount"])


#: the order columns _set_totals writes
TOTAL_FIELDS = [
    "shipping_price_net_amount", "shipping_price_gross_amount", "discount_amount",
    "discount_name", "total_net_amount", "total_gross_amount", "weight", "private_metadata",
]


def _set_totals(order: Order, line: OrderLine, credit: Decimal,
                balance: Optional[OrderLine] = None, discounts: Sequence = (),
                save: bool = True) -> None:
    """Saleor's recalculate_order for a one-line order, from the objects in hand (one UPDATE
    instead of eight queries): lines plus shipping, less the discounts and then the credit
    (never below zero), and the weight. The discounts' ids and the credit used are kept in the
    order's private metadata (the paid renewal uses them up, services/discounts.py)."""
    total = line.get_total() + order.shipping_price
    if balance is not None:
        total += balance.get_total()
    names = []
    off = Decimal(0)
    for terms, part in discounts:
        off += part.amount
        names.append(terms.name)
    off = min(off, total.gross.amount)
    used_credit = min(credit, total.gross.amount - off) if credit > 0 else Decimal(0)
    if used_credit:
        names.append(CREDIT_DISCOUNT_NAME)
    order.discount_amount = off + used_credit
    if order.discount_amount:
        order.discount_name = ", ".join(names)
        total -= order.discount
    order.private_metadata = dict(order.private_metadata or {}, **{
        DISCOUNTS_METADATA_KEY: [terms.key for terms, _part in discounts],
        CREDIT_METADATA_KEY: str(used_credit)})
    order.total = total
    order.weight = line.variant.get_weight() * line.quantity
    if save:
        order.save(update_fields=TOTAL_FIELDS)


def applied_discount_ids(order: Optional[Order]) -> list:
    """The subscription discounts (ids) a renewal order was given."""
    if order is None:
        return []
    return list((order.private_metadata or {}).get(DISCOUNTS_METADATA_KEY) or [])


def order_credit(order: Order) -> Decimal:
    """The subscription credit a renewal order used (part of its discount). An order made
    before renewals had discounts kept only its credit as its discount."""
    kept = (order.private_metadata or {}).get(CREDIT_METADATA_KEY)
    if kept is None:
        return order.discount_amount or Decimal(0)
    return Decimal(kept)


def is_draft(order: Order) -> bool:
    return order.status == OrderStatus.DRAFT


def order_total(order: Order) -> Money:
    return order.total.gross


def discard_unpaid_order(order: Optional[Order]) -> Optional[str]:
    """Remove a renewal order that will never be paid: "removed" (a draft, deleted as Saleor's
    draftOrderDelete does: its stock allocation goes with its lines, its private address copies
    with it), "cancelled" (a placed unpaid order, made before renewals waited for their payment:
    cancelled as before, which releases its stock), or None (paid or cancelled already).
    """
    if order is None or order.status == OrderStatus.CANCELED:
        return None
    if order.status != OrderStatus.DRAFT:
        if order.is_fully_paid() and order.total.gross.amount > 0:
            return None
        cancel_order(order, user=None)
        return "cancelled"
    addresses = [pk for pk in (order.billing_address_id, order.shipping_address_id) if pk]
    order.delete()
    Address.objects.filter(pk__in=addresses).delete()
    return "removed"


def cancel_unpaid_order(order: Optional[Order]) -> None:
    """Cancel a renewal order that will never be paid (releases its stock)."""
    if order is None or order.status in (OrderStatus.CANCELED, OrderStatus.DRAFT):
        return
    if order.is_fully_paid() and order.total.gross.amount > 0:
        return
    cancel_order(order, user=None)


ADJUSTMENT_METADATA_KEY = "subscription_adjustment"


def create_adjustment_order(subscription, plan, amount: Money, description: str,
                            effects=None) -> Order:
    """A one-line order for money owed mid-period (a prorated upgrade); nothing ships.

    `amount` is net: the line is taxed through the plugins manager like a renewal line, so the
    order's total (what is charged) carries the store's taxes.
    """
    from .order_effects import OrderEffects

    effects = effects or OrderEffects()
    variant = plan.variant
    user = subscription.user
    order = Order.objects.create(
        status=OrderStatus.UNFULFILLED, user=user,
        user_email=user.email if user is not None else subscription.email,
        billing_address=_copy(subscription.billing_address or subscription.shipping_address),
        currency=amount.currency, total=zero_taxed_money(amount.currency),
        metadata={ADJUSTMENT_METADATA_KEY: str(subscription.token)},
    )
    line = OrderLine(
        order=order, variant=variant, product_name=str(variant.product), variant_name=description,
        product_sku=variant.sku, is_shipping_required=False, quantity=1,
        unit_price=TaxedMoney(net=amount, gross=amount), tax_rate=Decimal("0.0"),
    )
    taxed = effects.manager.calculate_order_line_unit(line)
    line.unit_price = taxed
    line.tax_rate = taxed.tax.amount / taxed.net.amount if taxed.net.amount else Decimal("0.0")
    line.save()
    recalculate_order(order, update_voucher_discount=False)
    order_created(order, user=user if user is not None else AnonymousUser())
    return order
