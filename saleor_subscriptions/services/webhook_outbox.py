"""The outbox of webhooks out: deliveries are written in the transaction of their event and sent
afterwards, in order per (webhook, subscription), with retries and exponential backoff.

Order: a delivery is not sent while an earlier one of the same webhook and subscription is
pending (being sent or waiting for its retry). A delivery that exhausted its retries (failed)
no longer holds the line; staff or the App can redeliver it.
"""
import logging
from datetime import datetime, timedelta
from typing import Dict, List, Optional
from uuid import uuid4

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from ..webhook_models import (
    DeliveryStatus,
    SubscriptionWebhook,
    WebhookDelivery,
    WebhookDeliveryAttempt,
)
from ..webhooks import signing, transport
from ..webhooks.events import webhook_events_for
from ..webhooks.payloads import build_body

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=2)
CHAIN_LIMIT = 100
SWEEP_LIMIT = 100

# Outcomes of one delivery attempt.
DELIVERED, RETRYING, FAILED = "delivered", "retrying", "failed"
BUSY, DONE, NOT_DUE, WAITING, INACTIVE = "busy", "done", "not_due", "waiting", "inactive"


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... up to 2 h: 12 attempts span about eight hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def subscribed_webhooks(types: List[str]):
    """Active webhooks of active Apps that still hold MANAGE_ORDERS (the payload is order data)."""
    return SubscriptionWebhook.objects.filter(
        is_active=True, app__is_active=True, event_types__overlap=types,
        app__permissions__content_type__app_label="order",
        app__permissions__codename="manage_orders",
    ).distinct()


def write_deliveries(event, subscription) -> List[int]:
    """Called by record_event inside the event's transaction: one query when nobody listens."""
    return write_deliveries_many([(event, subscription)])


def write_deliveries_many(pairs) -> List[int]:
    """The deliveries of many (event, subscription) pairs (record_events): the listeners are
    read once for all of them, the deliveries written in one INSERT."""
    wanted = [(event, subscription, webhook_events_for(event.type, event.parameters or {}))
              for event, subscription in pairs]
    types = sorted({webhook_type for _e, _s, found in wanted for webhook_type in found})
    if not types:
        return []
    webhooks = list(subscribed_webhooks(types))
    if not webhooks:
        return []
    now = timezone.now()  # deliveries run on the real clock, whatever the business clock says
    rows = []
    for event, subscription, found in wanted:
        rows.extend(_delivery_rows(event, subscription, found, webhooks, now))
    ids = [row.pk for row in WebhookDelivery.objects.bulk_create(rows)]
    dispatch_on_commit(ids)
    return ids


def _delivery_rows(event, subscription, types, webhooks, now) -> List[WebhookDelivery]:
    rows = []
    for webhook_type in types:
        listeners = [webhook for webhook in webhooks if webhook_type in webhook.event_types]
        if not listeners:
            continue
        event_id = str(uuid4())
        body = build_body(event, subscription, webhook_type, event_id)
        rows.extend(
            WebhookDelivery(webhook=webhook, event=event, subscription_id=subscription.pk,
                            event_uuid=event_id, event_type=webhook_type, body=body,
                            next_attempt_at=now, created_at=now)
            for webhook in listeners
        )
    return rows


def dispatch_on_commit(ids: List[int]) -> None:
    if ids:
        transaction.on_commit(lambda: _dispatch(ids))


def _dispatch(ids: List[int]) -> None:
    from kombu.exceptions import OperationalError

    from ..webhook_tasks import deliver_webhooks_task

    try:
        deliver_webhooks_task.delay(ids)
    except OperationalError:
        # The broker is away: the periodic sweep sends them.
        logger.warning("Webhook deliveries %s left to the sweep: broker unavailable", ids)


def _earlier_pending_in_line() -> Exists:
    return Exists(WebhookDelivery.objects.filter(
        webhook_id=OuterRef("webhook_id"), subscription_id=OuterRef("subscription_id"),
        status=DeliveryStatus.PENDING, pk__lt=OuterRef("pk"),
    ))


