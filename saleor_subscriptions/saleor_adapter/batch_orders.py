"""A renewal batch's orders in a few statements: the same rows as orders.create_renewal_order and
orders.place_paid_order write one order at a time, written for many orders at once.

Only for plain renewals (the caller checks): one line at the subscription's price, no credit,
carried balance or discounts, the product orderable, its stock reserved with `reserve_stock`
beforehand. Saleor's Order.save only gives a new order its token, which is given here.
"""
from decimal import Decimal
from typing import List, Optional, Sequence, Tuple
from uuid import uuid4

from django.contrib.auth.models import AnonymousUser
from saleor.account.models import Address
from saleor.order import OrderStatus
from saleor.order.models import Order, OrderLine
from saleor.payment.models import Payment, Transaction
from saleor.warehouse.models import Allocation

from ..services.bulk_sql import update_rows
from . import stock
from .emails import schedule_order_emails
from .orders import TOTAL_FIELDS, _set_totals, draft_order, new_line, order_addresses
from .payments import capture_transaction, captured_payment


def reserve_stock(subscriptions) -> List[Optional[list]]:
    """For each subscription (in order): its renewal line's stock plan, [] when its variant
    does not track inventory, None when there is not enough (its order must not be made)."""
    needs, positions = [], []
    for position, subscription in enumerate(subscriptions):
        variant = subscription.variant
        if variant.track_inventory:
            billing, shipping = order_addresses(subscription)
            needs.append((variant.pk, subscription.quantity, (shipping or billing).country.code))
            positions.append(position)
    plans: List[Optional[list]] = [[] for _ in subscriptions]
    for position, plan in zip(positions, stock.reserve(needs)):
        plans[position] = plan
    return plans


def create_renewal_orders(entries: Sequence[Tuple[object, int, list]], effects) -> List[Order]:
    """The draft orders of plain renewals: `entries` are (subscription, cycle index, stock plan
    from reserve_stock). Addresses, orders, lines and allocations in one INSERT each, the
    totals in one UPDATE."""
    originals = [order_addresses(subscription) for subscription, _index, _plan in entries]
    copies = iter(Address.objects.bulk_create(
        [Address(**address.as_data()) for pair in originals for address in pair
         if address is not None]))
    orders = []
    for (subscription, index, _plan), pair in zip(entries, originals):
        billing, shipping = (next(copies) if address is not None else None for address in pair)
        order = draft_order(subscription, index, billing, shipping)
        order.token = str(uuid4())
        orders.append(order)
    Order.objects.bulk_create(orders)
    lines = [new_line(order, subscription, effects.manager)
             for order, (subscription, _index, _plan) in zip(orders, entries)]
    OrderLine.objects.bulk_create(lines)
    for order, line in zip(orders, lines):
        if order.shipping_method_id is not None:
            order.shipping_price = effects.manager.calculate_order_shipping(order)
        _set_totals(order, line, Decimal(0), save=False)
    update_rows(Order, orders, TOTAL_FIELDS)
    Allocation.objects.bulk_create([
        row for line, (_s, _i, plan) in zip(lines, entries) for row in stock.allocations(line, plan)
    ])
    return orders


def place_paid_orders(entries: Sequence[Tuple[Order, dict, str]], effects) -> None:
    """orders.place_paid_order for many drafts, each with its first captured charge: `entries`
    are (order, charge as write_captured_payment's arguments, note). Payments, transactions,
    the status and the orders' events in one statement each; hooks and e-mails per order."""
    payments = [captured_payment(order, None, charge["gateway_id"], charge["reference"],
                                 charge["amount"], charge.get("card"))
                for order, charge, _note in entries]
    Payment.objects.bulk_create(payments)
    Transaction.objects.bulk_create([
        capture_transaction(payment, charge["reference"], charge["amount"],
                            charge.get("customer_reference", ""))
        for payment, (_order, charge, _note) in zip(payments, entries)])
    Order.objects.filter(pk__in=[order.pk for order, _c, _n in entries]).update(
        status=OrderStatus.UNFULFILLED)
    placed = []
    for payment, (order, _charge, note) in zip(payments, entries):
        order.status = OrderStatus.UNFULFILLED
        user = order.user if order.user is not None else AnonymousUser()
        # A draft had no payment before this one: it alone decides Saleor's is_fully_paid.
        placed.append((order, user, note, payment.captured_amount >= order.total.gross.amount))
    effects.orders_placed_and_paid(placed)
    for order, _charge, _note in entries:
        schedule_order_emails(order.pk, order.user_id)
