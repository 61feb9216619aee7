"""Reminders before something happens: renewal coming up (the plan's notice days before each
renewal), trial ending (the store's notice days before a trial ends) and card expiring (during
the card's last month). Each is decided once per subscription and cycle (services/notices.py);
renewal coming up and trial ending also write a history row, which is the webhook event
`subscription_renewal_upcoming` / `subscription_trial_ending` — once, with the notice.

The periodic task (tasks.send_notices_task) runs this; two runs at once are safe: a row another
run holds is skipped (SKIP LOCKED), and the notice's unique row stops a second decision.
"""
from datetime import datetime, timedelta
from typing import Callable, Dict, List, Optional

from django.db import transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
)
from prices import Money

from ..domain import intro
from ..domain import notices as rules
from ..domain.notices import NoticeKind
from ..models import BILLABLE_STATUSES, EventType, Subscription, SubscriptionPlan
from ..notice_models import CustomerNotice
from . import notices
from .events import record_event
from .plans import subscription_intro_price

BATCH = 200
#: a notice still pending this long after it was decided lost its queued message: send again
LOST_AFTER = timedelta(minutes=10)


def send_due_reminders(now: datetime, settings, batch: int = BATCH) -> Dict[str, int]:
    """Decide every reminder due at `now`; returns how many of each kind were decided."""
    from django.utils import timezone

    counts = {
        NoticeKind.RENEWAL_UPCOMING: _run(renewal_candidates(now), batch,
                                          lambda pk: renewal_upcoming(pk, now, settings)),
        NoticeKind.TRIAL_ENDING: _run(trial_candidates(now, settings.trial_notice_days), batch,
                                      lambda pk: trial_ending(pk, now, settings)),
        NoticeKind.CARD_EXPIRING: _run(card_candidates(now), batch,
                                       lambda pk: card_expiring(pk, now, settings)),
    }
    # created_at is the real clock's, whatever `now` the run was given
    counts["resent"] = notices.sweep_unsent(timezone.now() - LOST_AFTER)
    return counts


def _run(candidates, batch: int, remind: Callable[[int], bool]) -> int:
    """Candidates (those not yet reminded) in pages by id; one held by another run or found
    not due under its lock is passed over until the next run."""
    decided, after = 0, 0
    while True:
        ids: List[int] = list(candidates.filter(pk__gt=after).order_by("pk")
                              .values_list("pk", flat=True)[:batch])
        decided += sum(1 for pk in ids if remind(pk))
        if len(ids) < batch:
            return decided
        after = ids[-1]


def _not_reminded(kind: str, cycle) -> Exists:
    return Exists(CustomerNotice.objects.filter(subscription=OuterRef("pk"), kind=kind,
                                                cycle=cycle))


def renewal_candidates(now: datetime):
    # The longest notice any plan asks for bounds the range read (subs_due_idx).
    longest = SubscriptionPlan.objects.aggregate(days=Max("renewal_notice_days"))["days"] or 0
    notice_from = ExpressionWrapper(
        F("next_billing_at") - ExpressionWrapper(
            F("plan__renewal_notice_days") * timedelta(days=1), output_field=DurationField()),
        output_field=DateTimeField())
    return (Subscription.objects
            .filter(status="active", cancel_at_period_end=False, parked_at__isnull=True,
                    next_billing_at__gt=now, plan__renewal_notice_days__gt=0,
                    next_billing_at__lte=now + timedelta(days=longest))
            .annotate(notice_from=notice_from,
                      reminded=_not_reminded(NoticeKind.RENEWAL_UPCOMING,
                                             OuterRef("cycle_index") + 1))
            .filter(notice_from__lte=now, reminded=False))


def trial_candidates(now: datetime, days: int):
    return (Subscription.objects
            .filter(status="trialing", cancel_at_period_end=False, trial_end_at__gt=now,
                    trial_end_at__lte=now + timedelta(days=days))
            .annotate(reminded=_not_reminded(NoticeKind.TRIAL_ENDING,
                                             OuterRef("cycle_index") + 1))
            .filter(reminded=False))


