"""Steps 1-2 and 4 of many renewals at once: the same rows as renewals.begin and charging.finish
write one renewal at a time, in a few statements for a whole group (issue 11: a worker waits on
the gateway, not on its database).

Only plain renewals take this path; every other one is handed to the one-at-a-time path, which
stays the rule for everything unusual:
- begin: an active or trialing subscription, due, with no cycle for the period yet (no retry),
  no end of term, scheduled plan or price change, missed periods, credit, carried balance,
  discount or intro price, its product orderable and in stock;
- outcome: a charge that SUCCEEDED for a draft order whose attempt is still STARTED, on the
  subscription's first attempt, the subscription still ACTIVE.

The guarantees are the same, held for the group: each subscription's advisory lock is taken (in
one statement) before its attempt and released (in one) after its outcome; the rows are locked
FOR UPDATE in the transaction that writes them; the attempts, with their deterministic keys,
are committed before any of their charges is handed to the gateway; an outcome is written in
the transaction that holds the subscription, cycle and attempt rows. If a group's transaction
fails, it is rolled back whole and its renewals go through the one-at-a-time path.
"""
import logging
from contextlib import ExitStack
from datetime import datetime
from typing import Dict, List, Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from prices import Money

from .. import GATEWAY_ID
from ..domain.stalls import catch_up
from ..domain.states import Status
from ..gateway.interface import ChargeOutcome
from ..models import (
    BILLABLE_STATUSES,
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    BillingCycle,
    CycleStatus,
    EventType,
    PaymentAttempt,
    Subscription,
)
from . import charging, claiming
from .bulk_sql import update_rows
from .events import record_events
from .outcomes import RENEWED, RenewalContext, RenewalOutcome
from .stalls import bills_once

logger = logging.getLogger(__name__)


# -- steps 1-2 ----------------------------------------------------------------------------------


def begin_many(ids: Sequence[int], now: datetime, context: RenewalContext) -> list:
    """renewals.begin for each of `ids` (leased), in their order: InFlight or RenewalOutcome."""
    from . import renewals

    ids = list(ids)
    done: Dict[int, object] = {}
    if len(ids) > 1:
        locked = []
        try:
            locked = claiming.lock_many(ids)
            done = _begin_plain(locked, now, context)
        except Exception:  # rolled back whole: each goes the one-at-a-time way
            logger.exception("A renewal group's start failed; its renewals go one at a time")
            done = {}
        claiming.unlock_many([sid for sid in locked if sid not in done])
    return [done[sid] if sid in done else renewals.begin(sid, now, context) for sid in ids]


def _begin_plain(ids: List[int], now: datetime, context: RenewalContext) -> dict:
    from ..saleor_adapter import batch_orders
    from . import renewals

    with transaction.atomic():
        subscriptions = list(
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan", "user", "shipping_address", "billing_address")
            .filter(pk__in=ids).order_by("pk"))
        busy = set(BillingCycle.objects.filter(subscription_id__in=ids).filter(
            Q(status__in=OPEN_CYCLE_STATUSES)
            | Q(cycle_index=F("subscription__cycle_index") + 1)
        ).values_list("subscription_id", flat=True))
        for subscription in subscriptions:
            context.catalog.attach(subscription)
        plain = [row for row in subscriptions
                 if row.pk not in busy and _is_plain(row, now, context.settings)]
        # Out of stock: the one-at-a-time way records why.
        stocked = [(row, plan) for row, plan in zip(plain, batch_orders.reserve_stock(plain))
                   if plan is not None]
        if not stocked:
            return {}
        plain, stock = [row for row, _plan in stocked], [plan for _row, plan in stocked]
        cycles = [renewals.new_cycle(row, now) for row in plain]
        orders = batch_orders.create_renewal_orders(
            [(row, cycle.cycle_index, plan) for row, cycle, plan in zip(plain, cycles, stock)],
            context.order_effects())
        for cycle, order in zip(cycles, orders):
            cycle.order = order
            cycle.amount = order.total.gross.amount
        BillingCycle.objects.bulk_create(cycles)
        record_events([(row, EventType.RENEWAL_ORDER_CREATED, dict(
            date=now, order=cycle.order, amount=cycle.order.total.gross,
            cycle_index=cycle.cycle_index, period_start=cycle.period_start,
            period_end=cycle.period_end)) for row, cycle in zip(plain, cycles)])
        attempts = PaymentAttempt.objects.bulk_create([PaymentAttempt(
            subscription=row, cycle=cycle, purpose=charging.RENEWAL,
            idempotency_key=charging.idempotency_key(row, cycle, 1),
            status=AttemptStatus.STARTED, currency=cycle.currency, amount=cycle.amount,
            customer_reference=row.customer_reference, created_at=now)
            for row, cycle in zip(plain, cycles)])
    # Committed: the attempts and their keys exist before any charge is made.
    begun = {}
    for row, cycle, attempt in zip(plain, cycles, attempts):
        request = charging.charge_request(row, attempt, cycle_index=str(cycle.cycle_index),
                                          order=str(cycle.order_id))
        locks = ExitStack()
        locks.callback(claiming.unlock_many, [row.pk])
        begun[row.pk] = renewals.InFlight(row.pk, cycle, (attempt.pk, request, False), locks)
    return begun


