from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Tuple

from prices import Money

from ._time import ensure_utc, whole_seconds
from .money import ensure_same_currency, from_minor, to_minor


@dataclass(frozen=True)
class ProrationResult:
    charge_now: Money
    credit: Money
    unused_fraction: Decimal


def _remaining_seconds(
    period_start: datetime, period_end: datetime, now: datetime
) -> Tuple[int, int]:
    ensure_utc(period_start, "period_start")
    ensure_utc(period_end, "period_end")
    ensure_utc(now, "now")
    # Proration counts whole seconds, so a shorter period would divide by zero.
    if whole_seconds(period_end - period_start) < 1:
        raise ValueError(
            f"Period end {period_end} must be at least a second after start {period_start}"
        )
    if not period_start <= now <= period_end:
        raise ValueError(f"now {now} is outside the period [{period_start}, {period_end}]")
    return whole_seconds(period_end - now), whole_seconds(period_end - period_start)


def _scale_half_up(units: int, numerator: int, denominator: int) -> int:
    # Integer arithmetic keeps the result exact; amounts are never negative here.
    return (2 * units * numerator + denominator) // (2 * denominator)


def _non_negative_minor(money: Money) -> int:
    units = to_minor(money)
    if units < 0:
        raise ValueError(f"Amount cannot be negative: {money!r}")
    return units


def prorate_change(
    old_amount: Money,
    new_amount: Money,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
) -> ProrationResult:
    currency = ensure_same_currency(old_amount, new_amount)
    remaining, total = _remaining_seconds(period_start, period_end, now)
    old_unused = _scale_half_up(_non_negative_minor(old_amount), remaining, total)
    new_unused = _scale_half_up(_non_negative_minor(new_amount), remaining, total)
    return ProrationResult(
        charge_now=from_minor(max(0, new_unused - old_unused), currency),
        credit=from_minor(max(0, old_unused - new_unused), currency),
        unused_fraction=Decimal(remaining) / Decimal(total),
    )


def unused_refund(
    paid: Money, period_start: datetime, period_end: datetime, now: datetime
) -> Money:
    remaining, total = _remaining_seconds(period_start, period_end, now)
    refund = _scale_half_up(_non_negative_minor(paid), remaining, total)
    return from_minor(refund, paid.currency)
