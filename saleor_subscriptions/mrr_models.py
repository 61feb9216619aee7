"""The MRR ledger: one row per change of a subscription's monthly recurring revenue.

Kept beside models.py (which imports this module so Django registers the model)."""
from django.db import models
from django.utils import timezone

from .domain.mrr import MovementKind

AMOUNT = {"max_digits": 12, "decimal_places": 3}


class MrrMovement(models.Model):
    """`amount` is signed (mrr_after minus the previous mrr_after), monthly, excluding tax.

    MRR at a date = the sum of the amounts of the movements up to it, per currency."""

    subscription = models.ForeignKey(
        "saleor_subscriptions.Subscription", related_name="mrr_movements",
        on_delete=models.CASCADE,
    )
    date = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16, choices=MovementKind.CHOICES)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    mrr_after = models.DecimalField(**AMOUNT)
    # The history row of the change; empty only for the backfill of older subscriptions.
    event = models.OneToOneField(
        "saleor_subscriptions.SubscriptionEvent", null=True, blank=True,
        related_name="mrr_movement", on_delete=models.CASCADE,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("date", "pk")
        indexes = [models.Index(fields=["currency", "date"], name="subs_mrr_currency_date_idx")]
