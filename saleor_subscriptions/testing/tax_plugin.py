"""A tax plugin with fixed rates, for tests: the outside world's tax service, faked.

Behaves like Saleor 2.10's tax plugins (vatlayer): checkout lines are taxed from the variant's
own price (whatever plugins before it said), order lines and product prices from the price they
are given, shipping from the shipping method's price. Taxes are added on top of net prices.
Add it to settings.PLUGINS *before* the subscriptions plugin, where a store's tax plugins sit.
"""
from decimal import Decimal

from prices import Money, TaxedMoney
from saleor.core.taxes import quantize_price
from saleor.plugins.base_plugin import BasePlugin

PATH = "saleor_subscriptions.testing.tax_plugin.FixedRateTaxPlugin"
PRODUCT_RATE = Decimal("0.10")
SHIPPING_RATE = Decimal("0.20")


def taxed(net: Money, rate: Decimal) -> TaxedMoney:
    return quantize_price(TaxedMoney(net=net, gross=net * (1 + rate)), net.currency)


class FixedRateTaxPlugin(BasePlugin):
    PLUGIN_ID = "tests.fixed_rate_tax"
    PLUGIN_NAME = "Fixed rate taxes (tests)"
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = []
    CONFIG_STRUCTURE = {}

    def calculate_checkout_line_total(self, checkout_line, discounts, previous_value):
        if not self.active:
            return previous_value
        unit = checkout_line.variant.get_price(discounts)
        return taxed(unit, PRODUCT_RATE) * checkout_line.quantity

    def calculate_order_line_unit(self, order_line, previous_value):
        if not self.active:
            return previous_value
        return taxed(order_line.unit_price.net, PRODUCT_RATE)

    def apply_taxes_to_product(self, product, price, country, previous_value, **kwargs):
        return taxed(price, PRODUCT_RATE)

    def calculate_checkout_shipping(self, checkout, lines, discounts, previous_value):
        if not self.active or not checkout.shipping_method:
            return previous_value
        return taxed(checkout.shipping_method.price, SHIPPING_RATE)

    def calculate_order_shipping(self, order, previous_value):
        if not self.active or not order.shipping_method:
            return previous_value
        return taxed(order.shipping_method.price, SHIPPING_RATE)

    def apply_taxes_to_shipping(self, price, shipping_address, previous_value):
        return taxed(price, SHIPPING_RATE)

    def show_taxes_on_storefront(self, previous_value):
        return True
