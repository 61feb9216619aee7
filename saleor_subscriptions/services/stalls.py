"""After a stall (renewals did not run for several periods): the store's "Missed renewals".

bill_once (default): only the period containing now is billed; the missed periods are recorded
as skipped (event renewal_skipped, reason periods_missed) and get no cycle of their own, like a
skipped renewal — cycle indices keep numbering the billed periods. bill_each: every missed
period is billed in turn (renewals.next_period as it is)."""
from datetime import datetime
from typing import Optional

from ..config import MISSED_BILL_ONCE
from ..domain.stalls import CatchUp, catch_up
from ..models import EventType
from .events import record_event


def bills_once(settings) -> bool:
    return getattr(settings, "missed_renewals", MISSED_BILL_ONCE) == MISSED_BILL_ONCE


def skip_missed_periods(subscription, now: datetime, settings) -> Optional[CatchUp]:
    """Before a new cycle (subscription locked): move next_billing_at to the current period."""
    due = subscription.next_billing_at
    if due is None or not bills_once(settings):
        return None
    caught = catch_up(subscription.anchor_at, subscription.plan.interval, due, now)
    if not caught.missed:
        return None
    subscription.next_billing_at = caught.current[0]
    subscription.save()
    _record(subscription, caught, now, due)
    return caught


def move_open_cycle(subscription, cycle, now: datetime, settings) -> Optional[CatchUp]:
    """A released subscription: its open cycle's period is long over, so it becomes the
    current period (same cycle, same order); the periods in between are skipped."""
    if cycle is None or not bills_once(settings):
        return None
    caught = catch_up(subscription.anchor_at, subscription.plan.interval, cycle.period_start, now)
    if not caught.missed:
        return None
    due = cycle.period_start
    cycle.period_start, cycle.period_end = caught.current
    cycle.save()
    subscription.next_billing_at = caught.current[0]
    _record(subscription, caught, now, due, cycle_index=cycle.cycle_index)
    return caught


def _record(subscription, caught: CatchUp, now: datetime, due: datetime, **extra) -> None:
    record_event(
        subscription, EventType.RENEWAL_SKIPPED, date=now, reason="periods_missed",
        count=caught.missed, periods_missed=[list(period) for period in caught.listed],
        due_since=due, billed_period_start=caught.current[0],
        billed_period_end=caught.current[1], next_billing_at=caught.current[0], **extra)
