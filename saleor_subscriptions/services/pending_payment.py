"""A renewal payment waiting for the customer (3-D Secure asked for during an off-session
charge): what the storefront needs to complete it, and recording it once it is complete.

The intent stays open while dunning runs: retries check it (charging.start_attempt), never
charge beside it. Whoever finds it succeeded first — a retry, a renewal run, or the
storefront's `subscriptionPaymentConfirm` — records it; the attempt row, locked, makes that once.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional, Sequence

from django.db import transaction
from prices import Money

from ..gateway.interface import ChargeOutcome
from ..models import OPEN_CYCLE_STATUSES, BillingCycle, PaymentAttempt, Subscription
from . import charging
from .lifecycle import refuse
from .outcomes import PENDING, RenewalOutcome


@dataclass(frozen=True)
class PendingPayment:
    subscription: Subscription
    cycle: BillingCycle
    attempt: PaymentAttempt

    @property
    def amount(self) -> Money:
        return Money(self.attempt.amount, self.attempt.currency)


def pending_payment(subscription: Subscription) -> Optional[PendingPayment]:
    """The open cycle's charge that waits for the customer, if there is one."""
    return pending_payments([subscription]).get(subscription.pk)


def pending_payments(subscriptions: Sequence[Subscription]) -> Dict[int, PendingPayment]:
    """`pending_payment` of many subscriptions in two queries (lists of subscriptions), by id."""
    by_pk = {subscription.pk: subscription for subscription in subscriptions}
    # The newest open cycle of each subscription (DISTINCT ON the subscription).
    cycles = list(BillingCycle.objects.filter(subscription_id__in=list(by_pk),
                                              status__in=OPEN_CYCLE_STATUSES)
                  .select_related("order").order_by("subscription_id", "-cycle_index")
                  .distinct("subscription_id"))
    if not cycles:
        return {}
    attempts = defaultdict(list)
    for attempt in PaymentAttempt.objects.filter(cycle__in=cycles).order_by("pk"):
        attempts[attempt.cycle_id].append(attempt)
    found = {}
    for cycle in cycles:
        attempt = charging.open_intent_attempt(attempts[cycle.pk])
        if attempt is not None:
            found[cycle.subscription_id] = PendingPayment(by_pk[cycle.subscription_id], cycle,
                                                          attempt)
    return found


def confirm_pending_payment(subscription_id: int, now: datetime, context) -> RenewalOutcome:
    """The customer completed the charge on the storefront: record it if the gateway says it
    succeeded; otherwise nothing changes (dunning goes on checking it)."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        pending = pending_payment(subscription)
        if pending is None:
            raise refuse("No payment of this subscription is waiting for confirmation.")
    result = context.gateway.retrieve_charge(pending.attempt.gateway_reference)
    if result.outcome != ChargeOutcome.SUCCEEDED:
        return RenewalOutcome(subscription_id, PENDING, result.error_code or result.outcome.value,
                              pending.cycle.cycle_index, pending.cycle.order_id)
    return charging.record_outcome(subscription_id, pending.cycle.pk, pending.attempt.pk, result,
                                   now, context)
