"""Subscription metrics for a date range, per currency, optionally for some plans: read from the
day totals (metrics_rollup) and the live subscriptions' totals (forecast_rollup); computed by
domain/metrics.py. Definitions: README "Subscription metrics"."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Tuple

from django.db import connection
from django.utils.functional import cached_property

from ..domain import forecast as forecasting
from ..domain import metrics as m
from ..domain.money import quantize
from ..domain.mrr import MovementKind
from ..mrr_models import NO_COHORT
from . import forecast_rollup, metrics_rollup

FORECAST_MONTHS = 12
STATUSES = ("active", "trialing", "past_due", "paused")
MOVEMENT_NAMES = MovementKind.ALL + ("net_new",)


@dataclass(frozen=True)
class MetricsRequest:
    currency: str
    start: date
    end: date
    interval: m.MetricsInterval = m.MetricsInterval.MONTH
    plan_ids: Optional[Tuple[int, ...]] = None  # None: every plan


@dataclass(frozen=True)
class Point:
    bucket: m.Bucket
    mrr: Decimal
    movements: Dict[str, Decimal]
    subscribers: Dict[str, int]
    paying_subscribers: int
    churned_subscribers: int
    customer_churn_rate: Optional[Decimal]
    revenue_churn_rate: Optional[Decimal]


@dataclass(frozen=True)
class Summary:
    point: Point
    net_revenue_retention: Optional[Decimal]
    arpu: Optional[Decimal]
    ltv: Optional[Decimal]
    trial_conversion_rate: Optional[Decimal]
    dunning_recovery_rate: Optional[Decimal]
    retention_offer_save_rate: Optional[Decimal]


def plan_ids_for(plan_pks: Optional[Sequence[int]], families: Optional[Sequence[str]]
                 ) -> Optional[Tuple[int, ...]]:
    """The plans both filters allow (None: no filter, every plan)."""
    from ..models import SubscriptionPlan

    if plan_pks is None and families is None:
        return None
    plans = SubscriptionPlan.objects.all()
    if plan_pks is not None:
        plans = plans.filter(pk__in=list(plan_pks))
    if families is not None:
        plans = plans.filter(family__in=list(families))
    return tuple(sorted(plans.values_list("pk", flat=True)))


# Day totals of some measures, summed in SQL into the buckets asked for (so a year by month is
# a dozen rows a measure); everything before the range lands on the day before it.
_BUCKETED = """
SELECT measure, CASE WHEN day < %(start)s THEN %(before)s ELSE {bucket} END, SUM(count),
       SUM(amount)
FROM saleor_subscriptions_metricsrollup
WHERE currency = %(currency)s {plans} AND cohort = %(none)s AND day <= %(end)s
  AND measure LIKE ANY(%(patterns)s)
GROUP BY 1, 2
"""
_BUCKETS = {
    None: "%(start)s",  # the whole range as one
    m.MetricsInterval.DAY: "day",
    m.MetricsInterval.WEEK: "GREATEST(date_trunc('week', day)::date, %(start)s)",
    m.MetricsInterval.MONTH: "GREATEST(date_trunc('month', day)::date, %(start)s)",
}
# The cohort rows: sign-up months of the range by month, and (as EARLIER) the movements in the
# range of everyone who signed up before it.
_COHORTS = """
SELECT measure, day, CASE WHEN cohort < %(first)s THEN %(earlier)s ELSE cohort END, SUM(count),
       SUM(amount)
FROM saleor_subscriptions_metricsrollup
WHERE currency = %(currency)s {plans} AND cohort <> %(none)s AND day <= %(end)s
  AND (cohort >= %(first)s OR day >= %(first)s) AND measure LIKE 'cohort:%%'
