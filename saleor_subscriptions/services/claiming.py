"""Who renews what: due subscriptions claimed in batches, without two workers on one row.

Three layers, each cheap:
- the claim itself is `SELECT ... FOR UPDATE SKIP LOCKED` in a short transaction that stamps a
  lease (database clock), so concurrent claims never hand out the same rows;
- while a worker processes one subscription it holds a session-level PostgreSQL advisory lock on
  it, released on completion or when the worker's connection dies (a killed worker), so a
  subscription whose lease ran out is still never charged by two workers at once;
- the BillingCycle unique key (subscription, cycle_index) makes a period's order exactly once.
"""
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator, List, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.db.models.functions import Now

from ..models import BILLABLE_STATUSES, OPEN_CYCLE_STATUSES, BillingCycle, Subscription

_ADVISORY_NAMESPACE = 0x53554253  # "SUBS"


def lease_duration() -> timedelta:
    return timedelta(seconds=getattr(settings, "SUBSCRIPTIONS_RENEWAL_LEASE_SECONDS", 600))


def _open_cycles():
    return BillingCycle.objects.filter(
        subscription=OuterRef("pk"), status__in=OPEN_CYCLE_STATUSES
    )


def claimable() -> "Subscription.objects":
    """Billable, not parked, not leased by another worker (the predicate of the renewal queue
    index, subs_renewal_queue_idx)."""
    return Subscription.objects.filter(
        status__in=BILLABLE_STATUSES, parked_at__isnull=True
    ).filter(Q(renewal_lease_until__isnull=True) | Q(renewal_lease_until__lt=Now()))


def due_for_retry(now: datetime):
    """Subscriptions whose open cycle (failed payment, blocked or interrupted) is due again;
    read from the open cycles (subs_cycle_retry_idx), which are few."""
    retry_due = BillingCycle.objects.filter(
        status__in=OPEN_CYCLE_STATUSES, next_retry_at__lte=now
    ).values("subscription_id")
    return claimable().filter(pk__in=retry_due).order_by("pk")


def due_for_renewal(now: datetime):
    """Subscriptions whose next period has started and that have no open cycle."""
    return claimable().filter(next_billing_at__lte=now).filter(
        ~Exists(_open_cycles())
    ).order_by("next_billing_at", "pk")


def claim_due(now: datetime, limit: int) -> List[int]:
    """Lease up to `limit` due subscriptions (retries first) and return their ids, in order."""
    with transaction.atomic():
        ids = list(
            due_for_retry(now).select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if len(ids) < limit:
            ids += list(
                due_for_renewal(now).select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[: limit - len(ids)]
            )
        if ids:
            lease(ids)
    return ids


def claim_one(subscription_id: int) -> bool:
    """Lease one subscription for an operator action; False if a worker holds it."""
    with transaction.atomic():
        got = list(
            claimable().filter(pk=subscription_id)
            .select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)
        )
        if got:
            lease(got)
    return bool(got)


def lease(ids: List[int]) -> None:
    until = ExpressionWrapper(Now() + Value(lease_duration()), output_field=DateTimeField())
    Subscription.objects.filter(pk__in=ids).update(renewal_lease_until=until)


def release(subscription_id: int) -> None:
    Subscription.objects.filter(pk=subscription_id).update(renewal_lease_until=None)


def has_due(now: datetime) -> bool:
    return due_for_retry(now).exists() or due_for_renewal(now).exists()


@contextmanager
def processing_lock(subscription_id: int) -> Iterator[bool]:
    """Hold the subscription's advisory lock; yields False when another worker holds it."""
    acquired = bool(lock_many([subscription_id]))
    try:
        yield acquired
    finally:
        if acquired:
            unlock_many([subscription_id])


def lock_many(ids: Sequence[int]) -> List[int]:
    """Take the subscriptions' advisory locks (one statement): the ids whose lock this
    connection now holds; the others are held by another worker."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::integer[]) AS id WHERE pg_try_advisory_lock(%s, id)",
            [list(ids), _ADVISORY_NAMESPACE])
        return [row[0] for row in cursor.fetchall()]


def unlock_many(ids: Sequence[int]) -> None:
    if ids:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, id) FROM unnest(%s::integer[]) AS id",
                           [_ADVISORY_NAMESPACE, list(ids)])
