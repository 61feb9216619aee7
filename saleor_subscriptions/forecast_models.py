"""The billing forecast's totals: the live subscriptions summed by what decides their billing,
so the forecast reads a few thousand rows instead of every subscription.

Kept in step by a trigger on the subscription table (migration 0021): every insert, delete or
update of a column the forecast reads writes the row's old contribution (negated) and its new
one as ForecastDelta rows, in the writer's own transaction, whatever code path wrote it (insert
only: concurrent renewals never wait on each other). services/forecast_rollup.py adds the
deltas into ForecastRollup before each read. Kept beside models.py, which imports it.

A migration that alters, renames or drops a subscription column the trigger names must drop the
trigger and its row function first and create them again after (PostgreSQL refuses to alter a
column a trigger's WHEN names, and does not track the function's body)."""
from django.db import models

#: change_from of the rows without a scheduled price change
NO_CHANGE = "1970-01-01"
AMOUNT = {"max_digits": 18, "decimal_places": 3}


class ForecastTotals(models.Model):
    """Key: currency, plan, scheduled plan (0: none), first billing day (UTC), intro cycles
    left, paid cycles (cycles left = the billing plan's limit minus these), day of a scheduled
    price change (NO_CHANGE: none). Sums: subscriptions; units (scheduled quantity, else
    quantity); regular (own unit price x units: read when no plan change is scheduled, else the
    scheduled plan's price at read time x units); intro; changed, with how many had one."""

    currency = models.CharField(max_length=3)
    plan_id = models.IntegerField()
    scheduled_plan_id = models.IntegerField()
    first_billing = models.DateField()
    intro_left = models.IntegerField()
    paid_cycles = models.IntegerField()
    change_from = models.DateField()
    subscriptions = models.BigIntegerField()
    units = models.BigIntegerField()
    regular = models.DecimalField(**AMOUNT)
    intro = models.DecimalField(**AMOUNT)
    changed = models.DecimalField(**AMOUNT)
    changed_count = models.BigIntegerField()

    class Meta:
        abstract = True


class ForecastRollup(ForecastTotals):
    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["currency", "plan_id", "scheduled_plan_id", "first_billing", "intro_left",
                    "paid_cycles", "change_from"], name="subs_forecast_rollup_key")]


class ForecastDelta(ForecastTotals):
    """Signed contributions not added to ForecastRollup yet (written only by the trigger)."""
