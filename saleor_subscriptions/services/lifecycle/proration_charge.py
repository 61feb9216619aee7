"""The prorated upgrade as a purpose of the one charging path (services/charging.py).

Under the subscription's row lock: the change counter goes up, the adjustment order and the
attempt — with a key derived from the subscription, its period, the counter and the target — are
written and committed before the gateway is called. The plan switch happens in the outcome's
transaction, under the row lock: on success (now, or when the renewal run's sweep finds the
charge later); a decline cancels the order and changes nothing; an unknown outcome leaves the
attempt STARTED and the change pending until the sweep applies or drops it.

An upgrade's charge that asks for 3-D Secure is not left open: nobody is asked to complete it,
and completed later it would pay for an upgrade that did not happen. Its intent is closed through
the one rule (charging.close_intent): closed, a decline; completed first, the upgrade's payment;
not closed, unknown (the attempt stays STARTED: a webhook or the sweep records what it becomes).
"""
from datetime import datetime
from decimal import Decimal
from typing import Optional

from django.db import transaction
from prices import Money

from ...domain import problems
from ...domain.money import below_minimum_charge, quantize
from ...error_codes import SubscriptionErrorCode
from ...gateway.interface import ChargeOutcome, ChargeResult
from ...models import AttemptStatus, EventType, PaymentAttempt, SubscriptionEvent
from .. import charging
from ..carry import carry_adjustment
from ..events import record_event
from . import Actor, lock, refuse

SUCCEEDED, FAILED, PENDING = "succeeded", "failed", "pending"


def proration_key(subscription, plan, quantity: int) -> str:
    """Deterministic: one key per (period, counted change, target); the caller holds the row
    lock and has just counted this change."""
    return "%s:%s:%d:%d:%d:%d" % (charging.PRORATION, subscription.token.hex,
                                  subscription.cycle_index, subscription.plan_change_count,
                                  plan.pk, quantity)


def start(subscription, plan, offer, now: datetime, actor: Actor):
    """Inside the caller's transaction, subscription locked: the order and the STARTED attempt.
    Returns (order, started), `started` being what `charging.call_for` takes (attempt id, request,
    reconcile) — or None when the taxed difference is below the gateway's minimum charge and was
    carried to the next renewal instead."""
    from ...saleor_adapter.orders import create_adjustment_order, order_total

    subscription.plan_change_count += 1
    subscription.save(update_fields=["plan_change_count", "updated_at"])
    order = create_adjustment_order(subscription, plan, offer.charge_now,
                                    "Prorated upgrade to %s" % plan.name)
    amount: Money = order_total(order)  # the difference plus the store's taxes on it
    if below_minimum_charge(amount):
        carry_adjustment(subscription, order, amount, now)
        return order, None
    return order, charging.start_charge(
        subscription, charging.PRORATION, proration_key(subscription, plan, offer.new_quantity),
        amount, now, order=order, description="Prorated upgrade",
        plan_id=plan.pk, quantity=offer.new_quantity, kind=offer.kind,
        unit_price=str(offer.new_unit_price.amount), credit=str(offer.credit.amount),
        intro_price=str(offer.intro_price.amount) if offer.intro_price is not None else None,
        intro_cycles=offer.intro_cycles, actor_type=actor.type, user_id=getattr(actor.user, "pk", None),
        app_id=getattr(actor.app, "pk", None),
    )


