"""A request budget for one process: the rule of gateway/ratelimit.py's shared budget (GCRA:
calls spaced at 1/rate, `burst` at once after an idle spell, idle time saving no more), kept in
memory. Renewals use the shared one; this is what they fall back to without it, and the
reference its tests hold the Redis script to."""
import threading
import time
from typing import Callable


class Pacer:
    """Callable that blocks its caller until its slot: at most rate × w + burst calls in any
    window of w seconds."""

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.tolerance = (max(burst, 1) - 1) * self.interval
        self.clock = clock
        self.sleep = sleep
        self.arrival = float("-inf")  # when the budget would be spent again at the rate
        self._lock = threading.Lock()  # the threads of a worker's charging pool share it

    def __call__(self) -> None:
        with self._lock:
            now = self.clock()
            arrival = max(self.arrival, now)
            slot = max(now, arrival - self.tolerance)
            self.arrival = arrival + self.interval
        if slot > now:
            self.sleep(slot - now)
