"""A subscriber's first order without a storefront, for the simulation
(`simulate_subscriptions`), which signs thousands of customers up in minutes.

The order is what checkoutComplete leaves for one subscribed line: placed (UNFULFILLED), its
addresses, shipping method and price, the line at the first cycle's price taxed through the
plugins manager, a free trial's line price taken off as the "Free trial" discount (as
subscribe.py does), and the first charge captured under the subscriptions gateway
(`payments.write_captured_payment`, as a renewal's). Saleor's order-placed hooks, webhooks and
e-mails are not run: simulated customers are not e-mailed and no App is told about them.
"""
from decimal import Decimal

from prices import Money, TaxedMoney
from saleor.core.taxes import zero_taxed_money
from saleor.order import OrderStatus
from saleor.order.models import Order, OrderLine

from .. import GATEWAY_ID
from .checkout import StoredCard, SubscribedLine
from .orders import _address_copies
from .payments import write_captured_payment

SIMULATION_METADATA_KEY = "subscription_simulation"
FREE_TRIAL_NAME = "Free trial"


def place_signup_order(*, email: str, plan, quantity: int, unit_price: Money, charged: Money,
                       address, shipping_method, reference: str, card: StoredCard,
                       effects) -> SubscribedLine:
    """The paid first order of a subscription to `plan`; returns its subscribed line.
    `charged`: what the first cycle costs (the plan's first charge: a trial's sign-up fee
    only); the order's total adds shipping to it."""
    variant = plan.variant
    shipping_required = variant.is_shipping_required()
    billing, shipping = _address_copies(address, address if shipping_required else None)
    currency = unit_price.currency
    order = Order.objects.create(
        status=OrderStatus.UNFULFILLED, user=None, user_email=email,
        billing_address=billing, shipping_address=shipping,
        shipping_method=shipping_method if shipping_required else None,
        shipping_method_name=str(shipping_method) if shipping_required else None,
        currency=currency, total=zero_taxed_money(currency),
        metadata={SIMULATION_METADATA_KEY: "signup"},
    )
    line = OrderLine(
        order=order, variant=variant, product_name=str(variant.product),
        variant_name=str(variant), product_sku=variant.sku,
        is_shipping_required=shipping_required, quantity=quantity,
        unit_price=TaxedMoney(net=unit_price, gross=unit_price), tax_rate=Decimal("0.0"),
    )
    taxed = effects.manager.calculate_order_line_unit(line)
    line.unit_price = taxed
    line.tax_rate = taxed.tax.amount / taxed.net.amount if taxed.net.amount else Decimal("0.0")
    line.save()
    if shipping_required:
        order.shipping_price = effects.manager.calculate_order_shipping(order)
    line_total = line.get_total().gross
    if plan.trial_days > 0 and line_total.amount > charged.amount:
        order.discount_amount = line_total.amount - charged.amount
        order.discount_name = FREE_TRIAL_NAME
    order.total = line.get_total() + order.shipping_price - order.discount
    order.weight = variant.get_weight() * quantity
    order.save()
    total = order.total.gross
    if total.amount > 0:
        write_captured_payment(order, gateway_id=GATEWAY_ID, reference=reference, amount=total,
                               customer_reference=card.customer_reference, card=card,
                               check_existing=False)
    return SubscribedLine(order_line=line, plan=plan, quantity=quantity)


def simulated_before() -> bool:
    """Whether a simulation signed anybody up in this store already."""
    return Order.objects.filter(metadata__has_key=SIMULATION_METADATA_KEY).exists()
