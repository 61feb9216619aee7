"""GraphQL documents and helpers for tests of webhooks out: an App, its webhook, deliveries."""
from saleor_subscriptions.testing.client import ApiClient

APP_CREATE = """
mutation($input: AppInput!) {
  appCreate(input: $input) { authToken app { id } appErrors { field message code } }
}"""
WEBHOOK_CREATE = """
mutation($input: SubscriptionWebhookCreateInput!) {
  subscriptionWebhookCreate(input: $input) {
    webhook { id targetUrl events isActive app { id } }
    secret
    subscriptionErrors { field message code }
  }
}"""
WEBHOOK_UPDATE = """
mutation($id: ID!, $input: SubscriptionWebhookInput!) {
  subscriptionWebhookUpdate(id: $id, input: $input) {
    webhook { id targetUrl events isActive }
    subscriptionErrors { field message code }
  }
}"""
WEBHOOK_DELETE = """
mutation($id: ID!) {
  subscriptionWebhookDelete(id: $id) { webhook { id } subscriptionErrors { field message code } }
}"""
REDELIVER = """
mutation($id: ID!) {
  subscriptionWebhookDeliveryRedeliver(id: $id) {
    delivery { id status attemptCount }
    subscriptionErrors { field message code }
  }
}"""
WEBHOOKS = """
{ subscriptionWebhooks {
    id name targetUrl events isActive app { id }
    deliveries { id eventId eventType status subscriptionId attemptCount payload
                 lastResponseCode attempts { responseCode responseBody error } }
} }"""


def create_app(staff_api, name, permissions=("MANAGE_ORDERS",)):
    """(App global id, an ApiClient acting as that App)."""
    payload = staff_api.mutate(APP_CREATE, {"input": {
        "name": name, "isActive": True, "permissions": list(permissions)}})
    return payload["app"]["id"], ApiClient().as_app(payload["authToken"])


def create_webhook(client, url, events, **extra):
    """The create payload (webhook, secret); fails on typed errors."""
    return client.mutate(WEBHOOK_CREATE, {"input": dict(targetUrl=url, events=events, **extra)})
