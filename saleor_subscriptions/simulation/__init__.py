"""A store's subscription economy replayed over months with a controlled clock.

Every change goes through the product's own code: sign-ups start their subscription with
`services.subscribe` from a paid first order (`saleor_adapter.signup_orders`: the order a
checkout leaves, written without a storefront round-trip), the renewal engine
(`services.renewals.renew_due_subscriptions`) bills, declines, retries and gives up on its own
schedule, and customers pause, upgrade and cancel (with reasons) through
`services.lifecycle`. The clock is frozen at each step's simulated time (freezegun), so Saleor's
own rows (orders, payments, their events) are dated in the simulated year as ours are. Charges
go to `gateway.simulated`, whose answers depend only on the card and the attempt, and every
random choice comes from one `random.Random(seed)`: a seed gives the same store every time.

Customers are guests (`sim-<seed>-<n>@example.com`); a share of them have cards that decline
a renewal once or twice and then recover on a dunning retry, or that stop paying for good.
Nothing leaves the process: the e-mails and webhooks the product would queue are dropped.
"""
import calendar
import heapq
import math
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional, Tuple

from django.core.exceptions import ValidationError
from django.db import transaction

from ..gateway import simulated
from ..models import Subscription, SubscriptionPlan
from .report import SimulationReport, build_report

CANCEL_REASONS = ["too_expensive", "not_using", "switching", "missing_features", "quality",
                  "shipping", "other"]
#: how often each reason is given (weights, in CANCEL_REASONS' order)
REASON_WEIGHTS = [30, 25, 15, 10, 8, 5, 7]
RENEWAL_HOUR = 9  # the renewal run of each simulated day (as beat would, once a day)


@dataclass
class Parameters:
    months: int = 12
    subscribers: int = 3000
    seed: int = 1
    #: the last simulated day (exclusive); default: today, 00:00 UTC
    end: Optional[datetime] = None
    #: monthly rates, in percent of the subscribers still there
    cancel_rate: float = 4.0
    cancel_rate_extra: float = 0.0
    pause_rate: float = 1.5
    upgrade_rate: float = 3.0
    #: shares of subscribers, in percent, whose card declines one renewal (then recovers on a
    #: retry), or stops paying for good
    flaky_card_share: float = 10.0
    lost_card_share: float = 3.0

    @property
    def start(self) -> datetime:
        end = self.end_at
        index = end.year * 12 + end.month - 1 - self.months
        year, month = divmod(index, 12)
        return end.replace(year=year, month=month + 1,
                           day=min(end.day, calendar.monthrange(year, month + 1)[1]))

    @property
    def end_at(self) -> datetime:
        if self.end is not None:
            return self.end
        now = datetime.now(timezone.utc)
        return datetime(now.year, now.month, now.day, tzinfo=timezone.utc)


@dataclass
class Tally:
    """What the simulation asked for (the report reads what happened from the database)."""

    signed_up: int = 0
    cancel_requests: int = 0
    pause_requests: int = 0
    upgrade_requests: int = 0
    refused: int = 0
    renewal_runs: int = 0
    reasons: dict = field(default_factory=dict)


class SimulationError(Exception):
    pass


def run(parameters: Parameters, progress: Callable[[str], None] = lambda line: None,
        workers: int = 1) -> SimulationReport:
    """`workers` processes share the subscribers (each acts for its share) and the daily
    renewal runs (the engine's claims hand each due subscription to one of them); they keep
    in step day by day, and every subscriber draws from a random generator of its own, so the
    outcome does not depend on how many there are."""
    start, end = parameters.start, parameters.end_at
    signups = _signup_times(random.Random(parameters.seed), parameters, start, end)
    _Store.load(parameters.seed)  # refuses a store that cannot be simulated, before any work
    if workers <= 1:
        tally = _simulate_share(parameters, signups, 0, 1, None, progress)
    else:
        tally = _in_processes(parameters, signups, workers, progress)
    return build_report(parameters, start, end, tally)


