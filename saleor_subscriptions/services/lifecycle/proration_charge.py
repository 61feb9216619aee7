"""Charge a prorated upgrade now, exactly once: the attempt (with its key) and the order are
committed before the gateway is called; an unknown outcome is looked up before giving up."""
from datetime import datetime
from uuid import uuid4

from django.db import transaction
from prices import Money

from ...domain.money import below_minimum_charge
from ...error_codes import SubscriptionErrorCode
from ...gateway.interface import ChargeOutcome, ChargeRequest
from ...gateway.registry import get_gateway
from ...models import AttemptStatus, PaymentAttempt
from ..carry import carry_adjustment
from . import lock, refuse


def charge_difference(subscription_id: int, plan, offer, now: datetime, settings):
    from ...saleor_adapter.orders import cancel_unpaid_order, create_adjustment_order, order_total
    from ...saleor_adapter.payments import record_captured_charge

    with transaction.atomic():
        subscription = lock(subscription_id)
        order = create_adjustment_order(subscription, plan, offer.charge_now,
                                        "Prorated upgrade to %s" % plan.name)
        amount: Money = order_total(order)  # the difference plus the store's taxes on it
        if below_minimum_charge(amount):
            carry_adjustment(subscription, order, amount, now)
            return order
        attempt = PaymentAttempt.objects.create(
            subscription=subscription, purpose="proration", status=AttemptStatus.STARTED,
            idempotency_key="proration:%s" % uuid4().hex,
            currency=amount.currency, amount=amount.amount, created_at=now,
        )
    gateway = get_gateway(settings)
    request = ChargeRequest(amount, subscription.customer_reference,
                            subscription.payment_method_reference, attempt.idempotency_key,
                            description="Prorated upgrade", metadata={"order": str(order.pk)})
    result = gateway.charge(request)
    if result.outcome == ChargeOutcome.UNKNOWN:
        result = gateway.find_charge(request) or result
    with transaction.atomic():
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
        attempt.gateway_reference = result.reference
        attempt.finished_at = now
        if result.succeeded:
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.save()
            record_captured_charge(order, gateway_id=gateway.saleor_gateway_id,
                                   reference=result.reference, amount=amount,
                                   customer_reference=subscription.customer_reference,
                                   card=result.card)
            return order
        attempt.status = AttemptStatus.FAILED
        attempt.error_code, attempt.error_message = result.error_code, result.error_message
        attempt.save()
        cancel_unpaid_order(order)
    raise refuse("The prorated charge of %s %s failed: %s" % (
        amount.amount, amount.currency, result.error_message or result.outcome.value),
        SubscriptionErrorCode.PAYMENT_ERROR, field="plan_id")
