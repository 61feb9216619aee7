"""Subscription metrics from day totals: series bucketing, running totals, rates, the cohort
table. Pure: the totals come from services/metrics.py. Definitions with worked examples: README
"Subscription metrics"."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .mrr import DAYS_PER_MONTH

RATE_PLACES = Decimal("0.0001")
#: at most this many points in one series (a quarter by day, two years by week): each point is
#: some twenty GraphQL fields, and graphene spends ~0.1-0.3 ms on a field on the 2-core machine
MAX_BUCKETS = 100
LIVE_STATUSES = ("active", "trialing", "past_due", "paused")


class MetricsInterval(str, Enum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # inclusive


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, second: date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def _bucket_start(day: date, interval: MetricsInterval) -> date:
    if interval == MetricsInterval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval == MetricsInterval.MONTH:
        return month_start(day)
    return day


def _next_bucket(start: date, interval: MetricsInterval) -> date:
    if interval == MetricsInterval.WEEK:
        return start + timedelta(days=7)
    if interval == MetricsInterval.MONTH:
        return add_months(start, 1)
    return start + timedelta(days=1)


def buckets(start: date, end: date, interval: MetricsInterval) -> List[Bucket]:
    """The calendar buckets covering [start, end], the first and last cut to the range."""
    if start > end:
        raise ValueError("start must not be after end")
    result = []
    current = _bucket_start(start, interval)
    while current <= end:
        following = _next_bucket(current, interval)
        result.append(Bucket(max(current, start), min(following - timedelta(days=1), end)))
        current = following
    return result


def bucket_count(start: date, end: date, interval: MetricsInterval) -> int:
    if interval == MetricsInterval.DAY:
        return (end - start).days + 1
    if interval == MetricsInterval.WEEK:
        return (_bucket_start(end, interval) - _bucket_start(start, interval)).days // 7 + 1
    return months_between(start, end) + 1


def running_totals(deltas: Mapping[date, Decimal], ends: Sequence[date]) -> List[Decimal]:
    """The sum of all deltas dated up to each of `ends` (ascending)."""
    days = sorted(deltas)
    totals, total, index = [], Decimal(0), 0
    for end in ends:
        while index < len(days) and days[index] <= end:
            total += deltas[days[index]]
            index += 1
        totals.append(total)
    return totals


def bucket_sums(deltas: Mapping[date, Decimal], periods: Sequence[Bucket]) -> List[Decimal]:
    """The sum of the deltas dated within each bucket (ascending, not overlapping)."""
    ends = running_totals(deltas, [bucket.end for bucket in periods])
    befores = running_totals(deltas, [bucket.start - timedelta(days=1) for bucket in periods])
    return [end - before for end, before in zip(ends, befores)]


def ratio(numerator: Decimal, denominator: Decimal) -> Optional[Decimal]:
    """numerator / denominator to 4 places; None when the denominator is 0 (undefined)."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def revenue_churn_rate(mrr_start: Decimal, churn: Decimal, contraction: Decimal
                       ) -> Optional[Decimal]:
    """MRR lost to churn and contraction (both negative) over the MRR at the start."""
    return ratio(-(churn + contraction), mrr_start)


def net_revenue_retention(mrr_start: Decimal, expansion: Decimal, contraction: Decimal,
                          churn: Decimal) -> Optional[Decimal]:
    """(MRR at the start + expansion + contraction + churn of the subscribers who were there
    before the range) / MRR at the start; new and reactivated MRR are not part of it."""
    return ratio(mrr_start + expansion + contraction + churn, mrr_start)


def monthly_rate(rate: Optional[Decimal], days: int) -> Optional[Decimal]:
    """A rate over `days` scaled to an average month (linear; for LTV)."""
    if rate is None or days <= 0:
        return None
    return (rate * DAYS_PER_MONTH / days).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def lifetime_value(arpu: Optional[Decimal], monthly_churn: Optional[Decimal]
                   ) -> Optional[Decimal]:
    """ARPU / monthly customer churn rate: what an average paying subscriber brings in before
    leaving (not rounded). None while nobody churned (unbounded) or nobody pays."""
    if arpu is None or not monthly_churn:
        return None
    return arpu / monthly_churn


@dataclass(frozen=True)
class CohortCell:
    months_since: int
    subscribers: int
    revenue: Decimal


@dataclass(frozen=True)
class Cohort:
    month: date
    cells: Tuple[CohortCell, ...]


def cohort_table(deltas: Mapping[Tuple[date, date], Tuple[int, Decimal]], first: date,
                 last: date) -> List[Cohort]:
    """Cohorts signed up in the months from `first` to `last`, each with one cell per month
    since sign-up up to `last`: paying subscribers and their MRR at that month's end.

    `deltas`: (cohort month, month) -> (change of paying subscribers, change of MRR)."""
    table = []
    cohort = month_start(first)
    while cohort <= last:
        cells, count, revenue = [], 0, Decimal(0)
        for since in range(months_between(cohort, last) + 1):
            change = deltas.get((cohort, add_months(cohort, since)), (0, Decimal(0)))
            count, revenue = count + change[0], revenue + change[1]
            cells.append(CohortCell(since, count, revenue))
        table.append(Cohort(cohort, tuple(cells)))
        cohort = add_months(cohort, 1)
    return table


def sum_by(rows: Iterable[Tuple[str, Decimal]]) -> Dict[str, Decimal]:
    totals: Dict[str, Decimal] = {}
    for key, value in rows:
        totals[key] = totals.get(key, Decimal(0)) + value
    return totals
