"""Catching up after renewals did not run for a while: which periods were missed (pure)."""
from dataclasses import dataclass
from datetime import datetime
from typing import Tuple

from ._time import ensure_utc
from .periods import Interval, next_billing_date_after, period_containing

#: the missed periods an event lists one by one (the count covers them all)
LISTED = 24

Period = Tuple[datetime, datetime]


@dataclass(frozen=True)
class CatchUp:
    current: Period  # the period to bill: the one from `due` on that contains now
    missed: int  # whole periods between `due` and `current`, none of them billed
    listed: Tuple[Period, ...]  # the first LISTED of them


def catch_up(anchor: datetime, interval: Interval, due: datetime, now: datetime,
             listed: int = LISTED) -> CatchUp:
    """The periods on the anchor's grid from `due` (the unbilled period's start) up to now.

    `due` may be off the grid (a moved billing date): its period ends at the next grid date."""
    ensure_utc(due, "due")
    ensure_utc(now, "now")
    first_end = next_billing_date_after(anchor, interval, due)
    if first_end > now:
        return CatchUp((due, first_end), 0, ())
    # now >= first_end >= anchor: the period containing now is on the grid.
    index, start, end = period_containing(anchor, interval, now)
    # Index of the period `due` falls in; a `due` before the anchor has [due, anchor) first.
    first = period_containing(anchor, interval, due)[0] if due >= anchor else -1
    periods = []
    begin, finish = due, first_end
    while len(periods) < listed and finish <= start:
        periods.append((begin, finish))
        begin, finish = finish, next_billing_date_after(anchor, interval, finish)
    return CatchUp((start, end), index - first, tuple(periods))
