"""What a paid checkout order tells us: its subscribed lines and the card that paid for it."""
from dataclasses import dataclass
from typing import List, Optional

from saleor.payment import TransactionKind

from ..models import CheckoutLinePlan, SubscriptionPlan

RENEWAL_METADATA_KEY = "subscription_renewal"


@dataclass
class SubscribedLine:
    order_line: object
    plan: SubscriptionPlan
    quantity: int


@dataclass
class StoredCard:
    gateway: str
    customer_reference: str
    payment_method_reference: str
    brand: str
    last4: str
    exp_month: Optional[int]
    exp_year: Optional[int]
    fingerprint: str = ""


def is_renewal_order(order) -> bool:
    return RENEWAL_METADATA_KEY in (order.metadata or {})


def subscribed_lines(order) -> List[SubscribedLine]:
    """Order lines whose checkout line had a plan (checkout lines become order lines in order)."""
    if not order.checkout_token:
        return []
    choices = list(
        CheckoutLinePlan.objects.filter(line__checkout_id=order.checkout_token)
        .select_related("plan", "line").order_by("line_id")
    )
    if not choices:
        return []
    unmatched = list(order.lines.order_by("pk"))
    found = []
    for choice in choices:
        for order_line in unmatched:
            if order_line.variant_id == choice.line.variant_id:
                unmatched.remove(order_line)
                found.append(SubscribedLine(order_line, choice.plan, order_line.quantity))
                break
    return found


def stored_card(order) -> Optional[StoredCard]:
    payment = order.payments.filter(is_active=True).order_by("-pk").first()
    if payment is None:
        return None
    transaction = (
        payment.transactions.filter(kind=TransactionKind.CAPTURE, is_success=True)
        .exclude(customer_id__isnull=True).exclude(customer_id="").order_by("-pk").first()
    )
    if transaction is None:
        return None
    card = (transaction.gateway_response or {}).get("card") or {}
    if card.get("last4") and not payment.cc_last_digits:
        # Saleor 2.10.1 fills card details on capture only: show the card in the dashboard.
        payment.cc_brand = card.get("brand") or ""
        payment.cc_last_digits = card["last4"]
        payment.cc_exp_month = card.get("exp_month")
        payment.cc_exp_year = card.get("exp_year")
        payment.save(update_fields=["cc_brand", "cc_last_digits", "cc_exp_month", "cc_exp_year"])
    return StoredCard(
        gateway=payment.gateway, customer_reference=transaction.customer_id,
        payment_method_reference=payment.token, brand=payment.cc_brand or "",
        last4=payment.cc_last_digits or "", exp_month=payment.cc_exp_month,
        exp_year=payment.cc_exp_year, fingerprint=card.get("fingerprint") or "",
    )


def add_order_discount(order, amount, name: str) -> None:
    """Show an amount the checkout total already left out (a free trial) as the order's discount."""
    order.discount_amount = (order.discount_amount or 0) + amount.amount
    order.discount_name = name if not order.discount_name else "%s, %s" % (order.discount_name, name)
    order.save(update_fields=["discount_amount", "discount_name"])

