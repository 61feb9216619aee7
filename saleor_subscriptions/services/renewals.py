"""Renewals that bill themselves, exactly once.

Entry points (stable; the benchmark and the Celery tasks call these):

- ``renew_due_subscriptions(now, ...) -> BatchResult``: claim one batch of due subscriptions
  (new periods and due retries) and renew each.
- ``renew_subscription(subscription_id, now, force=False, ...) -> RenewalOutcome``: one
  subscription (operator "renew now" / "retry now" with force=True).

One renewal, in steps that each commit:

1. under the subscription's row lock: the BillingCycle for the next period (unique per
   subscription and cycle index), the Saleor order as a draft holding its stock (placed only
   once paid, in step 4), event RENEWAL_ORDER_CREATED;
2. in the same transaction, a PaymentAttempt with a deterministic idempotency key, status
   STARTED, committed before the gateway is called;
3. the gateway call (outside any transaction; in a batch, on the worker's charging pool while
   the batch thread prepares the next renewals: services/charge_pool.py);
4. under the row lock again: the outcome (Saleor payment + capture, the order placed, period
   advanced; or dunning).

In a batch, plain renewals go through these steps in groups, each step's rows for the whole
group in a few statements (services/renewal_batches.py); the rest one at a time, as here.

A STARTED attempt found later (a crash after step 3, or an unknown outcome) is looked up with
``gateway.find_charge`` before anything is charged again, and charged again with the same key only
when the gateway has no such charge.
"""
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, List, Optional, Union

from django.db import transaction
from django.db.models import Q

from ..domain import periods
from ..domain.states import Status
from ..models import (
    BILLABLE_STATUSES,
    OPEN_CYCLE_STATUSES,
    BillingCycle,
    CycleStatus,
    EventType,
    Subscription,
)
from . import (
    charge_pool,
    charging,
    claiming,
    discounts,
    dunning,
    gateway_health,
    intro_prices,
    plans,
    price_changes,
)
from .catalog import BatchCatalog
from .events import record_event
from .outcomes import (  # noqa: F401  (re-exported: the stable entry points' types)
    ENDED,
    FAILED,
    PENDING,
    RENEWED,
    SKIPPED,
    BatchResult,
    RenewalContext,
    RenewalOutcome,
)

logger = logging.getLogger(__name__)


def make_context(settings=None, gateway=None, **kwargs) -> RenewalContext:
    from ..config import load_settings
    from ..gateway.registry import get_gateway

    settings = settings if settings is not None else load_settings()
    if gateway is None:
        gateway = get_gateway(settings)
    if "throttle" not in kwargs:
        kwargs["throttle"] = default_throttle(settings)
    return RenewalContext(settings=settings, gateway=gateway, **kwargs)


def default_throttle(settings) -> Optional[Callable[[], None]]:
    """The shared request budget (gateway/ratelimit.py) at the store's charges per second."""
    from .pacing import Pacer

    try:
        from ..gateway import ratelimit
    except ImportError:
        ratelimit = None
    factory = getattr(ratelimit, "throttle_for", None) or Pacer
    return factory(settings.charges_per_second)


# -- entry points -----------------------------------------------------------------------------


def renew_due_subscriptions(
    now: datetime, *, limit: Optional[int] = None, context: Optional[RenewalContext] = None
) -> BatchResult:
    """Claim one batch of due subscriptions and renew each; does nothing when the plugin is off."""
    context = context or make_context()
    if not context.settings.active:
        return BatchResult(inactive=True)
    context.new_batch()
    from .lifecycle.pause import resume_due

    if gateway_health.renewals_halted(context.settings, now):
        return BatchResult(halted=gateway_health.GATEWAY_AUTH_FAILED)
    resume_due(now)
    charging.reconcile_started(now, context)
    ids = claiming.claim_due(now, limit or context.settings.renewal_batch_size)
    result = BatchResult(claimed=len(ids))
    charge_pool.renew_claimed(ids, now, context, result)
    return result


def renew_subscription(
    subscription_id: int, now: datetime, *, force: bool = False,
    context: Optional[RenewalContext] = None,
) -> RenewalOutcome:
    """Renew (or retry) one subscription now. force: ignore next_billing_at / next_retry_at."""
    context = context or make_context()
    if not context.settings.active:
        return RenewalOutcome(subscription_id, SKIPPED, "plugin_inactive")
    if not claiming.claim_one(subscription_id):
        return RenewalOutcome(subscription_id, SKIPPED, "not_billable_or_busy")
    return process_claimed(subscription_id, now, context, force=force)