GROUP BY 1, 2, 3
"""
#: the cohort of everyone who signed up before the range's first month (net revenue retention)
EARLIER = date(1970, 1, 2)
LEVELS = ("mrr:%", "status:%")
FLOWS = ("transition:%", "event:%", "cancel_reason:%")

Totals = Dict[str, Dict]


def _deltas(totals: Totals, prefix: str, amounts: bool) -> Dict[date, Decimal]:
    """Deltas by day (or bucket) of every measure starting with `prefix`: amounts or counts."""
    deltas: Dict[date, Decimal] = defaultdict(Decimal)
    for measure, days in totals.items():
        if measure.startswith(prefix):
            for day, (count, amount) in days.items():
                deltas[day] += amount if amounts else Decimal(count)
    return deltas


class Metrics:
    """Everything asked of one range; each part is read or computed once, when first asked."""

    def __init__(self, request: MetricsRequest):
        self.request = request
        self._refreshed = False

    def _parameters(self):
        request = self.request
        if not self._refreshed:
            metrics_rollup.refresh()
            self._refreshed = True
        plans = ("AND plan_id = ANY(%(plans)s)" if request.plan_ids is not None
                 else "AND plan_id = 0")  # the store's totals
        return plans, {
            "none": NO_COHORT, "start": request.start,
            "before": request.start - timedelta(days=1), "currency": request.currency,
            "end": request.end, "first": m.month_start(request.start), "earlier": EARLIER,
            "plans": list(request.plan_ids or ())}

    def _bucketed(self, patterns: Sequence[str], interval: Optional[m.MetricsInterval]
                  ) -> Totals:
        """measure -> bucket start (cut to the range; the day before it for the past) ->
        (count, amount)."""
        plans, parameters = self._parameters()
        parameters["patterns"] = list(patterns)
        totals: Totals = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(_BUCKETED.format(plans=plans, bucket=_BUCKETS[interval]), parameters)
            for measure, day, count, amount in cursor.fetchall():
                totals[measure][day] = (int(count), amount)
        return totals

    @cached_property
    def _series_totals(self) -> Totals:
        return self._bucketed(LEVELS, self.request.interval)

    @cached_property
    def _range_totals(self) -> Totals:
        return self._bucketed(LEVELS + FLOWS, None)

    @cached_property
    def _cohort_totals(self) -> Totals:
        """measure -> (cohort, month) -> (count, amount)."""
        plans, parameters = self._parameters()
        totals: Totals = defaultdict(dict)
        with connection.cursor() as cursor:
            cursor.execute(_COHORTS.format(plans=plans), parameters)
            for measure, day, cohort, count, amount in cursor.fetchall():
                totals[measure][(cohort, day)] = (int(count), amount)
        return totals

    def _counts_in(self, prefix: str, bucket: m.Bucket) -> int:
        return int(m.bucket_sums(_deltas(self._range_totals, prefix, False), [bucket])[0])

    @cached_property
    def buckets(self) -> List[m.Bucket]:
        return m.buckets(self.request.start, self.request.end, self.request.interval)

    def _points(self, totals: Totals, periods: Sequence[m.Bucket]) -> List[Point]:
        starts = [bucket.start - timedelta(days=1) for bucket in periods]
        ends = [bucket.end for bucket in periods]
        mrr_deltas, paying_deltas = _deltas(totals, "mrr:", True), _deltas(totals, "mrr:", False)
        mrr_start, mrr_end = (m.running_totals(mrr_deltas, starts),
                              m.running_totals(mrr_deltas, ends))
        paying_start, paying_end = (m.running_totals(paying_deltas, starts),
                                    m.running_totals(paying_deltas, ends))
        kinds = {kind: m.bucket_sums(_deltas(totals, "mrr:" + kind, True), periods)
                 for kind in MovementKind.ALL}
        moved = m.bucket_sums(_deltas(totals, "mrr:moved", True), periods)
        churned = m.bucket_sums(_deltas(totals, "mrr:churn", False), periods)
        statuses = {status: m.running_totals(_deltas(totals, "status:%s" % status, False), ends)
                    for status in STATUSES}
        points = []
        for index, bucket in enumerate(periods):
            movements = {kind: kinds[kind][index] for kind in MovementKind.ALL}
            # Moving between plans is expansion or contraction of the plans asked for.
            if moved[index] > 0:
                movements[MovementKind.EXPANSION] += moved[index]
            else:
                movements[MovementKind.CONTRACTION] += moved[index]
            movements["net_new"] = sum(movements.values(), Decimal(0))
            churned_count = -int(churned[index])
            points.append(Point(
                bucket=bucket, mrr=mrr_end[index], movements=movements,
                subscribers={status: int(statuses[status][index]) for status in STATUSES},
                paying_subscribers=int(paying_end[index]), churned_subscribers=churned_count,
                customer_churn_rate=m.ratio(Decimal(churned_count), paying_start[index]),
                revenue_churn_rate=m.revenue_churn_rate(
                    mrr_start[index], movements[MovementKind.CHURN],
                    movements[MovementKind.CONTRACTION]),
            ))
        return points

    @cached_property
    def series(self) -> List[Point]:
        return self._points(self._series_totals, self.buckets)

    @cached_property
    def summary(self) -> Summary:
        whole = m.Bucket(self.request.start, self.request.end)
        point = self._points(self._range_totals, [whole])[0]
        mrr_start = m.running_totals(_deltas(self._range_totals, "mrr:", True),
                                     [whole.start - timedelta(days=1)])[0]
        existing = {kind: sum((amount for (cohort, _month), (_count, amount)
                               in self._cohort_totals.get("cohort:" + kind, {}).items()
                               if cohort == EARLIER), Decimal(0))
                    for kind in (MovementKind.EXPANSION, MovementKind.CONTRACTION,
                                 MovementKind.CHURN)}
        currency = self.request.currency
        arpu = (quantize(point.mrr / point.paying_subscribers, currency)
                if point.paying_subscribers else None)
        days = (whole.end - whole.start).days + 1
        ltv = m.lifetime_value(arpu, m.monthly_rate(point.customer_churn_rate, days))
        return Summary(
            point=point,
            net_revenue_retention=m.net_revenue_retention(
                mrr_start, existing[MovementKind.EXPANSION], existing[MovementKind.CONTRACTION],
                existing[MovementKind.CHURN]),
            arpu=arpu,
            ltv=quantize(ltv, currency) if ltv is not None else None,
            trial_conversion_rate=self._transition_rate("trialing", "active", whole),
            dunning_recovery_rate=self._transition_rate("past_due", "active", whole),
            retention_offer_save_rate=m.ratio(
                self._counts_in("event:retention_offer_accepted", whole),
                self._counts_in("event:retention_offered", whole)),
        )

    def _transition_rate(self, source: str, target: str, bucket: m.Bucket) -> Optional[Decimal]:
        """Of the subscribers leaving `source` in the range, the share that went to `target`."""
        prefix = "transition:%s:" % source
        return m.ratio(self._counts_in(prefix + target, bucket), self._counts_in(prefix, bucket))

    @cached_property
    def cancellation_reasons(self) -> List[Tuple[str, int]]:
        whole = m.Bucket(self.request.start, self.request.end)
        reasons = [(measure.split(":", 1)[1], self._counts_in(measure, whole))
                   for measure in self._range_totals if measure.startswith("cancel_reason:")]
        return sorted((item for item in reasons if item[1]), key=lambda item: (-item[1], item[0]))

    @cached_property
    def cohorts(self) -> List[m.Cohort]:
        deltas: Dict[Tuple[date, date], Tuple[int, Decimal]] = {}
        for kind in MovementKind.ALL:
            for key, (count, amount) in self._cohort_totals.get("cohort:" + kind, {}).items():
                before = deltas.get(key, (0, Decimal(0)))
                deltas[key] = (before[0] + count, before[1] + amount)
        return m.cohort_table(deltas, m.month_start(self.request.start),
                              m.month_start(self.request.end))

    def forecast(self, now: datetime) -> List[forecasting.ForecastMonth]:
        groups = forecast_rollup.scheduled_billing(self.request.currency, self.request.plan_ids)
        return forecasting.forecast(groups, m.month_start(now.date()), FORECAST_MONTHS, now)


# The ledger's answers at any moment, from the day totals and the raw rows of the edge days (the
# same as summing every movement, without reading millions of them).
_ROLLED_MRR = """
SELECT measure, SUM(amount) FROM saleor_subscriptions_metricsrollup
WHERE currency = %s AND plan_id = 0 AND cohort = %s AND measure LIKE 'mrr:%%' AND day >= %s
  AND day < %s
