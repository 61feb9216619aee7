"""Webhooks out: signed lifecycle events reach a subscribed App, in order, despite outages."""
import json
from datetime import timedelta

import graphene
import pytest
from django.utils import timezone

from saleor_subscriptions.services import webhook_outbox
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan, create_subscription
from saleor_subscriptions.testing.webhook_api import REDELIVER, WEBHOOKS, create_app, create_webhook
from saleor_subscriptions.testing.webhook_receiver import WebhookReceiver
from saleor_subscriptions.webhook_models import WebhookDelivery

ACTION = """mutation($id: ID!) { %s(id: $id%s) { subscriptionErrors { field code } } }"""


def act(client, gid, name, extra=""):
    payload = client.mutate(ACTION % (name, extra), {"id": gid})
    assert payload["subscriptionErrors"] == []


@pytest.fixture
def receiver():
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def crm(staff_api):
    """An App with MANAGE_ORDERS: (global id, its API client)."""
    return create_app(staff_api, "CRM")


def test_subscribed_app_receives_signed_lifecycle_events(crm, receiver, customer_api,
                                                         subscription, gid, caplog):
    _, crm_api = crm
    created = create_webhook(crm_api, receiver.url, [
        "SUBSCRIPTION_PAUSED", "SUBSCRIPTION_RESUMED", "SUBSCRIPTION_CANCELLED"])
    secret = created["secret"]
    assert len(secret) >= 32

    act(customer_api, gid(subscription), "subscriptionPause")
    act(customer_api, gid(subscription), "subscriptionResume")
    act(customer_api, gid(subscription), "subscriptionCancel", ", immediately: true")
    assert receiver.requests == []  # nothing leaves before the worker runs
    webhook_outbox.sweep()

    assert [request.event for request in receiver.requests] == [
        "subscription_paused", "subscription_resumed", "subscription_cancelled"]
    assert receiver.all_signed_with(secret)
    assert not receiver.all_signed_with("another secret")
    first = receiver.requests[0]
    assert first.signature.startswith("sha256=") and len(first.signature) == 7 + 64
    payloads = [request.payload for request in receiver.requests]
    for request, payload in zip(receiver.requests, payloads):
        assert payload["version"] == 1
        assert payload["id"] == request.event_id
        assert payload["type"] == request.event
        assert payload["subscription"]["id"] == gid(subscription)
        assert payload["subscription"]["email"] == subscription.email
        assert payload["subscription"]["plan_id"] == graphene.Node.to_global_id(
            "SubscriptionPlan", subscription.plan_id)
        assert payload["data"]["actor_type"] == "customer"
    assert len({payload["id"] for payload in payloads}) == 3
    assert [payload["subscription"]["status"] for payload in payloads] == [
        "paused", "active", "cancelled"]
    assert payloads[0]["data"]["history_type"] == "paused"
    assert payloads[0]["subscription"]["paused_at"] is not None
    assert secret not in caplog.text


def test_only_subscribed_events_and_active_webhooks_are_written(crm, staff_api, receiver,
                                                                customer_api, subscription, gid):
    from saleor.app.models import App

    _, crm_api = crm
    create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_RESUMED"])
    create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_PAUSED"], isActive=False)
    _, feeds_api = create_app(staff_api, "Feeds")
    create_webhook(feeds_api, receiver.url, ["SUBSCRIPTION_PAUSED", "SUBSCRIPTION_RESUMED"])
    App.objects.get(name="Feeds").permissions.clear()  # it may no longer read orders

    act(customer_api, gid(subscription), "subscriptionPause")
    assert WebhookDelivery.objects.count() == 0
    act(customer_api, gid(subscription), "subscriptionResume")
    assert [(row.webhook.app.name, row.event_type) for row in WebhookDelivery.objects.all()] == [
        ("CRM", "subscription_resumed")]


def second_subscription(store, other_customer):
    variant = rf.variant_from_global_id(store.variants["TEA-100G"])
    return create_subscription(other_customer, create_plan(variant, name="Tea monthly"),
                               start=rf.utc(2030, 1, 31, 10))


