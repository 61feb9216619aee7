"""What Saleor 2.10 does when an order is placed and when it becomes fully paid, for a renewal batch.

Saleor's `order_created` and `handle_fully_paid_order` build a new plugins manager (a query and a
dozen plugin objects) on every call, and its webhook plugin serialises the whole order for every
event even when no webhook listens (Saleor 3 looks for listeners first). A renewal batch builds
one manager, leaves the webhook plugin out while no active webhook subscribes to an order event,
and otherwise writes the same order and customer events, sends the same e-mails and calls the
same plugin hooks, in Saleor's order. tests/renewals/test_renewal_order_parity.py holds a renewal
order's rows side by side with a checkoutComplete order's.

Other plugins' hooks, analytics and e-mails run `safely`: in a savepoint whose error is logged and
swallowed, so a store's broken plugin never rolls back the record of a captured charge (the
payment row, the attempt SUCCEEDED and the cycle PAID are written in the same transaction).
"""
import logging

from django.conf import settings
from django.db import transaction
from saleor.account import CustomerEvents
from saleor.account.models import CustomerEvent
from saleor.core import analytics
from saleor.order import OrderEvents, events
from saleor.order.actions import automatically_fulfill_digital_lines
from saleor.order.emails import send_payment_confirmation
from saleor.order.models import OrderEvent, OrderLine
from saleor.order.utils import order_needs_automatic_fullfilment
from saleor.plugins.avatax.plugin import AvataxPlugin
from saleor.plugins.base_plugin import BasePlugin
from saleor.plugins.manager import PluginsManager, get_plugins_manager
from saleor.plugins.webhook.plugin import WebhookPlugin
from saleor.product.models import ProductType
from saleor.webhook.event_types import WebhookEventType
from saleor.webhook.models import Webhook

from .. import PLUGIN_ID
from .checkout import is_renewal_order

logger = logging.getLogger(__name__)

#: Saleor 2.10's plugins with order hooks that begin `if not self.active: return previous_value`
RETURN_AT_ONCE_WHEN_INACTIVE = (AvataxPlugin, WebhookPlugin)

ORDER_WEBHOOK_EVENTS = (
    WebhookEventType.ANY,
    WebhookEventType.ORDER_CREATED,
    WebhookEventType.ORDER_FULLY_PAID,
    WebhookEventType.ORDER_UPDATED,
)


def order_webhooks_listening() -> bool:
    return Webhook.objects.filter(
        is_active=True, app__is_active=True, events__event_type__in=ORDER_WEBHOOK_EVENTS
    ).exists()