def process_claimed(
    subscription_id: int, now: datetime, context: RenewalContext, force: bool = False
) -> RenewalOutcome:
    """Renew one leased subscription; never raises (errors are recorded on the subscription)."""
    begun = begin(subscription_id, now, context, force)
    if isinstance(begun, RenewalOutcome):
        return begun
    try:
        result = charging.call_for(context, begun.started)
    except Exception as error:
        return complete(begun, now, context, error=error)
    return complete(begun, now, context, result)


@dataclass
class InFlight:
    """A renewal whose attempt is committed and whose charge is (about to be) in flight: its
    advisory lock is held by this thread's connection until `complete`."""

    subscription_id: int
    cycle: BillingCycle
    started: tuple  # charging.start_attempt's (attempt id, request, reconcile)
    locks: ExitStack


def begin(subscription_id: int, now: datetime, context: RenewalContext, force: bool = False
          ) -> Union[RenewalOutcome, InFlight]:
    """Steps 1-2 of a leased subscription under its advisory lock: a RenewalOutcome when there
    is nothing to charge (done, lock and lease released), else the charge to make."""
    locks = ExitStack()
    if not locks.enter_context(claiming.processing_lock(subscription_id)):
        locks.close()
        return RenewalOutcome(subscription_id, SKIPPED, "busy")
    try:
        with transaction.atomic():
            subscription = lock_subscription(subscription_id, context.catalog)
            prepared = _prepare_cycle(subscription, now, context, force)
            if not isinstance(prepared, RenewalOutcome):
                started = charging.start_attempt(subscription, prepared, now)
                if not isinstance(started, RenewalOutcome):
                    return InFlight(subscription_id, prepared, started, locks)
                prepared = started
        outcome = prepared
    except Exception as error:  # the worker's boundary: record, never crash the batch
        outcome = _internal_error(subscription_id, now, context, error)
    _done(subscription_id, outcome, locks)
    return outcome


def complete(flight: InFlight, now: datetime, context: RenewalContext, result=None,
             error: Optional[Exception] = None) -> RenewalOutcome:
    """Step 4: the gateway's answer (or the error its call raised) recorded; lock released."""
    sid = flight.subscription_id
    outcome = None
    try:
        if error is not None:
            raise error
        outcome = charging.finish(sid, flight.cycle.pk, flight.started, result, now, context,
                                  order=flight.cycle.order)
    except Exception as failure:
        outcome = _internal_error(sid, now, context, failure)
    finally:
        _done(sid, outcome, flight.locks)
    return outcome


def _done(subscription_id: int, outcome: Optional[RenewalOutcome], locks: ExitStack) -> None:
    try:
        if outcome is None or not outcome.lease_released:
            claiming.release(subscription_id)
    finally:
        locks.close()


def _internal_error(subscription_id, now, context, error) -> RenewalOutcome:
    logger.error("Renewal of subscription %s failed", subscription_id,
                 exc_info=(type(error), error, error.__traceback__))
    _record_internal_error(subscription_id, now, context, error)
    return RenewalOutcome(subscription_id, FAILED, "internal_error: %s" % error)


# -- step 1: the cycle and its order ----------------------------------------------------------


def lock_subscription(subscription_id: int, catalog: Optional[BatchCatalog] = None) -> Subscription:
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "user", "shipping_address", "billing_address")
        .get(pk=subscription_id)
    )
    (catalog or BatchCatalog()).attach(subscription)
    return subscription


def cycle_rows(subscription: Subscription) -> List[BillingCycle]:
    """Locked: the open cycles and the row (if any) of the next period, newest first."""
    return list(
        BillingCycle.objects.select_for_update(of=("self",))
        .filter(subscription=subscription)
        .filter(Q(status__in=OPEN_CYCLE_STATUSES)
                | Q(cycle_index=subscription.cycle_index + 1))
        .order_by("-cycle_index")
    )


def open_cycle(subscription: Subscription, rows=None) -> Optional[BillingCycle]:
    rows = cycle_rows(subscription) if rows is None else rows
    return next((row for row in rows if row.status in OPEN_CYCLE_STATUSES), None)


