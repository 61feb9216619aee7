"""Which e-mail notices exist and when the reminders among them are due (pure rules)."""
from datetime import datetime, timedelta, timezone
from typing import Optional


class NoticeKind:
    """One kind per e-mail; each can be switched off in the plugin settings (config.py)."""

    RENEWAL_UPCOMING = "renewal_upcoming"
    TRIAL_ENDING = "trial_ending"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    CARD_EXPIRING = "card_expiring"
    CARD_UPDATED = "card_updated"
    CARD_DETACHED = "card_detached"
    PRICE_CHANGE = "price_change"
    WIN_BACK = "win_back"
    CANCELLED = "cancelled"
    CANCELLATION_SCHEDULED = "cancellation_scheduled"
    PAUSED = "paused"
    RESUMED = "resumed"
    PLAN_CHANGED = "plan_changed"
    STAFF_PAYMENT_FAILED = "staff_payment_failed"
    STAFF_DISPUTE = "staff_dispute"
    #: a payment for an abandoned cycle, refunded (services/abandoned_payment.py)
    STAFF_PAYMENT_REFUNDED = "staff_payment_refunded"
    #: ... which the gateway refused to refund (the renewal sweep tries again)
    STAFF_REFUND_FAILED = "staff_refund_failed"

    ALL = (RENEWAL_UPCOMING, TRIAL_ENDING, PAYMENT_FAILED, PAYMENT_ACTION_REQUIRED, CARD_EXPIRING,
           CARD_UPDATED, CARD_DETACHED, PRICE_CHANGE, WIN_BACK, CANCELLED,
           CANCELLATION_SCHEDULED, PAUSED, RESUMED, PLAN_CHANGED, STAFF_PAYMENT_FAILED,
           STAFF_DISPUTE, STAFF_PAYMENT_REFUNDED, STAFF_REFUND_FAILED)
    #: these go to the store's staff notification recipients, never to the customer
    STAFF = frozenset({STAFF_PAYMENT_FAILED, STAFF_DISPUTE, STAFF_PAYMENT_REFUNDED,
                       STAFF_REFUND_FAILED})


#: the longest renewal notice a plan may ask for
MAX_RENEWAL_NOTICE_DAYS = 365
#: the shortest a period of one unit can be, in days (a month: February)
SHORTEST_UNIT_DAYS = {"day": 1, "week": 7, "month": 28, "year": 365}


def shortest_period_days(interval_unit: str, interval_count: int) -> int:
    return SHORTEST_UNIT_DAYS[interval_unit] * interval_count


def renewal_notice_fits(days: int, interval_unit: str, interval_count: int) -> bool:
    """A notice must come after the renewal before it: shorter than the shortest period."""
    return days == 0 or days < shortest_period_days(interval_unit, interval_count)


def within_notice(now: datetime, moment: Optional[datetime], days: int) -> bool:
    """`moment` (a renewal, a trial's end) is at most `days` away and still ahead."""
    if moment is None or days <= 0:
        return False
    return now < moment <= now + timedelta(days=days)


def card_stops_working(exp_year: int, exp_month: int) -> datetime:
    """A card works until the end of its expiry month (UTC)."""
    if exp_month == 12:
        return datetime(exp_year + 1, 1, 1, tzinfo=timezone.utc)
    return datetime(exp_year, exp_month + 1, 1, tzinfo=timezone.utc)


def card_expiring_now(now: datetime, exp_year: Optional[int], exp_month: Optional[int]) -> bool:
    """Notify during the card's last month: from the first day of its expiry month until it
    stops working (when Stripe sends customer.source.expiring)."""
    if not exp_year or not exp_month or not 1 <= exp_month <= 12:
        return False
    return (now.year, now.month) == (exp_year, exp_month)


def card_key(exp_year: int, exp_month: int) -> int:
    """The ledger's cycle for a card notice: a new card with another expiry is a new notice."""
    return exp_year * 100 + exp_month
