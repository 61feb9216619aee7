"""A per-process request budget for gateway calls, used until gateway/ratelimit.py offers a
shared one (`throttle_for(rate)`)."""
import threading
import time
from typing import Callable


class Pacer:
    """Callable that blocks so that calls happen at most `rate` times per second."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_slot = 0.0
        self._lock = threading.Lock()  # the threads of a worker's charging pool share it

    def __call__(self) -> None:
        with self._lock:
            now = self.clock()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)
