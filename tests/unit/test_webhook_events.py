"""Which history rows become which webhook events; signatures a receiver can check."""
import hashlib
import hmac

from saleor_subscriptions.models import EventType
from saleor_subscriptions.services.webhook_outbox import MAX_ATTEMPTS, retry_delay
from saleor_subscriptions.webhooks import signing
from saleor_subscriptions.webhooks.events import (
    WebhookEventType,
    all_event_types,
    webhook_events_for,
)


def test_history_rows_map_to_webhook_events():
    assert webhook_events_for(EventType.CANCELLED, {}) == [WebhookEventType.CANCELLED]
    assert webhook_events_for(EventType.PAYMENT_RECOVERED, {}) == [WebhookEventType.RECOVERED]
    assert webhook_events_for(EventType.RENEWAL_ORDER_CREATED, {}) == []
    assert webhook_events_for(EventType.TRIAL_ENDING, {}) == [WebhookEventType.TRIAL_ENDING]
    assert webhook_events_for(EventType.RENEWAL_UPCOMING, {}) == [
        WebhookEventType.RENEWAL_UPCOMING]
    assert webhook_events_for(EventType.PAYMENT_FAILED, {
        "status": "past_due", "previous_status": "active"}) == [
        WebhookEventType.PAYMENT_FAILED, WebhookEventType.PAST_DUE]
    # Already past due: a further failure is not a new "past due".
    assert webhook_events_for(EventType.PAYMENT_FAILED, {
        "status": "past_due", "previous_status": None}) == [WebhookEventType.PAYMENT_FAILED]


def test_every_lifecycle_event_of_the_brief_exists():
    names = set(all_event_types())
    assert len(names) == 17


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"version":1}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signing.sign(body, "s3cret") == "sha256=" + expected
    assert signing.verify(body, "s3cret", "sha256=" + expected)
    assert not signing.verify(body + b" ", "s3cret", "sha256=" + expected)
    assert not signing.verify(body, "s3cret", "")


def test_backoff_doubles_then_waits_at_most_two_hours():
    delays = [retry_delay(n).total_seconds() for n in range(1, MAX_ATTEMPTS + 1)]
    assert delays[:4] == [30, 60, 120, 240]
    assert max(delays) == 7200
    assert sum(delays) > 5 * 3600  # a receiver down for hours loses nothing