def _is_plain(subscription: Subscription, now: datetime, settings) -> bool:
    from ..saleor_adapter.orders import OrderBlocked, check_orderable
    from . import renewals

    due = subscription.next_billing_at
    plan = subscription.plan
    if (subscription.status not in BILLABLE_STATUSES or subscription.parked_at is not None
            or due is None or due > now or subscription.cancel_at_period_end
            or (plan.billing_cycles is not None and subscription.paid_cycles >= plan.billing_cycles)
            or subscription.scheduled_plan_id is not None
            or subscription.scheduled_price_at is not None
            or subscription.credit_amount or subscription.carried_amount
            or subscription.discount_count or subscription.intro_price_amount is not None
            or renewals._blocking_problem(subscription) is not None):
        return False
    if bills_once(settings) and catch_up(subscription.anchor_at, plan.interval, due, now).missed:
        return False
    try:
        check_orderable(subscription)
    except OrderBlocked:
        return False
    return True


# -- step 4 -------------------------------------------------------------------------------------


def complete_many(answered: list, now: datetime, context: RenewalContext) -> list:
    """renewals.complete for each (flight, result, error) of `answered`, in its order."""
    from . import renewals

    done: Dict[int, RenewalOutcome] = {}
    candidates = [(flight, result) for flight, result, error in answered
                  if error is None and _plain_success(flight, result)]
    if len(candidates) > 1:
        try:
            done = _complete_plain(candidates, now, context)
        except Exception:  # rolled back whole: each goes the one-at-a-time way
            logger.exception("A renewal group's outcome failed; its renewals go one at a time")
            done = {}
        ids = [flight.subscription_id for flight, _result in candidates
               if flight.subscription_id in done]
        claiming.unlock_many(ids)
        for flight, _result in candidates:
            if flight.subscription_id in done:
                flight.locks.pop_all()  # released above
    return [done[flight.subscription_id] if flight.subscription_id in done
            else renewals.complete(flight, now, context, result, error)
            for flight, result, error in answered]


def _plain_success(flight, result) -> bool:
    from ..saleor_adapter.orders import is_draft

    cycle = flight.cycle
    if (result is charging.CARRIED or result.outcome != ChargeOutcome.SUCCEEDED
            or not result.reference or flight.started[2] or cycle.attempt_count
            or cycle.order_id is None or cycle.amount <= 0):
        return False
    return is_draft(cycle.order)


