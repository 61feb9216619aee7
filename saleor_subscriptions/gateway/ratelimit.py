"""A request budget shared by every worker process and machine: gateway calls spaced evenly at
1/rate, with a small burst allowance.

GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp): Redis holds the
budget's theoretical arrival time (TAT), the moment the budget would be spent again if calls came
exactly at the rate. A call reserves the next slot in one atomic Lua script (one round trip,
however many processes share the key) and sleeps exactly until it, so the calls of all workers
go out evenly instead of in a burst at each second's start, and a pool thread waits only as long
as its turn is away. Over any window of w seconds there are at most rate × w + burst calls;
idle time does not save budget beyond `burst`.

The time is Redis's own (TIME), so machines whose clocks differ share one budget; tests pass a
`clock` instead. Renewals pick it up through services.renewals.default_throttle; a 429 is backed
off by services.charging, which then takes a new slot.
"""
import logging
import math
import os
import time
from typing import Callable, Optional

import redis

from ..services.pacing import Pacer

logger = logging.getLogger(__name__)

KEY = "subscriptions:gateway-pace:%s"
BURST_SECONDS = 0.1  # default burst: a tenth of a second's budget, at least one call
#: Without Redis a worker paces itself at this share of the budget: the other workers, unseen,
#: may be charging too, and the gateway's 429s (backed off in charging) catch what is left over.
FALLBACK_SHARE = 0.25
REDIS_TIMEOUT_SECONDS = 1.0

# KEYS[1]: the TAT (µs). ARGV: interval (µs), tolerance (µs: (burst - 1) × interval), now (µs,
# empty for Redis's clock). Returns how long (µs) the caller waits for its slot.
_RESERVE = """
if redis.replicate_commands then redis.replicate_commands() end  -- TIME before a write (Redis < 5)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local slot = tat - tolerance
if slot < now then slot = now end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX',
           math.floor((tat - now) / 1000) + 60000)
return slot - now
"""


def default_burst(rate: float) -> int:
    configured = os.environ.get("SUBSCRIPTIONS_CHARGE_BURST", "").strip()
    try:
        return max(int(float(configured)), 1)
    except ValueError:
        if configured:
            logger.warning("SUBSCRIPTIONS_CHARGE_BURST=%r is not a number; using the default",
                           configured)
    return max(int(rate * BURST_SECONDS), 1)


def throttle_for(rate: float, url: str = "", namespace: str = "charges",
                 burst: Optional[int] = None,
                 clock: Optional[Callable[[], float]] = None,
                 sleep: Optional[Callable[[float], None]] = None) -> Callable[[], None]:
    """A callable that blocks until its caller may make one call within `rate` calls a second
    (`burst` at once after an idle spell; SUBSCRIPTIONS_CHARGE_BURST, else 0.1 s of budget)."""
    rate = rate if rate > 0 else 1.0
    interval = int(math.ceil(1000000 / rate))
    tolerance = (max(int(burst), 1) if burst is not None else default_burst(rate)) - 1
    connection = redis.Redis.from_url(
        url or os.environ.get("SUBSCRIPTIONS_RATE_LIMIT_REDIS")
        or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
        socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    reserve = connection.register_script(_RESERVE)
    key = KEY % namespace
    # An unreachable Redis must not fail the renewals whose attempts are already stored.
    local = Pacer(rate * FALLBACK_SHARE, clock=clock or time.monotonic,
                  sleep=sleep or (lambda seconds: time.sleep(seconds)))

    def wait_for_budget() -> None:
        now = "" if clock is None else int(round(clock() * 1000000))
        try:
            wait = int(reserve(keys=[key], args=[interval, tolerance * interval, now]))
        except redis.RedisError as error:
            logger.warning("Charge budget in Redis unavailable (%s): pacing this process alone",
                           error)
            local()
            return
        if wait > 0:
            # Looked up per call, not bound at import: tests patch time.sleep.
            (sleep or time.sleep)(wait / 1000000.0)

    return wait_for_budget
