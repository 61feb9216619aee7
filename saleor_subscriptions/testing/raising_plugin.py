"""A Saleor plugin whose order hooks raise: a store's broken analytics or ERP plugin, for tests.

Add "saleor_subscriptions.testing.raising_plugin.RaisingOrderHooksPlugin" to settings.PLUGINS.
"""
from saleor.plugins.base_plugin import BasePlugin


class HookFailure(RuntimeError):
    pass


class RaisingOrderHooksPlugin(BasePlugin):
    PLUGIN_ID = "tests.raising_order_hooks"
    PLUGIN_NAME = "Raising order hooks"
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = []
    CONFIG_STRUCTURE = {}

    def order_fully_paid(self, order, previous_value):
        raise HookFailure("order_fully_paid hook failed for order %s" % order.pk)

    def order_updated(self, order, previous_value):
        raise HookFailure("order_updated hook failed for order %s" % order.pk)
