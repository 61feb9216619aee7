"""Metrics benchmark: N subscriptions with about ten MRR movements each (and their history
events), bulk loaded with COPY into the bench database, then every metrics query through
/graphql/ as staff. Run: `make bench-stats` (SIZE=1000000 by default; `--subscriptions N`).

Each query runs once cold (first after the load) and then RUNS times; the table shows the cold
time, the median and the slowest warm run. slowest_query_ms is the slowest warm run of any
metrics query; console_first_screen_ms is the console's first-screen document (read from
saleor_subscriptions/console/first_screen.graphql when the branch has it, else
bench/console_first_screen.graphql), timed the same way.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import django

django.setup()

from django.db import connection  # noqa: E402

from saleor_subscriptions.domain.mrr import monthly_value  # noqa: E402
from saleor_subscriptions.models import SubscriptionPlan  # noqa: E402
from saleor_subscriptions.services import forecast_rollup, metrics_rollup  # noqa: E402
from saleor_subscriptions.testing.client import ApiClient  # noqa: E402
from saleor_subscriptions.testing.store import add_product, build_store  # noqa: E402
from saleor_subscriptions.testing.users import create_user, login  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONSOLE_DOCUMENT = os.path.join(ROOT, "saleor_subscriptions", "console", "first_screen.graphql")
OWN_FIRST_SCREEN = os.path.join(HERE, "console_first_screen.graphql")
RUNS = 5
TODAY = datetime.now(timezone.utc).date()
FIRST_DAY = TODAY - timedelta(days=700)
REASONS = ("too_expensive", "not_using", "switching", "missing_features", "quality", "shipping",
           "other")
# name, family, rank, unit, count, price, currency, weight
PLANS = [
    ("Basic", "club", 1, "month", 1, "10.00", "USD", 30),
    ("Medium", "club", 2, "month", 1, "25.00", "USD", 20),
    ("Premium", "club", 3, "month", 1, "50.00", "USD", 10),
    ("Yearly", "", 0, "year", 1, "120.00", "USD", 10),
    ("Weekly", "", 0, "week", 1, "7.00", "USD", 8),
    ("Quarterly", "", 0, "month", 3, "60.00", "USD", 7),
    ("Basic EUR", "club-eu", 1, "month", 1, "9.00", "EUR", 10),
    ("Yearly EUR", "club-eu", 2, "year", 1, "99.00", "EUR", 5),
]


def stamp(day_index, seconds=43200):
    moment = datetime.combine(FIRST_DAY + timedelta(days=day_index), datetime.min.time(),
                              timezone.utc) + timedelta(seconds=seconds)
    return moment.isoformat()


class Loader:
    """One subscription's life as a random walk of the changes the product records: sign-up
    (some with a trial), quantity and plan changes, declines recovered or ending in dunning,
    pauses, cancellations with reasons, reactivations. Each change is an event row with the
    status and plan after it; those changing MRR also write a movement, as record_event does."""

    def __init__(self, plans, variant_id, seed=13):
        self.random = random.Random(seed)
        self.plans = plans
        self.weights = [plan[-1] for plan in PLANS]
        self.variant_id = variant_id
        self.event_id = self.movement_id = 0
        self.days = (TODAY - FIRST_DAY).days
        self.stamps = [stamp(day) for day in range(self.days + 400)]
        self.families = {}
        for plan in plans:
            self.families.setdefault((plan["family"], plan["currency"]), []).append(plan)

    def subscription(self, pk, subs, events, movements):
        rnd = self.random
        plan = rnd.choices(self.plans, self.weights)[0]
        currency = plan["currency"]
        quantity = 1
        day = rnd.randrange(self.days - 1)
        signed_up = day
        state = {"mrr": Decimal(0), "churned": False}

        def event(kind, status, reason=None):
            self.event_id += 1
            parameters = '{"reason": "%s"}' % reason if reason else "{}"
            events.write("%d\t%s\t%s\tsystem\t\t%s\t%d\t%d\t%s\tt\n" % (
                self.event_id, kind, self.stamps[day], parameters, pk, plan["id"], status))
            return self.event_id

        def move(kind, status, reason=None):
            event_id = event(kind, status, reason)
            after = (monthly_value(plan["price"] * quantity, plan["unit"], plan["count"], currency)
                     if status in ("active", "past_due") else Decimal(0))
            before = state["mrr"]
            if after == before:
                return
            if before == 0:
                movement = "reactivation" if state["churned"] else "new"
            elif after == 0:
                movement, state["churned"] = "churn", True
            else:
                movement = "expansion" if after > before else "contraction"
            self.movement_id += 1
            movements.write("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\tt\n" % (
                self.movement_id, self.stamps[day], movement, currency, after - before, after,
                self.stamps[day], event_id, pk))
            state["mrr"] = after

        status = "active"
        if plan["trial"] and rnd.random() < 0.8:
            event("trial_started", "trialing")
            day += 14
            if day >= self.days or rnd.random() < 0.3:
                status = "trialing" if day >= self.days else "cancelled"
                if status == "cancelled":
                    event("cancelled", "cancelled", rnd.choice(REASONS))
                return self._row(subs, pk, plan, quantity, status, signed_up, day)
            move("trial_ended", "active")
        else:
            move("created", "active")
        gap = max(2, (self.days - day) // 14)
        reason = ""
        while True:
            day += rnd.randint(1, 2 * gap)
            if day >= self.days:
                break
            roll = rnd.random()
            if status == "active":
                if roll < 0.3:
                    quantity += 1
                    move("quantity_changed", status)
                elif roll < 0.45 and quantity > 1:
                    quantity -= 1
                    move("quantity_changed", status)
                elif roll < 0.65:
                    family = self.families[(plan["family"], currency)]
                    if plan["family"] and len(family) > 1:
                        plan = rnd.choice([other for other in family if other is not plan])
                    else:
                        quantity += 1
                    move("plan_changed", status)
                elif roll < 0.75:
                    status = "past_due"
                    event("payment_failed", status)
                elif roll < 0.87:
                    status = "paused"
                    move("paused", status)
                else:
                    status, reason = "cancelled", rnd.choice(REASONS)
                    move("cancelled", status, reason)
            elif status == "past_due":
                if roll < 0.7:
                    status = "active"
                    event("payment_recovered", status)
                else:
                    status, reason = "cancelled", "payment_failed"
                    event("dunning_exhausted", status)
                    move("cancelled", status, "dunning_exhausted")
            elif status == "paused":
                status = "active"
                move("resumed", status)
            elif roll < 0.6:  # cancelled: some come back
                status, reason = "active", ""
                move("reactivated", status)
            else:
                break
        return self._row(subs, pk, plan, quantity, status, signed_up, day, reason)

    def _row(self, subs, pk, plan, quantity, status, signed_up, day, reason=""):
        live = status in ("active", "past_due", "trialing")
        next_billing = (r"\N" if not live else
                        self.stamps[self.days + self.random.randrange(1, 28)])
        created = self.stamps[signed_up]
        subs.write(
            "%d\t00000000-0000-4000-8000-%012x\tbench%d@example.com\t%d\t%s\t%s\t%s\t0\t%s\t0"
            "\t%s\t%s\t%s\t1\tf\t%s\t\t\tbench\t\t\t\t\t%s\t%s\t%d\t%d\tt\t0\t0\t0\t0\t0\n" % (
                pk, pk, pk, quantity, status, plan["currency"], plan["price"], created, created,
                next_billing if live else created, next_billing, reason, created, created,
                plan["id"], self.variant_id))


SUBSCRIPTION_COLUMNS = (
    "id, token, email, quantity, status, currency, unit_price_amount, credit_amount, anchor_at, "
    "cycle_index, current_period_start, current_period_end, next_billing_at, paid_cycles, "
    "cancel_at_period_end, cancel_reason, cancel_reason_text, parked_reason, gateway, "
    "customer_reference, payment_method_reference, card_brand, card_last4, created_at, "
    "updated_at, plan_id, variant_id, is_guest, plan_change_count, carried_amount, "
    "intro_until_cycle, manage_link_version, discount_count")
EVENT_COLUMNS = ("id, type, date, actor_type, currency, parameters, subscription_id, plan_id, "
                 "status, rolled_up")
MOVEMENT_COLUMNS = ("id, date, kind, currency, amount, mrr_after, created_at, event_id, "
                    "subscription_id, rolled_up")


def make_plans(variant_id):
    plans = []
    for name, family, rank, unit, count, price, currency, _weight in PLANS:
        plan = SubscriptionPlan.objects.create(
            variant_id=variant_id, name=name, family=family, tier_rank=rank, interval_unit=unit,
            interval_count=count, currency=currency, price_amount=Decimal(price),
            trial_days=14 if unit == "week" else 0)
        plans.append({"id": plan.pk, "family": family, "unit": unit, "count": count,
                      "price": Decimal(price), "currency": currency,
                      "trial": unit == "week"})
    return plans


def load(count, plans, variant_id):
    loader = Loader(plans, variant_id)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        paths = {name: os.path.join(folder, name) for name in ("subs", "events", "movements")}
        files = {name: open(path, "w") for name, path in paths.items()}
        for pk in range(1, count + 1):
            loader.subscription(pk, files["subs"], files["events"], files["movements"])
        for handle in files.values():
            handle.close()
        generated = time.perf_counter() - started
        with connection.cursor() as cursor:
            raw = cursor.cursor
            # The generated rows are consistent by construction: no foreign-key trigger per row.
            cursor.execute("SET session_replication_role = replica")
            for name, table, columns in (
                    ("subs", "saleor_subscriptions_subscription", SUBSCRIPTION_COLUMNS),
                    ("events", "saleor_subscriptions_subscriptionevent", EVENT_COLUMNS),
                    ("movements", "saleor_subscriptions_mrrmovement", MOVEMENT_COLUMNS)):
                with open(paths[name]) as handle:
                    raw.copy_expert("COPY %s (%s) FROM STDIN" % (table, columns), handle)
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                               "(SELECT MAX(id) FROM " + table + "))", [table])
            cursor.execute("SET session_replication_role = DEFAULT")
    copied = time.perf_counter() - started - generated
    return loader.movement_id, loader.event_id, generated, copied


def timed(client, query, variables):
    started = time.perf_counter()
    body = client.raw(query, variables)
    elapsed = (time.perf_counter() - started) * 1000
    if body.get("errors"):
        raise SystemExit("query failed: %s" % body["errors"])
    return elapsed, body


SELECTIONS = {
    "summary": "summary { mrr arr payingSubscribers customerChurnRate revenueChurnRate "
               "netRevenueRetention arpu ltv trialConversionRate dunningRecoveryRate "
               "retentionOfferSaveRate subscribers { active trialing pastDue paused } "
               "movements { new expansion contraction churn reactivation netNew } }",
    "series": "series { start end mrr arr payingSubscribers customerChurnRate revenueChurnRate "
              "movements { new expansion contraction churn reactivation netNew } "
              "subscribers { active trialing pastDue paused } }",
    "cohorts": "cohorts { month cells { monthsSince subscribers revenue } }",
    "reasons": "cancellationReasons { reason count }",
    "forecast": "billingForecast { month amount renewals }",
}
METRICS = """query($start: Date!, $end: Date!, $interval: SubscriptionMetricsInterval,
  $families: [String!]) {
  subscriptionMetrics(currency: "USD", start: $start, end: $end, interval: $interval,
                      planFamilies: $families) { %s subscriptionErrors { field code } }
}"""


def queries():
    year_ago = (TODAY - timedelta(days=364)).isoformat()
    quarter_ago = (TODAY - timedelta(days=91)).isoformat()
    full = FIRST_DAY.isoformat()
    today = TODAY.isoformat()
    everything = " ".join(SELECTIONS.values())
    return [
        ("KPI summary, 12 months", SELECTIONS["summary"], year_ago, "MONTH", None),
        ("MRR series by month, 12 months", SELECTIONS["series"], year_ago, "MONTH", None),
        ("MRR series by week, 12 months", SELECTIONS["series"], year_ago, "WEEK", None),
        ("MRR series by day, 92 days", SELECTIONS["series"], quarter_ago, "DAY", None),
        ("MRR series by month, all history", SELECTIONS["series"], full, "MONTH", None),
        ("Cohort table, all history", SELECTIONS["cohorts"], full, "MONTH", None),
        ("Cancellation reasons, 12 months", SELECTIONS["reasons"], year_ago, "MONTH", None),
        ("Billing forecast, 12 months", SELECTIONS["forecast"], year_ago, "MONTH", None),
        ("Family 'club', series + summary", SELECTIONS["series"] + SELECTIONS["summary"],
         year_ago, "MONTH", ["club"]),
        ("Everything at once, 12 months", everything, year_ago, "MONTH", None),
    ], today


MRR = """query($now: DateTime!, $start: DateTime!) {
  subscriptionMrr(currency: "USD", date: $now, start: $start) {
    mrr movements { new expansion contraction churn reactivation netNew } } }"""


def measure(client, query, variables):
    cold, _body = timed(client, query, variables)
    warm = [timed(client, query, variables)[0] for _ in range(RUNS)]
    return cold, statistics.median(warm), max(warm)


def populate(count):
    owner = create_user("bench-owner@example.com", superuser=True)
    api = ApiClient()
    staff = api.as_user(login(api, owner.email))
    store = build_store(staff)
    add_product(staff, store, "Coffee beans", Decimal("20.00"),
                {"COFFEE-250G": Decimal("20.00")}, stock=10 ** 6)
    from saleor_subscriptions.testing import renewal_factories as rf

    variant_id = rf.variant_from_global_id(store.variants["COFFEE-250G"]).pk
    plans = make_plans(variant_id)
    movements, events, generated, copied = load(count, plans, variant_id)
    print("loaded %d subscriptions, %d events, %d movements: generated in %.1f s, COPY in %.1f s"
          % (count, events, movements, generated, copied), flush=True)
    started = time.perf_counter()
    metrics_rollup.rebuild()  # the rows were loaded as counted: one pass builds the totals
    rolled = time.perf_counter() - started
    started = time.perf_counter()
    forecast_rollup.rebuild()  # COPY ran with the triggers off: the forecast's totals too
    forecast_rolled = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT (SELECT COUNT(*) FROM saleor_subscriptions_metricsrollup), "
                       "(SELECT COUNT(*) FROM saleor_subscriptions_forecastrollup)")
        rollup_rows, forecast_rows = cursor.fetchone()
    analyzed = time.perf_counter() - started
    print("rollup built in %.1f s (%d rows); forecast totals in %.1f s (%d rows); ANALYZE %.1f s"
          % (rolled, rollup_rows, forecast_rolled, forecast_rows, analyzed), flush=True)
    return staff, movements


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--queries-only", action="store_true",
                        help="time the queries on the database the last run loaded")
    args = parser.parse_args()

    if args.queries_only:
        api = ApiClient()
        staff = api.as_user(login(api, "bench-owner@example.com"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT (SELECT COUNT(*) FROM saleor_subscriptions_subscription), "
                           "(SELECT COUNT(*) FROM saleor_subscriptions_mrrmovement)")
            args.subscriptions, movements = cursor.fetchone()
    else:
        staff, movements = populate(args.subscriptions)

    rows = []
    listed, today = queries()
    for label, selection, start, interval, families in listed:
        variables = {"start": start, "end": today, "interval": interval, "families": families}
        rows.append((label,) + measure(staff, METRICS % selection, variables))
    now = datetime.now(timezone.utc)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows.append(("subscriptionMrr (now, this month)",)
                + measure(staff, MRR, {"now": now.isoformat(), "start": month_start.isoformat()}))

    if os.path.exists(CONSOLE_DOCUMENT):
        document, source = open(CONSOLE_DOCUMENT).read(), "console/first_screen.graphql"
    else:
        document, source = open(OWN_FIRST_SCREEN).read(), "bench/console_first_screen.graphql"
    screen_variables = {"currency": "USD", "now": now.isoformat(),
                        "monthStart": month_start.isoformat(),
                        "start": (TODAY - timedelta(days=364)).isoformat(),
                        "end": today, "interval": "MONTH"}
    screen = measure(staff, document, screen_variables)

    width = max(len(row[0]) for row in rows) + 2
    print()
    print("%-*s %10s %10s %10s" % (width, "query (through /graphql/)", "cold ms", "median ms",
                                   "max ms"))
    for label, cold, median, slowest in rows:
        print("%-*s %10.1f %10.1f %10.1f" % (width, label, cold, median, slowest))
    print("%-*s %10.1f %10.1f %10.1f" % ((width, "console first screen (%s)" % source) + screen))
    slowest_query = max(row[3] for row in rows)
    print()
    print("bench-stats: subscriptions=%d movements=%d slowest_query_ms=%d "
          "console_first_screen_ms=%d" % (args.subscriptions, movements, round(slowest_query),
                                           round(screen[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
