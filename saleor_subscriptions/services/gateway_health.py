"""A refused gateway key (wrong, revoked, missing permission) halts renewals instead of retrying
every few minutes forever.

The renewal whose charge was refused is parked with a clear reason (its attempt stays STARTED:
nothing was charged, and it is looked up before any new charge once it runs again), the batch
stops, and staff are alerted once per refused key. While that key is configured, renewal batches
do nothing. When staff enter another key on the Plugins page, the next batch releases the
subscriptions parked for it and renews as usual; releasing such a subscription by hand
(subscriptionRelease, e.g. after fixing the key's permissions in Stripe) lets batches try the same
key again. Only a fingerprint of the key is stored.
"""
import hashlib
import logging
from datetime import datetime

from django.db import transaction

from ..models import GatewayKeyRefusal, Subscription
from . import dunning

logger = logging.getLogger(__name__)

GATEWAY_AUTH_FAILED = "gateway_auth_failed"
REASON = "The Stripe secret key was refused: update it on the Plugins page"


def key_fingerprint(settings) -> str:
    return hashlib.sha256((settings.stripe_secret_key or "").encode()).hexdigest()


def is_auth_failure(detail: str) -> bool:
    return (detail or "").startswith(GATEWAY_AUTH_FAILED)


def renewals_halted(settings, now: datetime) -> bool:
    """True while the configured key is one the gateway refused; after a key change, releases
    the subscriptions parked for the old key first (and answers False)."""
    refusals = list(GatewayKeyRefusal.objects.all())
    if not refusals:
        return False
    fingerprint = key_fingerprint(settings)
    if any(row.key_fingerprint == fingerprint for row in refusals):
        return True
    _resume(now)
    return False


def _resume(now: datetime) -> None:
    with transaction.atomic():
        parked = (Subscription.objects.select_for_update(of=("self",))
                  .filter(parked_at__isnull=False, parked_reason__startswith=GATEWAY_AUTH_FAILED)
                  .order_by("pk"))
        for subscription in parked:
            dunning.release(subscription, now, reason="gateway_key_changed")
            subscription.save()
        GatewayKeyRefusal.objects.all().delete()
    logger.info("The Stripe secret key changed: renewals resume")


def forget_refusals() -> None:
    """Batches try the configured key again (an operator released a subscription parked for
    it); a key still refused parks one renewal and alerts staff again."""
    GatewayKeyRefusal.objects.all().delete()


def record_refusal(subscription, cycle, result, now: datetime, settings) -> None:
    """Inside the outcome's transaction (subscription and cycle locked): park this renewal and
    remember the key; the first refusal of a key alerts staff once the transaction commits."""
    cycle.error_code = GATEWAY_AUTH_FAILED
    cycle.last_error = REASON
    cycle.next_retry_at = now
    dunning.park(subscription, "%s: %s" % (GATEWAY_AUTH_FAILED, REASON), now)
    _, created = GatewayKeyRefusal.objects.get_or_create(
        key_fingerprint=key_fingerprint(settings),
        defaults={"code": GATEWAY_AUTH_FAILED, "message": result.error_message,
                  "subscription": subscription, "created_at": now},
    )
    if created:
        logger.error("Renewals halted: %s (%s). Subscription %s parked.", REASON,
                     result.error_message, subscription.pk)
        transaction.on_commit(lambda: _alert_staff(now))


def _alert_staff(now: datetime) -> None:
    from ..saleor_adapter.notifications import alert_staff

    alert_staff(
        "Subscription renewals are halted",
        "%s. Renewals stopped at %s and resume once another key is saved; the subscription "
        "that was being renewed is parked (%s) and released then." % (
            REASON, now.isoformat(), GATEWAY_AUTH_FAILED),
    )