def new_cycle(subscription: Subscription, now: datetime) -> BillingCycle:
    """The subscription's next cycle, not saved: its next period, at its next price."""
    start, end = next_period(subscription)
    return BillingCycle(
        subscription=subscription, cycle_index=subscription.cycle_index + 1,
        period_start=start, period_end=end, currency=subscription.currency,
        next_retry_at=now, created_at=now, status=CycleStatus.PENDING,
        amount=plans.next_cycle_unit_price(subscription).amount * subscription.quantity,
    )


def next_period(subscription: Subscription):
    """(start, end) of the period that starts at next_billing_at, on the anchor's grid."""
    start = subscription.next_billing_at
    end = periods.next_billing_date_after(subscription.anchor_at, subscription.plan.interval, start)
    return start, end


def _prepare_cycle(subscription, now, context, force):
    """The open cycle with its order (created if needed), or a RenewalOutcome if nothing to do."""
    sid = subscription.pk
    if subscription.status not in BILLABLE_STATUSES:
        return RenewalOutcome(sid, SKIPPED, "status_%s" % subscription.status)
    if subscription.parked_at is not None:
        return RenewalOutcome(sid, SKIPPED, "parked")
    rows = cycle_rows(subscription)
    cycle = open_cycle(subscription, rows)
    if cycle is None:
        due = subscription.next_billing_at
        if due is None or (due > now and not force):
            return RenewalOutcome(sid, SKIPPED, "not_due")
        ended = _end_of_term(subscription, now)
        if ended is not None:
            return ended
        from .lifecycle.plan_change import apply_scheduled

        apply_scheduled(subscription, now)  # a plan change scheduled for this period
        price_changes.apply_due(subscription, now)  # a new plan price after its notice
        cycle = _create_cycle(subscription, now, rows, context.settings)
    elif cycle.next_retry_at is not None and cycle.next_retry_at > now and not force:
        return RenewalOutcome(sid, SKIPPED, "retry_not_due", cycle.cycle_index)
    if cycle.order_id is None:
        blocked = _attach_order(subscription, cycle, now, context)
        if blocked is not None:
            return blocked
    return cycle


def _end_of_term(subscription, now) -> Optional[RenewalOutcome]:
    """Fixed terms expire and scheduled cancellations happen instead of a renewal."""
    plan = subscription.plan
    sid = subscription.pk
    if subscription.cancel_at_period_end:
        previous = dunning.set_status(subscription, Status.CANCELLED)
        subscription.ended_at = subscription.next_billing_at
        subscription.cancelled_at = subscription.cancelled_at or now
        subscription.next_billing_at = None
        subscription.save()
        record_event(subscription, EventType.CANCELLED, date=now, previous_status=previous,
                     reason="cancel_at_period_end")
        return RenewalOutcome(sid, ENDED, "cancelled_at_period_end")
    if plan.billing_cycles is not None and subscription.paid_cycles >= plan.billing_cycles:
        if subscription.status != Status.ACTIVE.value:
            return RenewalOutcome(sid, SKIPPED, "term_over_status_%s" % subscription.status)
        previous = dunning.set_status(subscription, Status.EXPIRED)
        subscription.ended_at = subscription.next_billing_at
        subscription.next_billing_at = None
        subscription.save()
        record_event(subscription, EventType.EXPIRED, date=now, previous_status=previous,
                     paid_cycles=subscription.paid_cycles)
        return RenewalOutcome(sid, ENDED, "expired")
    return None


def _create_cycle(subscription, now, rows=None, settings=None) -> BillingCycle:
    """The next period's cycle; a new one is not saved yet (the caller saves it). After a stall
    the store's "Missed renewals" decides which period that is (services/stalls.py)."""
    from .stalls import skip_missed_periods

    skip_missed_periods(subscription, now, settings)
    start, end = next_period(subscription)
    index = subscription.cycle_index + 1
    # The caller holds the subscription's row lock: no other transaction inserts this cycle.
    rows = cycle_rows(subscription) if rows is None else rows
    cycle = next((row for row in rows if row.cycle_index == index), None)
    created = cycle is None
    if created:
        # Inserted once its order is attached (or its failure recorded): one write, not two.
        cycle = new_cycle(subscription, now)
    cycle.created_now = created  # read by charging.start_attempt: no earlier attempts to look up
    if not created and cycle.status == CycleStatus.ABANDONED:
        # Reactivated after dunning gave up on this period: bill it afresh.
        cycle.status, cycle.order = CycleStatus.PENDING, None
        cycle.attempt_count, cycle.blocked_count, cycle.first_failed_at = 0, 0, None
        cycle.next_retry_at, cycle.error_code, cycle.last_error = now, "", ""
        cycle.period_start, cycle.period_end = start, end
        cycle.save()
    return cycle


