"""subscriptionMetrics through /graphql/ on a small store made by the product's own code paths
(checkout's first event, renewals at localstripe, a decline that ends in cancellation, trials,
a downgrade, a cancellation and its reactivation, a pause). Every expected number is computed
by hand in the comments (README "Subscription metrics" explains each one).

The store (USD; basic 10/month and premium 30/month in family "club", yearly 120/year = 10 a
month, weekly 7/week with a 14-day trial = 7 * 365.25 / 12 / 7 = 30.44 a month):
  A basic    Jan 5  new 10
  B basic    Jan 10 new 10, Jan 25 cancelled (not_using) churn -10, Feb 1 reactivated +10
  G premium  Jan 15 new 30, Feb 20 downgraded to basic: contraction -20
  C yearly   Jan 20 new 10, Mar 10 paused: churn -10
  D weekly   Jan 25 trial, Feb 8 converts: new 30.44
  H weekly   Jan 26 trial, Feb 5 cancelled in the trial (not_using): no MRR ever
  E premium  Feb 1 new 30 (a declining card), Mar 1 past due, Mar 3 cancelled by dunning -30
"""
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.models import EventType, MrrMovement, Subscription
from saleor_subscriptions.services.events import record_event
from saleor_subscriptions.services.lifecycle import Actor
from saleor_subscriptions.services.lifecycle import cancel as cancelling
from saleor_subscriptions.services.lifecycle import pause as pausing
from saleor_subscriptions.services.lifecycle.plan_change import change_plan
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.factories import create_plan

utc = rf.utc
METRICS = """
query($currency: String!, $start: Date!, $end: Date!, $interval: SubscriptionMetricsInterval,
      $plans: [ID!], $families: [String!]) {
  subscriptionMetrics(currency: $currency, start: $start, end: $end, interval: $interval,
                      planIds: $plans, planFamilies: $families) {
    series {
      start end mrr arr payingSubscribers churnedSubscribers customerChurnRate revenueChurnRate
      movements { new expansion contraction churn reactivation netNew }
      subscribers { active trialing pastDue paused }
    }
    summary {
      mrr arr payingSubscribers churnedSubscribers customerChurnRate revenueChurnRate
      netRevenueRetention arpu ltv trialConversionRate dunningRecoveryRate
      retentionOfferSaveRate
      movements { new expansion contraction churn reactivation netNew }
      subscribers { active trialing pastDue paused }
    }
    cancellationReasons { reason count }
    cohorts { month cells { monthsSince subscribers revenue } }
    subscriptionErrors { field code }
  }
}"""
STAFF = Actor()


def metrics(api, start, end, interval="MONTH", currency="USD", plans=None, families=None):
    body = api.raw(METRICS, {"currency": currency, "start": start, "end": end,
                             "interval": interval, "plans": plans, "families": families})
    assert "errors" not in body, body
    answer = body["data"]["subscriptionMetrics"]
    assert answer["subscriptionErrors"] == []
    return answer


def d(value):
    return None if value is None else Decimal(str(value))


def movements(point):
    return {kind: d(value) for kind, value in point["movements"].items()}


def subscribe(renewal, plan, start, card=None, trial_end=None):
    """As checkout leaves it: the subscription, its `created` event and its first movement."""
    subscription = renewal.subscription(plan=plan, card=card or renewal.card(), start=start,
                                        trial_end=trial_end)
    MrrMovement.objects.filter(subscription=subscription).delete()  # the factory's own
    record_event(subscription, EventType.CREATED, date=start)
    return subscription


