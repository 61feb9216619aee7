"""Discounts on a subscription's renewals and the store's terms for its vouchers.

Kept beside models.py (which imports this module so Django registers the models); the pricing
rule is domain/discounts.py, the writer services/discounts.py."""
from django.conf import settings
from django.db import models
from django.utils import timezone

AMOUNT = {"max_digits": 12, "decimal_places": 3}


class DiscountSource:
    VOUCHER = "voucher"
    GOODWILL = "goodwill"
    RETENTION_OFFER = "retention_offer"
    WIN_BACK = "win_back"

    CHOICES = [(VOUCHER, "Voucher"), (GOODWILL, "Goodwill"),
               (RETENTION_OFFER, "Retention offer"), (WIN_BACK, "Win-back")]


class SubscriptionDiscount(models.Model):
    """A percent or an amount off the subscription's price for its next `renewals_left` paid
    renewals (None: for as long as it lasts). Active while `ended_at` is empty."""

    subscription = models.ForeignKey(
        "saleor_subscriptions.Subscription", related_name="discounts", on_delete=models.CASCADE
    )
    source = models.CharField(max_length=20, choices=DiscountSource.CHOICES)
    # The name renewal orders show as their discount's name (a voucher's name, "Goodwill").
    name = models.CharField(max_length=255)
    # Three decimals, as Saleor's voucher values have.
    percent = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(null=True, blank=True, **AMOUNT)
    renewals_left = models.PositiveIntegerField(null=True, blank=True)
    renewals_used = models.PositiveIntegerField(default=0)
    # The first charge (the checkout, a reactivation) was discounted too, by whoever took it.
    applies_to_first_charge = models.BooleanField(default=False)
    # Whether the discount stays when the subscription moves to another plan.
    follows_plan_change = models.BooleanField(default=True)
    reason = models.TextField(blank=True, default="")
    voucher = models.ForeignKey(
        "discount.Voucher", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    voucher_code = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ("created_at", "pk")
        indexes = [
            models.Index(fields=["subscription"], name="subs_discount_active_idx",
                         condition=models.Q(ended_at__isnull=True)),
        ]


class VoucherDuration:
    FIRST_CHARGE = "first_charge"
    RENEWALS = "renewals"
    FOREVER = "forever"

    CHOICES = [(FIRST_CHARGE, "First charge only"), (RENEWALS, "First N renewals"),
               (FOREVER, "Forever")]


class SubscriptionVoucherTerms(models.Model):
    """How long a Saleor voucher's discount lasts on a subscription bought with it. A voucher
    without terms discounts the first charge only (as Saleor does for any order)."""

    voucher = models.OneToOneField(
        "discount.Voucher", related_name="subscription_terms", on_delete=models.CASCADE
    )
    duration = models.CharField(max_length=16, choices=VoucherDuration.CHOICES)
    renewals = models.PositiveIntegerField(null=True, blank=True)
    follows_plan_change = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
