"""Abandon an open billing cycle: nothing more will be collected for its period.

One way for both reasons a cycle is given up: dunning is over (dunning.apply_final_action) and
the subscription is cancelled while a cycle is open (lifecycle/cancel.py). The cycle's unpaid
renewal order — a draft until paid — is removed with the stock it held, and the credit taken
off it goes back to the subscription. Runs inside the caller's transaction on locked rows.
"""
from typing import List

from prices import Money

from ..models import OPEN_CYCLE_STATUSES, AttemptStatus, BillingCycle, CycleStatus


def abandon_cycle(subscription, cycle: BillingCycle) -> dict:
    """Abandon `cycle` (the caller saves it and the subscription); returns what was undone, as
    event parameters: `credit_returned`, and `removed_order` (the draft's number) when it went."""
    from ..saleor_adapter.orders import carried_balance, discard_unpaid_order, order_credit

    cycle.status = CycleStatus.ABANDONED
    cycle.next_retry_at = None
    undone = {}
    order = cycle.order if cycle.order_id is not None else None
    if order is None:
        return undone
    number, credit, carried = order.pk, order_credit(order), carried_balance(order)
    discarded = discard_unpaid_order(order)
    if discarded is not None and credit:
        subscription.credit_amount += credit
        undone["credit_returned"] = Money(credit, cycle.currency)
    if discarded is not None and carried:
        # An earlier renewal's balance below the minimum charge is still owed (services/carry.py).
        subscription.carried_amount += carried
        undone["carried_returned"] = Money(carried, cycle.currency)
    if discarded == "removed":
        cycle.order = None
        undone["removed_order"] = number
    return undone


def abandon_open_cycles(subscription) -> List[dict]:
    """Abandon the subscription's open cycles (saved here), except one whose charge is in
    flight: its outcome is still to be recorded (paid: its order is placed; declined: abandoned
    then, by dunning.record_payment_failure)."""
    cycles = (
        BillingCycle.objects.select_for_update(of=("self",)).select_related("order")
        .filter(subscription=subscription, status__in=OPEN_CYCLE_STATUSES)
        .exclude(attempts__status=AttemptStatus.STARTED)
        .order_by("cycle_index")
    )
    abandoned = []
    for cycle in cycles:
        undone = abandon_cycle(subscription, cycle)
        cycle.save()
        abandoned.append(dict(undone, cycle_index=cycle.cycle_index))
    return abandoned

