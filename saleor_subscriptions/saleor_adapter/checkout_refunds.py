"""Give back a checkout payment whose subscription could not be started (services/subscribe.py).

Runs inside Saleor's checkout transaction (the order_created hook): the refund goes through
Saleor's refund path to the payment's gateway plugin (ours: gateway/plugin.py -> the gateway
interface's refund), so the payment records a REFUND transaction and the order a
payment_refunded event, as a dashboard refund would; then the order is cancelled (stock released)
with a note that says why.
"""
import logging

from saleor.order import events
from saleor.order.actions import cancel_order, order_refunded
from saleor.payment import PaymentError
from saleor.payment import gateway as saleor_gateway

from .payments import refundable_payment

logger = logging.getLogger(__name__)


def refund_and_cancel(order, reason: str) -> bool:
    """Refund every captured payment of `order` and cancel it; False if a refund failed (logged
    at error level; the order keeps a note asking staff to refund it)."""
    refunded = True
    payment = refundable_payment(order)
    if payment is not None:
        amount = payment.captured_amount
        try:
            saleor_gateway.refund(payment, amount)
        except PaymentError:
            logger.exception("Refunding payment %s of order %s failed", payment.pk, order.pk)
            refunded = False
        else:
            payment.refresh_from_db()
            order_refunded(order, None, amount, payment)
    note = "%s %s" % (reason, "The payment was refunded in full." if refunded else
                      "The automatic refund FAILED: refund the payment manually.")
    events.order_note_added_event(order=order, user=None, message=note)
    if refunded:
        cancel_order(order, None)
    return refunded