class OrderEffects:
    """One plugins manager for many orders; build one per batch, not per order."""

    def __init__(self, manager: PluginsManager = None):
        self.manager = manager or get_plugins_manager()
        self._digital_types = None
        if not order_webhooks_listening():
            self.manager.plugins = [
                plugin for plugin in self.manager.plugins if not isinstance(plugin, WebhookPlugin)
            ]

    def order_created(self, order, user, note: str = "") -> None:
        """As saleor.order.actions.order_created (not from a draft); `note` is written as a
        note in the order's history (the dashboard shows it beside the "placed" event)."""
        if note:
            _placed_with_note(order, user, note)
        else:
            events.order_created_event(order=order, user=user, from_draft=False)
        self._run_hook("order_created", order)

    def order_fully_paid(self, order) -> None:
        """As saleor.order.actions.handle_fully_paid_order (its two events in one INSERT)."""
        OrderEvent.objects.bulk_create(_fully_paid_rows(order))
        self._after_fully_paid(order)

    def orders_placed_and_paid(self, placed) -> None:
        """order_created (with its note) and then order_fully_paid for many orders: `placed`
        is a list of (order, user, note, fully paid?). Their customer and order events are
        written in one INSERT each (in each order's sequence), then each order's hooks,
        e-mails and fulfilment run as those two would run them."""
        customer_events, order_events = [], []
        for order, user, note, paid in placed:
            customer_events.extend(_customer_placed_rows(order, user))
            order_events.extend(_placed_rows(order, user, note))
            if paid:
                order_events.extend(_fully_paid_rows(order))
        CustomerEvent.objects.bulk_create(customer_events)
        OrderEvent.objects.bulk_create(order_events)
        for order, _user, _note, paid in placed:
            self._run_hook("order_created", order)
            if paid:
                self._after_fully_paid(order)

    def _after_fully_paid(self, order) -> None:
        if order.get_customer_email():
            # Queued, the task writes nothing here: no savepoint unless it runs eagerly.
            safely("payment e-mail", order, send_payment_confirmation.delay, order.pk,
                   savepoint=bool(send_payment_confirmation.app.conf.task_always_eager))
            if self._may_fulfil_digital(order) and order_needs_automatic_fullfilment(order):
                safely("digital fulfilment", order, automatically_fulfill_digital_lines, order)
        if getattr(settings, "GOOGLE_ANALYTICS_TRACKING_ID", None) and order.tracking_client_id:
            safely("analytics", order, analytics.report_order, order.tracking_client_id, order)
        self._run_hook("order_fully_paid", order)
        self._run_hook("order_updated", order)

    def _run_hook(self, name: str, order) -> None:
        """As the manager's `name(order)`, one plugin at a time: one plugin's error neither
        stops the others nor rolls back our rows. Plugins that don't implement the hook are
        skipped (no savepoint for them), and so are Saleor's plugins whose every hook returns at
        once while they are inactive, and this package's own plugin for a renewal order: its
        order_created starts subscriptions from checkout orders, never from these."""
        default = getattr(BasePlugin, name)
        for plugin in self.manager.plugins:
            if getattr(type(plugin), name, default) is default:
                continue
            if plugin.PLUGIN_ID == PLUGIN_ID and is_renewal_order(order):
                continue
            if not plugin.active and isinstance(plugin, RETURN_AT_ONCE_WHEN_INACTIVE):
                continue
            safely("%s hook of %s" % (name, plugin.PLUGIN_ID), order, getattr(plugin, name),
                   order, previous_value=None)

    def _may_fulfil_digital(self, order) -> bool:
        """Saleor's digital check costs five queries a line: skip it when no product type in the
        store is digital (asked once per batch), or no line's is."""
        if self._digital_types is None:
            self._digital_types = ProductType.objects.filter(is_digital=True).exists()
        return self._digital_types and _has_digital_product_type(order)


def _placed_with_note(order, user, note: str) -> None:
    """Saleor's order_created_event and a system note (order_note_added_event without a user),
    in one INSERT: the renewal hot path keeps its query budget."""
    CustomerEvent.objects.bulk_create(_customer_placed_rows(order, user))
    OrderEvent.objects.bulk_create(_placed_rows(order, user, note))


def _placed_rows(order, user, note: str) -> list:
    by = user if user is not None and not user.is_anonymous else None
    return [
        OrderEvent(order=order, type=OrderEvents.PLACED, user=by),
        OrderEvent(order=order, type=OrderEvents.NOTE_ADDED, parameters={"message": note}),
    ]


def _customer_placed_rows(order, user) -> list:
    """account_events.customer_placed_order_event's row, not saved (none for a guest)."""
    if user is None or user.is_anonymous:
        return []
    return [CustomerEvent(user=user, order=order, type=CustomerEvents.PLACED_ORDER)]


def _fully_paid_rows(order) -> list:
    """events.order_fully_paid_event's row and email_sent_event's for the payment e-mail
    (user None, when the order has an e-mail), not saved."""
    rows = [OrderEvent(order=order, type=OrderEvents.ORDER_FULLY_PAID)]
    email = order.get_customer_email()
    if email:
        rows.append(OrderEvent(order=order, type=OrderEvents.EMAIL_SENT,
                               parameters={"email": email,
                                           "email_type": events.OrderEventsEmails.PAYMENT}))
    return rows


def _has_digital_product_type(order) -> bool:
    return OrderLine.objects.filter(
        order=order, variant__product__product_type__is_digital=True
    ).exists()


def safely(what: str, order, function, *args, savepoint: bool = True, **kwargs) -> None:
    """Run a side effect in a savepoint; an error is logged (with the order) and swallowed."""
    try:
        if savepoint:
            with transaction.atomic():
                function(*args, **kwargs)
        else:
            function(*args, **kwargs)
    except Exception:  # any plugin's or library's error: the charge's record must survive
        logger.exception("The %s failed for order %s; the order and its payment are kept.",
                         what, order.pk)
