"""The metrics' day totals (MetricsRollup): adds the MRR movements and history events not counted
yet. Runs before every metrics read (a few milliseconds when nothing is new) and after bulk
loads; one at a time (an advisory lock). A row is counted exactly once: it is marked in the
statement that counts it, and a row committed later is still unmarked for the next run.

Measures (count and amount are signed deltas of the day, per currency and plan; plan 0 holds the
store's totals, so a query for every plan reads one row per measure and day):
- `mrr:<kind>`: the ledger's movements; count +1 new/reactivation, -1 churn (paying subscribers).
- `mrr:moved`: a plan change carries the MRR it had (and its paying subscriber) from the old plan
  to the new one: -x on the old, +x on the new (0 store-wide).
- `cohort:<kind>` (day = month, cohort = sign-up month): the same movements by cohort.
- `status:<status>`: subscribers entering (+1) and leaving (-1) a status (and plan).
- `transition:<from>:<to>`: status changes (from `none` for a first status).
- `cancel_reason:<reason>`: changes into cancelled, by the customer's reason (`payment_failed`
  when dunning ended it, `unspecified` when none was given).
- `event:<type>`: events of COUNTED_EVENT_TYPES (retention offers).
"""
from django.db import connection, transaction

ADVISORY_LOCK_KEY = 0x5B5C_0013
COUNTED_EVENT_TYPES = ("retention_offered", "retention_offer_accepted")

_INSERT = """
INSERT INTO saleor_subscriptions_metricsrollup (day, currency, plan_id, measure, cohort, count,
                                                amount)
SELECT day, currency, plan_id, measure, cohort, SUM(count), SUM(amount) FROM (
    SELECT day, currency, plan_id, measure, cohort, count, amount FROM deltas
    WHERE plan_id IS NOT NULL
    UNION ALL  -- the store-wide totals (plan 0), read when no plan is asked for
    SELECT day, currency, 0, measure, cohort, count, amount FROM deltas
    WHERE plan_id IS NOT NULL AND measure <> 'mrr:moved'
) AS plan_and_store
GROUP BY day, currency, plan_id, measure, cohort
ON CONFLICT (currency, measure, day, plan_id, cohort) DO UPDATE
SET count = saleor_subscriptions_metricsrollup.count + EXCLUDED.count,
    amount = saleor_subscriptions_metricsrollup.amount + EXCLUDED.amount
"""

MOVEMENTS = """
WITH history AS (
    SELECT m.id, (m.date AT TIME ZONE 'UTC')::date AS day, m.kind, m.currency, m.amount,
           m.mrr_after - m.amount AS before,
           date_trunc('month', s.created_at AT TIME ZONE 'UTC')::date AS cohort,
           COALESCE(e.plan_id, s.plan_id) AS plan_id,
           LAG(COALESCE(e.plan_id, s.plan_id)) OVER (
               PARTITION BY m.subscription_id ORDER BY m.id) AS previous_plan_id
    FROM saleor_subscriptions_mrrmovement m
    JOIN saleor_subscriptions_subscription s ON s.id = m.subscription_id
    LEFT JOIN saleor_subscriptions_subscriptionevent e ON e.id = m.event_id
    {scope}
), fresh AS (
    SELECT history.*,
           CASE kind WHEN 'new' THEN 1 WHEN 'reactivation' THEN 1 WHEN 'churn' THEN -1
                ELSE 0 END AS paying
    FROM history {fresh}
), deltas AS (
    SELECT day, currency, plan_id, 'mrr:' || kind AS measure, DATE '1970-01-01' AS cohort,
           paying AS count, amount FROM fresh
    UNION ALL
    SELECT day, currency, previous_plan_id, 'mrr:moved', DATE '1970-01-01', -1, -before
    FROM fresh WHERE previous_plan_id <> plan_id AND before <> 0
    UNION ALL
    SELECT day, currency, plan_id, 'mrr:moved', DATE '1970-01-01', 1, before
    FROM fresh WHERE previous_plan_id <> plan_id AND before <> 0
    UNION ALL
    SELECT date_trunc('month', day)::date, currency, plan_id, 'cohort:' || kind, cohort,
           paying, amount FROM fresh
)
""" + _INSERT

