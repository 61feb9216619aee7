"""A request budget shared by every worker process: at most `rate` gateway calls per second.

A fixed one-second window counted in Redis (one round trip a call); a caller over budget sleeps
into the next window. Renewals pick it up through services.renewals.default_throttle.
"""
import os
import time
from typing import Callable

import redis

KEY = "subscriptions:gateway-budget:%s:%d"


def throttle_for(rate: float, url: str = "", namespace: str = "charges",
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> Callable[[], None]:
    limit = max(int(rate), 1)
    connection = redis.Redis.from_url(
        url or os.environ.get("SUBSCRIPTIONS_RATE_LIMIT_REDIS")
        or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0")

    def wait_for_budget() -> None:
        while True:
            now = clock()
            window = int(now)
            pipe = connection.pipeline()
            pipe.incr(KEY % (namespace, window))
            pipe.expire(KEY % (namespace, window), 5)
            used, _ = pipe.execute()
            if used <= limit:
                return
            sleep(window + 1 - now)

    return wait_for_budget
