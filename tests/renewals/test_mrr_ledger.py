"""The MRR ledger through a real store: checkouts (the factory's first movement), renewals at
localstripe, a decline that ends in cancellation (churn), an upgrade (expansion), a trial that
converts, and the subscriptionMrr query's numbers computed by hand."""
from decimal import Decimal

import graphene
from freezegun import freeze_time

from saleor_subscriptions.models import MrrMovement
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

utc = rf.utc
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    subscriptionErrors { field code message }
  }
}"""
MRR = """
query($currency: String!, $date: DateTime, $start: DateTime) {
  subscriptionMrr(currency: $currency, date: $date, start: $start) {
    mrr movements { new expansion contraction churn reactivation netNew }
    subscriptionErrors { field code }
  }
}"""


def mrr(api, date, start=None, currency="USD"):
    variables = {"currency": currency, "date": date.isoformat(),
                 "start": start.isoformat() if start else None}
    return api.raw(MRR, variables)["data"]["subscriptionMrr"]


def dec(value):
    return Decimal(str(value))  # Saleor's Decimal scalar answers JSON numbers


def kinds(subscription):
    return [(row.kind, row.amount, row.mrr_after)
            for row in MrrMovement.objects.filter(subscription=subscription).order_by("pk")]


def test_mrr_through_renewals_a_decline_an_upgrade_and_a_trial(renewal, customer_api, staff_api):
    renewal.configure(**{"Payment retry schedule": "1,2",
                         "Action after the last failed retry": "cancel"})
    variant = renewal.variant
    basic = create_plan(variant, name="basic", family="club", tier_rank=1,
                        price_amount=Decimal("15.00"))
    medium = create_plan(variant, name="medium", family="club", tier_rank=2,
                         price_amount=Decimal("25.00"))
    yearly = renewal.plan(name="Yearly", interval_unit="year", price=Decimal("120.00"))
    weekly = renewal.plan(name="Weekly", interval_unit="week", price=Decimal("7.00"))
    card = renewal.card()

    upgraded = renewal.subscription(plan=basic, card=card, start=utc(2028, 1, 1, 10))  # +15
    annual = renewal.subscription(plan=yearly, card=card, start=utc(2028, 1, 5, 10))  # +10
    declined = renewal.subscription(plan=basic, card=renewal.card(rf.DECLINED_CARD),
                                    start=utc(2028, 1, 3, 10))  # +15
    # A weekly trial is worth nothing until its first paid week: 7 * 365.25 / 12 / 7 = 30.44.
    trial = renewal.subscription(plan=weekly, card=card, start=utc(2028, 1, 20, 10),
                                 trial_end=utc(2028, 2, 10, 10))
    assert kinds(trial) == []

    renewal.run(utc(2028, 2, 1, 10))  # upgraded renews: no movement
    for day in (3, 4, 5):  # declined: past due (still MRR), then cancelled after two retries
        renewal.run(utc(2028, 2, day, 10))
    renewal.run(utc(2028, 2, 10, 10))  # the trial converts: new 30.44
    with freeze_time("2028-02-16 22:00:00"):  # 15 -> 25: expansion 10
        body = customer_api.raw(CHANGE, {
            "id": graphene.Node.to_global_id("CustomerSubscription", upgraded.pk),
            "plan": graphene.Node.to_global_id("SubscriptionPlan", medium.pk)})
    assert body["data"]["subscriptionChangePlan"]["subscriptionErrors"] == []

    assert kinds(upgraded) == [("new", Decimal("15.000"), Decimal("15.000")),
                               ("expansion", Decimal("10.000"), Decimal("25.000"))]
    assert kinds(annual) == [("new", Decimal("10.000"), Decimal("10.000"))]
    assert kinds(declined) == [("new", Decimal("15.000"), Decimal("15.000")),
                               ("churn", Decimal("-15.000"), Decimal("0.000"))]
    assert kinds(trial) == [("new", Decimal("30.440"), Decimal("30.440"))]

    january = mrr(staff_api, utc(2028, 1, 31, 23), start=utc(2028, 1, 1))
    assert january["subscriptionErrors"] == []
    assert dec(january["mrr"]) == Decimal("40")  # 15 + 10 + 15
    assert dec(january["movements"]["new"]) == Decimal("40")
    february = mrr(staff_api, utc(2028, 2, 29, 23), start=utc(2028, 2, 1))
    assert dec(february["mrr"]) == Decimal("65.44")  # 25 + 10 + 30.44
    movements = {key: dec(value) for key, value in february["movements"].items()}
    assert movements == {"new": Decimal("30.44"), "expansion": Decimal("10"),
                         "contraction": Decimal("0"), "churn": Decimal("-15"),
                         "reactivation": Decimal("0"), "netNew": Decimal("25.44")}
    assert dec(january["mrr"]) + movements["netNew"] == dec(february["mrr"])
    assert mrr(staff_api, utc(2028, 2, 29), currency="EUR")["mrr"] is not None
    bad = mrr(staff_api, utc(2028, 2, 29), start=utc(2028, 3, 1))
    assert bad["subscriptionErrors"] == [{"field": "start", "code": "INVALID"}]
    assert bad["mrr"] is None


def test_backfill_writes_one_movement_per_subscription_without_any(renewal):
    from io import StringIO

    from django.core.management import call_command

    plan = renewal.plan(price=Decimal("20.00"))
    old = renewal.subscription(plan=plan, quantity=2)
    cancelled = renewal.subscription(plan=plan)
    MrrMovement.objects.all().delete()  # as before the ledger existed
    cancelled.status = "cancelled"
    cancelled.save(update_fields=["status"])
    out = StringIO()
    call_command("backfill_mrr_ledger", "--now", "2028-03-01T00:00:00+00:00", stdout=out)
    assert "MRR movements written: 1" in out.getvalue()
    assert kinds(old) == [("new", Decimal("40.000"), Decimal("40.000"))]
    assert kinds(cancelled) == []
    call_command("backfill_mrr_ledger", stdout=StringIO())  # again: nothing more
    assert MrrMovement.objects.count() == 1
