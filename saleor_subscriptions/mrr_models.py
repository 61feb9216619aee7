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
    # Counted into the metrics' rollup (services/metrics_rollup.py).
    rolled_up = models.BooleanField(default=False)

    class Meta:
        ordering = ("date", "pk")
        indexes = [
            models.Index(fields=["currency", "date"], name="subs_mrr_currency_date_idx"),
            models.Index(fields=["id"], name="subs_mrr_rollup_idx",
                         condition=models.Q(rolled_up=False)),
        ]


#: the cohort of rows that have none (every measure but the cohort table's)
NO_COHORT = "1970-01-01"


class MetricsRollup(models.Model):
    """Day totals of the ledger and the history, per currency and plan: what the metrics read
    (a year of a million subscriptions is a few thousand rows). Written only by
    services/metrics_rollup.py, which adds the ledger and history rows not counted yet.

    `measure` names what is counted (services/metrics_rollup.py lists them); `count` and
    `amount` are signed deltas of that day."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    plan_id = models.IntegerField()  # 0: every plan (the store's totals)
    measure = models.CharField(max_length=64)
    cohort = models.DateField(default=NO_COHORT)
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=3, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["currency", "measure", "day", "plan_id", "cohort"],
            name="subs_metrics_rollup_key")]
        indexes = [models.Index(fields=["currency", "plan_id", "day"],
                                name="subs_metrics_rollup_read_idx")]
