"""Taxes through Saleor's plugins manager, the same way for every charge.

A renewal order line is taxed by `manager.calculate_order_line_unit` on its (net) subscription
price. The checkout's first charge and an upgrade's order are taxed with the very same call, so
the store's tax plugin applies one rule to all of them.
"""
from decimal import Decimal

from prices import Money, TaxedMoney
from saleor.core.taxes import zero_taxed_money
from saleor.order.models import Order, OrderLine
from saleor.plugins.manager import get_plugins_manager


def taxed_unit(manager, variant, net: Money, shipping_address=None,
               billing_address=None) -> TaxedMoney:
    """What the tax plugins make of one unit of `variant` at `net`, shipped to
    `shipping_address` (or billed to `billing_address`), as on a renewal order line."""
    if not net.amount:
        return zero_taxed_money(net.currency)
    order = Order(currency=net.currency, shipping_address=shipping_address,
                  billing_address=billing_address)
    line = OrderLine(order=order, variant=variant, quantity=1,
                     product_name=str(variant.product), variant_name=str(variant),
                     product_sku=variant.sku, is_shipping_required=variant.is_shipping_required(),
                     unit_price=TaxedMoney(net=net, gross=net), tax_rate=Decimal("0.0"))
    return manager.calculate_order_line_unit(line)


def taxed_checkout_line(checkout_line, unit: Money, quantity: int, once: Money,
                        manager=None) -> TaxedMoney:
    """A checkout line's first charge, taxed like renewals: `quantity` × `unit` plus `once`
    (a sign-up fee), each taxed as an order line of the line's variant at the checkout's
    addresses."""
    manager = manager or get_plugins_manager()
    checkout = checkout_line.checkout
    addresses = (checkout.shipping_address, checkout.billing_address)
    total = zero_taxed_money(unit.currency)
    if quantity and unit.amount:
        total += taxed_unit(manager, checkout_line.variant, unit, *addresses) * quantity
    if once.amount:
        total += taxed_unit(manager, checkout_line.variant, once, *addresses)
    return total
