"""The shared request budget (gateway/ratelimit.py) against the real Redis: calls are spaced at
1/rate, all callers of all processes together stay within rate × w + burst over any window of w
seconds, and idle time saves no more than the burst. Times are a controlled clock (each caller's
own, advanced by what it is told to sleep), never measured."""
import multiprocessing
import threading
import uuid

import pytest

from saleor_subscriptions.gateway.ratelimit import FALLBACK_SHARE, default_burst, throttle_for
from saleor_subscriptions.services.pacing import Pacer
from saleor_subscriptions.testing.redis_urls import redis_url

REDIS = redis_url(9)
START = 1000.0  # seconds: small, so a microsecond is exact in a float


class Caller:
    """One caller's controlled clock: it moves only when the caller sleeps or works."""

    def __init__(self, now=START):
        self.now = now
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def stamp(self):
        return int(round(self.now * 1000000))


def budget(rate, burst, caller, namespace):
    return throttle_for(rate, url=REDIS, namespace=namespace, burst=burst,
                        clock=caller.clock, sleep=caller.sleep)


def most_in_window(stamps, seconds):
    """The most stamps (µs) in any closed window of `seconds`."""
    stamps, width, most, first = sorted(stamps), int(round(seconds * 1000000)), 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] > width:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_calls_are_spaced_evenly_and_each_caller_sleeps_exactly_until_its_slot():
    caller = Caller()
    wait = budget(50, 1, caller, uuid.uuid4().hex)
    stamps = []
    for _ in range(5):
        wait()
        stamps.append(caller.stamp())
    assert caller.slept == [0.02, 0.02, 0.02, 0.02]
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [20000] * 4


def test_callers_at_the_same_moment_queue_one_interval_apart():
    namespace = uuid.uuid4().hex
    callers = [Caller() for _ in range(4)]
    for caller in callers:
        budget(10, 1, caller, namespace)()
    assert [caller.slept for caller in callers] == [[], [0.1], [0.2], [0.3]]


def test_idle_time_saves_no_more_than_the_burst():
    caller = Caller()
    wait = budget(50, 3, caller, uuid.uuid4().hex)
    for _ in range(10):
        wait()
    caller.now += 3600  # an hour without calls
    caller.slept.clear()
    for _ in range(6):
        wait()
    # Three at once (the burst), then one every 20 ms again.
    assert caller.slept == [0.02, 0.02, 0.02]


def test_a_first_burst_then_the_rate():
    caller = Caller()
    wait = budget(10, 5, caller, uuid.uuid4().hex)
    stamps = []
    for _ in range(25):
        wait()
        stamps.append(caller.stamp())
    assert stamps[:5] == [stamps[0]] * 5
    assert most_in_window(stamps, 1.0) <= 10 * 1.0 + 5
    assert most_in_window(stamps, 0.0) == 5
    assert stamps[-1] - stamps[0] == 2000000  # the 20 after the burst, 0.1 s apart


def test_the_shared_budget_spaces_calls_as_the_in_process_pacer_does():
    shared, local = Caller(), Caller()
    wait = budget(20, 4, shared, uuid.uuid4().hex)
    pace = Pacer(20, burst=4, clock=local.clock, sleep=local.sleep)
    for gap in [0, 0, 0, 0, 0, 0.01, 0.3, 0, 0, 2.0, 0, 0, 0, 0, 0, 0.05, 0, 0, 0]:
        shared.now += gap
        local.now += gap
        wait()
        pace()
    assert shared.slept == pytest.approx(local.slept, abs=1e-6)
    assert len(shared.slept) >= 6


def _spend(namespace, rate, burst, threads, calls, results):
    """`threads` callers in this process, each `calls` calls with some work between them."""
    stamps = []
    lock = threading.Lock()

    def run(seed):
        caller = Caller()
        wait = budget(rate, burst, caller, namespace)
        for call in range(calls):
            wait()
            with lock:
                stamps.append(caller.stamp())
            caller.now += ((seed * 7 + call * 13) % 10) / 100.0  # 0-90 ms of work

    workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put(stamps)


@pytest.mark.parametrize("rate, burst", [(50, 1), (50, 5), (7, 3)])
def test_threads_of_several_processes_never_exceed_rate_times_window_plus_burst(rate, burst):
    namespace = uuid.uuid4().hex
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_spend,
                                         args=(namespace, rate, burst, 4, 15, results))
                 for _ in range(3)]
    for process in processes:
        process.start()
    stamps = [stamp for _ in processes for stamp in results.get(timeout=60)]
    for process in processes:
        process.join(60)
    assert len(stamps) == 3 * 4 * 15
    for seconds in (0.0, 0.01, 0.1, 0.5, 1.0, 2.5):
        assert most_in_window(stamps, seconds) <= rate * seconds + burst, seconds


def test_redis_clock_queues_callers_without_a_clock_of_their_own():
    slept = []
    wait = throttle_for(10, url=REDIS, namespace=uuid.uuid4().hex, burst=1, sleep=slept.append)
    for _ in range(1000):
        wait()
    # The 1,000th caller's slot is about 100 s away (1,000 calls at 10 a second).
    assert len(slept) >= 990 and slept[-1] > 50


def test_without_redis_the_budget_falls_back_to_this_process_instead_of_failing_renewals():
    # A closed port: Redis is down. Raising here would fail every due renewal (and park them).
    caller = Caller()
    wait = throttle_for(10, url="redis://127.0.0.1:9/0", namespace=uuid.uuid4().hex, burst=1,
                        clock=caller.clock, sleep=caller.sleep)
    for _ in range(4):
        wait()
    # A conservative share of the budget, spaced evenly: other workers may be charging too.
    share = 10 * FALLBACK_SHARE
    assert caller.slept == pytest.approx([1 / share] * 3)


@pytest.mark.parametrize("configured, expected", [("3", 3), ("2.0", 2), ("0.5", 1),
                                                  ("lots", 5), ("", 5)])
def test_a_burst_setting_that_is_not_a_whole_number_does_not_stop_renewals(
        monkeypatch, configured, expected):
    monkeypatch.setenv("SUBSCRIPTIONS_CHARGE_BURST", configured)
    assert default_burst(50) == expected
