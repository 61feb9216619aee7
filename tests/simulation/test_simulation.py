"""A small simulated store (30 subscribers, 3 months): the report's figures are what the database
holds, the ledger agrees with the subscriptions, Saleor's payments reconcile with our attempts,
and the same seed makes the same store, in one process or two."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    CycleStatus,
    PaymentAttempt,
    Subscription,
)
from saleor_subscriptions.services import mrr_ledger
from saleor_subscriptions.services.revenue_reconciliation import reconcile
from saleor_subscriptions.simulation import Parameters, run
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.store import add_product

END = datetime(2028, 4, 1, tzinfo=timezone.utc)
START = datetime(2028, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def plans(store, staff_api, plugin_on):
    add_product(staff_api, store, "Coffee club", Decimal("30.00"), {
        "CLUB-BASIC": Decimal("15.00"), "CLUB-PLUS": Decimal("25.00")}, stock=10 ** 6)
    basic = rf.variant_from_global_id(store.variants["CLUB-BASIC"])
    plus = rf.variant_from_global_id(store.variants["CLUB-PLUS"])
    made = [
        rf.make_plan(basic, name="Club basic", price=Decimal("15.00")),
        rf.make_plan(plus, name="Club plus", price=Decimal("25.00")),
        rf.make_plan(basic, name="Basic, 14-day trial", price=Decimal("15.00"), trial_days=14),
        rf.make_plan(basic, name="Basic weekly", interval_unit="week", price=Decimal("4.00")),
    ]
    for plan, rank in ((made[0], 1), (made[1], 2)):
        plan.family, plan.tier_rank = "club", rank
        plan.save(update_fields=["family", "tier_rank"])
    return made


def simulate(seed=1, workers=1):
    # High rates so three months of 30 subscribers see every kind of change.
    return run(Parameters(months=3, subscribers=30, seed=seed, end=END, cancel_rate=15,
                          pause_rate=10, upgrade_rate=15, flaky_card_share=25,
                          lost_card_share=10), workers=workers)


def test_the_report_is_what_the_database_holds(plans):
    report = simulate()
    assert (report.start, report.end) == (START, END)

    subscriptions = Subscription.objects.all()
    assert report.signed_up == subscriptions.count() == 30
    assert report.subscribers_at_start == 0
    assert all(START <= row.created_at < END for row in subscriptions)

    renewal_attempts = PaymentAttempt.objects.filter(purpose="renewal")
    paid = BillingCycle.objects.filter(cycle_index__gt=0, status=CycleStatus.PAID)
    assert report.renewals == paid.count() == renewal_attempts.filter(
        status=AttemptStatus.SUCCEEDED).count()
    assert report.declines == renewal_attempts.filter(status=AttemptStatus.FAILED).count()
    assert report.recoveries == paid.filter(attempt_count__gt=0).count()
    assert report.dunning_exhausted == BillingCycle.objects.filter(
        status=CycleStatus.ABANDONED).count()
    assert report.cancelled == subscriptions.filter(status="cancelled").count()
    assert report.expired == subscriptions.filter(status="expired").count()
    assert report.paused == sum(row.events.filter(type="paused").count() for row in subscriptions)
    assert sum(report.cancellation_reasons.values()) == report.cancelled
    for kind in ("renewals", "declines", "recoveries", "cancelled", "paused", "plan_changes"):
        assert getattr(report, kind) > 0, kind  # every kind of change happened

    (usd,) = report.currencies
    assert usd.mrr_start == 0
    assert usd.renewals == report.renewals
    assert usd.renewal_revenue == sum(row.amount for row in renewal_attempts.filter(
        status=AttemptStatus.SUCCEEDED))
    # The ledger's MRR is the subscriptions' own, and its movements add up to it.
    assert usd.mrr_end == mrr_ledger.mrr_at("USD", END) == sum(
        (mrr_ledger.current_mrr(row) for row in subscriptions), Decimal(0))
    assert usd.mrr_end == usd.mrr_start + usd.movements["net_new"]
    assert usd.movements["new"] > 0 and usd.movements["churn"] < 0
    assert usd.movements["expansion"] > 0

    # Saleor's captured payments are our records, month by month.
    for month in ("2028-01", "2028-02", "2028-03"):
        assert reconcile(month, "USD").difference == 0, month

    printed = report.lines()
    assert printed[1].startswith("MRR USD: start 0, end %s" % usd.mrr_end)
    assert "%d paid" % report.renewals in printed[2]


@pytest.mark.usefixtures("keep_committed_data")
def test_two_processes_make_the_same_store_as_one(transactional_db, plans):
    """A seed makes the same store however the work is shared. (Worker processes need the
    store committed: transactional_db; the one-process run is rolled back before they start.)"""
    with transaction.atomic():
        alone = simulate(seed=4).lines()
        transaction.set_rollback(True)
    assert simulate(seed=4, workers=2).lines() == alone
    assert Subscription.objects.count() == 30


def test_the_command_prints_progress_and_the_report(plans, capsys):
    call_command("simulate_subscriptions", "--months", "1", "--subscribers", "5", "--seed", "3",
                 "--end", "2028-02-01")
    out, err = capsys.readouterr()
    assert "simulated to 2028-02-01 (100% of the time, 100% of the work): 5 sign-ups" in err
    assert out.splitlines()[0] == "Simulated 2028-01-01 .. 2028-02-01 (seed 3)"
    assert "5 signed up" in out