@pytest.fixture
def shop(renewal):
    renewal.configure(**{"Payment retry schedule": "1,2",
                         "Action after the last failed retry": "cancel"})
    variant = renewal.variant
    basic = create_plan(variant, name="basic", family="club", tier_rank=1,
                        price_amount=Decimal("10.00"))
    premium = create_plan(variant, name="premium", family="club", tier_rank=2,
                          price_amount=Decimal("30.00"))
    yearly = renewal.plan(name="Yearly", interval_unit="year", price=Decimal("120.00"))
    weekly = renewal.plan(name="Weekly", interval_unit="week", price=Decimal("7.00"),
                          trial_days=14)
    a = subscribe(renewal, basic, utc(2028, 1, 5, 10))
    b = subscribe(renewal, basic, utc(2028, 1, 10, 10))
    g = subscribe(renewal, premium, utc(2028, 1, 15, 10))
    c = subscribe(renewal, yearly, utc(2028, 1, 20, 10))
    subscribe(renewal, weekly, utc(2028, 1, 25, 9), trial_end=utc(2028, 2, 8, 9))
    h = subscribe(renewal, weekly, utc(2028, 1, 26, 9), trial_end=utc(2028, 2, 9, 9))
    cancelling.cancel(b.pk, STAFF, utc(2028, 1, 25, 12), immediately=True, reason="not_using")
    cancelling.reactivate(b.pk, STAFF, utc(2028, 2, 1, 8))
    e = subscribe(renewal, premium, utc(2028, 2, 1, 10), card=renewal.card(rf.DECLINED_CARD))
    cancelling.cancel(h.pk, STAFF, utc(2028, 2, 5, 12), immediately=True, reason="not_using")
    renewal.run(utc(2028, 2, 8, 10))  # D converts; A renews
    renewal.run(utc(2028, 2, 15, 11))  # renewals only (B, G, D)
    change_plan(g.pk, STAFF, utc(2028, 2, 20, 12), load_settings(), basic, 1, immediately=True)
    for day in (1, 2, 3):  # E declines: past due, then cancelled after two retries
        renewal.run(utc(2028, 3, day, 11))
    pausing.pause(c.pk, STAFF, utc(2028, 3, 10, 12), load_settings())
    assert Subscription.objects.get(pk=e.pk).status == "cancelled"
    assert Subscription.objects.get(pk=a.pk).status == "active"
    return {"basic": basic, "premium": premium}


def test_monthly_series_of_the_store(shop, staff_api):
    jan, feb, mar = metrics(staff_api, "2028-01-01", "2028-03-31")["series"]
    assert [(p["start"], p["end"]) for p in (jan, feb, mar)] == [
        ("2028-01-01", "2028-01-31"), ("2028-02-01", "2028-02-29"), ("2028-03-01", "2028-03-31")]
    # Jan: new A 10 + B 10 + G 30 + C 10; B's churn -10 -> MRR 50, ARR 600
    assert movements(jan) == {"new": Decimal("60"), "expansion": 0, "contraction": 0,
                              "churn": Decimal("-10"), "reactivation": 0, "netNew": Decimal("50")}
    assert (d(jan["mrr"]), d(jan["arr"])) == (Decimal("50"), Decimal("600"))
    # paying A, G, C; B cancelled; D and H in their trial; nobody paid at the start: no rates
    assert jan["payingSubscribers"] == 3 and jan["churnedSubscribers"] == 1
    assert jan["subscribers"] == {"active": 3, "trialing": 2, "pastDue": 0, "paused": 0}
    assert jan["customerChurnRate"] is None and jan["revenueChurnRate"] is None
    # Feb: new E 30 + D 30.44; B back +10; G 30 -> 10: -20 -> MRR 100.44
    assert movements(feb) == {"new": Decimal("60.44"), "expansion": 0,
                              "contraction": Decimal("-20"), "churn": 0,
                              "reactivation": Decimal("10"), "netNew": Decimal("50.44")}
    assert d(feb["mrr"]) == Decimal("100.44") and d(feb["arr"]) == Decimal("1205.28")
    assert feb["payingSubscribers"] == 6 and feb["churnedSubscribers"] == 0
    assert feb["subscribers"] == {"active": 6, "trialing": 0, "pastDue": 0, "paused": 0}
    # customer churn 0 / 3; revenue churn (0 + 20) / 50
    assert (d(feb["customerChurnRate"]), d(feb["revenueChurnRate"])) == (0, Decimal("0.4"))
    # Mar: E -30, C paused -10 -> MRR 60.44
    assert movements(mar) == {"new": 0, "expansion": 0, "contraction": 0,
                              "churn": Decimal("-40"), "reactivation": 0,
                              "netNew": Decimal("-40")}
    assert d(mar["mrr"]) == Decimal("60.44")
    assert mar["payingSubscribers"] == 4 and mar["churnedSubscribers"] == 2
    assert mar["subscribers"] == {"active": 4, "trialing": 0, "pastDue": 0, "paused": 1}
    # 2 / 6 = 0.3333; 40 / 100.44 = 0.39825 -> 0.3982
    assert d(mar["customerChurnRate"]) == Decimal("0.3333")
    assert d(mar["revenueChurnRate"]) == Decimal("0.3982")


