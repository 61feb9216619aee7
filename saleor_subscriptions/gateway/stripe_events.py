"""Stripe webhooks in, the gateway's half: check the signature and read what an event is about.

Only this module knows Stripe's event format; services get plain values (stripe_webhooks.py).
"""
from dataclasses import dataclass
from typing import Optional

import stripe
from prices import Money

from ..domain.money import from_stripe_amount
from .stripe_gateway import METADATA_KEY

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


def refund_facts(event: dict) -> Optional[RefundFacts]:
    charge = event_object(event)
    if not charge.get("id") or not charge.get("currency"):
        return None
    currency = str(charge["currency"]).upper()
    return RefundFacts(charge["id"], str(charge.get("payment_intent") or ""),
                       from_stripe_amount(int(charge.get("amount_refunded") or 0), currency))
