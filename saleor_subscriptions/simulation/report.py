"""What a simulated period did to the store, read from the database afterwards (not from the
simulation's own bookkeeping): the MRR ledger, the event rows and the subscriptions."""
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Dict, List

from django.db.models import Count, Q, Sum

from ..models import EventType, Subscription, SubscriptionEvent
from ..services import mrr_ledger

ENDED_STATUSES = ("cancelled", "expired")


@dataclass
class CurrencyFigures:
    currency: str
    mrr_start: Decimal
    mrr_end: Decimal
    movements: Dict[str, Decimal]
    renewals: int
    renewal_revenue: Decimal


@dataclass
class SimulationReport:
    start: datetime
    end: datetime
    seed: int
    subscribers_at_start: int
    signed_up: int
    cancelled: int
    expired: int
    renewals: int
    declines: int
    recoveries: int
    dunning_exhausted: int
    paused: int
    plan_changes: int
    refused_requests: int
    cancellation_reasons: Dict[str, int]
    currencies: List[CurrencyFigures] = field(default_factory=list)

    @property
    def churned(self) -> int:
        return self.cancelled + self.expired

    @property
    def churn_rate(self) -> Decimal:
        """Subscribers who left in the period, in percent of all who were there at some time
        in it (at the start, or signed up during it)."""
        base = self.subscribers_at_start + self.signed_up
        return (Decimal(100) * self.churned / base).quantize(Decimal("0.1")) if base else \
            Decimal(0)

    @property
    def recovery_rate(self) -> Decimal:
        """Renewals paid on a dunning retry, in percent of the declined ones that were closed
        (recovered or given up)."""
        closed = self.recoveries + self.dunning_exhausted
        return (Decimal(100) * self.recoveries / closed).quantize(Decimal("0.1")) if closed \
            else Decimal(0)

    def lines(self) -> List[str]:
        out = ["Simulated %s .. %s (seed %d)" % (self.start.date(), self.end.date(), self.seed)]
        for figures in self.currencies:
            out.append("MRR %s: start %s, end %s (new %s, expansion %s, contraction %s, "
                       "churn %s, reactivation %s)" % (
                           figures.currency, figures.mrr_start, figures.mrr_end,
                           *(figures.movements[kind] for kind in (
                               "new", "expansion", "contraction", "churn", "reactivation"))))
            out.append("Renewals %s: %d paid, %s billed" % (
                figures.currency, figures.renewals, figures.renewal_revenue))
        out.append("Subscribers: %d at the start, %d signed up, %d churned (%d cancelled, %d "
                   "expired): churn %s%%" % (self.subscribers_at_start, self.signed_up,
                                            self.churned, self.cancelled, self.expired,
                                            self.churn_rate))
        out.append("Renewals: %d paid; declines: %d; recoveries: %d; dunning gave up: %d "
                   "(recovery rate %s%%)" % (self.renewals, self.declines, self.recoveries,
                                            self.dunning_exhausted, self.recovery_rate))
        out.append("Pauses: %d; plan changes: %d; customer requests refused by the rules: %d"
                   % (self.paused, self.plan_changes, self.refused_requests))
        reasons = ", ".join("%s %d" % (reason or "none given", count) for reason, count in
                            sorted(self.cancellation_reasons.items(),
                                   key=lambda item: (-item[1], item[0])))
        out.append("Cancellation reasons: %s" % (reasons or "none"))
        return out


def _events(start, end):
    return SubscriptionEvent.objects.filter(date__gte=start, date__lt=end)


def build_report(parameters, start: datetime, end: datetime, tally) -> SimulationReport:
    counts = dict(_events(start, end).order_by().values_list("type").annotate(n=Count("pk")))

    def count(event_type) -> int:
        return counts.get(event_type, 0)

    at_start = Subscription.objects.filter(created_at__lt=start).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=start)).count()
    cancelled_ids = _events(start, end).filter(type=EventType.CANCELLED).values(
        "subscription_id")
    reasons = Counter(dict(Subscription.objects.filter(pk__in=cancelled_ids).order_by()
                           .values_list("cancel_reason").annotate(n=Count("pk"))))
    return SimulationReport(
        start=start, end=end, seed=parameters.seed, subscribers_at_start=at_start,
        signed_up=count(EventType.CREATED), cancelled=count(EventType.CANCELLED),
        expired=count(EventType.EXPIRED), renewals=count(EventType.RENEWED),
        declines=count(EventType.PAYMENT_FAILED), recoveries=count(EventType.PAYMENT_RECOVERED),
        dunning_exhausted=count(EventType.DUNNING_EXHAUSTED), paused=count(EventType.PAUSED),
        plan_changes=count(EventType.PLAN_CHANGED), refused_requests=tally.refused,
        cancellation_reasons=dict(reasons), currencies=_currencies(start, end),
    )


def _currencies(start, end) -> List[CurrencyFigures]:
    renewed = _events(start, end).filter(type=EventType.RENEWED)
    revenue = dict(renewed.order_by().values_list("currency").annotate(total=Sum("amount")))
    renewals = dict(renewed.order_by().values_list("currency").annotate(n=Count("pk")))
    currencies = sorted(set(Subscription.objects.order_by().values_list("currency", flat=True)
                            .distinct()))
    return [CurrencyFigures(
        currency=currency, mrr_start=mrr_ledger.mrr_at(currency, start),
        mrr_end=mrr_ledger.mrr_at(currency, end),
        movements=mrr_ledger.movements_summary(currency, start, end),
        renewals=renewals.get(currency, 0), renewal_revenue=revenue.get(currency) or Decimal(0),
    ) for currency in currencies]
