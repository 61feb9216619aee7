"""A store plugin (analytics, ERP) that raises after the money is in never loses the charge."""
import logging

from saleor.payment.models import Payment

from saleor_subscriptions.models import BillingCycle, PaymentAttempt
from saleor_subscriptions.testing.renewal_factories import utc

RAISING = "saleor_subscriptions.testing.raising_plugin.RaisingOrderHooksPlugin"


def test_raising_hook_after_capture_keeps_the_payment(renewal, settings, caplog):
    subscription = renewal.subscription()
    settings.PLUGINS = list(settings.PLUGINS) + [RAISING]
    with caplog.at_level(logging.ERROR):
        assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}

    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.status == "paid"
    (attempt,) = PaymentAttempt.objects.filter(cycle=cycle)
    assert attempt.status == "succeeded"
    payment = Payment.objects.get(order_id=cycle.order_id)
    assert payment.token == attempt.gateway_reference
    assert payment.charge_status == "fully-charged"
    assert cycle.order.events.filter(type="order_fully_paid").exists()
    subscription.refresh_from_db()
    assert subscription.cycle_index == 1 and subscription.parked_at is None
    # Both failing hooks are logged with the order, not swallowed silently.
    failures = [record for record in caplog.records if "order_fully_paid" in record.getMessage()
                or "order_updated" in record.getMessage()]
    assert {("order_fully_paid" in r.getMessage()) for r in failures} == {True, False}
    # Charged once: the next run has nothing to reconcile or charge again.
    assert renewal.run(utc(2028, 3, 1, 10)) == {}
    assert len(renewal.intents(subscription.customer_reference)) == 1