def test_daily_series_shows_the_past_due_days(shop, staff_api):
    days = metrics(staff_api, "2028-03-01", "2028-03-03", interval="DAY")["series"]
    # E past due from its first decline (Mar 1) until dunning cancels it (Mar 3)
    assert [p["subscribers"]["pastDue"] for p in days] == [1, 1, 0]
    assert [p["subscribers"]["active"] for p in days] == [5, 5, 5]
    # February's 100.44 until E's churn of -30 on Mar 3 (C's pause comes on Mar 10)
    assert [d(p["mrr"]) for p in days] == [Decimal("100.44"), Decimal("100.44"),
                                           Decimal("70.44")]


def test_summary_rates_over_february_and_march(shop, staff_api):
    summary = metrics(staff_api, "2028-02-01", "2028-03-31")["summary"]
    assert d(summary["mrr"]) == Decimal("60.44") and d(summary["arr"]) == Decimal("725.28")
    assert movements(summary) == {"new": Decimal("60.44"), "expansion": 0,
                                  "contraction": Decimal("-20"), "churn": Decimal("-40"),
                                  "reactivation": Decimal("10"), "netNew": Decimal("10.44")}
    assert summary["payingSubscribers"] == 4 and summary["churnedSubscribers"] == 2
    # churned C and E / paying at the start A, G, C: 2 / 3
    assert d(summary["customerChurnRate"]) == Decimal("0.6667")
    # (churn 40 + contraction 20) / MRR at the start 50
    assert d(summary["revenueChurnRate"]) == Decimal("1.2")
    # subscribers from before February (A, B, G, C): 50 + contraction -20 + churn -10 (C);
    # B's reactivation and E's churn are not theirs: 20 / 50
    assert d(summary["netRevenueRetention"]) == Decimal("0.4")
    # 60.44 / 4 paying
    assert d(summary["arpu"]) == Decimal("15.11")
    # monthly churn 0.6667 * 30.4375 / 60 days = 0.3382; 15.11 / 0.3382 = 44.678
    assert d(summary["ltv"]) == Decimal("44.68")
    # trials that ended: D to active, H cancelled
    assert d(summary["trialConversionRate"]) == Decimal("0.5")
    # E left past due to cancelled: nothing recovered of 1
    assert d(summary["dunningRecoveryRate"]) == Decimal("0")
    assert summary["retentionOfferSaveRate"] is None


def test_cancellation_reasons_and_cohorts(shop, staff_api):
    answer = metrics(staff_api, "2028-01-01", "2028-03-31")
    assert answer["cancellationReasons"] == [{"reason": "NOT_USING", "count": 2},
                                             {"reason": "PAYMENT_FAILED", "count": 1}]
    jan, feb, mar = answer["cohorts"]
    cells = [(c["monthsSince"], c["subscribers"], d(c["revenue"])) for c in jan["cells"]]
    # January's sign-ups A, B, G, C, D, H: paying A, G, C (50); then A, B, G 10, C, D (70.44);
    # then without C (60.44)
    assert jan["month"] == "2028-01-01"
    assert cells == [(0, 3, Decimal("50")), (1, 5, Decimal("70.44")), (2, 4, Decimal("60.44"))]
    assert [(c["subscribers"], d(c["revenue"])) for c in feb["cells"]] == [
        (1, Decimal("30")), (0, Decimal("0"))]
    assert [(c["subscribers"], d(c["revenue"])) for c in mar["cells"]] == [(0, Decimal("0"))]


