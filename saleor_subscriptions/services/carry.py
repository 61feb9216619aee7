"""Renewals below the gateway's minimum charge (domain.money.MINIMUM_CHARGES): not charged and
not failed. The amount is carried to the next renewal, like Stripe Billing does: this order is
settled without a payment (the amount leaves it as a discount) and the next renewal's order
gets the amount as a line of its own."""
from datetime import datetime

from django.db import transaction
from prices import Money

from ..domain.money import minimum_charge
from ..gateway.interface import ChargeOutcome, ChargeResult
from ..models import AttemptStatus, BillingCycle, EventType, PaymentAttempt, Subscription
from .events import record_event
from .outcomes import RENEWED, SKIPPED, RenewalOutcome

BELOW_MINIMUM = "below_minimum_charge"


def carry_to_next_renewal(subscription_id: int, cycle_id: int, attempt_id: int, amount: Money,
                          now: datetime, context) -> RenewalOutcome:
    from ..saleor_adapter.orders import carry_order_balance
    from .charging import record_success

    with transaction.atomic():
        subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
        cycle = BillingCycle.objects.select_for_update(of=("self",)).select_related(
            "order").get(pk=cycle_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        outcome = RenewalOutcome(subscription_id, SKIPPED, "already_recorded", cycle.cycle_index,
                                 cycle.order_id)
        if attempt.status != AttemptStatus.STARTED:
            return outcome
        if cycle.order_id is not None:
            carry_order_balance(cycle.order, amount)
        subscription.carried_amount += amount.amount
        cycle.amount = 0
        attempt.status, attempt.error_code = AttemptStatus.SUCCEEDED, BELOW_MINIMUM
        attempt.amount = 0  # nothing was taken: what the attempt billed is what the gateway took
        attempt.finished_at = now
        record_event(subscription, EventType.CHARGE_CARRIED, date=now, order=cycle.order,
                     amount=amount, cycle_index=cycle.cycle_index,
                     minimum=str(minimum_charge(amount.currency).amount))
        record_success(subscription, cycle, attempt,
                       ChargeResult(ChargeOutcome.SUCCEEDED, amount=Money(0, amount.currency)),
                       now, context)
        attempt.save()
        cycle.save()
        subscription.renewal_lease_until = None
        subscription.save()
    outcome.status, outcome.detail, outcome.lease_released = RENEWED, BELOW_MINIMUM, True
    return outcome


def carry_adjustment(subscription, order, amount: Money, now: datetime) -> None:
    """A mid-period order (a prorated upgrade) below the minimum charge: settled without a
    payment, its amount owed with the next renewal. Inside the caller's transaction, on the
    locked subscription."""
    from ..saleor_adapter.orders import carry_order_balance

    carry_order_balance(order, amount)
    subscription.carried_amount += amount.amount
    subscription.save(update_fields=["carried_amount", "updated_at"])
    record_event(subscription, EventType.CHARGE_CARRIED, date=now, order=order, amount=amount,
                 minimum=str(minimum_charge(amount.currency).amount), purpose="proration")
