"""Charges in flight together: the gateway calls of a renewal batch on a bounded thread pool.

Only the gateway's part of a charge runs on the pool's threads (`charging.call_for`: the shared
request budget, the lookup of an interrupted attempt, the charge and its 429 back-off — HTTP and
Redis, never the ORM: Django's database connections are per thread). Everything else stays on
the batch's own thread and connection: steps 1-2 (cycle, order, attempt committed with its key)
before a charge is handed to the pool, step 4 (the outcome under the row lock) when it answers,
and each subscription's advisory lock, held from before its attempt until its outcome is
recorded. While charges are in flight the batch thread prepares the next renewals, so a worker
waits on the payment provider, not on itself. Renewals are begun as many at a time as the pool
has room for, and the answers that arrived together are recorded together: plain ones in a few
statements per group (services/renewal_batches.py).

The pool's size per worker process is the Django setting SUBSCRIPTIONS_RENEWAL_CONCURRENCY
(default 8; 1 charges one at a time, on the batch's own thread). A batch's first charge goes
alone, so a key that is refused costs one parked renewal; a key revoked while charges are in
flight parks those in flight (at most the pool's size), and no further renewal is begun.
"""
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import List

from django.conf import settings

from ..models import Subscription
from . import charging, gateway_health
from .outcomes import BatchResult, RenewalContext

DEFAULT_CONCURRENCY = 8


#: after the first answer, how long the batch thread waits for more, to record them together
DEFAULT_GATHER_SECONDS = 0.01


def gather_seconds() -> float:
    return float(getattr(settings, "SUBSCRIPTIONS_RENEWAL_GATHER_SECONDS",
                         DEFAULT_GATHER_SECONDS))


def pool_size() -> int:
    return max(int(getattr(settings, "SUBSCRIPTIONS_RENEWAL_CONCURRENCY", DEFAULT_CONCURRENCY)), 1)


def renew_claimed(ids: List[int], now: datetime, context: RenewalContext,
                  result: BatchResult) -> None:
    """Renew the leased `ids`, up to pool_size() charges in flight; outcomes in `ids`' order."""
    from . import renewal_batches, renewals

    size = pool_size()
    waiting = deque(enumerate(ids))
    flying = {}
    outcomes = {}
    halted = False
    probing = True
    pool = (ThreadPoolExecutor(max_workers=size, thread_name_prefix="renewal-charge")
            if size > 1 else _OnThisThread())
    with pool:
        while waiting or flying:
            if flying and not (waiting and (1 if probing else size) > len(flying)):
                # Nothing to begin: wait for an answer, and record the answers that arrive
                # together in one group's statements.
                wait(list(flying), return_when=FIRST_COMPLETED)
                wait(list(flying), timeout=gather_seconds())
            answered = [future for future in flying if future.done()]
            settled = renewal_batches.complete_many(
                [(flying[future][1],) + _answer(future) for future in answered], now, context)
            for future, outcome in zip(answered, settled):
                position, _flight = flying.pop(future)
                outcomes[position] = outcome
                if gateway_health.is_auth_failure(outcome.detail):
                    halted = True
                    result.halted = gateway_health.GATEWAY_AUTH_FAILED
                probing = False
            if halted and waiting:
                # The key is refused for every row: leave the rest unclaimed.
                Subscription.objects.filter(pk__in=[sid for _, sid in waiting]).update(
                    renewal_lease_until=None)
                waiting.clear()
            room = (1 if probing else size) - len(flying)
            if waiting and room > 0:
                # A group's rows are written together: as many as the pool has room for.
                group = [waiting.popleft() for _ in range(min(room, len(waiting)))]
                started = renewal_batches.begin_many([sid for _, sid in group], now, context)
                for (position, _sid), begun in zip(group, started):
                    if isinstance(begun, renewals.InFlight):
                        flying[pool.submit(charging.call_for, context, begun.started)] = (
                            position, begun)
                    else:
                        outcomes[position] = begun
    for position in sorted(outcomes):
        result.add(outcomes[position])


class _OnThisThread:
    """A pool of one: each charge made at once on the batch's own thread."""

    def submit(self, function, *args) -> Future:
        future = Future()
        try:
            future.set_result(function(*args))
        except Exception as error:
            future.set_exception(error)
        return future

    def __enter__(self) -> "_OnThisThread":
        return self

    def __exit__(self, *exc_info) -> None:
        return None


def _answer(future) -> tuple:
    """(result, error) of a charge's future."""
    error = future.exception()
    return (None, error) if error is not None else (future.result(), None)
