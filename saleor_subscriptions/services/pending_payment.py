"""A renewal payment waiting for the customer (3-D Secure asked for during an off-session
charge): what the storefront needs to complete it, and recording it once it is complete.

The intent stays open while dunning runs: retries check it (charging.start_attempt), never
charge beside it. Whoever finds it succeeded first — a retry, a renewal run, or the
storefront's `subscriptionPaymentConfirm` — records it; the attempt row, locked, makes that once.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

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
    cycle = (BillingCycle.objects.filter(subscription=subscription, status__in=OPEN_CYCLE_STATUSES)
             .select_related("order").order_by("-cycle_index").first())
    if cycle is None:
        return None
    attempt = charging.open_intent_attempt(list(PaymentAttempt.objects.filter(cycle=cycle)
                                                .order_by("pk")))
    return PendingPayment(subscription, cycle, attempt) if attempt is not None else None


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
