"""`subscriptionMetrics`: MRR/ARR series with movements, subscribers by status, rates, cohorts and
the billing forecast, for staff with MANAGE_ORDERS (or such an App). README: "Subscription
metrics" defines each number."""
from datetime import date, datetime, timezone

import graphene
from django.core.exceptions import ValidationError
from graphql_jwt.exceptions import PermissionDenied
from saleor.graphql.core.scalars import Decimal

from ..domain import metrics as m
from ..services import metrics as service
from ..services.lifecycle.cancel import REASONS
from . import permissions
from .errors import SubscriptionError, subscription_errors
from .ids import decode_pk, invalid

_parse_date = graphene.Date.parse_value


def _lenient_parse_date(value):
    """graphene's Date lets aniso8601's IndexError out for "" (a Python error instead of
    GraphQL's "invalid value"): any unreadable date is invalid. Set before the schema is built."""
    try:
        return _parse_date(value)
    except (IndexError, TypeError, OverflowError):
        return None


graphene.Date.parse_value = staticmethod(_lenient_parse_date)

SubscriptionMetricsIntervalEnum = graphene.Enum(
    "SubscriptionMetricsInterval", [(interval.name, interval.value)
                                    for interval in m.MetricsInterval],
    description="The width of a series' points (weeks are ISO weeks, Monday to Sunday).")
#: the reasons a customer gives, and the two the history adds (dunning; none recorded)
CANCELLATION_REASONS = tuple(REASONS) + ("payment_failed", "unspecified")
SubscriptionCancellationReasonEnum = graphene.Enum(
    "SubscriptionCancellationReason", [(reason.upper(), reason) for reason in CANCELLATION_REASONS])
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)
MAX_DAYS = 3 * 366  # the cohort table of three years is ~700 cells
MAX_PK = 2 ** 31 - 1


class SubscriptionMetricsMovements(graphene.ObjectType):
    new = Decimal(required=True)
    expansion = Decimal(required=True, description="Including moves onto the plans asked for.")
    contraction = Decimal(required=True, description="Negative (or zero); including moves off "
                          "the plans asked for.")
    churn = Decimal(required=True, description="Negative (or zero).")
    reactivation = Decimal(required=True)
    net_new = Decimal(required=True, description="All the movements together.")

    class Meta:
        description = "MRR movements summed by kind over a period (monthly amounts, net of tax)."


class SubscriptionStatusCounts(graphene.ObjectType):
    active = graphene.Int(required=True)
    trialing = graphene.Int(required=True)
    past_due = graphene.Int(required=True)
    paused = graphene.Int(required=True)

    class Meta:
        description = "Subscribers in each live status at the end of a period."


def _movements(point):
    return SubscriptionMetricsMovements(**point.movements)


def _statuses(point):
    return SubscriptionStatusCounts(**point.subscribers)


class _PointFields:
    mrr = Decimal(required=True, description="MRR at the end of the period.")
    arr = Decimal(required=True, description="12 x MRR.")
    movements = graphene.Field(SubscriptionMetricsMovements, required=True)
    subscribers = graphene.Field(SubscriptionStatusCounts, required=True)
    paying_subscribers = graphene.Int(required=True,
                                      description="Subscribers with MRR above 0 at the end.")
    churned_subscribers = graphene.Int(required=True, description="Churn movements in the period.")
    customer_churn_rate = Decimal(description="Churned / paying subscribers at the start; null "
                                  "when none paid.")
    revenue_churn_rate = Decimal(description="-(churn + contraction) / MRR at the start.")

    @staticmethod
    def resolve_mrr(point, _info):
        return point.mrr

    @staticmethod
    def resolve_arr(point, _info):
        return point.mrr * 12

    @staticmethod
    def resolve_movements(point, _info):
        return _movements(point)

    @staticmethod
    def resolve_subscribers(point, _info):
        return _statuses(point)