def test_filters_by_family_and_plan(shop, staff_api):
    club = metrics(staff_api, "2028-01-01", "2028-03-31", families=["club"])["series"]
    # A, B, G and E: Jan new 50 churn -10; Feb E 30, B 10, G -20 (both plans are club's)
    assert [d(p["mrr"]) for p in club] == [Decimal("40"), Decimal("60"), Decimal("30")]
    assert movements(club[1])["contraction"] == Decimal("-20")
    assert club[2]["subscribers"]["active"] == 3
    premium_id = graphene.Node.to_global_id("SubscriptionPlan", shop["premium"].pk)
    premium = metrics(staff_api, "2028-01-01", "2028-03-31", plans=[premium_id])["series"]
    # G's 30 leaves premium in Feb (a contraction of premium), E's 30 comes and goes
    assert [d(p["mrr"]) for p in premium] == [Decimal("30"), Decimal("30"), Decimal("0")]
    assert movements(premium[1]) == {"new": Decimal("30"), "expansion": 0,
                                     "contraction": Decimal("-30"), "churn": 0,
                                     "reactivation": 0, "netNew": Decimal("0")}
    assert [p["subscribers"]["active"] for p in premium] == [1, 1, 0]
    assert [p["payingSubscribers"] for p in premium] == [1, 1, 0]


def test_other_currencies_are_apart(shop, staff_api):
    series = metrics(staff_api, "2028-01-01", "2028-03-31", currency="EUR")["series"]
    assert [d(p["mrr"]) for p in series] == [0, 0, 0]


def test_retention_offer_save_rate_counts_offer_events(shop, staff_api):
    a = Subscription.objects.order_by("pk").first()
    for kind in ("retention_offered", "retention_offered",
                 "retention_offer_accepted"):
        record_event(a, kind, date=utc(2028, 3, 5, 10))
    summary = metrics(staff_api, "2028-03-01", "2028-03-31")["summary"]
    assert d(summary["retentionOfferSaveRate"]) == Decimal("0.5")


def test_only_manage_orders_sees_metrics(shop, staff_api, customer_api):
    query = '{ subscriptionMetrics(currency: "USD", start: "2028-01-01", end: "2028-03-31") ' \
            '{ summary { mrr } } }'
    refused = [customer_api, app_api(staff_api, "no orders", ["MANAGE_PRODUCTS"])]
    for client in refused:
        body = client.raw(query)
        assert body["data"]["subscriptionMetrics"] is None
        assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    body = app_api(staff_api, "orders", ["MANAGE_ORDERS"]).raw(query)
    assert d(body["data"]["subscriptionMetrics"]["summary"]["mrr"]) == Decimal("60.44")


@pytest.mark.parametrize("arguments, field", [
    ('currency: "US", start: "2028-01-01", end: "2028-03-31"', "currency"),
    ('currency: "USD", start: "2028-04-01", end: "2028-03-31"', "start"),
    ('currency: "USD", start: "2020-01-01", end: "2028-03-31"', "end"),
    ('currency: "USD", start: "2026-01-01", end: "2028-03-31", interval: DAY', "interval"),
    ('currency: "USD", start: "2028-01-01", end: "2028-03-31", planIds: ["x"]', "planIds"),
])
def test_bad_ranges_are_typed_errors(staff_api, arguments, field):
    body = staff_api.raw("{ subscriptionMetrics(%s) { summary { mrr } "
                         "subscriptionErrors { field code } } }" % arguments)
    answer = body["data"]["subscriptionMetrics"]
    assert answer["summary"] is None
    assert answer["subscriptionErrors"] == [{"field": field, "code": "INVALID"}]


FORECAST = """
query($plans: [ID!]) {
  subscriptionMetrics(currency: "EUR", start: "2028-04-01", end: "2028-04-30", planIds: $plans) {
    billingForecast { month amount renewals }
  }
}"""