def _in_processes(parameters, signups, workers: int, progress) -> Tally:
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers, timeout=900), context.Queue()
    processes = [context.Process(target=_share_process, args=(
        parameters, signups, share, workers, barrier, results,
        progress if share == 0 else None)) for share in range(workers)]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    failures = [detail for kind, detail in outcomes if kind == "error"]
    if failures:
        raise SimulationError("A simulation process failed:\n%s" % failures[0])
    total = Tally()
    for _kind, tally in outcomes:
        total.signed_up += tally.signed_up
        total.refused += tally.refused
        total.renewal_runs = max(total.renewal_runs, tally.renewal_runs)
        for name in ("cancel_requests", "pause_requests", "upgrade_requests"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        for reason, count in tally.reasons.items():
            total.reasons[reason] = total.reasons.get(reason, 0) + count
    return total


def _share_process(parameters, signups, share, shares, barrier, results, progress):
    import traceback

    from django.db import connections

    try:
        tally = _simulate_share(parameters, signups, share, shares, barrier,
                                progress or (lambda line: None))
        results.put(("done", tally))
    except Exception:  # reported to the parent, which fails the run with it
        barrier.abort()
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def _simulate_share(parameters, signups, share, shares, barrier, progress) -> Tally:
    """Sign-ups number `share`, `share + shares`, … and their doings; every daily renewal run."""
    from freezegun import freeze_time

    _commit_without_waiting_for_disk()
    store = _Store.load(parameters.seed)
    start, end = parameters.start, parameters.end_at
    timeline = _Timeline()
    for number, when in enumerate(signups):
        if number % shares == share:
            timeline.add(when, "signup", number)
    tally, people = Tally(), {}
    clock_started = time.monotonic()
    in_step = barrier.wait if barrier is not None else (lambda: None)
    with freeze_time(start) as clock, _no_outgoing_messages():
        day = start
        while day < end:
            renewal_time = day + timedelta(hours=RENEWAL_HOUR)
            day += timedelta(days=1)
            # The customers' doings before the day's renewal run, the run, those after it.
            for until in (renewal_time, day):
                for when, action, subject in timeline.until(until):
                    clock.move_to(when)
                    _act(store, parameters, timeline, tally, people, when, action, subject)
                if until == renewal_time:
                    in_step()
                    clock.move_to(renewal_time)
                    _renew(store, renewal_time)
                    tally.renewal_runs += 1
                    in_step()
            if day.day in (start.day, (start.day + 15) % 28 + 1) or day >= end:
                _progress(progress, signups, start, end, day, clock_started)
    return tally


@contextmanager
def _no_outgoing_messages():
    """Simulated customers are not e-mailed and no App is told about them: the Celery tasks
    the product queues on its way (order, payment and payment-failed e-mails, webhooks) are
    dropped instead of sent to the broker, where a worker would send them."""
    from celery.app.task import Task

    send = Task.apply_async
    Task.apply_async = lambda task, *args, **kwargs: None
    try:
        yield
    finally:
        Task.apply_async = send


def _commit_without_waiting_for_disk() -> None:
    """This session's commits do not wait for the WAL flush (PostgreSQL's
    synchronous_commit=off: a crash may lose the last moments of the simulation, never leave
    it inconsistent); tens of thousands of small transactions then take minutes, not tens."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")


def _work_until(signups: List[datetime], moment: datetime) -> float:
    """Roughly what the simulation does up to `moment`: a sign-up, then a renewal a month."""
    return sum(1 + (moment - signup).days / 30.44 for signup in signups if signup < moment)


def _progress(progress, signups, start, end, day, clock_started):
    elapsed = time.monotonic() - clock_started
    done, total = _work_until(signups, day), _work_until(signups, end)
    remaining = elapsed * (total - done) / done if done else 0
    progress("simulated to %s (%3.0f%% of the time, %3.0f%% of the work): %d sign-ups; "
             "%.0f s so far, about %.0f s to go" % (
                 day.date().isoformat(), 100 * (day - start) / (end - start),
                 100 * done / total if total else 100,
                 sum(1 for signup in signups if signup < day), elapsed, remaining))


# -- the schedule ---------------------------------------------------------------------------------

class _Timeline:
    """Actions by simulated time; ties keep the order they were added in."""

    def __init__(self):
        self._heap: List[Tuple[datetime, int, str, int]] = []
        self._count = 0

    def add(self, when: datetime, action: str, subject: int) -> None:
        self._count += 1
        heapq.heappush(self._heap, (when, self._count, action, subject))

    def until(self, end: datetime):
        while self._heap and self._heap[0][0] < end:
            when, _count, action, subject = heapq.heappop(self._heap)
            yield when, action, subject


def _signup_times(rng, parameters, start, end) -> List[datetime]:
    """A growing store: more sign-ups towards the end (density rising linearly)."""
    span = (end - start).total_seconds()
    return sorted(start + timedelta(seconds=int(span * math.sqrt(rng.random())))
                  for _ in range(parameters.subscribers))


def _after_months(rng, monthly_percent: float) -> Optional[timedelta]:
    """When an event with a constant monthly rate first happens (exponential), or None."""
    if monthly_percent <= 0:
        return None
    rate = -math.log(1 - min(monthly_percent, 99.0) / 100.0)  # per month
    return timedelta(days=rng.expovariate(rate) * 30.44)


# -- the actions ----------------------------------------------------------------------------------

@dataclass
class _Store:
    plans: List[SubscriptionPlan]
    address: object
    shipping_method: object
    seed: int
    gateway: simulated.SimulatedGateway
    context: object = None

    @classmethod
    def load(cls, seed: int) -> "_Store":
        from ..config import load_settings
        from ..saleor_adapter.store_data import any_address, cheapest_shipping_method
        from ..services.renewals import make_context

        plans = list(SubscriptionPlan.objects.filter(is_active=True).select_related(
            "variant__product").order_by("pk"))
        if not plans:
            raise SimulationError("The store has no active subscription plan to sign up to.")
        settings = load_settings()
        if not settings.active:
            raise SimulationError("The Subscriptions plugin is switched off: switch it on first.")
        # Customers choose when an upgrade starts: at the next renewal (no extra charge now).
        settings = replace(settings, upgrade_billing="next_renewal", allow_pause=True)
        gateway = simulated.SimulatedGateway()
        store = cls(plans, any_address(), cheapest_shipping_method(), seed, gateway)
        store.context = make_context(settings, gateway=gateway, sleep=lambda seconds: None,
                                     throttle=None)
        return store


def _person(parameters, number: int) -> random.Random:
    """Subscriber `number`'s own choices: the same whichever process acts for them."""
    return random.Random("%d:%d" % (parameters.seed, number))


def _act(store, parameters, timeline, tally, people, when, action, subject):
    from ..services.lifecycle import Actor
    from ..services.lifecycle.cancel import cancel
    from ..services.lifecycle.pause import pause
    from ..services.lifecycle.plan_change import change_plan

    if action == "signup":
        rng = _person(parameters, subject)
        subscription = _sign_up(store, parameters, rng, subject, when)
        people[subject] = (subscription.pk, rng)
        tally.signed_up += 1
        for kind, rate in (("cancel", parameters.cancel_rate + parameters.cancel_rate_extra),
                           ("pause", parameters.pause_rate),
                           ("upgrade", parameters.upgrade_rate)):
            delay = _after_months(rng, rate)
            if delay is not None:
                timeline.add(when + delay, kind, subject)
        return
    subscription_id, rng = people[subject]
    subscription = Subscription.objects.select_related("plan").get(pk=subscription_id)
    customer = Actor(type="customer")
    try:
        if action == "cancel":
            reason = rng.choices(CANCEL_REASONS, REASON_WEIGHTS)[0]
            tally.cancel_requests += 1
            tally.reasons[reason] = tally.reasons.get(reason, 0) + 1
            cancel(subscription.pk, customer, when, reason=reason)
        elif action == "pause":
            tally.pause_requests += 1
            pause(subscription.pk, customer, when, store.context.settings,
                  cycles=rng.choice([1, 1, 2, 3]))
            # Some pause again later (the same monthly rate).
            delay = _after_months(rng, parameters.pause_rate)
            if delay is not None:
                timeline.add(when + delay, "pause", subject)
        elif action == "upgrade":
            tally.upgrade_requests += 1
            plan, quantity = _upgrade_of(store, subscription)
            change_plan(subscription.pk, customer, when, store.context.settings, plan, quantity)
    except ValidationError:
        # Refused by the product's own rules (already cancelled, paused, renewal due, …):
        # what a customer would have been told; nothing changed.
        tally.refused += 1


def _upgrade_of(store, subscription):
    """The next tier of the plan's family, or one more unit of the same plan."""
    plan = subscription.plan
    higher = [candidate for candidate in store.plans if plan.family
              and candidate.family == plan.family and candidate.tier_rank > plan.tier_rank
              and candidate.variant.product_id == plan.variant.product_id
              and candidate.currency == plan.currency]
    if higher:
        return min(higher, key=lambda candidate: (candidate.tier_rank, candidate.pk)), \
            subscription.quantity
    return plan, subscription.quantity + 1


def _card_for(rng, parameters) -> str:
    roll = rng.random() * 100
    if roll < parameters.lost_card_share:
        return simulated.lost_card(rng.randint(1, 6))
    if roll < parameters.lost_card_share + parameters.flaky_card_share:
        return simulated.flaky_card(rng.randint(1, 6), rng.choice([1, 1, 2]))
    return simulated.OK_CARD


@transaction.atomic
def _sign_up(store, parameters, rng, number, when) -> Subscription:
    from ..saleor_adapter.checkout import StoredCard
    from ..saleor_adapter.signup_orders import place_signup_order
    from ..services import plans as plan_prices
    from ..services.subscribe import start_for_line

    plan = rng.choice(store.plans)
    quantity = 1 if rng.random() < 0.85 else 2
    card = StoredCard(
        gateway=simulated.SimulatedGateway.saleor_gateway_id,
        customer_reference="cus_sim_%d_%d" % (store.seed, number),
        payment_method_reference=_card_for(rng, parameters), brand=simulated.CARD.brand,
        last4=simulated.CARD.last4, exp_month=simulated.CARD.exp_month,
        exp_year=simulated.CARD.exp_year,
    )
    line = place_signup_order(
        email="sim-%d-%d@example.com" % (store.seed, number), plan=plan, quantity=quantity,
        unit_price=plan_prices.first_paid_unit_price(plan),
        charged=plan_prices.plan_first_charge(plan, quantity), address=store.address,
        shipping_method=store.shipping_method,
        reference="pi_sim_signup_%d_%d" % (store.seed, number), card=card,
        effects=store.context.order_effects(),
    )
    return start_for_line(line.order_line.order, line, card, when)


def _renew(store, now: datetime) -> None:
    """The day's renewal run: batch after batch while anything is due. (On a day when nothing
    is, the run would do nothing: it is not started, which saves its fixed cost.)"""
    from ..services.renewals import renew_due_subscriptions

    while _anything_due(now):
        result = renew_due_subscriptions(now, context=store.context)
        if not result.claimed:
            return


def _anything_due(now: datetime) -> bool:
    from ..services import claiming

    return (claiming.due_for_renewal(now).exists() or claiming.due_for_retry(now).exists()
            or Subscription.objects.filter(status="paused", pause_resumes_at__lte=now).exists())


__all__ = ["Parameters", "SimulationError", "SimulationReport", "run"]