def _attach_order(subscription, cycle, now, context) -> Optional[RenewalOutcome]:
    from ..saleor_adapter.orders import (
        OrderBlocked,
        create_renewal_order,
        order_credit,
        order_total,
    )

    sid = subscription.pk
    problem = _blocking_problem(subscription)
    order = None
    if problem is None:
        credit = min(subscription.credit_amount, cycle.amount)
        try:
            with transaction.atomic():
                order = create_renewal_order(subscription, cycle.cycle_index, credit,
                                             effects=context.order_effects(),
                                             carried=subscription.carried_amount,
                                             discounts=discounts.renewal_parts(subscription))
        except OrderBlocked as blocked:
            problem = (blocked.code, blocked.message)
    if problem is not None:
        state = dunning.record_blocked(subscription, cycle, *problem, now, context.settings)
        cycle.save()
        subscription.save()
        return RenewalOutcome(sid, FAILED, "%s: %s (%s)" % (problem + (state,)), cycle.cycle_index)
    total = order_total(order)
    cycle.order = order
    cycle.amount = total.amount
    cycle.status = CycleStatus.PENDING
    cycle.next_retry_at = now
    cycle.blocked_count = 0
    cycle.error_code = cycle.last_error = ""
    cycle.save()
    carried = subscription.carried_amount  # now a line of this order (services/carry.py)
    credit_used = order_credit(order)
    if credit_used or carried:  # else nothing changed (a scheduled plan change saved)
        subscription.credit_amount -= credit_used
        subscription.carried_amount = 0
        subscription.save()
    extra = {"carried": carried} if carried else {}
    record_event(subscription, EventType.RENEWAL_ORDER_CREATED, date=now, order=order,
                 amount=total, cycle_index=cycle.cycle_index,
                 period_start=cycle.period_start, period_end=cycle.period_end, **extra)
    intro_prices.record_intro_end(subscription, cycle, now)
    return None


def _blocking_problem(subscription):
    # An archived plan stops new sales only: its existing subscribers keep renewing.
    if subscription.user_id is None and not subscription.is_guest:
        return "customer_deleted", "The customer's account was deleted."
    if not subscription.customer_reference or not subscription.payment_method_reference:
        return "payment_method_missing", "The subscription has no stored card."
    return None


def _record_internal_error(subscription_id: int, now: datetime, context, error: Exception) -> None:
    """An unexpected error: count it like a blocked renewal so the row leaves the due set."""
    message = ("%s: %s" % (error.__class__.__name__, error))[:1000]
    try:
        with transaction.atomic():
            subscription = lock_subscription(subscription_id)
            cycle = open_cycle(subscription)
            if cycle is None and subscription.next_billing_at is not None:
                cycle = _create_cycle(subscription, now, settings=context.settings)
            if cycle is None:
                dunning.park(subscription, "internal_error: " + message, now)
            else:
                dunning.record_blocked(subscription, cycle, "internal_error", message, now,
                                       context.settings)
                cycle.save()
            subscription.save()
    except Exception:  # the database itself is failing: the lease keeps others away for now
        logger.exception("Could not record the failure of subscription %s", subscription_id)


def release_subscription(subscription_id: int, now: datetime, settings=None, **actor) -> bool:
    """Operator: un-park a subscription; its open cycle is due again at once (moved to the
    current period after a long stall, see services/stalls.py). False if not parked."""
    from ..config import load_settings
    from .stalls import move_open_cycle

    settings = settings if settings is not None else load_settings()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        if subscription.parked_at is None:
            return False
        reason = subscription.parked_reason
        dunning.release(subscription, now, **actor)
        move_open_cycle(subscription, open_cycle(subscription), now, settings)
        subscription.save()
        if gateway_health.is_auth_failure(reason):
            # Staff say the key works again (e.g. its permissions were fixed in Stripe).
            gateway_health.forget_refusals()
    return True
