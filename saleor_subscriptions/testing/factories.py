"""Plans and subscriptions straight through the ORM, for tests that need rows, not a checkout.

Every model field can be overridden by keyword; the defaults make a consistent row: a monthly
plan at the variant's price, and a subscription whose period fields sit on the anchor's grid
(domain.periods) with the status' own dates filled in.
"""
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Optional

from ..domain import periods
from ..domain.money import quantize
from ..domain.states import Status
from ..models import Subscription, SubscriptionPlan


def create_plan(variant, **overrides) -> SubscriptionPlan:
    """A monthly plan; `discount_percent=...` alone makes a subscribe-&-save plan."""
    currency = overrides.pop("currency", variant.currency)
    if overrides.get("discount_percent") is not None:
        overrides.setdefault("price_amount", None)
    fields = {
        "name": "Monthly",
        "interval_unit": periods.IntervalUnit.MONTH.value,
        "interval_count": 1,
        "price_amount": quantize(variant.base_price.amount, currency),
    }
    fields.update(overrides)
    return SubscriptionPlan.objects.create(variant=variant, currency=currency, **fields)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def create_subscription(user, plan: SubscriptionPlan, status: str = Status.ACTIVE.value, *,
                        start: Optional[datetime] = None, quantity: int = 1,
                        **overrides) -> Subscription:
    """A subscription to `plan` that began at `start` (default: now, UTC).

    trialing: the trial runs plan.trial_days (or 14) days and its end is the billing anchor.
    active/past_due: period 0 runs from the anchor; past_due is due again at once.
    paused/cancelled/expired: nothing is due; the status' date is `start`.
    `user=None` makes a guest's subscription (pass `email=`).
    """
    status = Status(status).value
    start = start or _now()
    interval = plan.interval
    fields = {
        "email": user.email if user is not None else "guest@example.com",
        "is_guest": user is None,
        "variant": plan.variant,
        "currency": plan.currency,
        "unit_price_amount": _unit_price(plan),
        "paid_cycles": 1,
        "created_at": start,
    }
    if status == Status.TRIALING.value:
        trial_end = start + timedelta(days=plan.trial_days or 14)
        fields.update(anchor_at=trial_end, current_period_start=start,
                      current_period_end=trial_end, next_billing_at=trial_end,
                      trial_end_at=trial_end, paid_cycles=0)
    else:
        period_end = periods.billing_date(start, interval, 1)
        fields.update(anchor_at=start, current_period_start=start,
                      current_period_end=period_end, next_billing_at=period_end)
    if status == Status.PAST_DUE.value:
        fields["next_billing_at"] = start
    elif status == Status.PAUSED.value:
        fields.update(paused_at=start, next_billing_at=None)
    elif status == Status.CANCELLED.value:
        fields.update(cancelled_at=start, ended_at=start, next_billing_at=None)
    elif status == Status.EXPIRED.value:
        fields.update(ended_at=start, next_billing_at=None)
    fields.update(overrides)
    return Subscription.objects.create(
        user=user, plan=plan, quantity=quantity, status=status, **fields
    )


def _unit_price(plan: SubscriptionPlan) -> Decimal:
    from ..services.plans import plan_unit_price

    return plan_unit_price(plan).amount
