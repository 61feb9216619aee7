"""A per-process request budget for gateway calls, used until gateway/ratelimit.py offers a
shared one (`throttle_for(rate)`)."""
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

    def __call__(self) -> None:
        now = self.clock()
        if now < self.next_slot:
            self.sleep(self.next_slot - now)
            now = self.next_slot
        self.next_slot = now + self.interval