def test_billing_forecast_of_the_next_twelve_months(renewal, staff_api):
    """Asked on 2028-04-15 (EUR, net of tax):
      F1 monthly 10, next May 1               -> May .. Mar: 10 each
      F2 yearly 120, next Jun 10              -> Jun: 120
      F3 monthly 20, next Apr 20, 25 from Aug -> Apr .. Jul: 20; Aug .. Mar: 25
      F4 monthly 10, cancels at period end    -> nothing
      F5 weekly 7, next Apr 17, 2 of 3 cycles left -> Apr 17, Apr 24: 14
      F6 monthly 10 moving to 40 at its next billing (scheduled plan), next May 3 -> 40 each
    """
    monthly = renewal.plan(name="M", price=Decimal("10.00"), currency="EUR")
    dearer = renewal.plan(name="M20", price=Decimal("20.00"), currency="EUR")
    big = renewal.plan(name="M40", price=Decimal("40.00"), currency="EUR")
    yearly = renewal.plan(name="Y", interval_unit="year", price=Decimal("120.00"),
                          currency="EUR")
    weekly = renewal.plan(name="W", interval_unit="week", price=Decimal("7.00"),
                          currency="EUR", billing_cycles=3)
    card = renewal.card()

    def at(plan, next_billing, **fields):
        subscription = renewal.subscription(plan=plan, card=card, start=utc(2028, 4, 1, 9))
        Subscription.objects.filter(pk=subscription.pk).update(next_billing_at=next_billing,
                                                                **fields)

    at(monthly, utc(2028, 5, 1, 9))
    at(yearly, utc(2028, 6, 10, 9))
    at(dearer, utc(2028, 4, 20, 9), scheduled_price_amount=Decimal("25.00"),
       scheduled_price_at=utc(2028, 8, 1))
    at(monthly, utc(2028, 5, 1, 9), cancel_at_period_end=True)
    at(weekly, utc(2028, 4, 17, 9))
    at(monthly, utc(2028, 5, 3, 9), scheduled_plan=big)
    with freeze_time("2028-04-15 12:00:00"):
        body = staff_api.raw(FORECAST)
    forecast = [(m["month"], d(m["amount"]), m["renewals"])
                for m in body["data"]["subscriptionMetrics"]["billingForecast"]]
    assert forecast == [
        ("2028-04-01", Decimal("34"), 3),
        ("2028-05-01", Decimal("70"), 3),
        ("2028-06-01", Decimal("190"), 4),
        ("2028-07-01", Decimal("70"), 3),
        ("2028-08-01", Decimal("75"), 3),
        ("2028-09-01", Decimal("75"), 3),
        ("2028-10-01", Decimal("75"), 3),
        ("2028-11-01", Decimal("75"), 3),
        ("2028-12-01", Decimal("75"), 3),
        ("2029-01-01", Decimal("75"), 3),
        ("2029-02-01", Decimal("75"), 3),
        ("2029-03-01", Decimal("75"), 3),
    ]
    with freeze_time("2028-04-15 12:00:00"):
        only_yearly = staff_api.raw(FORECAST, {"plans": [
            graphene.Node.to_global_id("SubscriptionPlan", yearly.pk)]})
    amounts = [d(m["amount"]) for m in only_yearly["data"]["subscriptionMetrics"][
        "billingForecast"]]
    assert amounts == [0, 0, Decimal("120")] + [0] * 9


def test_rebuilding_the_day_totals_gives_the_same_totals(shop, staff_api):
    from saleor_subscriptions.models import MetricsRollup
    from saleor_subscriptions.services import metrics_rollup

    def totals():
        return sorted(MetricsRollup.objects.exclude(count=0, amount=0).values_list(
            "day", "currency", "plan_id", "measure", "cohort", "count", "amount"))

    metrics_rollup.refresh()
    counted = totals()
    assert counted
    metrics_rollup.rebuild()
    assert totals() == counted


