import re
from datetime import datetime, timedelta
from enum import Enum
from typing import Optional, Sequence, Tuple

from ._time import ensure_utc


class FinalAction(str, Enum):
    CANCEL = "cancel"
    PAUSE = "pause"


MAX_RETRIES = 10
MAX_RETRY_DELAY = timedelta(days=60)

_ENTRY = re.compile(r"^(\d+)\s*([dhm]?)$", re.IGNORECASE)
_UNITS = {"": "days", "d": "days", "h": "hours", "m": "minutes"}


def _parse_entry(entry: str) -> timedelta:
    match = _ENTRY.match(entry)
    if not match:
        raise ValueError(
            f"Invalid retry delay {entry!r}: use whole numbers of days (e.g. 3), "
            "hours (12h) or minutes (30m)"
        )
    number, suffix = match.groups()
    if len(number) > 6:  # far beyond the 60-day limit, and beyond what timedelta holds
        raise ValueError(f"Retry delays cannot exceed 60 days, got {entry!r}")
    return timedelta(**{_UNITS[suffix.lower()]: int(number)})


def describe(delay: timedelta) -> str:
    """A delay as people write it: "2 days", "1 day 12 hours", "30 minutes"."""
    minutes = int(delay.total_seconds() // 60)
    parts = []
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append("%d %s%s" % (count, unit, "" if count == 1 else "s"))
    return " ".join(parts) or "0 days"


def parse_retry_schedule(text: str) -> Tuple[timedelta, ...]:
    """Parse delays counted from the first failed payment, e.g. "1,3,7" or "12h,2,5"."""
    if not text.strip():
        return ()
    delays = tuple(_parse_entry(entry.strip()) for entry in text.split(","))
    if len(delays) > MAX_RETRIES:
        raise ValueError(f"At most {MAX_RETRIES} retries are allowed, got {len(delays)}")
    for position, delay in enumerate(delays):
        if delay <= timedelta(0):
            raise ValueError(f"Retry delays must be positive, got {describe(delay)}")
        if delay > MAX_RETRY_DELAY:
            raise ValueError(f"Retry delays cannot exceed 60 days, got {describe(delay)}")
        if position and delay <= delays[position - 1]:
            raise ValueError(
                "Retry delays are counted from the first failure and must increase: "
                f"{describe(delay)} is not after {describe(delays[position - 1])}"
            )
    return delays


def next_retry_at(
    first_failure_at: datetime, schedule: Sequence[timedelta], failures_so_far: int
) -> Optional[datetime]:
    ensure_utc(first_failure_at, "first_failure_at")
    if failures_so_far < 1:
        raise ValueError("failures_so_far counts the initial failure, so must be >= 1")
    if failures_so_far > len(schedule):
        return None
    return first_failure_at + schedule[failures_so_far - 1]
