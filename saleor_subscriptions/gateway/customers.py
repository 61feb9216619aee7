"""Stripe customers and stored cards: one customer per Saleor user, reused across checkouts."""
from typing import Optional

import stripe
from django.db import transaction

from ..models import StripeCustomer
from .interface import CardDetails


def get_or_create_customer(options: dict, user, email: str) -> str:
    """The user's Stripe customer; a guest gets a new one per checkout."""
    if user is None:
        return stripe.Customer.create(email=email, **options).id
    with transaction.atomic():
        # Serialises concurrent checkouts of one user so they never create two customers.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        existing = StripeCustomer.objects.filter(user=user).first()
        if existing is not None:
            return existing.customer_id
        customer = stripe.Customer.create(email=user.email, **options)
        StripeCustomer.objects.create(user=user, customer_id=customer.id)
        return customer.id


def attach_card(options: dict, customer_id: str, payment_method_id: str) -> CardDetails:
    """Attach the PaymentMethod to the customer (idempotent) and return its card details."""
    method = stripe.PaymentMethod.retrieve(payment_method_id, **options)
    if method.get("customer") != customer_id:
        method = stripe.PaymentMethod.attach(payment_method_id, customer=customer_id, **options)
    return card_details(method)


def card_details(method) -> CardDetails:
    card = method.get("card") or {}
    return CardDetails(
        brand=card.get("brand") or "",
        last4=card.get("last4") or "",
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )


def find_customer_for_user(user) -> Optional[str]:
    existing = StripeCustomer.objects.filter(user=user).first() if user is not None else None
    return existing.customer_id if existing else None
