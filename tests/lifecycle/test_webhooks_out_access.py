"""Who manages webhooks out: an App its own, MANAGE_APPS any; nobody else; the secret once."""
import json

import pytest
from django.db import transaction
from graphene import Node

from saleor_subscriptions.models import EventType
from saleor_subscriptions.services.events import record_event
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.factories import create_plan, create_subscription
from saleor_subscriptions.testing.users import create_user, login
from saleor_subscriptions.testing.webhook_api import (
    REDELIVER,
    WEBHOOK_CREATE,
    WEBHOOK_DELETE,
    WEBHOOK_UPDATE,
    WEBHOOKS,
    create_app,
    create_webhook,
)
from saleor_subscriptions.webhook_models import SubscriptionWebhook, WebhookDelivery

URL = "https://crm.example.com/hooks/subscriptions"


def staff(permissions, email):
    create_user(email, staff=True, permissions=permissions)
    return ApiClient().as_user(login(ApiClient(), email))


@pytest.fixture
def apps(staff_api):
    crm_id, crm_api = create_app(staff_api, "CRM")
    other_id, other_api = create_app(staff_api, "Other")
    return {"crm": (crm_id, crm_api), "other": (other_id, other_api)}


@pytest.fixture
def webhook(apps):
    return create_webhook(apps["crm"][1], URL, ["SUBSCRIPTION_CANCELLED"])["webhook"]


def rows():
    return [(row.app_id, row.target_url, row.event_types, row.is_active, row.secret)
            for row in SubscriptionWebhook.objects.order_by("pk")]


@pytest.fixture
def outsiders(api, customer_api, db):
    return {
        "anonymous": api,
        "customer": customer_api,
        "staff without MANAGE_APPS": staff(["order.manage_orders"], "staff1@example.com"),
    }


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff without MANAGE_APPS"])
def test_outsiders_manage_no_webhook(outsiders, apps, webhook, who):
    client = outsiders[who]
    before = rows()
    calls = [
        ("subscriptionWebhookCreate", WEBHOOK_CREATE, {"input": {
            "appId": apps["crm"][0], "targetUrl": URL, "events": ["SUBSCRIPTION_PAUSED"]}}),
        ("subscriptionWebhookUpdate", WEBHOOK_UPDATE, {"id": webhook["id"], "input": {
            "targetUrl": "https://evil.example.com/"}}),
        ("subscriptionWebhookDelete", WEBHOOK_DELETE, {"id": webhook["id"]}),
    ]
    for name, document, variables in calls:
        payload = client.execute(document, variables)[name]
        assert [(error["field"], error["code"]) for error in payload["subscriptionErrors"]] == [
            (None, "PERMISSION_DENIED")], name
        assert payload.get("secret") is None
    body = client.raw(WEBHOOKS)
    assert body["data"]["subscriptionWebhooks"] is None
    assert body["errors"][0]["message"].startswith("You do not have permission")
    assert rows() == before