# The forecast's groups computed from the subscriptions themselves (what the forecast read before
# it had its totals): the rollup must give exactly these.
DIRECT_SCHEDULED = """
SELECT date_trunc('day', s.next_billing_at) AS first_billing, p.interval_unit, p.interval_count,
       GREATEST(s.intro_until_cycle - s.paid_cycles, 0) AS intro_left,
       p.billing_cycles - s.paid_cycles AS cycles_left,
       date_trunc('day', s.scheduled_price_at) AS change_from,
       COUNT(*),
       SUM(COALESCE(sp.price_amount, s.unit_price_amount)
           * COALESCE(s.scheduled_quantity, s.quantity)) AS regular,
       SUM(COALESCE(s.intro_price_amount, 0) * s.quantity) AS intro,
       SUM(s.scheduled_price_amount * s.quantity) AS changed
FROM saleor_subscriptions_subscription s
JOIN saleor_subscriptions_subscriptionplan p ON p.id = COALESCE(s.scheduled_plan_id, s.plan_id)
LEFT JOIN saleor_subscriptions_subscriptionplan sp ON sp.id = s.scheduled_plan_id
WHERE s.currency = %(currency)s AND s.status IN ('active', 'past_due', 'trialing')
  AND NOT s.cancel_at_period_end AND s.next_billing_at IS NOT NULL {plans}
GROUP BY 1, 2, 3, 4, 5, 6
"""


def direct_groups(currency, plan_ids):
    from django.db import connection

    from saleor_subscriptions.services.forecast_rollup import groups_of

    plans = "AND s.plan_id = ANY(%(plans)s)" if plan_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(DIRECT_SCHEDULED.format(plans=plans),
                       {"currency": currency, "plans": list(plan_ids or ())})
        return groups_of(cursor.fetchall())


def assert_rollup_matches_the_subscriptions(now, plan_sets):
    """The forecast from the totals equals the one from the subscriptions, group by group and
    month by month; returns the whole store's forecast."""
    from saleor_subscriptions.domain import forecast as forecasting
    from saleor_subscriptions.domain.metrics import month_start
    from saleor_subscriptions.services import forecast_rollup

    def ordered(groups):
        return sorted(groups, key=lambda g: (g.first_billing, g.interval.unit, g.interval.count,
                                             g.intro_cycles_left, g.cycles_left or -1,
                                             g.change_from or now))

    answers = {}
    for plan_ids in plan_sets:
        rolled = forecast_rollup.scheduled_billing("USD", plan_ids)
        direct = direct_groups("USD", plan_ids)
        assert ordered(rolled) == ordered(direct)
        months = [forecasting.forecast(groups, month_start(now.date()), 12, now)
                  for groups in (rolled, direct)]
        assert months[0] == months[1]
        answers[plan_ids] = months[0]
    return answers[None]


