"""Signed links that let a customer manage one subscription without signing in (guests have no
account): every customer e-mail carries one.

A token is Django's signing (HMAC with SECRET_KEY and this module's salt) of the subscription's
id and token, the link's expiry and the subscription's `manage_link_version`: revoking bumps the
version, so every link sent before stops working. A token names one subscription and acts on that
one only.
"""
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import urlencode

from django.core import signing
from django.db import transaction

from ..models import EventType, Subscription
from .events import record_event

SALT = "saleor_subscriptions.manage_link"
#: how long an e-mailed link works
LIFETIME = timedelta(days=30)


class LinkRefused(Exception):
    """Forged, revoked, for a subscription that is gone, or (`expired`) too old."""

    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def make_token(subscription: Subscription, now: datetime) -> str:
    return signing.dumps(
        {"s": subscription.pk, "t": str(subscription.token),
         "v": subscription.manage_link_version, "e": int((now + LIFETIME).timestamp())},
        salt=SALT, compress=True)


def manage_url(subscription: Subscription, now: datetime, page: str) -> str:
    """`page` (the store's "Manage link page") with ?token=…; "" when the store has none."""
    if not page:
        return ""
    separator = "&" if "?" in page else "?"
    return page + separator + urlencode({"token": make_token(subscription, now)})


def subscription_of(token: str, now: datetime) -> Subscription:
    """The subscription a valid token names; raises LinkRefused."""
    try:
        claims = signing.loads(str(token or ""), salt=SALT)
        pk, uuid, version, expires = claims["s"], claims["t"], claims["v"], claims["e"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("This link is not valid.")
    subscription: Optional[Subscription] = Subscription.objects.filter(
        pk=pk, token=uuid, manage_link_version=version).first()
    if subscription is None:
        raise LinkRefused("This link is no longer valid.")
    if now.timestamp() >= expires:
        raise LinkRefused("This link has expired.", expired=True)
    return subscription


def revoke(subscription_id: int, actor, now: datetime) -> Subscription:
    """Every link sent for the subscription so far stops working."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
        subscription.manage_link_version += 1
        subscription.save(update_fields=["manage_link_version", "updated_at"])
        record_event(subscription, EventType.MANAGE_LINKS_REVOKED, date=now,
                     **actor.event_fields())
    return subscription