def test_an_app_manages_only_its_own(apps, webhook):
    other_id, other_api = apps["other"]
    crm_id, crm_api = apps["crm"]
    before = rows()

    update = other_api.execute(WEBHOOK_UPDATE, {"id": webhook["id"], "input": {
        "targetUrl": "https://evil.example.com/", "isActive": False}})["subscriptionWebhookUpdate"]
    delete = other_api.execute(WEBHOOK_DELETE, {"id": webhook["id"]})["subscriptionWebhookDelete"]
    create = other_api.execute(WEBHOOK_CREATE, {"input": {
        "appId": crm_id, "targetUrl": URL, "events": ["SUBSCRIPTION_PAUSED"]}}
    )["subscriptionWebhookCreate"]

    for payload in (update, delete):
        assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [
            ("id", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in create["subscriptionErrors"]] == [
        ("appId", "PERMISSION_DENIED")]
    assert create["secret"] is None
    assert rows() == before
    assert other_api.execute(WEBHOOKS)["subscriptionWebhooks"] == []
    assert [row["id"] for row in crm_api.execute(WEBHOOKS)["subscriptionWebhooks"]] == [
        webhook["id"]]


def test_another_apps_delivery_is_not_redelivered(apps, webhook, customer, store,
                                                  subscriptions_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    subscription = create_subscription(customer, create_plan(variant, name="Monthly"))
    with transaction.atomic():
        record_event(subscription, EventType.CANCELLED, status="cancelled")
    delivery = WebhookDelivery.objects.get()

    gid = Node.to_global_id("SubscriptionWebhookDelivery", delivery.pk)
    payload = apps["other"][1].execute(REDELIVER, {"id": gid})[
        "subscriptionWebhookDeliveryRedeliver"]
    assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [
        ("id", "NOT_FOUND")]
    assert WebhookDelivery.objects.get().next_attempt_at == delivery.next_attempt_at


def test_staff_with_manage_apps_manage_any_apps_webhooks(apps, webhook, staff_api):
    manager = staff(["app.manage_apps"], "apps@example.com")
    crm_id, _ = apps["crm"]

    created = manager.mutate(WEBHOOK_CREATE, {"input": {
        "appId": crm_id, "targetUrl": "http://127.0.0.1:9/hook", "events": ["SUBSCRIPTION_PAUSED"],
        "name": "second"}})
    updated = manager.mutate(WEBHOOK_UPDATE, {"id": webhook["id"], "input": {
        "isActive": False, "events": ["SUBSCRIPTION_PAUSED", "SUBSCRIPTION_RESUMED"]}})
    assert created["webhook"]["app"]["id"] == crm_id and created["secret"]
    assert updated["webhook"]["isActive"] is False
    assert updated["webhook"]["events"] == ["SUBSCRIPTION_PAUSED", "SUBSCRIPTION_RESUMED"]
    manager.mutate(WEBHOOK_DELETE, {"id": created["webhook"]["id"]})
    assert SubscriptionWebhook.objects.count() == 1

    staff_without_app_id = manager.execute(WEBHOOK_CREATE, {"input": {
        "targetUrl": URL, "events": ["SUBSCRIPTION_PAUSED"]}})["subscriptionWebhookCreate"]
    assert [(e["field"], e["code"]) for e in staff_without_app_id["subscriptionErrors"]] == [
        ("appId", "REQUIRED")]


def test_an_app_without_manage_orders_cannot_subscribe(staff_api):
    _, feeds_api = create_app(staff_api, "Feeds", ["MANAGE_PRODUCTS"])
    payload = feeds_api.execute(WEBHOOK_CREATE, {"input": {
        "targetUrl": URL, "events": ["SUBSCRIPTION_PAUSED"]}})["subscriptionWebhookCreate"]
    assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [
        ("appId", "PERMISSION_DENIED")]
    assert SubscriptionWebhook.objects.count() == 0


def test_the_secret_is_shown_once(apps, staff_api):
    crm_id, crm_api = apps["crm"]
    created = create_webhook(crm_api, URL, ["SUBSCRIPTION_PAUSED"])
    secret = created["secret"]
    assert SubscriptionWebhook.objects.get().secret == secret

    answers = [
        crm_api.raw(WEBHOOKS), staff_api.raw(WEBHOOKS),
        crm_api.raw(WEBHOOK_UPDATE, {"id": created["webhook"]["id"], "input": {"name": "x"}}),
        crm_api.raw("""{ __type(name: "SubscriptionWebhook") { fields { name } } }"""),
    ]
    for answer in answers:
        assert secret not in json.dumps(answer)
    fields = {field["name"] for field in answers[-1]["data"]["__type"]["fields"]}
    assert "secret" not in fields and "targetUrl" in fields
    assert secret not in repr(SubscriptionWebhook.objects.get())


@pytest.mark.parametrize("url", [
    "ftp://crm.example.com/hook", "javascript:alert(1)", "file:///etc/passwd", "http://",
    "crm.example.com/hook", "", "https://crm.example.com:99999/hook",
    "https://crm.example.com/" + "a" * 2000,
])
def test_only_http_urls_are_accepted(apps, webhook, url):
    _, crm_api = apps["crm"]
    before = rows()
    create = crm_api.execute(WEBHOOK_CREATE, {"input": {
        "targetUrl": url, "events": ["SUBSCRIPTION_PAUSED"]}})["subscriptionWebhookCreate"]
    update = crm_api.execute(WEBHOOK_UPDATE, {"id": webhook["id"], "input": {
        "targetUrl": url, "isActive": False}})["subscriptionWebhookUpdate"]
    for payload in (create, update):
        assert [e["field"] for e in payload["subscriptionErrors"]] == ["targetUrl"]
        assert payload["subscriptionErrors"][0]["code"] in ("INVALID", "REQUIRED")
    assert create["secret"] is None
    assert rows() == before


def test_no_events_refused(apps):
    _, crm_api = apps["crm"]
    payload = crm_api.execute(WEBHOOK_CREATE, {"input": {"targetUrl": URL, "events": []}})[
        "subscriptionWebhookCreate"]
    assert [(e["field"], e["code"]) for e in payload["subscriptionErrors"]] == [
        ("events", "REQUIRED")]
    assert SubscriptionWebhook.objects.count() == 0
