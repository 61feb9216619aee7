"""Webhooks out: an App's subscription to lifecycle events, and the outbox of deliveries.

Kept beside models.py (which imports this module so Django registers the models)."""
from uuid import uuid4

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class DeliveryStatus:
    PENDING = "pending"  # not yet delivered; retried at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the last retry; redeliver sends it again

    CHOICES = [(PENDING, "Pending"), (DELIVERED, "Delivered"), (FAILED, "Failed")]


class SubscriptionWebhook(models.Model):
    """A target URL of a Saleor App that receives the chosen lifecycle events, signed."""

    app = models.ForeignKey("app.App", related_name="subscription_webhooks",
                            on_delete=models.CASCADE)
    name = models.CharField(max_length=255, blank=True, default="")
    target_url = models.URLField(max_length=2000)
    # Shown once, at creation; never returned or logged afterwards.
    secret = models.CharField(max_length=255)
    event_types = ArrayField(models.CharField(max_length=64), default=list)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("pk",)

    def __repr__(self):  # never the secret
        return "<SubscriptionWebhook %s app=%s %s>" % (self.pk, self.app_id, self.target_url)

    __str__ = __repr__


class WebhookDelivery(models.Model):
    """One event for one webhook: written with the event (the outbox), sent by a task.

    `body` is the exact JSON sent and signed on every attempt; `event_uuid` is the same for every
    webhook and every attempt of one event, so receivers can de-duplicate."""

    webhook = models.ForeignKey(SubscriptionWebhook, related_name="deliveries",
                                on_delete=models.CASCADE)
    event = models.ForeignKey("saleor_subscriptions.SubscriptionEvent", related_name="+",
                              on_delete=models.CASCADE)
    subscription = models.ForeignKey("saleor_subscriptions.Subscription", related_name="+",
                                     on_delete=models.CASCADE)
    event_uuid = models.UUIDField(default=uuid4)
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.CHOICES,
                              default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    last_response_body = models.TextField(blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        indexes = [
            models.Index(fields=["webhook", "subscription", "id"], name="subs_wh_chain_idx",
                         condition=models.Q(status="pending")),
            models.Index(fields=["next_attempt_at", "id"], name="subs_wh_due_idx",
                         condition=models.Q(status="pending")),
        ]


class WebhookDeliveryAttempt(models.Model):
    """One POST of a delivery and what the receiver answered (an excerpt)."""

    delivery = models.ForeignKey(WebhookDelivery, related_name="attempts",
                                 on_delete=models.CASCADE)
    attempted_at = models.DateTimeField()
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("pk",)
