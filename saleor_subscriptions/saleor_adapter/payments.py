"""Record an off-session charge as a Saleor payment with a capture transaction.

The order becomes fully charged through Saleor's own `gateway_postprocess` (so `order_fully_paid`
fires), and the payment's gateway is ours, so a dashboard refund comes back to our gateway plugin.
"""
from typing import Optional
from uuid import uuid4

from prices import Money
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment.interface import CreditCardInfo, GatewayResponse
from saleor.payment.models import Payment
from saleor.payment.utils import (
    create_payment,
    create_payment_information,
    create_transaction,
    gateway_postprocess,
)


def find_recorded_payment(order, reference: str) -> Optional[Payment]:
    return Payment.objects.filter(order=order, token=reference).first()


def record_captured_charge(
    order,
    *,
    gateway_id: str,
    reference: str,
    amount: Money,
    customer_reference: str = "",
    card=None,
) -> Payment:
    """Attach the captured charge `reference` (a PaymentIntent id) to `order`; idempotent."""
    existing = find_recorded_payment(order, reference)
    if existing is not None and existing.charge_status != ChargeStatus.NOT_CHARGED:
        return existing
    payment = existing or create_payment(
        gateway=gateway_id,
        total=amount.amount,
        currency=amount.currency,
        email=order.get_customer_email(),
        payment_token=reference,
        extra_data={"source": "subscription_renewal"},
        order=order,
    )
    if card is not None and card.last4:
        payment.cc_brand = card.brand or ""
        payment.cc_last_digits = card.last4
        payment.cc_exp_month = card.exp_month
        payment.cc_exp_year = card.exp_year
        payment.save(
            update_fields=["cc_brand", "cc_last_digits", "cc_exp_month", "cc_exp_year", "modified"]
        )
    information = create_payment_information(
        payment, payment_token=reference, amount=amount.amount, customer_id=customer_reference
    )
    response = GatewayResponse(
        is_success=True,
        action_required=False,
        kind=TransactionKind.CAPTURE,
        amount=amount.amount,
        currency=amount.currency,
        transaction_id=reference,
        error=None,
        customer_id=customer_reference or None,
        card_info=CreditCardInfo(
            last_4=card.last4, exp_year=card.exp_year, exp_month=card.exp_month, brand=card.brand
        ) if card is not None and card.last4 else None,
        raw_response={"id": reference, "source": "subscription_renewal"},
    )
    transaction = create_transaction(
        payment, kind=TransactionKind.CAPTURE, payment_information=information,
        gateway_response=response,
    )
    gateway_postprocess(transaction, payment)
    return payment


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
    from saleor.payment import PaymentError
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