def test_a_receiver_down_for_hours_gets_everything_once_in_order(
        crm, staff_api, receiver, subscription, store, other_customer, gid):
    _, crm_api = crm
    created = create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_PAUSED",
                                                     "SUBSCRIPTION_RESUMED"])
    other = second_subscription(store, other_customer)
    receiver.status = 500
    for _ in range(2):
        for row in (subscription, other):
            act(staff_api, gid(row), "subscriptionPause")
            act(staff_api, gid(row), "subscriptionResume")
    written = list(WebhookDelivery.objects.order_by("pk"))
    assert len(written) == 8

    now = timezone.now()
    for minutes in range(0, 3 * 60, 10):  # three hours of sweeps while the receiver fails
        webhook_outbox.sweep(now + timedelta(minutes=minutes))
    failed_attempts = len(receiver.requests)
    # Only the first delivery of each subscription was tried: the rest wait their turn.
    assert {request.payload["id"] for request in receiver.requests} == {
        str(written[0].event_uuid), str(written[2].event_uuid)}
    assert failed_attempts >= 2 * 6  # retried with backoff, not given up
    head = WebhookDelivery.objects.get(pk=written[0].pk)
    assert head.status == "pending" and head.last_response_code == 500
    assert head.last_response_body == "receiver is down"
    assert head.next_attempt_at - head.last_attempt_at >= timedelta(hours=1)  # backoff grew

    receiver.status = 200
    webhook_outbox.sweep(now + timedelta(hours=6))

    accepted = receiver.accepted
    assert sorted(request.event_id for request in accepted) == sorted(
        str(row.event_uuid) for row in written)  # everything, once each
    assert receiver.all_signed_with(created["secret"])
    for row in (subscription, other):
        sent = [request.payload for request in receiver.requests
                if request.payload["subscription"]["id"] == gid(row)]
        expected = [str(delivery.event_uuid) for delivery in written
                    if delivery.subscription_id == row.pk]
        seen = []
        for payload in sent:  # every request, failed ones too: never one ahead of its turn
            if payload["id"] not in seen:
                seen.append(payload["id"])
        assert seen == expected
        assert [payload["type"] for payload in sent[-4:]] == [
            "subscription_paused", "subscription_resumed"] * 2
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    webhook_outbox.sweep(now + timedelta(days=1))
    assert len(receiver.accepted) == 8  # nothing sent twice


def test_deliveries_are_visible_and_can_be_redelivered(crm, staff_api, receiver, customer_api,
                                                       subscription, gid):
    _, crm_api = crm
    create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_PAUSED"])
    receiver.status = 503
    act(customer_api, gid(subscription), "subscriptionPause")
    webhook_outbox.sweep()
    receiver.status = 200

    (webhook,) = crm_api.execute(WEBHOOKS)["subscriptionWebhooks"]
    (delivery,) = webhook["deliveries"]
    assert delivery["status"] == "PENDING" and delivery["eventType"] == "SUBSCRIPTION_PAUSED"
    assert delivery["attempts"] == [
        {"responseCode": 503, "responseBody": "receiver is down", "error": ""}]
    assert delivery["subscriptionId"] == gid(subscription)
    assert json.loads(delivery["payload"])["id"] == delivery["eventId"]

    answer = staff_api.mutate(REDELIVER, {"id": delivery["id"]})
    assert answer["delivery"]["status"] == "PENDING"
    webhook_outbox.sweep()
    answer = crm_api.mutate(REDELIVER, {"id": delivery["id"]})  # once more, by the App
    webhook_outbox.sweep()

    (webhook,) = staff_api.execute(WEBHOOKS)["subscriptionWebhooks"]
    (delivery,) = webhook["deliveries"]
    assert delivery["status"] == "DELIVERED"
    assert [attempt["responseCode"] for attempt in delivery["attempts"]] == [503, 200, 200]
    assert [request.event_id for request in receiver.requests] == [delivery["eventId"]] * 3


def test_a_delivery_that_exhausts_its_retries_stops_holding_the_line(
        crm, receiver, customer_api, subscription, gid):
    _, crm_api = crm
    create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_PAUSED", "SUBSCRIPTION_RESUMED"])
    receiver.status = 500
    act(customer_api, gid(subscription), "subscriptionPause")
    act(customer_api, gid(subscription), "subscriptionResume")
    now = timezone.now()
    for hours in range(0, 48, 1):
        webhook_outbox.sweep(now + timedelta(hours=hours))
    first, second = WebhookDelivery.objects.order_by("pk")
    assert first.status == "failed" and first.attempt_count == webhook_outbox.MAX_ATTEMPTS
    assert second.attempt_count > 0  # its turn came


def test_celery_eager_sends_on_commit(crm, receiver, customer_api, subscription, gid,
                                      monkeypatch):
    """The path a worker takes: the on-commit hook enqueues the delivery task."""
    from django.db import transaction
    from saleor.celeryconf import app

    _, crm_api = crm
    secret = create_webhook(crm_api, receiver.url, ["SUBSCRIPTION_PAUSED"])["secret"]
    # The test's transaction never commits: run on-commit work at once, with tasks eager.
    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None: callback())
    monkeypatch.setattr(app.conf, "task_always_eager", True)

    act(customer_api, gid(subscription), "subscriptionPause")

    (request,) = receiver.requests
    assert request.event == "subscription_paused" and receiver.all_signed_with(secret)
    assert WebhookDelivery.objects.get().status == "delivered"


def test_the_worker_registers_the_tasks_and_beat_sweeps():
    from django.conf import settings
    from saleor.celeryconf import app

    import saleor_subscriptions.tasks  # noqa: F401  (what the worker autodiscovers)

    for name in ("deliver_webhooks_task", "sweep_webhook_deliveries_task"):
        assert "saleor_subscriptions.webhook_tasks." + name in app.tasks
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "saleor_subscriptions.webhook_tasks.sweep_webhook_deliveries_task" in tasks
