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
    return timedelta(**{_UNITS[suffix.lower()]: int(number)})


def parse_retry_schedule(text: str) -> Tuple[timedelta, ...]:
    """Parse delays counted from the first failed payment, e.g. "1,3,7" or "12h,2,5"."""
    if not text.strip():
        return ()
    delays = tuple(_parse_entry(entry.strip()) for entry in text.split(","))
    if len(delays) > MAX_RETRIES:
        raise ValueError(f"At most {MAX_RETRIES} retries are allowed, got {len(delays)}")
    for position, delay in enumerate(delays):
        if delay <= timedelta(0):
            raise ValueError(f"Retry delays must be positive, got {delay}")
        if delay > MAX_RETRY_DELAY:
            raise ValueError(f"Retry delays cannot exceed 60 days, got {delay}")
        if position and delay <= delays[position - 1]:
            raise ValueError(
                "Retry delays are counted from the first failure and must increase: "
                f"{delay} is not after {delays[position - 1]}"
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
