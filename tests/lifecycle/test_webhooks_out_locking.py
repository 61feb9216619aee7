"""Two workers never send one delivery at once, nor a later one before an earlier one.

Committed data (transactional_db): a second database connection holds the row lock of a
delivery being posted, as another worker would."""
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from saleor.app.models import App

from saleor_subscriptions.models import EventType
from saleor_subscriptions.services import webhook_admin, webhook_outbox
from saleor_subscriptions.services.events import record_event
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan, create_subscription
from saleor_subscriptions.testing.webhook_receiver import WebhookReceiver
from saleor_subscriptions.webhook_models import WebhookDelivery

pytestmark = pytest.mark.usefixtures("keep_committed_data")


class LockingWorker(threading.Thread):
    """Holds the row lock of one delivery (as a worker mid-POST) until released."""

    def __init__(self, delivery_id):
        super().__init__(daemon=True)
        self.delivery_id = delivery_id
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                WebhookDelivery.objects.select_for_update().get(pk=self.delivery_id)
                self.locked.set()
                self.release.wait(30)
        finally:
            connection.close()


def test_a_locked_delivery_is_skipped_and_holds_its_line(transactional_db, store, customer,
                                                         monkeypatch):
    # The on-commit task is lost (a broker outage): only the workers below send.
    monkeypatch.setattr(webhook_outbox, "_dispatch", lambda ids: None)
    receiver = WebhookReceiver()
    try:
        app = App.objects.create(name="CRM", is_active=True)
        app.permissions.add(Permission.objects.get(
            content_type__app_label="order", codename="manage_orders"))
        webhook_admin.create_webhook(app, receiver.url, ["subscription_paused",
                                                         "subscription_resumed"])
        variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
        subscription = create_subscription(customer, create_plan(variant, name="Monthly"))
        with transaction.atomic():
            record_event(subscription, EventType.PAUSED)
        with transaction.atomic():
            record_event(subscription, EventType.RESUMED)
        first, second = WebhookDelivery.objects.order_by("pk")

        worker = LockingWorker(first.pk)
        worker.start()
        assert worker.locked.wait(10)
        assert webhook_outbox.deliver(first.pk) == webhook_outbox.BUSY
        assert webhook_outbox.deliver(second.pk) == webhook_outbox.WAITING
        assert webhook_outbox.sweep() == {webhook_outbox.BUSY: 1}  # the head is skipped, not waited for
        assert receiver.requests == []
        worker.release.set()
        worker.join(10)

        assert webhook_outbox.sweep() == {webhook_outbox.DELIVERED: 2}
        assert [request.event for request in receiver.requests] == [
            "subscription_paused", "subscription_resumed"]
    finally:
        receiver.close()
