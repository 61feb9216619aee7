"""A request budget shared by every worker process: at most `rate` gateway calls per second.

A fixed one-second window counted in Redis (one round trip a call); a caller over budget sleeps
into the next window. Renewals pick it up through services.renewals.default_throttle.
"""
import os
import time
from typing import Callable, Optional

import redis

KEY = "subscriptions:gateway-budget:%s:%d"


def throttle_for(rate: float, url: str = "", namespace: str = "charges",
                 clock: Optional[Callable[[], float]] = None,
                 sleep: Optional[Callable[[float], None]] = None) -> Callable[[], None]:
    limit = max(int(rate), 1)
    connection = redis.Redis.from_url(
        url or os.environ.get("SUBSCRIPTIONS_RATE_LIMIT_REDIS")
        or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0")

    def wait_for_budget() -> None:
        # Looked up per call, not bound at import: a clock frozen in tests must not stick.
        read_clock, pause = clock or time.time, sleep or time.sleep
        while True:
            now = read_clock()
            window = int(now)
            pipe = connection.pipeline()
            pipe.incr(KEY % (namespace, window))
            pipe.expire(KEY % (namespace, window), 5)
            used, _ = pipe.execute()
            if used <= limit:
                return
            pause(window + 1 - now)

    return wait_for_budget
