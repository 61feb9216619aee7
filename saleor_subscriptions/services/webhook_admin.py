"""Creating, changing and removing an App's webhooks out. The GraphQL layer checks who asks;
this module checks what is asked. The secret is made here and handed back once."""
import secrets
from typing import Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from ..error_codes import SubscriptionErrorCode
from ..webhook_models import SubscriptionWebhook
from ..webhooks.events import all_event_types

MAX_URL_LENGTH = 2000


def _invalid(field: str, message: str, code=SubscriptionErrorCode.INVALID) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code.value)})


def clean_target_url(url: Optional[str]) -> str:
    url = (url or "").strip()
    if not url:
        raise _invalid("target_url", "A target URL is required.", SubscriptionErrorCode.REQUIRED)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise _invalid("target_url", "The target URL is not a valid URL.")
    if parts.scheme not in ("http", "https") or not host:
        raise _invalid("target_url", "The target URL must be an http:// or https:// URL.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid("target_url", "The target URL is longer than %d characters."
                       % MAX_URL_LENGTH)
    return url


def clean_event_types(event_types: Optional[Iterable[str]]) -> List[str]:
    known = all_event_types()
    chosen = sorted(set(event_types or []))
    if not chosen:
        raise _invalid("events", "Choose at least one event.", SubscriptionErrorCode.REQUIRED)
    unknown = [value for value in chosen if value not in known]
    if unknown:
        raise _invalid("events", "Unknown events: %s." % ", ".join(unknown))
    return chosen


def app_may_receive(app) -> bool:
    """Payloads carry customers' subscriptions: only Apps with MANAGE_ORDERS receive them."""
    return app.is_active and app.permissions.filter(
        content_type__app_label="order", codename="manage_orders").exists()


def _check_app(app) -> None:
    if not app_may_receive(app):
        raise _invalid("app_id", "The App must be active and have MANAGE_ORDERS to receive "
                       "subscription events.", SubscriptionErrorCode.PERMISSION_DENIED)


def create_webhook(app, target_url: str, event_types: Iterable[str], name: str = "",
                   is_active: bool = True) -> Tuple[SubscriptionWebhook, str]:
    """The webhook and its secret (returned to the caller this once)."""
    url = clean_target_url(target_url)
    chosen = clean_event_types(event_types)
    _check_app(app)
    secret = secrets.token_hex(32)
    webhook = SubscriptionWebhook.objects.create(
        app=app, name=(name or "")[:255], target_url=url, event_types=chosen, secret=secret,
        is_active=is_active)
    return webhook, secret


def update_webhook(webhook: SubscriptionWebhook, *, target_url=None, event_types=None,
                   name=None, is_active=None) -> SubscriptionWebhook:
    with transaction.atomic():
        webhook = SubscriptionWebhook.objects.select_for_update().get(pk=webhook.pk)
        if target_url is not None:
            webhook.target_url = clean_target_url(target_url)
        if event_types is not None:
            webhook.event_types = clean_event_types(event_types)
        if name is not None:
            webhook.name = name[:255]
        if is_active is not None:
            webhook.is_active = is_active
        webhook.save()
    return webhook


def delete_webhook(webhook: SubscriptionWebhook) -> None:
    """Its pending deliveries go with it."""
    webhook.delete()
