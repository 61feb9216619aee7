"""Renewal benchmark: a large due set renewed by worker processes — at once-answering gateway
(0 ms: the database phase) and at a real provider's latency within a charge budget — against the
cost of one Saleor checkoutComplete measured in the same run on the same store.

Workers are fresh processes that call the renewal service in a loop (what a Celery worker's task
does, without broker latency; the Celery path itself is covered by tests/fault), each with its
charging pool (SUBSCRIPTIONS_RENEWAL_CONCURRENCY). The gateway is the in-process fake
(localstripe slows down past ~1,500 PaymentIntents) with SUBSCRIPTIONS_FAKE_GATEWAY_LATENCY_MS.
The due set is bulk-inserted (no checkouts). Before the renewals, the budget alone is measured:
the workers' pool threads call the shared budget and the fake gateway at its latency with no
database work, which is the most the pacer and pools let through (`--pacer-only` runs just that).
Run: `make bench` (20,000 due), `make bench BENCH_ARGS=--large` (100,000).
"""
import argparse
import math
import multiprocessing
import os
import resource
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import django

django.setup()

from django.db import connection, connections  # noqa: E402

from saleor_subscriptions.domain import periods  # noqa: E402
from saleor_subscriptions.models import BillingCycle, CycleStatus, Subscription  # noqa: E402
from saleor_subscriptions.services.renewals import renew_due_subscriptions  # noqa: E402
from saleor_subscriptions.testing import renewal_factories as rf  # noqa: E402
from saleor_subscriptions.testing import storefront  # noqa: E402
from saleor_subscriptions.testing.client import ApiClient  # noqa: E402
from saleor_subscriptions.testing.plugins import configure_plugin  # noqa: E402
from saleor_subscriptions.testing.store import add_product, build_store  # noqa: E402
from saleor_subscriptions.testing.users import create_user, login  # noqa: E402

START = datetime(2028, 1, 31, 10, tzinfo=timezone.utc)
FIRST_DUE = datetime(2028, 3, 1, 9, tzinfo=timezone.utc)
UNLIMITED_BUDGET = 1000  # the most the setting takes; far above what 0 ms reaches here
POOL_HEADROOM = 1.5  # pool threads beyond budget × slowest latency / workers (Little's law)
BENCH_STARTED = time.monotonic()


def progress(message):
    print("[%6.0f s] %s" % (time.monotonic() - BENCH_STARTED, message), file=sys.stderr, flush=True)


def pool_for(budget, latency_ms, jitter_ms, workers):
    """Charges in flight per worker that keep the budget spent: budget × slowest latency over the
    workers (in flight = rate × latency), with headroom."""
    return max(int(math.ceil(budget * (latency_ms + jitter_ms) / 1000.0 / workers
                             * POOL_HEADROOM)), 1)


def build(staff):
    store = build_store(staff)
    add_product(staff, store, "Coffee beans", Decimal("20.00"), {"COFFEE-250G": Decimal("20.00")},
                stock=10 ** 8)
    # Batches long enough that the start (one charge alone) and end (the pool drains) of each
    # are a small share of it.
    configure_plugin(staff, **{"Stripe secret key": "sk_test_bench", "Renewal batch size": "500",
                               "Charge requests per second": str(UNLIMITED_BUDGET)})
    configure_plugin(staff, plugin_id="mirumee.payments.dummy")
    return store


def add_subscriptions(plan, user, method, count, history=0):
    """`count` subscriptions due at FIRST_DUE, each with `history` paid cycles behind it."""
    address, billing = rf.us_address(), rf.us_address()
    created = 0
    while created < count:
        chunk = min(2000, count - created)
        rows = Subscription.objects.bulk_create([Subscription(
            user=user, email=user.email, plan=plan, variant=plan.variant, quantity=1,
            status="active", currency="USD", unit_price_amount=plan.price_amount, anchor_at=START,
            cycle_index=history, current_period_start=START,
            current_period_end=periods.billing_date(START, plan.interval, 1),
            next_billing_at=periods.billing_date(START, plan.interval, 1), paid_cycles=1,
            shipping_address=address, billing_address=billing, shipping_method=method,
            gateway="saleor.subscriptions.stripe", customer_reference="cus_bench_%d" % i,
            payment_method_reference="pm_fake_ok", created_at=START,
        ) for i in range(created, created + chunk)])
        BillingCycle.objects.bulk_create([BillingCycle(
            subscription=row, cycle_index=index, period_start=START,
            period_end=START, status=CycleStatus.PAID, currency="USD", amount=plan.price_amount,
        ) for row in rows for index in range(history + 1)])
        created += chunk
    return created


