import calendar
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_subscriptions.domain.periods import (
    MAX_INTERVAL_COUNT,
    Interval,
    IntervalUnit,
    billing_date,
    next_billing_date_after,
    period_containing,
)

UTC = timezone.utc
MONTHLY = Interval(IntervalUnit.MONTH, 1)
YEARLY = Interval(IntervalUnit.YEAR, 1)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def series(anchor, interval, count):
    return [billing_date(anchor, interval, n) for n in range(count)]


def test_monthly_from_jan_31_clamps_and_returns_to_the_anchor_day():
    dates = series(utc(2023, 1, 31), MONTHLY, 5)
    assert [(d.month, d.day) for d in dates] == [(1, 31), (2, 28), (3, 31), (4, 30), (5, 31)]


def test_monthly_from_jan_31_hits_feb_29_in_a_leap_year():
    assert billing_date(utc(2024, 1, 31), MONTHLY, 1) == utc(2024, 2, 29)


def test_monthly_from_jan_30():
    dates = series(utc(2023, 1, 30), MONTHLY, 3)
    assert dates == [utc(2023, 1, 30), utc(2023, 2, 28), utc(2023, 3, 30)]


def test_monthly_from_feb_29_keeps_day_29():
    dates = series(utc(2024, 2, 29), MONTHLY, 13)
    assert all(d.day == 29 for d in dates[:12])
    assert dates[12] == utc(2025, 2, 28)


def test_yearly_from_feb_29():
    dates = series(utc(2024, 2, 29, 8, 15), YEARLY, 5)
    assert [d.date().isoformat() for d in dates] == [
        "2024-02-29",
        "2025-02-28",
        "2026-02-28",
        "2027-02-28",
        "2028-02-29",
    ]


def test_multi_month_interval_and_year_rollover():
    quarterly = Interval(IntervalUnit.MONTH, 3)
    assert series(utc(2023, 11, 30), quarterly, 3) == [
        utc(2023, 11, 30),
        utc(2024, 2, 29),
        utc(2024, 5, 30),
    ]


def test_days_and_weeks_keep_time_of_day():
    anchor = utc(2024, 3, 30, 23, 45, 10, 500)
    assert billing_date(anchor, Interval(IntervalUnit.DAY, 10), 2) == utc(
        2024, 4, 19, 23, 45, 10, 500
    )
    assert billing_date(anchor, Interval(IntervalUnit.WEEK, 2), 1) == utc(
        2024, 4, 13, 23, 45, 10, 500
    )


def test_month_arithmetic_keeps_time_of_day():
    assert billing_date(utc(2023, 1, 31, 13, 5, 7), MONTHLY, 1) == utc(2023, 2, 28, 13, 5, 7)