def test_forecast_totals_follow_every_change(shop, renewal):
    """Purchases, renewals, a reactivation, an immediate downgrade, dunning and a pause (the
    shop), then a resume, a scheduled plan change (with a new quantity) whose plan's price then
    changes, a scheduled price change, an intro price, a cancellation at period end, renewals
    that apply the scheduled changes and a deleted subscription: after each step the totals
    (kept by the trigger) give the same forecast as the subscriptions themselves, and the same
    totals as summing them again from scratch."""
    from saleor_subscriptions.models import ForecastRollup
    from saleor_subscriptions.services import forecast_rollup, price_changes

    basic, premium = shop["basic"], shop["premium"]
    plan_sets = [None, (basic.pk,), (premium.pk,), (basic.pk, premium.pk)]
    by_email = Subscription.objects.order_by("created_at")
    a, b, g, c, d_ = (by_email[index] for index in (0, 1, 2, 3, 4))
    assert_rollup_matches_the_subscriptions(utc(2028, 3, 11), plan_sets)

    renewal.run(utc(2028, 3, 12, 8))  # A renews (Mar 5)
    pausing.resume(c.pk, STAFF, utc(2028, 3, 12, 9))
    change_plan(a.pk, STAFF, utc(2028, 3, 13, 9), load_settings(), premium, 2)  # at once
    change_plan(a.pk, STAFF, utc(2028, 3, 13, 10), load_settings(), basic, 3)  # at period end
    price_changes.schedule_for_plan(premium, 20, utc(2028, 3, 13, 11))  # A is on premium
    basic.price_amount = Decimal("12.00")  # read for A's scheduled change when asked
    basic.save(update_fields=["price_amount"])
    price_changes.schedule_for_plan(basic, 20, utc(2028, 3, 14, 9))  # B and G
    intro = renewal.subscription(plan=basic, start=utc(2028, 3, 14, 10), quantity=3)
    Subscription.objects.filter(pk=intro.pk).update(intro_price_amount=Decimal("4.00"),
                                                    intro_until_cycle=3)
    cancelling.cancel(d_.pk, STAFF, utc(2028, 3, 15, 9), reason="too_expensive")
    live = {row.pk: row for row in Subscription.objects.filter(
        status__in=("active", "trialing", "past_due"), cancel_at_period_end=False)}
    # Every kind of term the forecast reads is there to be summed.
    assert (live[a.pk].plan_id, live[a.pk].quantity) == (premium.pk, 2)
    assert (live[a.pk].scheduled_plan_id, live[a.pk].scheduled_quantity) == (basic.pk, 3)
    assert live[g.pk].scheduled_price_amount == Decimal("12.00") and live[g.pk].scheduled_price_at
    assert live[intro.pk].intro_until_cycle > live[intro.pk].paid_cycles
    assert c.pk in live and d_.pk not in live
    march = assert_rollup_matches_the_subscriptions(utc(2028, 3, 15, 12), plan_sets)
    # From Mar 15 noon: A basic x 3 at basic's new 12 from its next billing (Apr 5) = 36; B
    # (Apr 10) and G (Apr 15; Mar 15's is overdue) at 12 from Apr 3; the intro subscription
    # 3 x 4 for two cycles (Apr 14, May 14), then 3 x 12; C's year from Jan 2029; D ends.
    assert [(month.amount, month.renewals) for month in march] == (
        [(0, 0), (72, 4), (72, 4)] + [(96, 4)] * 7 + [(216, 5), (96, 4)])

    renewal.run(utc(2028, 4, 6, 11))  # A moves to basic x 3, B and G take 12, D ends
    removed = renewal.subscription(plan=premium, start=utc(2028, 4, 6, 12))
    assert_rollup_matches_the_subscriptions(utc(2028, 4, 6, 13), plan_sets)
    Subscription.objects.filter(pk=removed.pk).delete()
    assert_rollup_matches_the_subscriptions(utc(2028, 4, 6, 13), plan_sets)
    assert Subscription.objects.get(pk=a.pk).plan_id == basic.pk

    def totals():
        return sorted(ForecastRollup.objects.values_list(
            "currency", "plan_id", "scheduled_plan_id", "first_billing", "intro_left",
            "paid_cycles", "change_from", "subscriptions", "units", "regular", "intro",
            "changed", "changed_count"))

    kept = totals()
    assert kept
    forecast_rollup.rebuild()
    assert totals() == kept


def test_the_renewal_task_adds_up_the_forecast_deltas(renewal):
    """Renewals write most deltas: the due-run adds them up when it is done, so they do not pile
    up while nobody asks for the forecast."""
    from saleor_subscriptions.models import ForecastDelta, ForecastRollup
    from saleor_subscriptions.tasks import renew_due_subscriptions_task

    renewal.subscription(start=utc(2028, 1, 31, 10))  # next billing Feb 29
    assert ForecastDelta.objects.count() == 1
    renew_due_subscriptions_task.apply(kwargs={"now": "2028-03-01T10:00:00+00:00"}).get()
    assert not ForecastDelta.objects.exists()
    (row,) = ForecastRollup.objects.all()
    assert (str(row.first_billing), row.paid_cycles, row.subscriptions) == ("2028-03-31", 2, 1)
