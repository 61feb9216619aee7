from datetime import datetime, timedelta

ONE_SECOND = timedelta(seconds=1)


def ensure_utc(value: datetime, name: str = "datetime") -> datetime:
    # Calendar arithmetic on local wall time would shift with DST, so only UTC
    # is accepted; callers convert at the edge of the system.
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value}")
    if offset != timedelta(0):
        raise ValueError(f"{name} must be in UTC, got offset {offset}")
    return value


def whole_seconds(delta: timedelta) -> int:
    return delta // ONE_SECOND