def vacuum():
    """After a bulk load, what autovacuum would have done in a live store (planner statistics,
    visibility map), done now so it does not run during a timed run."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def in_process_renewals(now, count):
    """(renewed, seconds per renewal) for `count` renewals in this process, timed."""
    renewed, started = 0, time.perf_counter()
    while renewed < count:
        result = renew_due_subscriptions(now, limit=min(100, count - renewed))
        if not result.claimed:
            break
        renewed += result.renewed
    return renewed, (time.perf_counter() - started) / max(renewed, 1)


def queries_per_renewal(now, sample=40):
    """SQL statements per renewal over a sample of the current due set."""
    counter = {"n": 0}

    def count(execute, sql, params, many, context):
        counter["n"] += 1
        return execute(sql, params, many, context)

    renewed = 0
    with connection.execute_wrapper(count):
        while renewed < sample:
            result = renew_due_subscriptions(now, limit=10)
            if not result.claimed:
                break
            renewed += result.renewed
    return counter["n"] / max(renewed, 1), renewed


def _worker(now, results, cap):
    connections.close_all()
    renewed = 0
    while cap is None or renewed < cap:
        limit = None if cap is None else min(500, cap - renewed)
        result = renew_due_subscriptions(now, limit=limit)
        if not result.claimed:
            break
        renewed += result.renewed
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put((renewed, peak_kb / 1024.0))


def timed_run(now, workers, cap=None):
    """(renewed, seconds, peak RSS of a worker in MB): `workers` fresh processes (spawned, not
    forked: their memory is their own) renew what is due at `now`, each at most `cap`."""
    connections.close_all()
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    processes = [spawn.Process(target=_worker, args=(now, results, cap))
                 for _ in range(workers)]
    started = time.monotonic()
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    renewed = sum(count for count, _ in outcomes)
    return renewed, elapsed, max(peak for _, peak in outcomes)


def _charger(namespace, budget, calls, threads, go, results):
    """One worker of the budget-alone run: `threads` pool threads, `calls` charges in all;
    puts when each charge left (wall clock: the workers' clocks are one)."""
    from prices import Money

    from saleor_subscriptions.gateway.fake import get_fake_gateway
    from saleor_subscriptions.gateway.interface import ChargeRequest
    from saleor_subscriptions.gateway.ratelimit import throttle_for

    connections.close_all()
    gateway, wait = get_fake_gateway(), throttle_for(budget, namespace=namespace)
    left, sent, lock = [calls], [], threading.Lock()

    def run():
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            wait()
            sent.append(time.time())
            gateway.charge(ChargeRequest(Money("20.00", "USD"), "cus_bench", "pm_fake_ok",
                                         "bench-pacer-%s" % uuid.uuid4().hex))

    pool = [threading.Thread(target=run) for _ in range(threads)]
    go.wait()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put(sent)


def most_within(stamps, seconds):
    """The most of `stamps` in any window of `seconds`."""
    stamps, most, first = sorted(stamps), 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] > seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def budget_alone(workers, pool, budget, calls):
    """(charges per second, most in flight, most sent in any 0.1 s, in any 1 s): `workers`
    processes × `pool` threads charge the fake gateway within the shared budget, no database
    work. The rate is the charges sent between the first and the last (neither the workers'
    start nor the last answer counts)."""
    from saleor_subscriptions.gateway.fake import get_fake_gateway

    gateway = get_fake_gateway()
    gateway.reset()
    spawn = multiprocessing.get_context("spawn")
    go, results = spawn.Barrier(workers + 1), spawn.Queue()
    namespace = "bench-budget-alone-%s" % uuid.uuid4().hex
    share = [calls // workers + (1 if index < calls % workers else 0) for index in range(workers)]
    processes = [spawn.Process(target=_charger, args=(namespace, budget, count, pool, go, results))
                 for count in share]
    for process in processes:
        process.start()
    go.wait()  # every worker has imported Django and connected
    sent = [stamp for _ in processes for stamp in results.get()]
    for process in processes:
        process.join()
    peak = gateway.peak_in_flight()
    gateway.reset()
    rate = (len(sent) - 1) / max(max(sent) - min(sent), 1e-9)
    return rate, peak, most_within(sent, 0.1), most_within(sent, 1.0)


def set_budget(staff, per_second):
    configure_plugin(staff, **{"Charge requests per second": str(per_second)})


def set_latency(latency_ms, jitter_ms):
    os.environ["SUBSCRIPTIONS_FAKE_GATEWAY_LATENCY_MS"] = str(latency_ms)
    os.environ["SUBSCRIPTIONS_FAKE_GATEWAY_JITTER_MS"] = str(jitter_ms)


def checkout_seconds(api, store, runs):
    """Mean time of checkoutComplete for a one-line basket (dummy gateway)."""
    spent = []
    for _ in range(runs):
        checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
        storefront.choose_shipping(api, checkout)
        storefront.pay(api, checkout, "charged", gateway="mirumee.payments.dummy")
        started = time.perf_counter()
        result = storefront.complete(api, checkout)
        spent.append(time.perf_counter() - started)
        assert result["order"], result["checkoutErrors"]
    return sum(spent) / len(spent)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=20000)
    parser.add_argument("--large", action="store_true", help="100,000 due subscriptions")
    parser.add_argument("--checkouts", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=None,
                        help="charges in flight per worker (default: budget × (latency + jitter) "
                        "/ workers × %g)" % POOL_HEADROOM)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--jitter-ms", type=float, default=100)
    parser.add_argument("--budget", type=float, default=50, help="charges per second, shared")
    parser.add_argument("--single-worker-sample", type=int, default=1000)
    parser.add_argument("--budget-alone-seconds", type=float, default=20,
                        help="length of the budget-alone run, at the budget")
    parser.add_argument("--pacer-only", action="store_true",
                        help="only the budget-alone run (no database)")
    args = parser.parse_args()
    if args.large:
        args.subscriptions = 100000
    if args.pool is None:
        args.pool = pool_for(args.budget, args.latency_ms, args.jitter_ms, args.workers)
    os.environ["SUBSCRIPTIONS_RENEWAL_CONCURRENCY"] = str(args.pool)
    from saleor_subscriptions.gateway.fake import get_fake_gateway

    set_latency(args.latency_ms, args.jitter_ms)
    progress("budget alone: %d workers × pool %d at %g/s" % (args.workers, args.pool, args.budget))
    alone, alone_peak, most_tenth, most_second = budget_alone(
        args.workers, args.pool, args.budget, int(args.budget * args.budget_alone_seconds))
    alone_rows = [
        ("budget alone (no database), %d workers × pool %d: charges per second" % (
            args.workers, args.pool), "%.1f" % alone),
        ("  charges per second / budget", "%.2f" % (alone / args.budget)),
        ("  charges in flight at once, at most", "%d" % alone_peak),
        ("  most charges sent in any 0.1 s (budget × 0.1 = %g)" % (args.budget / 10),
         "%d" % most_tenth),
        ("  most charges sent in any 1 s", "%d" % most_second),
    ]
    if args.pacer_only:
        for name, value in alone_rows:
            print("%s  %s" % (name, value))
        return 0
    set_latency(0, 0)
    get_fake_gateway().reset()
    owner = create_user("bench-owner@example.com", superuser=True)
    api = ApiClient()
    staff = api.as_user(login(api, owner.email))
    store = build(staff)
    customer = create_user("bench-customer@example.com")
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    method = rf.shipping_method_from_global_id(store.shipping_method_id)
    plan = rf.make_plan(variant, price=Decimal("20.00"))
    checkout = checkout_seconds(api, store, args.checkouts)

    rows = []
    progress("loading the due set")
    small = add_subscriptions(plan, customer, method, 1000)
    q_small, _ = queries_per_renewal(FIRST_DUE)
    vacuum()
    start_sample, start_seconds = in_process_renewals(FIRST_DUE, 200)
    loading = time.monotonic()
    add_subscriptions(plan, customer, method, args.subscriptions - small)
    loading = time.monotonic() - loading
    progress("%d due subscriptions bulk-loaded in %.1f s" % (args.subscriptions - small, loading))
    q_large, sampled = queries_per_renewal(FIRST_DUE)
    long_history = rf.make_plan(variant, name="Long history", price=Decimal("20.00"))
    add_subscriptions(long_history, customer, method, 60, history=36)
    Subscription.objects.filter(plan=long_history).update(next_billing_at=FIRST_DUE - timedelta(hours=2))
    q_history, _ = queries_per_renewal(FIRST_DUE - timedelta(hours=1), sample=40)
    rows.append(("queries/renewal, 1,000 due", "%.1f" % q_small))
    rows.append(("queries/renewal, %d due" % args.subscriptions, "%.1f" % q_large))
    rows.append(("queries/renewal, 36 past cycles each", "%.1f" % q_history))

    due = Subscription.objects.filter(next_billing_at__lte=FIRST_DUE).count()
    vacuum()
    # 0 ms: the database phase alone (claim, cycle, order, attempt, outcome), budget unlimited.
    progress("0 ms, 1 worker")
    renewed_1, elapsed_1, rss_1 = timed_run(FIRST_DUE, 1, cap=args.single_worker_sample)
    checkout_after = checkout_seconds(api, store, args.checkouts)
    progress("0 ms, %d workers" % args.workers)
    renewed_2, elapsed_2, rss_2 = timed_run(FIRST_DUE, args.workers)
    db_phase = renewed_2 / elapsed_2
    # At the provider's latency, within its budget: the next period of every subscription.
    vacuum()
    set_latency(args.latency_ms, args.jitter_ms)
    set_budget(staff, args.budget)
    gateway = get_fake_gateway()
    charges_before = gateway.charges_count()
    second_due = periods.billing_date(START, plan.interval, 2) + timedelta(hours=1)
    progress("%d ms, budget %g/s, %d workers × pool %d" % (
        args.latency_ms, args.budget, args.workers, args.pool))
    renewed_3, elapsed_3, rss_3 = timed_run(second_due, args.workers)
    at_latency = renewed_3 / elapsed_3
    charged_3 = gateway.charges_count() - charges_before
    progress("done")
    per_renewal = elapsed_1 / max(renewed_1, 1)
    # Each renewal leaves an unfulfilled order whose allocation every later checkout and renewal
    # of the variant sums over (Saleor 2.10 keeps no running total). The run's renewals are set
    # against the checkout at the store's states at the start and at the end of that run.
    checkout_during = (checkout + checkout_after) / 2
    ratio = per_renewal / checkout_during
    peak_rss = max(rss_1, rss_2, rss_3)
    rows += [("due set bulk-loaded (%d subscriptions, s)" % (args.subscriptions - small),
              "%.1f" % loading)] + alone_rows + [
        ("checkoutComplete, mean of %d, before renewals (s)" % args.checkouts, "%.4f" % checkout),
        ("checkoutComplete, mean of %d, after 1 worker (s)" % args.checkouts,
         "%.4f" % checkout_after),
        ("due at the first period", "%d" % due),
        ("0 ms, 1 worker: renewed (sample)", "%d" % renewed_1),
        ("0 ms, 1 worker: renewals per second", "%.1f" % (renewed_1 / elapsed_1)),
        ("0 ms, 1 worker: seconds per renewal", "%.4f" % per_renewal),
        ("0 ms, 1 worker: peak RSS (MB)", "%.0f" % rss_1),
        ("0 ms, %d workers: renewed (rest of the period)" % args.workers, "%d" % renewed_2),
        ("0 ms, %d workers: renewals per second (DB phase)" % args.workers, "%.1f" % db_phase),
        ("0 ms, %d workers: peak RSS per worker (MB)" % args.workers, "%.0f" % rss_2),
        ("%d ms ± %d, budget %g/s, %d workers × pool %d: renewed" % (
            args.latency_ms, args.jitter_ms, args.budget, args.workers, args.pool),
         "%d" % renewed_3),
        ("  renewals per second", "%.1f" % at_latency),
        ("  renewals per second / budget", "%.2f" % (at_latency / args.budget)),
        ("  budget used: charges per second / budget", "%.2f" % (
            charged_3 / elapsed_3 / args.budget)),
        ("  charges in flight at once, at most (pool total %d)" % (args.pool * args.workers),
         "%d" % gateway.peak_in_flight()),
        ("  charges made in this run", "%d" % charged_3),
        ("  peak RSS per worker (MB)", "%.0f" % rss_3),
        ("%d renewals in this process at the start (s each)" % start_sample,
         "%.4f" % start_seconds),
        ("  / checkoutComplete before (same store state)", "%.2f" % (start_seconds / checkout)),
        ("1 worker renewal / checkoutComplete before", "%.2f" % (per_renewal / checkout)),
        ("1 worker renewal / checkoutComplete after", "%.2f" % (per_renewal / checkout_after)),
        ("1 worker renewal / mean of both (the ratio below)", "%.2f" % ratio),
        ("gateway charges (fake), all runs", "%d" % gateway.charges_count()),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print("%s  %s" % (name.ljust(width), value))
    print("bench-renewals: subscriptions=%d workers=%d renewals_per_second=%.1f "
          "queries_per_renewal=%.1f renewal_to_checkout_ratio=%.2f peak_rss_mb=%.0f" % (
              args.subscriptions, args.workers, db_phase, q_large, ratio, peak_rss))
    print("bench-throughput: subscriptions=%d workers=%d latency_ms=%d budget_per_second=%g "
          "renewals_per_second=%.1f db_phase_per_second=%.1f peak_rss_mb=%.0f" % (
              args.subscriptions, args.workers, args.latency_ms, args.budget, at_latency,
              db_phase, peak_rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
