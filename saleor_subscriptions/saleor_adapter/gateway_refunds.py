"""Refunds made outside Saleor (in Stripe's dashboard), written on the order's Saleor payment as
Saleor's own refund writes them: a REFUND transaction, the payment's captured amount and charge
status (as gateway_postprocess), and the order's "payment refunded" event."""
from decimal import Decimal
from typing import Optional

from django.db.models import Sum
from prices import Money
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment.models import Payment, Transaction


def _payments(gateway_id: str, references):
    return (Payment.objects.filter(gateway=gateway_id,
                                   token__in=[ref for ref in references if ref])
            .order_by("pk"))


def payment_of(gateway_id: str, references) -> Optional[Payment]:
    """The Saleor payment recorded for one of `references` (intent or charge id)."""
    return _payments(gateway_id, references).first()


def locked_payment(gateway_id: str, references) -> Optional[Payment]:
    """payment_of, row-locked: two deliveries of one refund are recorded one after the other."""
    return _payments(gateway_id, references).select_for_update(of=("self",)).first()


def refunded_in_saleor(payment: Payment) -> Decimal:
    return (payment.transactions.filter(kind=TransactionKind.REFUND, is_success=True)
            .aggregate(total=Sum("amount"))["total"] or Decimal(0))


def recorded_refund_references(payment: Payment) -> set:
    """Stripe refund ids Saleor has recorded (its refund path keeps them as the token)."""
    return set(payment.transactions.filter(kind=TransactionKind.REFUND, is_success=True)
               .values_list("token", flat=True))


def record_outside_refund(payment: Payment, amount: Money, reference: str):
    """Record `amount`, refunded at the gateway under `reference`; returns the payment's order."""
    from saleor.order.actions import order_refunded

    Transaction.objects.create(
        payment=payment, action_required=False, kind=TransactionKind.REFUND, token=reference,
        is_success=True, amount=amount.amount, currency=amount.currency, error=None,
        customer_id=None, gateway_response={"id": reference, "source": "stripe_webhook"},
    )
    payment.captured_amount -= amount.amount
    payment.charge_status = ChargeStatus.PARTIALLY_REFUNDED
    if payment.captured_amount <= 0:
        payment.charge_status = ChargeStatus.FULLY_REFUNDED
        payment.is_active = False
    payment.save(update_fields=["captured_amount", "charge_status", "is_active", "modified"])
    if payment.order_id is not None:
        order_refunded(payment.order, None, amount.amount, payment)
    return payment.order
