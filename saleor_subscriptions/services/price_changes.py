"""Moving a plan's existing subscribers to its current price, with notice.

A plan's price change (subscriptionPlanUpdate) leaves existing subscribers on the price they
signed up for. Staff may move them: `schedule_for_plan` gives every subscriber of the plan whose
price differs the plan's current price from the first renewal on or after now + notice_days,
records `price_change_scheduled` (old and new price, notice date, expected renewal), which
decides the customer's e-mail once (the notice ledger, services/notices.py; sent after the
commit). A subscriber already scheduled for that price keeps the date they were told. The
renewal run calls `apply_due` before it bills a period (like a scheduled plan change): the new
price applies and `price_changed` is recorded.
A plan change of the subscription drops a scheduled price (lifecycle/plan_change._switch).
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from django.core.exceptions import ValidationError
from django.db import transaction
from prices import Money

from ..domain import periods
from ..error_codes import SubscriptionErrorCode
from ..models import EventType, Subscription, SubscriptionPlan
from . import plans
from .events import record_event

logger = logging.getLogger(__name__)

MAX_NOTICE_DAYS = 365
#: subscriptions that will renew again (cancelled and expired ones won't)
OPEN_STATUSES = ("trialing", "active", "past_due", "paused")


@dataclass
class PriceMigration:
    new_price: Money
    notice_until: datetime
    scheduled: List[int]  # subscription ids told about a new price


def schedule_for_plan(plan: SubscriptionPlan, notice_days: int, now: datetime,
                      **actor) -> PriceMigration:
    """Schedule the plan's current price for its existing subscribers; `actor`: event fields."""
    if notice_days is None or not 0 <= notice_days <= MAX_NOTICE_DAYS:
        raise ValidationError({"notice_days": ValidationError(
            "Give the customers 0 to %d days of notice." % MAX_NOTICE_DAYS,
            code=SubscriptionErrorCode.INVALID.value)})
    new_price = plans.plan_unit_price(plan)
    notice_until = now + timedelta(days=notice_days)
    scheduled = []
    with transaction.atomic():
        rows = (Subscription.objects.select_for_update(of=("self",))
                .filter(plan=plan, status__in=OPEN_STATUSES).select_related("plan")
                .order_by("pk"))
        for subscription in rows:
            if _schedule(subscription, new_price, notice_until, now, actor):
                scheduled.append(subscription.pk)
    logger.info("Plan %s: new price %s scheduled for %d subscriptions from %s",
                plan.pk, new_price, len(scheduled), notice_until.isoformat())
    return PriceMigration(new_price, notice_until, scheduled)


def _schedule(subscription, new_price: Money, notice_until: datetime, now, actor) -> bool:
    old_price = subscription.unit_price
    if old_price == new_price:
        if subscription.scheduled_price_at is not None:
            # The plan is back at this subscriber's price: nothing will change after all.
            _clear(subscription)
            subscription.save(update_fields=["scheduled_price_amount", "scheduled_price_at",
                                             "updated_at"])
            record_event(subscription, EventType.PRICE_CHANGE_SCHEDULED, date=now,
                         old_price=old_price, new_price=new_price, cancelled=True, **actor)
        return False
    if subscription.scheduled_price_at is not None and (
            subscription.scheduled_price_amount == new_price.amount):
        return False  # told already, with its date: a second run changes nothing
    subscription.scheduled_price_amount = new_price.amount
    subscription.scheduled_price_at = notice_until
    subscription.save(update_fields=["scheduled_price_amount", "scheduled_price_at",
                                     "updated_at"])
    record_event(subscription, EventType.PRICE_CHANGE_SCHEDULED, date=now, old_price=old_price,
                 new_price=new_price, notice_until=notice_until,
                 expected_from=expected_renewal(subscription), **actor)
    return True


def expected_renewal(subscription) -> Optional[datetime]:
    """The first renewal on or after the notice date, if the subscription has a next renewal."""
    notice_until, due = subscription.scheduled_price_at, subscription.next_billing_at
    if notice_until is None or due is None:
        return None
    if due >= notice_until:
        return due
    return periods.next_billing_date_after(subscription.anchor_at, subscription.plan.interval,
                                           notice_until - timedelta(microseconds=1))


def apply_due(subscription, now: datetime) -> bool:
    """Renewal run (subscription locked, before the period's cycle is made): the scheduled price
    applies from the first renewal on or after its notice date."""
    at = subscription.scheduled_price_at
    due = subscription.next_billing_at
    if at is None or due is None or due < at:
        return False
    old_price = subscription.unit_price
    subscription.unit_price_amount = subscription.scheduled_price_amount
    _clear(subscription)
    subscription.save(update_fields=["unit_price_amount", "scheduled_price_amount",
                                     "scheduled_price_at", "updated_at"])
    record_event(subscription, EventType.PRICE_CHANGED, date=now, old_price=old_price,
                 new_price=subscription.unit_price, cycle_index=subscription.cycle_index + 1,
                 period_start=due)
    return True


def _clear(subscription) -> None:
    subscription.scheduled_price_amount = None
    subscription.scheduled_price_at = None