def record_outcome(attempt_id: int, result: ChargeResult, now: datetime, context) -> str:
    """Under the row lock: succeeded (paid, plan switched), failed (order cancelled, nothing
    changed) or pending (unknown: the attempt stays STARTED for the sweep)."""
    from ...saleor_adapter.orders import cancel_unpaid_order
    from ...saleor_adapter.payments import record_captured_charge

    if result.outcome == ChargeOutcome.ACTION_REQUIRED:
        result = charging.close_intent(context.gateway, result)
    subscription_id = PaymentAttempt.objects.values_list("subscription_id", flat=True).get(
        pk=attempt_id)
    with transaction.atomic():
        subscription = lock(subscription_id, in_flight_ok=True)
        attempt = (PaymentAttempt.objects.select_for_update(of=("self",))
                   .select_related("order").get(pk=attempt_id))
        # ACTION_REQUIRED: an upgrade's intent left open before they were closed (its order
        # cancelled): a success found for it is recorded all the same, never dropped.
        if attempt.status not in (AttemptStatus.STARTED, AttemptStatus.ACTION_REQUIRED):
            return SUCCEEDED if attempt.status == AttemptStatus.SUCCEEDED else FAILED
        if result.outcome in (ChargeOutcome.UNKNOWN, ChargeOutcome.RATE_LIMITED):
            # The intent, when there is one, is how a webhook finds the attempt.
            attempt.gateway_reference = result.reference or attempt.gateway_reference
            attempt.error_code = result.error_code or result.outcome.value
            attempt.error_message = result.error_message
            attempt.save()
            return PENDING
        attempt.gateway_reference = result.reference or attempt.gateway_reference
        attempt.error_code, attempt.error_message = result.error_code, result.error_message
        attempt.finished_at = now
        amount = Money(attempt.amount, attempt.currency)
        if result.succeeded:
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.save()
            if attempt.order is not None:
                record_captured_charge(
                    attempt.order, gateway_id=context.gateway.saleor_gateway_id,
                    reference=result.reference, amount=result.amount or amount,
                    customer_reference=subscription.customer_reference, card=result.card)
            _apply(subscription, attempt, now)
            return SUCCEEDED
        left_open = attempt.status == AttemptStatus.ACTION_REQUIRED
        attempt.status = AttemptStatus.FAILED  # declined, or its intent is closed now
        attempt.save()
        if left_open:
            return FAILED  # its order cancelled and its failure written when it was left open
        cancel_unpaid_order(attempt.order)
        record_event(subscription, EventType.PAYMENT_FAILED, date=now, order=attempt.order,
                     amount=amount, purpose=charging.PRORATION, code=result.error_code,
                     message=result.error_message, to_plan=attempt.details.get("plan_id"),
                     **_actor(attempt.details).event_fields())
        return FAILED


AUTHENTICATION_REFUSED = ("Your bank asked to confirm this payment, which can't be done for a "
                          "plan change: try again with another card.")


def refusal(attempt_id: int, outcome: str):
    """The typed answer for a charge that did not succeed now."""
    attempt = PaymentAttempt.objects.get(pk=attempt_id)
    if outcome == PENDING:
        return refuse("The payment's outcome is not known yet; the plan changes as soon as it "
                      "is confirmed.", SubscriptionErrorCode.PAYMENT_PENDING, field="plan_id")
    # The gateway's own text stays on the attempt for staff; the customer reads safe words.
    problem = problems.classify(attempt.error_code or "card_declined")
    # Its intent was closed: there is nothing left to confirm, so say what to do instead.
    advice = (AUTHENTICATION_REFUSED if problem == problems.Problem.AUTHENTICATION_REQUIRED
              else problems.message(problem))
    return refuse("The prorated charge of %s %s failed. %s" % (
        quantize(attempt.amount, attempt.currency), attempt.currency, advice),
        SubscriptionErrorCode.PAYMENT_ERROR, field="plan_id")


def _apply(subscription, attempt: PaymentAttempt, now: datetime) -> None:
    """The paid change, as it was quoted under the lock that stored the attempt."""
    from ...models import SubscriptionPlan
    from .plan_change import PlanChangeQuote, _switch

    details = attempt.details
    currency = subscription.currency
    plan = SubscriptionPlan.objects.filter(pk=details["plan_id"]).first()
    if plan is None:  # deleted since: the payment stays recorded on its order, for a refund
        record_event(subscription, EventType.PLAN_CHANGE_CANCELLED, date=now, order=attempt.order,
                     amount=Money(attempt.amount, currency), to_plan=details["plan_id"],
                     reason="plan_deleted")
        return
    offer = PlanChangeQuote(
        details.get("kind", "upgrade"), "now", Money(attempt.amount, currency),
        Money(Decimal(details.get("credit") or 0), currency),
        Money(Decimal(details["unit_price"]), currency), int(details["quantity"]), now,
        intro_price=(Money(Decimal(details["intro_price"]), currency)
                     if details.get("intro_price") else None),
        intro_cycles=int(details.get("intro_cycles") or 0))
    _switch(subscription, plan, offer, now, _actor(details), order=attempt.order)


def _actor(details) -> Actor:
    """Who asked for the change, for the event rows written when its outcome is known."""
    def related(field: str, pk: Optional[int]):
        if pk is None:
            return None
        model = SubscriptionEvent._meta.get_field(field).related_model
        return model.objects.filter(pk=pk).first()

    return Actor(details.get("actor_type") or Actor().type, related("user", details.get("user_id")),
                 related("app", details.get("app_id")))