EVENTS = """
WITH history AS (
    SELECT e.id, (e.date AT TIME ZONE 'UTC')::date AS day, e.type, e.status, e.plan_id,
           s.currency,
           CASE WHEN e.parameters ->> 'reason' = 'dunning_exhausted' THEN 'payment_failed'
                WHEN COALESCE(e.parameters ->> 'reason', '') IN ('', 'cancel_at_period_end')
                THEN COALESCE(NULLIF(s.cancel_reason, ''), 'unspecified')
                ELSE e.parameters ->> 'reason' END AS reason,
           LAG(e.status) OVER w AS previous_status, LAG(e.plan_id) OVER w AS previous_plan_id
    FROM saleor_subscriptions_subscriptionevent e
    JOIN saleor_subscriptions_subscription s ON s.id = e.subscription_id
    WHERE e.status <> '' {scope}
    WINDOW w AS (PARTITION BY e.subscription_id ORDER BY e.id)
), fresh AS (
    SELECT history.* FROM history {fresh}
), changes AS (
    SELECT * FROM fresh
    WHERE previous_status IS DISTINCT FROM status OR previous_plan_id IS DISTINCT FROM plan_id
), deltas AS (
    SELECT day, currency, plan_id, 'status:' || status AS measure, DATE '1970-01-01' AS cohort,
           1 AS count, 0 AS amount FROM changes
    UNION ALL
    SELECT day, currency, previous_plan_id, 'status:' || previous_status, DATE '1970-01-01', -1,
           0 FROM changes WHERE previous_status IS NOT NULL
    UNION ALL
    SELECT day, currency, plan_id,
           'transition:' || COALESCE(previous_status, 'none') || ':' || status,
           DATE '1970-01-01', 1, 0 FROM changes WHERE previous_status IS DISTINCT FROM status
    UNION ALL
    SELECT day, currency, plan_id, 'cancel_reason:' || reason, DATE '1970-01-01', 1, 0
    FROM changes WHERE status = 'cancelled' AND previous_status IS DISTINCT FROM 'cancelled'
    UNION ALL
    SELECT day, currency, plan_id, 'event:' || type, DATE '1970-01-01', 1, 0
    FROM fresh WHERE type IN %s
)
""" + _INSERT


_PENDING = """
SELECT EXISTS (SELECT 1 FROM saleor_subscriptions_mrrmovement WHERE NOT rolled_up),
       EXISTS (SELECT 1 FROM saleor_subscriptions_subscriptionevent WHERE NOT rolled_up)
"""
# The rows to count, marked in the same statement; a table the planner can measure, so a few
# new rows read a few subscriptions' history through their index and a bulk load reads all.
_BATCH = """
CREATE TEMPORARY TABLE metrics_batch (id integer, subscription_id integer) ON COMMIT DROP;
WITH marked AS (UPDATE {table} SET rolled_up = true WHERE NOT rolled_up
                RETURNING id, subscription_id)
INSERT INTO metrics_batch SELECT id, subscription_id FROM marked;
ANALYZE metrics_batch;
"""


# Only the new rows (and the history of their subscriptions, for the status or plan before).
_NEW = {"scope": "AND {alias}.subscription_id IN (SELECT subscription_id FROM metrics_batch)",
        "fresh": "JOIN metrics_batch USING (id)"}
_ALL = {"scope": "", "fresh": ""}


def _statements(rows):
    movements = MOVEMENTS.replace("{scope}", rows["scope"].replace("AND ", "WHERE ", 1))
    events = EVENTS.replace("{scope}", rows["scope"])
    return [(movements.replace("{fresh}", rows["fresh"]).replace("{alias}", "m"), None),
            (events.replace("{fresh}", rows["fresh"]).replace("{alias}", "e"),
             [COUNTED_EVENT_TYPES])]


def refresh() -> None:
    """Counts what is new since the last run (in its own transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(_PENDING)
        movements, events = cursor.fetchone()
    if not (movements or events):
        return
    tables = ("saleor_subscriptions_mrrmovement", "saleor_subscriptions_subscriptionevent")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        for table, (statement, params) in zip(tables, _statements(_NEW)):
            cursor.execute(_BATCH.format(table=table))
            cursor.execute(statement, params)
            cursor.execute("DROP TABLE metrics_batch")


def rebuild() -> None:
    """Counts every row again from scratch: after a bulk load (rows loaded with rolled_up set)
    or a repair. One pass over each table instead of marking rows one by one."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        cursor.execute("SET LOCAL work_mem = '512MB'")  # the whole history's sort in memory
        cursor.execute("TRUNCATE saleor_subscriptions_metricsrollup")
        for table in ("saleor_subscriptions_mrrmovement",
                      "saleor_subscriptions_subscriptionevent"):
            cursor.execute("UPDATE %s SET rolled_up = true WHERE NOT rolled_up" % table)
        for statement, params in _statements(_ALL):
            cursor.execute(statement, params)