def card_candidates(now: datetime):
    return (Subscription.objects
            .filter(status__in=BILLABLE_STATUSES, cancel_at_period_end=False,
                    card_exp_year=now.year, card_exp_month=now.month)
            .annotate(reminded=_not_reminded(NoticeKind.CARD_EXPIRING,
                                             rules.card_key(now.year, now.month)))
            .filter(reminded=False))


def _locked(subscription_id: int) -> Optional[Subscription]:
    """The row, locked; None while someone else holds it (a renewal, another run)."""
    return (Subscription.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("plan").filter(pk=subscription_id).first())


def next_charge(subscription: Subscription) -> Money:
    """What the next renewal charges for the subscription itself (before shipping, taxes and
    credit): the next cycle's unit price, a scheduled price from its date, × quantity."""
    regular = subscription.unit_price
    at, due = subscription.scheduled_price_at, subscription.next_billing_at
    if at is not None and due is not None and due >= at:
        regular = Money(subscription.scheduled_price_amount, subscription.currency)
    unit = intro.cycle_unit_price(regular, subscription_intro_price(subscription),
                                  subscription.intro_until_cycle, subscription.paid_cycles)
    return unit * subscription.quantity


def _ends_before_renewal(subscription: Subscription) -> bool:
    cycles = subscription.plan.billing_cycles
    return cycles is not None and subscription.paid_cycles >= cycles


@transaction.atomic
def renewal_upcoming(subscription_id: int, now: datetime, settings) -> bool:
    subscription = _locked(subscription_id)
    if subscription is None or subscription.status != "active" or (
            subscription.cancel_at_period_end or _ends_before_renewal(subscription)):
        return False
    days = subscription.plan.renewal_notice_days
    if not rules.within_notice(now, subscription.next_billing_at, days):
        return False
    return _remind(subscription, NoticeKind.RENEWAL_UPCOMING, EventType.RENEWAL_UPCOMING,
                   subscription.next_billing_at, days, now, settings)


@transaction.atomic
def trial_ending(subscription_id: int, now: datetime, settings) -> bool:
    subscription = _locked(subscription_id)
    days = settings.trial_notice_days
    if subscription is None or subscription.status != "trialing" or (
            subscription.cancel_at_period_end
            or not rules.within_notice(now, subscription.trial_end_at, days)):
        return False
    return _remind(subscription, NoticeKind.TRIAL_ENDING, EventType.TRIAL_ENDING,
                   subscription.trial_end_at, days, now, settings)


def _remind(subscription, kind, event_type, when: datetime, days: int, now, settings) -> bool:
    charge = next_charge(subscription)
    cycle = subscription.cycle_index + 1
    notice = notices.decide(
        subscription, kind, cycle, settings, renews_at=subscription.next_billing_at,
        trial_end_at=subscription.trial_end_at, amount=notices.money_text(
            charge.amount, charge.currency), ships=subscription.shipping_method_id is not None)
    if notice is None:
        return False
    record_event(subscription, event_type, date=now, amount=charge, cycle_index=cycle,
                 next_billing_at=subscription.next_billing_at, days=days,
                 **({"trial_end": when} if kind == NoticeKind.TRIAL_ENDING else {}))
    return True


@transaction.atomic
def card_expiring(subscription_id: int, now: datetime, settings) -> bool:
    subscription = _locked(subscription_id)
    if subscription is None or subscription.status not in BILLABLE_STATUSES or (
            subscription.cancel_at_period_end or not rules.card_expiring_now(
                now, subscription.card_exp_year, subscription.card_exp_month)):
        return False
    return decide_card_expiring(subscription, settings) is not None


def decide_card_expiring(subscription: Subscription, settings=None):
    """The card-expiring notice for the subscription's current card, once per card expiry
    (also for Stripe's customer.source.expiring: the same row stops a second one)."""
    year, month = subscription.card_exp_year, subscription.card_exp_month
    return notices.decide(
        subscription, NoticeKind.CARD_EXPIRING, rules.card_key(year, month), settings,
        card_brand=subscription.card_brand, card_last4=subscription.card_last4,
        card_expiry="%02d/%d" % (month, year),
        stops_working_at=rules.card_stops_working(year, month),
        renews_at=subscription.next_billing_at)
