"""Stripe customers and stored cards: one customer per Saleor user, reused across checkouts."""
from typing import List, Optional

import stripe
from django.db import transaction

from ..models import StripeCustomer
from . import stripe_client
from .interface import CardDetails


def get_or_create_customer(options: dict, user, email: str) -> str:
    """The user's Stripe customer; a guest gets a new one per checkout.

    The user's row lock is held while Stripe creates the customer, so two checkouts of one user
    running at the same time end up with one customer (the second waits and finds it).
    """
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


class CardNotSaved(Exception):
    """Stripe would not set the card up for off-session charges; `message` is customer-safe."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def save_card_for_off_session(options: dict, customer_id: str,
                              payment_method_id: str) -> CardDetails:
    """Attach the card and confirm a SetupIntent (usage off_session) for it on the customer, so
    the bank authorises later renewals made without the customer (SCA).

    A card that asks for authentication now cannot be set up here: its SetupIntent is
    cancelled and CardNotSaved raised. Stripe errors pass through (stripe.error.StripeError).
    """
    card = attach_card(options, customer_id, payment_method_id)
    intent = stripe.SetupIntent.create(
        customer=customer_id, usage="off_session", payment_method_types=["card"],
        metadata={"purpose": "subscription_card_update"}, **options)
    intent = stripe.SetupIntent.confirm(intent.id, payment_method=payment_method_id, **options)
    if intent.status != "succeeded":
        try:
            stripe.SetupIntent.cancel(intent.id, **options)
        except stripe.error.StripeError:
            pass  # it stays unconfirmed: nothing can be charged through it
        if intent.status == "requires_action":
            raise CardNotSaved("The card asks for authentication (3-D Secure) to be saved: "
                               "use another card.")
        raise CardNotSaved("The card could not be saved (%s)." % intent.status)
    return card


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


def list_cards(customer_id: str) -> List:
    """Saleor CustomerSource rows for the cards stored on a Stripe customer."""
    from saleor.payment.interface import CreditCardInfo, CustomerSource

    from .. import GATEWAY_ID
    from ..config import load_settings

    options = stripe_client.from_settings(load_settings())
    methods = stripe.PaymentMethod.list(customer=customer_id, type="card", **options)
    sources = []
    for method in methods.auto_paging_iter():
        card = card_details(method)
        sources.append(CustomerSource(
            id=method["id"], gateway=GATEWAY_ID,
            credit_card_info=CreditCardInfo(last_4=card.last4, exp_year=card.exp_year or 0,
                                            exp_month=card.exp_month or 0, brand=card.brand),
        ))
    return sources
