"""Stripe webhooks in, the gateway's half: check the signature and read what an event is about.

Only this module knows Stripe's event format; services get plain values (stripe_webhooks.py).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import stripe
from prices import Money

from ..domain.money import from_stripe_amount
from .interface import GatewayRefund
from .stripe_gateway import METADATA_KEY, gateway_refund

#: Stripe's own default: an event signed longer ago than this is refused (a replayed capture)
TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """Not signed with the endpoint's secret, signed too long ago, or not an event at all."""


def verify(body: bytes, signature_header: str, secret: str) -> dict:
    """The event, once its `Stripe-Signature` (HMAC-SHA256 of "{t}.{body}") checks out."""
    if not secret or not signature_header:
        raise BadSignature("No signature or no signing secret.")
    try:
        event = stripe.Webhook.construct_event(body.decode("utf-8"), signature_header, secret,
                                               tolerance=TOLERANCE_SECONDS)
    except (stripe.error.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise BadSignature(error.__class__.__name__)
    event = event.to_dict_recursive() if hasattr(event, "to_dict_recursive") else dict(event)
    if not event.get("id") or not event.get("type"):
        raise BadSignature("Not an event.")
    return event


def event_object(event: dict) -> dict:
    return ((event.get("data") or {}).get("object")) or {}


@dataclass(frozen=True)
class IntentFacts:
    reference: str  # the PaymentIntent id
    idempotency_key: str  # our attempt's key, from the intent's metadata


def intent_facts(event: dict) -> Optional[IntentFacts]:
    intent = event_object(event)
    if not intent.get("id"):
        return None
    return IntentFacts(intent["id"], str((intent.get("metadata") or {}).get(METADATA_KEY) or ""))


@dataclass(frozen=True)
class RefundFacts:
    charge_reference: str  # ch_...
    intent_reference: str  # pi_... (what our Saleor payments are recorded under)
    refunded: Money  # everything refunded on the charge so far, wherever it was refunded
    #: the charge's refunds, when the event lists them all (None: only the total is known)
    refunds: Optional[Tuple[GatewayRefund, ...]]


def _refunds(charge: dict, currency: str) -> Optional[Tuple[GatewayRefund, ...]]:
    listed = charge.get("refunds")
    if not isinstance(listed, dict) or listed.get("has_more"):
        return None
    return tuple(refund for refund in (gateway_refund(item, currency)
                                       for item in listed.get("data") or ())
                 if refund is not None)


def refund_facts(event: dict) -> Optional[RefundFacts]:
    charge = event_object(event)
    if not charge.get("id") or not charge.get("currency"):
        return None
    currency = str(charge["currency"]).upper()
    intent = charge.get("payment_intent") or next(
        (refund.get("payment_intent") for refund in (charge.get("refunds") or {}).get("data", ())
         if refund.get("payment_intent")), "")
    return RefundFacts(charge["id"], str(intent or ""),
                       from_stripe_amount(int(charge.get("amount_refunded") or 0), currency),
                       _refunds(charge, currency))


@dataclass(frozen=True)
class DisputeFacts:
    reference: str  # dp_...
    charge_reference: str
    intent_reference: str
    amount: Money
    reason: str
    status: str  # needs_response, won, lost, ...


def dispute_facts(event: dict) -> Optional[DisputeFacts]:
    dispute = event_object(event)
    if not dispute.get("id") or not dispute.get("currency"):
        return None
    currency = str(dispute["currency"]).upper()
    return DisputeFacts(dispute["id"], str(dispute.get("charge") or ""),
                        str(dispute.get("payment_intent") or ""),
                        from_stripe_amount(int(dispute.get("amount") or 0), currency),
                        str(dispute.get("reason") or ""), str(dispute.get("status") or ""))


@dataclass(frozen=True)
class CardFacts:
    reference: str  # pm_... (or card_... for customer.source.expiring)
    brand: str
    last4: str
    exp_month: Optional[int]
    exp_year: Optional[int]
    sent_at: int  # the event's `created`: an older event never overwrites a newer one


def card_facts(event: dict) -> Optional[CardFacts]:
    """payment_method.* (a PaymentMethod with its card) or customer.source.expiring (a card)."""
    obj = event_object(event)
    card = obj.get("card") if isinstance(obj.get("card"), dict) else obj
    if not obj.get("id"):
        return None

    def number(value):
        return int(value) if isinstance(value, int) or str(value or "").isdigit() else None

    return CardFacts(obj["id"], str(card.get("brand") or "")[:40].lower(),
                     str(card.get("last4") or "")[:4], number(card.get("exp_month")),
                     number(card.get("exp_year")), int(event.get("created") or 0))