GROUP BY measure
"""
_RAW_MRR = """
SELECT 'mrr:' || kind, SUM(amount) FROM saleor_subscriptions_mrrmovement
WHERE currency = %s AND date >= %s AND date <= %s GROUP BY kind
"""
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ledger_sums(currency: str, start: datetime, end: datetime) -> Dict[str, Decimal]:
    """Movements in [start, end] by measure (`mrr:<kind>`)."""
    metrics_rollup.refresh()
    first_whole = (start.astimezone(timezone.utc) + timedelta(days=1)).date()
    if start.astimezone(timezone.utc).time() == datetime.min.time():
        first_whole = start.astimezone(timezone.utc).date()
    end_day = end.astimezone(timezone.utc).date()
    sums: Dict[str, Decimal] = defaultdict(Decimal)
    with connection.cursor() as cursor:
        if first_whole < end_day:
            cursor.execute(_ROLLED_MRR, [currency, NO_COHORT, first_whole, end_day])
            for measure, amount in cursor.fetchall():
                sums[measure] += amount
            day_start = datetime.combine(first_whole, datetime.min.time(), timezone.utc)
            edges = [(start, day_start - timedelta(microseconds=1)),
                     (datetime.combine(end_day, datetime.min.time(), timezone.utc), end)]
        else:
            edges = [(start, end)]
        for low, high in edges:
            if low <= high:
                cursor.execute(_RAW_MRR, [currency, low, high])
                for measure, amount in cursor.fetchall():
                    sums[measure] += amount
    return sums


def mrr_at(currency: str, moment: datetime) -> Decimal:
    return sum(_ledger_sums(currency, _EPOCH, moment).values(), Decimal(0))


def movements_summary(currency: str, start: datetime, end: datetime) -> Dict[str, Decimal]:
    """Sum of the movements of each kind in [start, end], plus net new (all kinds together)."""
    sums = _ledger_sums(currency, start, end)
    summary = {kind: sums.get("mrr:" + kind, Decimal(0)) for kind in MovementKind.ALL}
    summary["net_new"] = sum(summary.values(), Decimal(0))
    return summary