def test_naive_and_non_utc_datetimes_are_rejected():
    naive = utc(2024, 1, 1).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        billing_date(naive, MONTHLY, 1)
    plus_two = utc(2024, 1, 1).replace(tzinfo=timezone(timedelta(hours=2)))
    with pytest.raises(ValueError, match="UTC"):
        billing_date(plus_two, MONTHLY, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        period_containing(utc(2024, 1, 1), MONTHLY, naive)


def test_negative_index_is_rejected():
    with pytest.raises(ValueError):
        billing_date(utc(2024, 1, 1), MONTHLY, -1)


@pytest.mark.parametrize("unit", list(IntervalUnit))
def test_interval_count_bounds(unit):
    assert Interval(unit, MAX_INTERVAL_COUNT[unit]).count == MAX_INTERVAL_COUNT[unit]
    for bad in (0, -1, MAX_INTERVAL_COUNT[unit] + 1):
        with pytest.raises(ValueError, match="between 1 and"):
            Interval(unit, bad)


def test_interval_limits_and_validation():
    assert MAX_INTERVAL_COUNT == {
        IntervalUnit.DAY: 730,
        IntervalUnit.WEEK: 104,
        IntervalUnit.MONTH: 24,
        IntervalUnit.YEAR: 5,
    }
    assert Interval("month", 2).unit is IntervalUnit.MONTH
    with pytest.raises(ValueError):
        Interval("fortnight", 1)
    with pytest.raises(ValueError):
        Interval(IntervalUnit.DAY, True)
    with pytest.raises(ValueError):
        Interval(IntervalUnit.DAY, 1.0)


@pytest.mark.parametrize(
    ("interval", "days", "per_year"),
    [
        (Interval(IntervalUnit.DAY, 1), Decimal(1), Decimal("365.2425")),
        (Interval(IntervalUnit.WEEK, 1), Decimal(7), Decimal("52.1775")),
        (Interval(IntervalUnit.MONTH, 1), Decimal("30.436875"), Decimal(12)),
        (Interval(IntervalUnit.MONTH, 3), Decimal("91.310625"), Decimal(4)),
        (Interval(IntervalUnit.YEAR, 1), Decimal("365.2425"), Decimal(1)),
        (Interval(IntervalUnit.YEAR, 2), Decimal("730.4850"), Decimal("0.5")),
    ],
)
def test_approx_days_and_periods_per_year(interval, days, per_year):
    assert interval.approx_days == days
    assert interval.periods_per_year == per_year


def test_period_containing_examples():
    anchor = utc(2023, 1, 31, 12)
    assert period_containing(anchor, MONTHLY, anchor) == (0, anchor, utc(2023, 2, 28, 12))
    assert period_containing(anchor, MONTHLY, utc(2023, 3, 31, 11, 59)) == (
        1,
        utc(2023, 2, 28, 12),
        utc(2023, 3, 31, 12),
    )
    assert period_containing(anchor, MONTHLY, utc(2023, 3, 31, 12))[0] == 2
    with pytest.raises(ValueError, match="before the anchor"):
        period_containing(anchor, MONTHLY, utc(2023, 1, 1))


def test_next_billing_date_after_examples():
    anchor = utc(2023, 1, 31)
    assert next_billing_date_after(anchor, MONTHLY, utc(2022, 12, 1)) == anchor
    assert next_billing_date_after(anchor, MONTHLY, anchor) == utc(2023, 2, 28)
    assert next_billing_date_after(anchor, MONTHLY, utc(2023, 2, 28)) == utc(2023, 3, 31)


# Hypothesis takes naive bounds; the timezones strategy makes the drawn values aware.
anchors = st.datetimes(
    min_value=utc(2000, 1, 1).replace(tzinfo=None),
    max_value=utc(2060, 12, 31).replace(tzinfo=None),
    timezones=st.just(UTC),
)
intervals = st.sampled_from(list(IntervalUnit)).flatmap(
    lambda unit: st.builds(Interval, st.just(unit), st.integers(1, MAX_INTERVAL_COUNT[unit]))
)
calendar_intervals = st.builds(
    Interval, st.sampled_from([IntervalUnit.MONTH, IntervalUnit.YEAR]), st.integers(1, 5)
)
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 30))


@given(anchors, intervals, st.integers(0, 60))
def test_billing_dates_strictly_increase(anchor, interval, n):
    assert billing_date(anchor, interval, n) < billing_date(anchor, interval, n + 1)


@given(anchors, calendar_intervals, st.integers(0, 120))
def test_calendar_billing_day_is_anchor_day_clamped_to_month_end(anchor, interval, n):
    result = billing_date(anchor, interval, n)
    days_in_month = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(anchor.day, days_in_month)
    assert result.timetz() == anchor.timetz()


@given(anchors, st.integers(0, 120))
def test_months_advance_one_calendar_month_per_period(anchor, n):
    result = billing_date(anchor, MONTHLY, n)
    assert (result.year * 12 + result.month) - (anchor.year * 12 + anchor.month) == n


@given(anchors, intervals, offsets)
def test_period_containing_is_consistent_with_billing_date(anchor, interval, offset):
    moment = anchor + offset
    n, start, end = period_containing(anchor, interval, moment)
    assert start == billing_date(anchor, interval, n)
    assert end == billing_date(anchor, interval, n + 1)
    assert start <= moment < end
    assert next_billing_date_after(anchor, interval, moment) == end
