"""The checkout payment of the subscriptions gateway: charge now and keep the card.

Saleor hands the gateway only PaymentData (no payment or checkout id); the user behind it is
found through the Payment row the storefront created with `checkoutPaymentCreate`: the newest
active checkout payment with this token (the PaymentMethod id), amount and currency. Its
checkout's user owns the Stripe customer; a guest checkout gets a new customer. A PaymentMethod
already attached to someone else's customer cannot be attached again, so a borrowed token fails.
"""
from decimal import Decimal
from typing import Optional

import stripe
from saleor.payment import TransactionKind
from saleor.payment.interface import CreditCardInfo, GatewayResponse, PaymentData
from saleor.payment.models import Payment

from ..config import load_settings
from ..domain.money import to_stripe_amount
from . import stripe_client
from .customers import customer_with_card
from .interface import CardDetails

AUTHENTICATION_REQUIRED = "authentication_required"


def _response(data: PaymentData, success: bool, *, error: Optional[str] = None,
              transaction_id: Optional[str] = None, customer_id: Optional[str] = None,
              card: Optional[CardDetails] = None, raw: Optional[dict] = None) -> GatewayResponse:
    card_info = None
    if card is not None and card.last4:
        card_info = CreditCardInfo(last_4=card.last4, exp_year=card.exp_year or 0,
                                   exp_month=card.exp_month or 0, brand=card.brand)
    raw = dict(raw or {})
    if card is not None:
        raw["card"] = {"brand": card.brand, "last4": card.last4, "exp_month": card.exp_month,
                       "exp_year": card.exp_year, "fingerprint": card.fingerprint}
    return GatewayResponse(
        is_success=success, action_required=False, kind=TransactionKind.CAPTURE,
        amount=data.amount, currency=data.currency, transaction_id=transaction_id or data.token,
        error=error, customer_id=customer_id, card_info=card_info, raw_response=raw,
    )


def _checkout_of(data: PaymentData):
    payment = (
        Payment.objects.filter(token=data.token, checkout__isnull=False, is_active=True,
                               total=data.amount, currency=data.currency)
        .select_related("checkout__user").order_by("-pk").first()
    )
    return payment.checkout if payment is not None else None


def _trial_card_refusal(checkout, settings, card: CardDetails) -> Optional[str]:
    """A card that already had a free trial gets no second one (services/trials.py)."""
    from ..services.checkout_plans import plans_by_line
    from ..services.trials import card_refusal

    if checkout is None or not card.fingerprint:
        return None
    return card_refusal(plans_by_line(checkout).values(), settings, card.fingerprint)


def intent_params(client: stripe_client.StripeClient, data: PaymentData, customer_id: str) -> dict:
    """The checkout PaymentIntent: confirmed now, on-session, on the customer's attached card.

    On Stripe itself `setup_future_usage=off_session` also asks the bank to allow off-session
    renewals (SCA); localstripe rejects that argument, so it is only sent to Stripe.
    """
    params = dict(
        amount=to_minor_amount(data), currency=data.currency.lower(), customer=customer_id,
        payment_method=data.token, confirm=True,
        metadata={"saleor_payment": "checkout", "email": data.customer_email or ""},
    )
    if client.is_stripe:
        params["setup_future_usage"] = "off_session"
    return params


def store_card_only(client: stripe_client.StripeClient, data: PaymentData, customer_id: str,
                    card: CardDetails):
    """Nothing to charge (a free trial): a SetupIntent makes the card usable off-session."""
    intent = client.SetupIntent.create(
        customer=customer_id, usage="off_session", payment_method_types=["card"],
        metadata={"saleor_payment": "checkout", "email": data.customer_email or ""})
    intent = client.SetupIntent.confirm(intent.id, payment_method=data.token)
    if intent.status != "succeeded":
        _cancel_quietly(client, intent)
        return _response(data, False, error=_authentication_message(intent.status),
                         transaction_id=intent.id, customer_id=customer_id, card=card)
    return _response(data, True, transaction_id=intent.id, customer_id=customer_id, card=card,
                     raw={"setup_intent": intent.id, "payment_method": data.token,
                          "customer": customer_id})


def _cancel_quietly(client: stripe_client.StripeClient, intent) -> None:
    """An intent left waiting for 3-D Secure would never complete: cancel it."""
    if intent.status in ("requires_action", "requires_confirmation", "requires_payment_method"):
        try:
            getattr(client, type(intent).__name__).cancel(intent.id)
        except stripe.error.StripeError:
            pass


def _authentication_message(status: str) -> str:
    if status == "requires_action":
        return "The card needs authentication (3-D Secure), which this checkout cannot do."
    return status


def process_checkout_payment(data: PaymentData) -> GatewayResponse:
    settings = load_settings()
    if not settings.active or not settings.stripe_secret_key:
        return _response(data, False, error="Subscriptions are switched off in this store.")
    if not data.token or not data.token.startswith("pm_"):
        return _response(data, False, error="Pay with a Stripe PaymentMethod id (pm_...).")
    client = stripe_client.from_settings(settings)
    checkout = _checkout_of(data)
    try:
        customer_id, card = customer_with_card(client, checkout.user if checkout else None,
                                               data.customer_email, data.token)
        refusal = _trial_card_refusal(checkout, settings, card)
        if refusal is not None:  # before any charge
            return _response(data, False, error=refusal, customer_id=customer_id, card=card)
        if Decimal(data.amount) <= 0:
            return store_card_only(client, data, customer_id, card)
        intent = client.PaymentIntent.create(**intent_params(client, data, customer_id))
    except stripe.error.CardError as error:
        return _response(data, False, error=error.user_message or str(error))
    except stripe.error.StripeError as error:
        return _response(data, False, error="Stripe error: %s" % (error.user_message or error))
    if intent.status != "succeeded":
        _cancel_quietly(client, intent)
        reason = ((intent.get("last_payment_error") or {}).get("message")
                  or _authentication_message(intent.status))
        return _response(data, False, error=reason, transaction_id=intent.id,
                         customer_id=customer_id, card=card)
    return _response(data, True, transaction_id=intent.id, customer_id=customer_id, card=card,
                     raw={"payment_intent": intent.id, "payment_method": data.token,
                          "customer": customer_id})


def to_minor_amount(data: PaymentData) -> int:
    from prices import Money

    return to_stripe_amount(Money(Decimal(data.amount), data.currency))
