"""The pure parts of the metrics: calendar buckets, running totals, rates, cohorts."""
from datetime import date
from decimal import Decimal

from saleor_subscriptions.domain import metrics as m


def test_weeks_are_iso_weeks_cut_to_the_range():
    weeks = m.buckets(date(2028, 3, 1), date(2028, 3, 14), m.MetricsInterval.WEEK)
    # 1 Mar 2028 is a Wednesday: its week began on Monday 28 Feb, cut to the range
    assert [(b.start, b.end) for b in weeks] == [
        (date(2028, 3, 1), date(2028, 3, 5)), (date(2028, 3, 6), date(2028, 3, 12)),
        (date(2028, 3, 13), date(2028, 3, 14))]
    assert m.bucket_count(date(2028, 3, 1), date(2028, 3, 14), m.MetricsInterval.WEEK) == 3


def test_months_keep_february_and_year_ends():
    months = m.buckets(date(2027, 12, 15), date(2028, 2, 29), m.MetricsInterval.MONTH)
    assert [(b.start, b.end) for b in months] == [
        (date(2027, 12, 15), date(2027, 12, 31)), (date(2028, 1, 1), date(2028, 1, 31)),
        (date(2028, 2, 1), date(2028, 2, 29))]


def test_running_totals_and_bucket_sums():
    deltas = {date(2028, 1, 1): Decimal(5), date(2028, 1, 3): Decimal(-2),
              date(2028, 1, 9): Decimal(10)}
    assert m.running_totals(deltas, [date(2027, 12, 31), date(2028, 1, 3), date(2028, 1, 31)]) \
        == [0, 3, 13]
    # 1 Jan 2028 is a Saturday: weeks 1-2 Jan, 3-9 Jan, 10 Jan
    weeks = m.buckets(date(2028, 1, 1), date(2028, 1, 10), m.MetricsInterval.WEEK)
    assert m.bucket_sums(deltas, weeks) == [Decimal(5), Decimal(8), Decimal(0)]


def test_rates_are_null_without_a_base():
    assert m.ratio(Decimal(1), Decimal(3)) == Decimal("0.3333")
    assert m.ratio(Decimal(1), Decimal(0)) is None
    assert m.revenue_churn_rate(Decimal(50), Decimal(-10), Decimal(-5)) == Decimal("0.3")
    assert m.net_revenue_retention(Decimal(50), Decimal(10), Decimal(-5), Decimal(-15)) \
        == Decimal("0.8")
    assert m.lifetime_value(Decimal(20), None) is None
    assert m.lifetime_value(Decimal(20), Decimal("0.05")) == Decimal(400)


def test_cohort_table_accumulates_month_by_month():
    deltas = {(date(2028, 1, 1), date(2028, 1, 1)): (2, Decimal(30)),
              (date(2028, 1, 1), date(2028, 3, 1)): (-1, Decimal(-10))}
    january, february, march = m.cohort_table(deltas, date(2028, 1, 1), date(2028, 3, 1))
    assert [(c.months_since, c.subscribers, c.revenue) for c in january.cells] == [
        (0, 2, Decimal(30)), (1, 2, Decimal(30)), (2, 1, Decimal(20))]
    assert len(february.cells) == 2 and len(march.cells) == 1