def _complete_plain(candidates: list, now: datetime, context: RenewalContext) -> dict:
    from ..saleor_adapter import batch_orders
    from ..saleor_adapter.orders import renewal_note

    by_id = {flight.subscription_id: (flight, result) for flight, result in candidates}
    ids = sorted(by_id)
    with transaction.atomic():
        subscriptions = {row.pk: row for row in Subscription.objects.select_for_update(
            of=("self",)).select_related("plan").filter(pk__in=ids).order_by("pk")}
        cycles = {row.pk: row for row in BillingCycle.objects.select_for_update(of=("self",))
                  .filter(pk__in=[by_id[sid][0].cycle.pk for sid in ids]).order_by("pk")}
        attempts = {row.pk: row for row in PaymentAttempt.objects.select_for_update(
            of=("self",)).filter(pk__in=[by_id[sid][0].started[0] for sid in ids]).order_by("pk")}
        group = []
        for sid in ids:
            flight, result = by_id[sid]
            subscription = subscriptions.get(sid)
            cycle = cycles.get(flight.cycle.pk)
            attempt = attempts.get(flight.started[0])
            if (subscription is None or cycle is None or attempt is None
                    or attempt.status != AttemptStatus.STARTED
                    or cycle.status not in OPEN_CYCLE_STATUSES or cycle.attempt_count
                    or cycle.order_id != flight.cycle.order_id
                    or subscription.status != Status.ACTIVE.value
                    or subscription.discount_count):
                continue  # something changed while it was charged: the one-at-a-time way
            cycle.order = flight.cycle.order
            group.append((subscription, cycle, attempt, result))
        if not group:
            return {}
        effects = context.order_effects()
        gateway_id = context.gateway.saleor_gateway_id or GATEWAY_ID
        batch_orders.place_paid_orders([(cycle.order, dict(
            gateway_id=gateway_id, reference=result.reference,
            amount=result.amount or Money(cycle.amount, cycle.currency),
            customer_reference=subscription.customer_reference, card=result.card),
            renewal_note(subscription, cycle.cycle_index))
            for subscription, cycle, attempt, result in group], effects)
        stamp = timezone.now()
        for subscription, cycle, attempt, result in group:
            _paid(subscription, cycle, attempt, result, now, stamp)
        update_rows(
            PaymentAttempt,             [attempt for _s, _c, attempt, _r in group],
            ["status", "gateway_reference", "client_secret", "error_code", "error_message",
             "finished_at"])
        update_rows(
            BillingCycle,             [cycle for _s, cycle, _a, _r in group],
            ["status", "next_retry_at", "error_code", "updated_at"])
        update_rows(
            Subscription,             [subscription for subscription, _c, _a, _r in group],
            ["cycle_index", "current_period_start", "current_period_end", "paid_cycles",
             "next_billing_at", "renewal_lease_until", "updated_at"])
        record_events([(subscription, EventType.RENEWED, dict(
            date=now, order=cycle.order, amount=Money(cycle.amount, cycle.currency),
            cycle_index=cycle.cycle_index, period_start=cycle.period_start,
            period_end=cycle.period_end, payment_reference=result.reference))
            for subscription, cycle, attempt, result in group])
    return {subscription.pk: RenewalOutcome(
        subscription.pk, RENEWED, attempt.gateway_reference, cycle.cycle_index, cycle.order_id,
        lease_released=True) for subscription, cycle, attempt, _r in group}


def _paid(subscription, cycle, attempt, result, now: datetime, stamp: datetime) -> None:
    """charging.record_outcome's and record_success's changes for a plain success."""
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.gateway_reference = result.reference or attempt.gateway_reference
    attempt.client_secret = result.client_secret or attempt.client_secret
    attempt.error_code = result.error_code
    attempt.error_message = result.error_message
    attempt.finished_at = now
    cycle.status = CycleStatus.PAID
    cycle.next_retry_at = None
    cycle.error_code = ""
    cycle.updated_at = stamp
    subscription.cycle_index = cycle.cycle_index
    subscription.current_period_start = cycle.period_start
    subscription.current_period_end = cycle.period_end
    subscription.paid_cycles += 1
    subscription.next_billing_at = cycle.period_end
    subscription.renewal_lease_until = None
    subscription.updated_at = stamp

