"""Stripe customers and stored cards: one customer per Saleor user, reused across checkouts."""
import logging
from typing import List, Optional

import stripe
from django.db import transaction

from ..models import StripeCustomer
from . import stripe_client
from .interface import CardDetails

logger = logging.getLogger(__name__)
ANOTHER_CUSTOMERS_CARD = "This card is saved for another customer: use a card of your own."


class PaymentMethodOfAnotherCustomer(stripe.error.InvalidRequestError):
    """Stripe refuses to attach a PaymentMethod that is attached to another customer; test servers
    such as localstripe do not, so we refuse it ourselves, before attaching."""

    def __init__(self, payment_method_id: str):
        super().__init__(ANOTHER_CUSTOMERS_CARD, "payment_method")
        self.payment_method_id = payment_method_id


def get_or_create_customer(client: stripe_client.StripeClient, user, email: str) -> str:
    """The user's Stripe customer; a guest gets a new one per checkout.

    The user's row lock is held while Stripe creates the customer, so two checkouts of one user
    running at the same time end up with one customer (the second waits and finds it).
    """
    if user is None:
        return client.Customer.create(email=email).id
    with transaction.atomic():
        # Serialises concurrent checkouts of one user so they never create two customers.
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        existing = StripeCustomer.objects.filter(user=user).first()
        if existing is not None:
            return existing.customer_id
        customer = client.Customer.create(email=user.email)
        StripeCustomer.objects.create(user=user, customer_id=customer.id)
        return customer.id


def customer_with_card(client: stripe_client.StripeClient, user, email: str, payment_method_id: str):
    """(customer id, card): the user's Stripe customer with the card attached.

    A customer deleted in Stripe (its dashboard, a clean-up script) gets a new one: Stripe
    answers "No such customer" (localstripe: 404), the row of StripeCustomer moves to the new
    customer and the card is attached to it.
    """
    customer_id = get_or_create_customer(client, user, email)
    try:
        return customer_id, attach_card(client, customer_id, payment_method_id)
    except stripe.error.InvalidRequestError:
        if user is None or not customer_is_gone(client, customer_id):
            raise
    customer_id = replace_customer(client, user, customer_id)
    return customer_id, attach_card(client, customer_id, payment_method_id)


def customer_is_gone(client: stripe_client.StripeClient, customer_id: str) -> bool:
    """Stripe keeps a deleted customer as {"deleted": true}; localstripe forgets it (404)."""
    try:
        customer = client.Customer.retrieve(customer_id)
    except stripe.error.InvalidRequestError as error:
        return getattr(error, "http_status", None) == 404
    return bool(customer.get("deleted"))


def replace_customer(client: stripe_client.StripeClient, user, gone_id: str) -> str:
    """A new Stripe customer for `user` in place of the deleted `gone_id` (under the user's row
    lock: concurrent checkouts replace it once)."""
    with transaction.atomic():
        type(user).objects.select_for_update().filter(pk=user.pk).first()
        row = StripeCustomer.objects.filter(user=user).first()
        if row is not None and row.customer_id != gone_id:
            return row.customer_id  # another checkout replaced it meanwhile
        customer = client.Customer.create(email=user.email)
        if row is None:
            StripeCustomer.objects.create(user=user, customer_id=customer.id)
        else:
            row.customer_id = customer.id
            row.save(update_fields=["customer_id"])
        logger.warning("Stripe customer %s of user %s was deleted in Stripe; replaced by %s",
                       gone_id, user.pk, customer.id)
        return customer.id


def attach_card(client: stripe_client.StripeClient, customer_id: str,
                payment_method_id: str) -> CardDetails:
    """Attach the PaymentMethod to the customer (idempotent) and return its card details.

    Raises PaymentMethodOfAnotherCustomer for a card attached to someone else's customer.
    """
    method = client.PaymentMethod.retrieve(payment_method_id)
    owner = method.get("customer")
    if owner not in (None, "", customer_id):
        raise PaymentMethodOfAnotherCustomer(payment_method_id)
    if owner != customer_id:
        method = client.PaymentMethod.attach(payment_method_id, customer=customer_id)
    return card_details(method)


class CardNotSaved(Exception):
    """Stripe would not set the card up for off-session charges; `message` is customer-safe."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def save_card_for_off_session(client: stripe_client.StripeClient, customer_id: str,
                              payment_method_id: str) -> CardDetails:
    """Attach the card and confirm a SetupIntent (usage off_session) for it on the customer, so
    the bank authorises later renewals made without the customer (SCA).

    A card that asks for authentication now cannot be set up here: its SetupIntent is
    cancelled and CardNotSaved raised. Stripe errors pass through (stripe.error.StripeError).
    """
    card = attach_card(client, customer_id, payment_method_id)
    intent = client.SetupIntent.create(
        customer=customer_id, usage="off_session", payment_method_types=["card"],
        metadata={"purpose": "subscription_card_update"})
    intent = client.SetupIntent.confirm(intent.id, payment_method=payment_method_id)
    if intent.status != "succeeded":
        try:
            client.SetupIntent.cancel(intent.id)
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
        fingerprint=card.get("fingerprint") or "",
    )


def find_customer_for_user(user) -> Optional[str]:
    existing = StripeCustomer.objects.filter(user=user).first() if user is not None else None
    return existing.customer_id if existing else None


def list_cards(customer_id: str) -> List:
    """Saleor CustomerSource rows for the cards stored on a Stripe customer."""
    from saleor.payment.interface import CreditCardInfo, CustomerSource

    from .. import GATEWAY_ID
    from ..config import load_settings

    client = stripe_client.from_settings(load_settings())
    sources = []
    for method in client.PaymentMethod.auto_paging_iter(customer=customer_id, type="card"):
        card = card_details(method)
        sources.append(CustomerSource(
            id=method["id"], gateway=GATEWAY_ID,
            credit_card_info=CreditCardInfo(last_4=card.last4, exp_year=card.exp_year or 0,
                                            exp_month=card.exp_month or 0, brand=card.brand),
        ))
    return sources
