"""Stripe webhooks in: every verified event stored once, by Stripe's event id, before handling.

Kept beside models.py (which imports this module so Django registers the model)."""
from django.contrib.postgres.fields import JSONField
from django.db import models
from django.utils import timezone


class StripeWebhookEvent(models.Model):
    """A signed event Stripe sent us; a redelivery of the same id finds this row and stops."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255)
    payload = JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    #: what handling did: "recorded", "ignored", "nothing_to_do: ..." (never raw exception text)
    result = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ("pk",)

    def __repr__(self):
        return "<StripeWebhookEvent %s %s>" % (self.stripe_id, self.type)

    __str__ = __repr__
