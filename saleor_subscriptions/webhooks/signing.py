"""Signatures in the shape Saleor 2.10 signs its own webhooks (X-Saleor-HMAC-SHA256):
HMAC-SHA256 of the exact body with the webhook's secret, hex, here prefixed `sha256=`."""
import hashlib
import hmac
from typing import Dict

SIGNATURE_HEADER = "X-Subscriptions-Signature"
EVENT_HEADER = "X-Subscriptions-Event"
EVENT_ID_HEADER = "X-Subscriptions-Event-Id"
PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    return PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver does (compare in constant time)."""
    return hmac.compare_digest(sign(body, secret), signature or "")


def headers(body: bytes, secret: str, event_type: str, event_id: str) -> Dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret),
        EVENT_HEADER: event_type,
        EVENT_ID_HEADER: event_id,
    }
