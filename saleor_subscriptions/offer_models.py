"""Offers that keep or bring back subscribers: retention offers the store configures per
cancellation reason, and the win-back codes sent after a subscription ended."""
from django.db import models
from django.utils import timezone

AMOUNT = {"max_digits": 12, "decimal_places": 3}


class RetentionOfferKind:
    DISCOUNT = "discount"  # percent off the next N renewals
    SKIP = "skip"  # skip the next renewal
    PAUSE = "pause"  # pause for N cycles
    DOWNGRADE = "downgrade"  # a cheaper plan of the family, from the next period

    CHOICES = [(DISCOUNT, "Discount"), (SKIP, "Skip"), (PAUSE, "Pause"),
               (DOWNGRADE, "Downgrade")]


class RetentionOffer(models.Model):
    """What a customer who leaves for `reason` (services/lifecycle/cancel.py REASONS) is
    offered instead (services/retention.py)."""

    reason = models.CharField(max_length=32, db_index=True)
    kind = models.CharField(max_length=16, choices=RetentionOfferKind.CHOICES)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    renewals = models.PositiveIntegerField(null=True, blank=True)
    cycles = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_subscriptions"
        ordering = ("reason", "pk")


class WinBackOffer(models.Model):
    """One per subscription and ending: written once by the beat task (services/win_back.py),
    redeemed at most once."""

    subscription = models.ForeignKey("saleor_subscriptions.Subscription",
                                     related_name="win_back_offers", on_delete=models.CASCADE)
    ended_at = models.DateTimeField()
    code = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    renewals = models.PositiveIntegerField(default=0)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_subscriptions"
        ordering = ("pk",)
        constraints = [models.UniqueConstraint(fields=["subscription", "ended_at"],
                                               name="subs_one_win_back_per_ending")]