class SubscriptionMetricsPoint(_PointFields, graphene.ObjectType):
    start = graphene.Date(required=True)
    end = graphene.Date(required=True, description="Inclusive.")

    class Meta:
        description = "One period of a metrics series (cut to the range at its ends)."

    @staticmethod
    def resolve_start(point, _info):
        return point.bucket.start

    @staticmethod
    def resolve_end(point, _info):
        return point.bucket.end


class SubscriptionMetricsSummary(_PointFields, graphene.ObjectType):
    net_revenue_retention = Decimal(description="(MRR at the start + expansion + contraction + "
                                    "churn) / MRR at the start.")
    arpu = Decimal(description="MRR / paying subscribers at the end.")
    ltv = Decimal(description="ARPU / monthly customer churn rate; null while nobody churned.")
    trial_conversion_rate = Decimal(description="Trials that became active / trials that ended.")
    dunning_recovery_rate = Decimal(description="Past-due subscriptions that became active / "
                                    "past-due subscriptions that left past due.")
    retention_offer_save_rate = Decimal(description="Retention offers accepted / presented; "
                                        "null while none was presented.")

    class Meta:
        description = "The whole range as one period, with the rates only a range has (KPIs)."

    @staticmethod
    def resolve_mrr(summary, _info):
        return summary.point.mrr

    @staticmethod
    def resolve_arr(summary, _info):
        return summary.point.mrr * 12

    @staticmethod
    def resolve_movements(summary, _info):
        return _movements(summary.point)

    @staticmethod
    def resolve_subscribers(summary, _info):
        return _statuses(summary.point)

    @staticmethod
    def resolve_paying_subscribers(summary, _info):
        return summary.point.paying_subscribers

    @staticmethod
    def resolve_churned_subscribers(summary, _info):
        return summary.point.churned_subscribers

    @staticmethod
    def resolve_customer_churn_rate(summary, _info):
        return summary.point.customer_churn_rate

    @staticmethod
    def resolve_revenue_churn_rate(summary, _info):
        return summary.point.revenue_churn_rate


class SubscriptionCancellationReasonCount(graphene.ObjectType):
    reason = SubscriptionCancellationReasonEnum(required=True)
    count = graphene.Int(required=True)

    class Meta:
        description = "Cancellations in the range with this reason."


class SubscriptionCohortCell(graphene.ObjectType):
    months_since = graphene.Int(required=True, description="0: the sign-up month.")
    subscribers = graphene.Int(required=True, description="Paying at that month's end.")
    revenue = Decimal(required=True, description="Their MRR at that month's end.")


class SubscriptionCohort(graphene.ObjectType):
    month = graphene.Date(required=True, description="The sign-up month (its first day).")
    cells = graphene.List(graphene.NonNull(SubscriptionCohortCell), required=True)

    class Meta:
        description = "Subscribers who signed up in one month, month by month since."


class SubscriptionBillingForecastMonth(graphene.ObjectType):
    month = graphene.Date(required=True, description="The month (its first day).")
    amount = Decimal(required=True, description="Scheduled billing, net of tax.")
    renewals = graphene.Int(required=True, description="Scheduled charges.")


