"""Saleor's order webhooks fire for renewal orders as for any order, once a webhook listens.

A renewal batch leaves Saleor's webhook plugin out while no active webhook subscribes to an
order event (saleor_adapter/order_effects.py); these tests hold both sides of that rule.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import graphene
import pytest

from saleor_subscriptions.models import BillingCycle
from saleor_subscriptions.testing.renewal_factories import utc

APP_CREATE = """
mutation($input: AppInput!) {
  appCreate(input: $input) { app { id } appErrors { field message code } }
}"""
WEBHOOK_CREATE = """
mutation($input: WebhookCreateInput!) {
  webhookCreate(input: $input) { webhook { id } webhookErrors { field message code } }
}"""


class Receiver:
    """A local HTTP endpoint that keeps what Saleor posts to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers.get("X-Saleor-Event"), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def subscribe_webhook(staff_api, url, events):
    app = staff_api.mutate(APP_CREATE, {"input": {
        "name": "CRM", "isActive": True, "permissions": ["MANAGE_ORDERS"]}})["app"]["id"]
    staff_api.mutate(WEBHOOK_CREATE, {"input": {
        "name": "CRM orders", "targetUrl": url, "events": events, "app": app, "isActive": True}})


def renewal_order_id(renewal, subscription):
    assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}
    return BillingCycle.objects.get(subscription=subscription, cycle_index=1).order_id


def test_order_webhooks_receive_the_renewal_order(renewal, staff_api, receiver):
    subscribe_webhook(staff_api, receiver.url, ["ORDER_CREATED", "ORDER_FULLY_PAID"])
    subscription = renewal.subscription()

    order_id = renewal_order_id(renewal, subscription)

    events = sorted(event for event, _ in receiver.received)
    assert events == ["order_created", "order_fully_paid"]
    for _, payload in receiver.received:
        (order,) = payload
        assert order["type"] == "Order"
        assert order["id"] == graphene.Node.to_global_id("Order", order_id)
        assert order["user_email"] == renewal.customer.email
        assert [line["product_sku"] for line in order["lines"]] == ["COFFEE-250G"]
        # Placed once paid, as from checkoutComplete: never a draft, the payment already on it.
        assert order["status"] == "unfulfilled" and len(order["payments"]) == 1


def test_no_webhook_for_order_events_means_no_post(renewal, staff_api, receiver):
    subscribe_webhook(staff_api, receiver.url, ["CUSTOMER_CREATED"])
    subscription = renewal.subscription()

    renewal_order_id(renewal, subscription)

    assert receiver.received == []
