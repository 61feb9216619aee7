import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Tuple

from ._time import ensure_utc, whole_seconds


class IntervalUnit(str, Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


MAX_INTERVAL_COUNT = {
    IntervalUnit.DAY: 730,
    IntervalUnit.WEEK: 104,
    IntervalUnit.MONTH: 24,
    IntervalUnit.YEAR: 5,
}

DAYS_PER_YEAR = Decimal("365.2425")
SECONDS_PER_DAY = 86400
_UNIT_DAYS = {
    IntervalUnit.DAY: Decimal(1),
    IntervalUnit.WEEK: Decimal(7),
    IntervalUnit.MONTH: DAYS_PER_YEAR / 12,
    IntervalUnit.YEAR: DAYS_PER_YEAR,
}


@dataclass(frozen=True)
class Interval:
    unit: IntervalUnit
    count: int = 1

    def __post_init__(self) -> None:
        # Accept raw strings from the database/forms but store the enum.
        object.__setattr__(self, "unit", IntervalUnit(self.unit))
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise ValueError(f"Interval count must be an integer, got {self.count!r}")
        maximum = MAX_INTERVAL_COUNT[self.unit]
        if not 1 <= self.count <= maximum:
            raise ValueError(
                f"Interval count for unit {self.unit.value!r} must be between 1 and "
                f"{maximum}, got {self.count}"
            )

    @property
    def approx_days(self) -> Decimal:
        return _UNIT_DAYS[self.unit] * self.count

    @property
    def periods_per_year(self) -> Decimal:
        return DAYS_PER_YEAR / self.approx_days


def _add_months(anchor: datetime, months: int) -> datetime:
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def billing_date(anchor: datetime, interval: Interval, n: int) -> datetime:
    ensure_utc(anchor, "anchor")
    if n < 0:
        raise ValueError(f"Period index must be >= 0, got {n}")
    steps = n * interval.count
    # Always offset from the anchor so clamped month ends never drift.
    if interval.unit == IntervalUnit.DAY:
        return anchor + timedelta(days=steps)
    if interval.unit == IntervalUnit.WEEK:
        return anchor + timedelta(weeks=steps)
    if interval.unit == IntervalUnit.MONTH:
        return _add_months(anchor, steps)
    return _add_months(anchor, 12 * steps)


def period_containing(
    anchor: datetime, interval: Interval, moment: datetime
) -> Tuple[int, datetime, datetime]:
    ensure_utc(anchor, "anchor")
    ensure_utc(moment, "moment")
    if moment < anchor:
        raise ValueError(f"moment {moment} is before the anchor {anchor}")
    elapsed_days = Decimal(whole_seconds(moment - anchor)) / SECONDS_PER_DAY
    # The estimate is off by at most a period or two; walk to the exact one.
    n = max(0, int(elapsed_days / interval.approx_days) - 1)
    while billing_date(anchor, interval, n) > moment:
        n -= 1
    while billing_date(anchor, interval, n + 1) <= moment:
        n += 1
    return n, billing_date(anchor, interval, n), billing_date(anchor, interval, n + 1)


def next_billing_date_after(anchor: datetime, interval: Interval, moment: datetime) -> datetime:
    ensure_utc(anchor, "anchor")
    ensure_utc(moment, "moment")
    if moment < anchor:
        return anchor
    return period_containing(anchor, interval, moment)[2]
