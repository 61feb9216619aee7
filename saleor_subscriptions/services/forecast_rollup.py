"""The billing forecast's input: the live subscriptions grouped by what decides their billing,
read from ForecastRollup (a few thousand rows whatever the store's size) after adding the
deltas the subscription table's trigger wrote since the last read (forecast_models.py says how
it is kept in step). One at a time (an advisory lock); a delta is added exactly once: it is
deleted in the statement that adds it, and one committed later stays for the next read."""
from typing import List, Optional, Tuple

from django.db import connection, transaction

from ..domain import forecast as forecasting
from ..domain.periods import Interval
from ..forecast_models import NO_CHANGE

ADVISORY_LOCK_KEY = 0x5B5C_0014
_SUMS = "subscriptions, units, regular, intro, changed, changed_count"
_KEY = "currency, plan_id, scheduled_plan_id, first_billing, intro_left, paid_cycles, change_from"
_ADD = """
WITH taken AS (DELETE FROM saleor_subscriptions_forecastdelta RETURNING *)
INSERT INTO saleor_subscriptions_forecastrollup ({key}, {sums})
SELECT {key}, SUM(subscriptions), SUM(units), SUM(regular), SUM(intro), SUM(changed),
       SUM(changed_count)
FROM taken GROUP BY {key}
ON CONFLICT ({key}) DO UPDATE SET {updates}
""".format(key=_KEY, sums=_SUMS, updates=", ".join(
    "{0} = saleor_subscriptions_forecastrollup.{0} + EXCLUDED.{0}".format(column.strip())
    for column in _SUMS.split(",")))
# A key nobody is left in sums to zero throughout (each row takes out what it put in).
_EMPTIED = "DELETE FROM saleor_subscriptions_forecastrollup WHERE subscriptions = 0"
_REBUILD = """
TRUNCATE saleor_subscriptions_forecastrollup, saleor_subscriptions_forecastdelta;
INSERT INTO saleor_subscriptions_forecastrollup ({key}, {sums})
SELECT {columns}, SUM(f.subscriptions), SUM(f.units), SUM(f.regular), SUM(f.intro),
       SUM(f.changed), SUM(f.changed_count)
FROM saleor_subscriptions_subscription s, saleor_subscriptions_forecast_row(s, 1) f
GROUP BY {columns}
""".format(key=_KEY, sums=_SUMS, columns=", ".join(
    "f." + column.strip() for column in _KEY.split(",")))


def refresh() -> None:
    """Adds the deltas written since the last run (in its own transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM saleor_subscriptions_forecastdelta)")
        if not cursor.fetchone()[0]:
            return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        cursor.execute(_ADD)
        cursor.execute(_EMPTIED)


def rebuild() -> None:
    """Sums every subscription again: after a bulk load (its triggers off) or a repair. The
    TRUNCATE waits for writers with deltas in flight, whose changes the sums then include."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        cursor.execute(_REBUILD)


# The groups the forecast walks: the billing plan (the scheduled one, else the current one)
# gives the interval, the cycle limit and, for a scheduled plan change, the regular price.
_SCHEDULED = """
SELECT r.first_billing::timestamp AT TIME ZONE 'UTC', p.interval_unit, p.interval_count,
       r.intro_left, p.billing_cycles - r.paid_cycles AS cycles_left,
       NULLIF(r.change_from, %(no_change)s)::timestamp AT TIME ZONE 'UTC',
       SUM(r.subscriptions)::bigint,
       SUM(CASE WHEN r.scheduled_plan_id <> 0 THEN p.price_amount * r.units ELSE r.regular END),
       SUM(r.intro),
       CASE WHEN SUM(r.changed_count) > 0 THEN SUM(r.changed) END
FROM saleor_subscriptions_forecastrollup r
JOIN saleor_subscriptions_subscriptionplan p
  ON p.id = CASE WHEN r.scheduled_plan_id <> 0 THEN r.scheduled_plan_id ELSE r.plan_id END
WHERE r.currency = %(currency)s AND r.subscriptions <> 0 {plans}
GROUP BY 1, 2, 3, 4, 5, 6
"""


def scheduled_billing(currency: str, plan_ids: Optional[Tuple[int, ...]]
                      ) -> List[forecasting.ScheduledBilling]:
    refresh()
    plans = "AND r.plan_id = ANY(%(plans)s)" if plan_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(_SCHEDULED.format(plans=plans),
                       {"currency": currency, "plans": list(plan_ids or ()),
                        "no_change": NO_CHANGE})
        rows = cursor.fetchall()
    return groups_of(rows)


def groups_of(rows) -> List[forecasting.ScheduledBilling]:
    """(first billing, interval unit and count, intro cycles left, cycles left, change from,
    subscriptions, regular, intro, changed) rows -> the groups the forecast walks."""
    groups = []
    for (first, unit, count, intro_left, cycles_left, change_from, subscriptions, regular, intro,
         changed) in rows:
        if cycles_left is not None and cycles_left <= 0:
            continue
        groups.append(forecasting.ScheduledBilling(
            first_billing=first, interval=Interval(unit, count), subscriptions=subscriptions,
            regular=regular, intro=intro, intro_cycles_left=intro_left,
            cycles_left=cycles_left, changed=changed, change_from=change_from))
    return groups
