"""Webhooks out: Apps manage their own; staff (or Apps) with MANAGE_APPS manage any."""
import graphene
from django.core.exceptions import ValidationError
from saleor.core.permissions import AppPermission
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.decorators import _permission_required

from ...error_codes import SubscriptionErrorCode
from ...services import webhook_admin, webhook_outbox
from ...webhook_models import SubscriptionWebhook as WebhookModel
from ...webhook_models import WebhookDelivery
from ..errors import SubscriptionError
from ..ids import invalid, pk_or_error
from ..webhook_types import (
    SubscriptionWebhook,
    SubscriptionWebhookDelivery,
    SubscriptionWebhookEventTypeEnum,
)

DENIED = ("Only the App itself, or staff with MANAGE_APPS, manage an App's subscription "
          "webhooks.")


def can_manage_apps(context) -> bool:
    return _permission_required((AppPermission.MANAGE_APPS,), context)


def manageable_webhooks(context):
    """Every webhook for MANAGE_APPS, an App's own for that App; anyone else: refused."""
    if can_manage_apps(context):
        return WebhookModel.objects.all()
    app = getattr(context, "app", None)
    if app is not None:
        return WebhookModel.objects.filter(app=app)
    raise ValidationError(DENIED, code=SubscriptionErrorCode.PERMISSION_DENIED.value)


def get_webhook_or_error(context, global_id: str, field: str = "id") -> WebhookModel:
    pk = pk_or_error(global_id, "SubscriptionWebhook", field)
    webhook = manageable_webhooks(context).filter(pk=pk).first()
    if webhook is None:  # another App's: the same answer as a missing one
        raise invalid(field, "Webhook not found.", SubscriptionErrorCode.NOT_FOUND)
    return webhook


def _target_app(context, app_id):
    from saleor.app.models import App

    caller = getattr(context, "app", None)
    if app_id is None:
        if caller is None:
            raise invalid("app_id", "Staff must name the App.", SubscriptionErrorCode.REQUIRED)
        return caller
    pk = pk_or_error(app_id, "App", "app_id")
    if not can_manage_apps(context) and (caller is None or caller.pk != pk):
        raise invalid("app_id", "An App manages only its own webhooks.",
                      SubscriptionErrorCode.PERMISSION_DENIED)
    app = App.objects.filter(pk=pk).first()
    if app is None:
        raise invalid("app_id", "App not found.", SubscriptionErrorCode.NOT_FOUND)
    return app


class SubscriptionWebhookInput(graphene.InputObjectType):
    name = graphene.String(description="A label for people.")
    target_url = graphene.String(description="Where to POST (http:// or https://).")
    events = graphene.List(graphene.NonNull(SubscriptionWebhookEventTypeEnum),
                           description="The events to receive.")
    is_active = graphene.Boolean(description="Whether deliveries are sent.")


class SubscriptionWebhookCreateInput(SubscriptionWebhookInput):
    app_id = graphene.ID(description="The receiving App; an App calling for itself may omit it.")
    target_url = graphene.String(required=True, description="Where to POST (http(s) only).")
    events = graphene.List(graphene.NonNull(SubscriptionWebhookEventTypeEnum), required=True,
                           description="The events to receive.")


class _WebhookMutation(BaseMutation):
    class Meta:
        abstract = True

    @classmethod
    def _check_caller(cls, context):
        manageable_webhooks(context)  # raises for anyone who manages none


class SubscriptionWebhookCreate(_WebhookMutation):
    webhook = graphene.Field(SubscriptionWebhook)
    secret = graphene.String(description="The signing secret. Shown this once: keep it.")

    class Arguments:
        input = SubscriptionWebhookCreateInput(required=True)

    class Meta:
        description = ("Subscribe an App's URL to subscription lifecycle events (signed with "
                       "HMAC-SHA256 in X-Subscriptions-Signature). The App itself, or MANAGE_APPS.")
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, input):
        cls._check_caller(info.context)
        app = _target_app(info.context, input.get("app_id"))
        webhook, secret = webhook_admin.create_webhook(
            app, input.get("target_url"), input.get("events"), name=input.get("name") or "",
            is_active=input.get("is_active") is not False)
        return cls(webhook=webhook, secret=secret)


class SubscriptionWebhookUpdate(_WebhookMutation):
    webhook = graphene.Field(SubscriptionWebhook)

    class Arguments:
        id = graphene.ID(required=True)
        input = SubscriptionWebhookInput(required=True)

    class Meta:
        description = "Change a webhook (the secret stays). The App itself, or MANAGE_APPS."
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, id, input):
        webhook = get_webhook_or_error(info.context, id)
        webhook = webhook_admin.update_webhook(
            webhook, target_url=input.get("target_url"), event_types=input.get("events"),
            name=input.get("name"), is_active=input.get("is_active"))
        return cls(webhook=webhook)


class SubscriptionWebhookDelete(_WebhookMutation):
    webhook = graphene.Field(SubscriptionWebhook, description="The webhook, as it was.")

    class Arguments:
        id = graphene.ID(required=True)

    class Meta:
        description = "Remove a webhook and its deliveries. The App itself, or MANAGE_APPS."
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, id):
        webhook = get_webhook_or_error(info.context, id)
        pk = webhook.pk
        webhook_admin.delete_webhook(webhook)
        webhook.pk = pk  # the answer still names it
        return cls(webhook=webhook)


class SubscriptionWebhookDeliveryRedeliver(_WebhookMutation):
    delivery = graphene.Field(SubscriptionWebhookDelivery)

    class Arguments:
        id = graphene.ID(required=True, description="ID of the delivery.")

    class Meta:
        description = ("Send a delivery again, now, with a fresh set of retries (the same event "
                       "id: receivers de-duplicate). The App itself, or MANAGE_APPS.")
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, id):
        pk = pk_or_error(id, "SubscriptionWebhookDelivery", "id")
        delivery = WebhookDelivery.objects.filter(
            pk=pk, webhook__in=manageable_webhooks(info.context)).first()
        if delivery is None:
            raise invalid("id", "Delivery not found.", SubscriptionErrorCode.NOT_FOUND)
        return cls(delivery=webhook_outbox.redeliver(delivery))


def resolve_subscription_webhooks(info):
    from graphql_jwt.exceptions import PermissionDenied

    try:
        return manageable_webhooks(info.context).select_related("app")
    except ValidationError:
        raise PermissionDenied()