def _has_earlier_pending(delivery: WebhookDelivery) -> bool:
    return WebhookDelivery.objects.filter(
        webhook_id=delivery.webhook_id, subscription_id=delivery.subscription_id,
        status=DeliveryStatus.PENDING, pk__lt=delivery.pk,
    ).exists()


def deliver(delivery_id: int, now: Optional[datetime] = None) -> str:
    """Send one delivery if it is due and first in its line. The row stays locked during the
    POST (SKIP LOCKED elsewhere), so no two workers send it at once; a worker killed mid-POST
    leaves it pending, to be sent again (receivers de-duplicate by event id)."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("webhook__app").filter(pk=delivery_id).first())
        if delivery is None:
            return BUSY
        if delivery.status != DeliveryStatus.PENDING:
            return DONE
        if delivery.next_attempt_at > now:
            return NOT_DUE
        if not (delivery.webhook.is_active and delivery.webhook.app.is_active):
            return INACTIVE
        if _has_earlier_pending(delivery):
            return WAITING
        return _attempt(delivery, now)


def _attempt(delivery: WebhookDelivery, now: datetime) -> str:
    webhook = delivery.webhook
    body = delivery.body.encode("utf-8")
    result = transport.post(webhook.target_url, body, signing.headers(
        body, webhook.secret, delivery.event_type, str(delivery.event_uuid)))
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=now, response_code=result.status_code,
        response_body=result.body_excerpt, error=result.error)
    delivery.attempt_count += 1
    delivery.last_attempt_at = now
    delivery.last_response_code = result.status_code
    delivery.last_response_body = result.body_excerpt
    delivery.last_error = result.error
    if result.ok:
        delivery.status, delivery.delivered_at, outcome = DeliveryStatus.DELIVERED, now, DELIVERED
    elif delivery.attempt_count >= MAX_ATTEMPTS:
        delivery.status, outcome = DeliveryStatus.FAILED, FAILED
    else:
        delivery.next_attempt_at, outcome = now + retry_delay(delivery.attempt_count), RETRYING
    delivery.save()
    logger.info("Webhook delivery %s (%s, webhook %s, subscription %s): %s, answer %s %s",
                delivery.pk, delivery.event_type, webhook.pk, delivery.subscription_id, outcome,
                result.status_code, result.error)
    return outcome


def _next_in_line(delivery_id: int) -> Optional[int]:
    current = WebhookDelivery.objects.filter(pk=delivery_id).values(
        "webhook_id", "subscription_id").first()
    if current is None:
        return None
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, pk__gt=delivery_id, **current,
    ).order_by("pk").values_list("pk", flat=True).first()


def deliver_in_line(delivery_id: int, now: Optional[datetime] = None) -> Dict[str, int]:
    """Deliver one, then the next ones of its line while they go through."""
    counts: Dict[str, int] = {}
    next_id: Optional[int] = delivery_id
    for _ in range(CHAIN_LIMIT):
        if next_id is None:
            break
        outcome = deliver(next_id, now)
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome not in (DELIVERED, DONE):
            break
        next_id = _next_in_line(next_id)
    return counts


def due_heads(now: datetime, limit: int = SWEEP_LIMIT) -> List[int]:
    """The first pending delivery of each line, where it is due."""
    return list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, webhook__is_active=True,
            webhook__app__is_active=True)
        .annotate(blocked=_earlier_pending_in_line()).filter(blocked=False)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


def sweep(now: Optional[datetime] = None) -> Dict[str, int]:
    """The periodic pass: every due line, in order."""
    now = now or timezone.now()
    counts: Dict[str, int] = {}
    for head in due_heads(now):
        for outcome, number in deliver_in_line(head, now).items():
            counts[outcome] = counts.get(outcome, 0) + number
    return counts


def redeliver(delivery: WebhookDelivery, now: Optional[datetime] = None) -> WebhookDelivery:
    """Send again (a delivered one too: receivers de-duplicate by event id), with a fresh set of
    retries."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.status = DeliveryStatus.PENDING
        delivery.attempt_count = 0
        delivery.next_attempt_at = now
        delivery.delivered_at = None
        delivery.save()
        dispatch_on_commit([delivery.pk])
    return delivery
