"""GraphQL types of webhooks out: the webhook (never its secret) and its deliveries."""
import graphene
from graphene import relay
from saleor.graphql.app.types import App
from saleor.graphql.core.connection import CountableDjangoObjectType

from ..webhook_models import DeliveryStatus, WebhookDelivery
from ..webhook_models import SubscriptionWebhook as WebhookModel
from ..webhooks.events import WebhookEventType

SubscriptionWebhookEventTypeEnum = graphene.Enum(
    "SubscriptionWebhookEventTypeEnum",
    [(value.upper(), value) for value, _label in WebhookEventType.CHOICES],
    description="Lifecycle events an App can receive.",
)
SubscriptionWebhookDeliveryStatusEnum = graphene.Enum(
    "SubscriptionWebhookDeliveryStatusEnum",
    [(value.upper(), value) for value, _label in DeliveryStatus.CHOICES],
)


class SubscriptionWebhookAttempt(graphene.ObjectType):
    attempted_at = graphene.DateTime(required=True)
    response_code = graphene.Int(description="The receiver's HTTP status; null: no answer.")
    response_body = graphene.String(description="The first 1000 characters of the answer.")
    error = graphene.String(description="Why there was no answer (e.g. ConnectTimeout).")

    class Meta:
        description = "One POST of a webhook delivery."


class SubscriptionWebhookDelivery(CountableDjangoObjectType):
    event_id = graphene.UUID(required=True, description="The X-Subscriptions-Event-Id header.")
    event_type = SubscriptionWebhookEventTypeEnum(required=True)
    status = SubscriptionWebhookDeliveryStatusEnum(required=True)
    subscription_id = graphene.ID(required=True)
    payload = graphene.JSONString(required=True, description="The body sent (and signed).")
    attempts = graphene.List(graphene.NonNull(SubscriptionWebhookAttempt), required=True)

    class Meta:
        model = WebhookDelivery
        interfaces = [relay.Node]
        description = "One event sent to one webhook, with every attempt."
        only_fields = ["id", "attempt_count", "next_attempt_at", "last_attempt_at",
                       "last_response_code", "last_response_body", "last_error",
                       "delivered_at", "created_at"]

    @staticmethod
    def resolve_event_id(root, _info):
        return root.event_uuid

    @staticmethod
    def resolve_subscription_id(root, _info):
        return graphene.Node.to_global_id("CustomerSubscription", root.subscription_id)

    @staticmethod
    def resolve_payload(root, _info):
        import json

        return json.loads(root.body)

    @staticmethod
    def resolve_attempts(root, _info):
        return root.attempts.all()


class SubscriptionWebhook(CountableDjangoObjectType):
    events = graphene.List(graphene.NonNull(SubscriptionWebhookEventTypeEnum), required=True)
    app = graphene.Field(App, required=True)
    deliveries = graphene.List(
        graphene.NonNull(SubscriptionWebhookDelivery),
        required=True,
        status=SubscriptionWebhookDeliveryStatusEnum(),
        last=graphene.Int(default_value=50, description="The newest N (at most 100)."),
        description="The newest deliveries, newest first.",
    )

    class Meta:
        model = WebhookModel
        interfaces = [relay.Node]
        description = ("A target URL of a Saleor App that receives subscription lifecycle "
                       "events, signed with its secret (shown once, at creation).")
        only_fields = ["id", "name", "target_url", "is_active", "created_at", "updated_at"]

    @staticmethod
    def resolve_events(root, _info):
        return root.event_types

    @staticmethod
    def resolve_deliveries(root, _info, last=50, status=None):
        qs = root.deliveries.order_by("-pk")
        if status is not None:
            qs = qs.filter(status=status)
        return qs[:max(0, min(last, 100))]
