"""Record an off-session charge as a Saleor payment with a capture transaction.

The order becomes fully charged with Saleor's rows and `order_fully_paid` effects (see
order_effects.py; a renewal draft is placed in between, see orders.place_paid_order), and the
payment's gateway is ours, so a dashboard refund comes back to our gateway plugin.
"""
from typing import Optional
from uuid import uuid4

from prices import Money
from saleor.payment import ChargeStatus, PaymentError, TransactionKind
from saleor.payment.interface import GatewayResponse
from saleor.payment.models import Payment, Transaction


def find_recorded_payment(order, reference: str) -> Optional[Payment]:
    return Payment.objects.filter(order=order, token=reference).first()


def record_captured_charge(order, *, effects=None, **charge) -> Payment:
    """Attach the captured charge `reference` (a PaymentIntent id) to `order`; idempotent
    (check_existing=False: the caller knows it is not recorded yet). A fully paid order then goes
    through `effects.order_fully_paid` as Saleor's handle_fully_paid_order would.

    `charge`: write_captured_payment's arguments.
    """
    from .order_effects import OrderEffects

    payment = write_captured_payment(order, **charge)
    if payment is None:
        return find_recorded_payment(order, charge["reference"])
    if order.is_fully_paid():
        (effects or OrderEffects()).order_fully_paid(order)
    return payment


def write_captured_payment(
    order,
    *,
    gateway_id: str,
    reference: str,
    amount: Money,
    customer_reference: str = "",
    card=None,
    check_existing: bool = True,
) -> Optional[Payment]:
    """The Payment and CAPTURE Transaction rows of the charge `reference`; None when it is
    recorded already (check_existing=False: the caller knows it is not).

    The rows are those of Saleor's create_payment + create_transaction(CAPTURE) +
    gateway_postprocess, written directly in their final state (2 inserts instead of a dozen
    queries); the order's effects are the caller's.
    """
    existing = find_recorded_payment(order, reference) if check_existing else None
    if existing is not None and existing.charge_status != ChargeStatus.NOT_CHARGED:
        return None
    payment = captured_payment(order, existing, gateway_id, reference, amount, card)
    payment.save()
    capture_transaction(payment, reference, amount, customer_reference).save()
    return payment


def captured_payment(order, existing, gateway_id: str, reference: str, amount: Money,
                     card=None) -> Payment:
    """The Payment row of a captured charge (not saved)."""
    billing = order.billing_address
    if billing is None:
        raise PaymentError("Order does not have a billing address.")
    payment = existing or Payment(order=order, token=reference, gateway=gateway_id)
    payment.is_active = True
    payment.extra_data = str({"source": "subscription_renewal"})
    payment.billing_email = order.get_customer_email()
    payment.billing_first_name = billing.first_name
    payment.billing_last_name = billing.last_name
    payment.billing_company_name = billing.company_name
    payment.billing_address_1 = billing.street_address_1
    payment.billing_address_2 = billing.street_address_2
    payment.billing_city = billing.city
    payment.billing_postal_code = billing.postal_code
    payment.billing_country_code = billing.country.code
    payment.billing_country_area = billing.country_area
    payment.currency = amount.currency
    payment.total = payment.captured_amount = amount.amount
    payment.charge_status = ChargeStatus.FULLY_CHARGED
    if card is not None and card.last4:
        payment.cc_brand = card.brand or ""
        payment.cc_last_digits = card.last4
        payment.cc_exp_month = card.exp_month
        payment.cc_exp_year = card.exp_year
    return payment


def capture_transaction(payment, reference: str, amount: Money,
                        customer_reference: str = "") -> Transaction:
    """The CAPTURE Transaction row of a captured charge (not saved)."""
    return Transaction(
        payment=payment,
        action_required=False,
        kind=TransactionKind.CAPTURE,
        token=reference,
        is_success=True,
        amount=amount.amount,
        currency=amount.currency,
        error=None,
        customer_id=customer_reference or None,
        gateway_response={"id": reference, "source": "subscription_renewal"},
    )


def refund_through(gateway, payment_information) -> GatewayResponse:
    """Answer Saleor's refund_payment (dashboard orderRefund) with our gateway's refund."""
    amount = Money(payment_information.amount, payment_information.currency)
    result = gateway.refund(payment_information.token, amount, "refund:%s" % uuid4())
    return GatewayResponse(
        is_success=result.succeeded,
        action_required=False,
        kind=TransactionKind.REFUND,
        amount=payment_information.amount,
        currency=payment_information.currency,
        transaction_id=result.reference or payment_information.token,
        error=result.error_message or None,
        raw_response={"refund": result.reference},
    )


def order_by_pk(pk: int):
    from saleor.order.models import Order

    return Order.objects.get(pk=pk)


class RefundRefused(Exception):
    pass


def refundable_payment(order) -> Optional[Payment]:
    return (Payment.objects.filter(order=order, is_active=True, captured_amount__gt=0)
            .order_by("-pk").first())


def refund_order_payment(order, amount, user) -> Payment:
    """Saleor's own refund path (as the dashboard's orderRefund): the payment's gateway plugin
    refunds at Stripe, the payment records a REFUND transaction, the order an event."""
    from saleor.order.actions import order_refunded
    from saleor.payment import gateway as saleor_gateway

    payment = refundable_payment(order)
    if payment is None:
        raise RefundRefused("The order has no captured payment.")
    try:
        saleor_gateway.refund(payment, amount)
    except PaymentError as error:
        raise RefundRefused(str(error))
    payment.refresh_from_db()
    order_refunded(order, user, amount, payment)
    return payment