class SubscriptionMetrics(graphene.ObjectType):
    currency = graphene.String()
    start = graphene.Date()
    end = graphene.Date()
    interval = SubscriptionMetricsIntervalEnum()
    series = graphene.List(graphene.NonNull(SubscriptionMetricsPoint),
                           description="One point per day, week or month of the range.")
    summary = graphene.Field(SubscriptionMetricsSummary)
    cancellation_reasons = graphene.List(graphene.NonNull(SubscriptionCancellationReasonCount),
                                         description="Most frequent first.")
    cohorts = graphene.List(graphene.NonNull(SubscriptionCohort),
                            description="Sign-up months of the range.")
    billing_forecast = graphene.List(
        graphene.NonNull(SubscriptionBillingForecastMonth),
        description="The next 12 calendar months (this one first) of billing scheduled by "
        "current subscriptions and their scheduled changes (not limited by the range).")
    subscription_errors = graphene.List(graphene.NonNull(SubscriptionError), required=True)

    class Meta:
        description = "Subscription metrics of a date range in one currency (README: "
        "Subscription metrics)."

    @staticmethod
    def resolve_series(root, _info):
        return root.metrics.series if root.metrics else None

    @staticmethod
    def resolve_summary(root, _info):
        return root.metrics.summary if root.metrics else None

    @staticmethod
    def resolve_cancellation_reasons(root, _info):
        if not root.metrics:
            return None
        return [SubscriptionCancellationReasonCount(
            reason=reason if reason in CANCELLATION_REASONS else "unspecified", count=count)
            for reason, count in root.metrics.cancellation_reasons]

    @staticmethod
    def resolve_cohorts(root, _info):
        if not root.metrics:
            return None
        return [SubscriptionCohort(month=cohort.month, cells=[
            SubscriptionCohortCell(months_since=cell.months_since, subscribers=cell.subscribers,
                                   revenue=cell.revenue) for cell in cohort.cells])
            for cohort in root.metrics.cohorts]

    @staticmethod
    def resolve_billing_forecast(root, _info):
        if not root.metrics:
            return None
        return [SubscriptionBillingForecastMonth(month=month.month, amount=month.amount,
                                                 renewals=month.renewals)
                for month in root.metrics.forecast(datetime.now(timezone.utc))]


class _Answer:
    def __init__(self, metrics=None, **fields):
        self.metrics = metrics
        self.currency = self.start = self.end = self.interval = None
        self.__dict__.update(fields)


def _plan_pks(plan_ids):
    if plan_ids is None:
        return None
    pks = []
    for global_id in plan_ids:
        pk = decode_pk(global_id, "SubscriptionPlan")
        if pk is None:
            raise invalid("planIds", "Must receive SubscriptionPlan ids.")
        if 0 < pk <= MAX_PK:  # larger ones cannot exist
            pks.append(pk)
    return pks


def _request(currency, start, end, interval, plan_ids, plan_families):
    if len(currency) != 3 or not currency.isalpha():
        raise invalid("currency", "Give a three-letter currency code.")
    for field, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise invalid(field, "Give a date from %s to %s." % (FIRST_DAY, LAST_DAY))
    if start > end:
        raise invalid("start", "The start must not be after the end.")
    if (end - start).days >= MAX_DAYS:
        raise invalid("end", "Ask for at most three years at a time.")
    interval = m.MetricsInterval(interval)
    if m.bucket_count(start, end, interval) > m.MAX_BUCKETS:
        raise invalid("interval", "Too many points: choose a longer interval or a shorter "
                       "range (at most %d points)." % m.MAX_BUCKETS)
    return service.MetricsRequest(
        currency=currency.upper(), start=start, end=end, interval=interval,
        plan_ids=service.plan_ids_for(_plan_pks(plan_ids), plan_families))


def resolve_subscription_metrics(info, currency, start, end, interval=m.MetricsInterval.MONTH.value,
                                 plan_ids=None, plan_families=None):
    if not permissions.can_manage_orders(info.context):
        raise PermissionDenied()
    try:
        request = _request(currency, start, end, interval, plan_ids, plan_families)
    except ValidationError as error:
        return _Answer(subscription_errors=subscription_errors(error))
    return _Answer(
        metrics=service.Metrics(request), currency=request.currency, start=request.start,
        end=request.end, interval=request.interval.value, subscription_errors=[])


subscription_metrics_field = graphene.Field(
    SubscriptionMetrics,
    currency=graphene.String(required=True),
    start=graphene.Date(required=True, description="The first day (UTC) of the range."),
    end=graphene.Date(required=True, description="The last day (UTC), inclusive."),
    interval=SubscriptionMetricsIntervalEnum(default_value=m.MetricsInterval.MONTH.value),
    plan_ids=graphene.List(graphene.NonNull(graphene.ID), description="Only these plans."),
    plan_families=graphene.List(graphene.NonNull(graphene.String),
                                description="Only the plans of these families."),
    description="Subscription metrics from the MRR ledger and the history, for MANAGE_ORDERS.",
)
