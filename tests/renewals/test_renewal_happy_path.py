"""Trials, renewals over several periods, month ends, fixed terms: the money side and Saleor's."""
from decimal import Decimal

from saleor.order.models import Order
from saleor.payment import ChargeStatus

from saleor_subscriptions.models import BillingCycle, EventType, SubscriptionEvent
from saleor_subscriptions.testing.renewal_factories import utc


def event_types(subscription):
    return list(SubscriptionEvent.objects.filter(subscription=subscription)
                .values_list("type", flat=True))


def test_trial_then_first_charge_then_monthly_renewals(renewal):
    card = renewal.card()
    subscription = renewal.subscription(
        plan=renewal.plan(trial_days=14), card=card, start=utc(2028, 1, 17, 10),
        trial_end=utc(2028, 1, 31, 10),
    )
    assert renewal.run(utc(2028, 1, 30, 10)) == {}  # not due yet

    assert renewal.run(utc(2028, 1, 31, 10, 5)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert subscription.paid_cycles == 1
    assert subscription.current_period_start == utc(2028, 1, 31, 10)
    assert subscription.next_billing_at == utc(2028, 2, 29, 10)  # leap year, clamped
    assert EventType.TRIAL_ENDED in event_types(subscription)

    expected = [utc(2028, 3, 31, 10), utc(2028, 4, 30, 10), utc(2028, 5, 31, 10)]
    for now, next_date in zip([utc(2028, 2, 29, 11), utc(2028, 3, 31, 11), utc(2028, 4, 30, 11)],
                              expected):
        assert renewal.run(now) == {"renewed": 1}
        subscription.refresh_from_db()
        assert subscription.next_billing_at == next_date
        assert renewal.run(now) == {}  # a second run in the same period does nothing

    assert subscription.paid_cycles == 4
    assert subscription.cycle_index == 4
    cycles = BillingCycle.objects.filter(subscription=subscription).exclude(cycle_index=0)
    assert [c.status for c in cycles] == ["paid"] * 4
    assert len(renewal.intents(card.customer_id)) == 4
    orders = Order.objects.filter(pk__in=[c.order_id for c in cycles])
    assert orders.count() == 4
    for order in orders:
        assert order.total.gross.amount == Decimal("25.00")  # 20.00 + 5.00 shipping
        assert order.is_fully_paid()
        payment = order.payments.get()
        assert payment.charge_status == ChargeStatus.FULLY_CHARGED
        assert payment.gateway == "saleor.subscriptions.stripe"
    assert event_types(subscription).count(EventType.RENEWED) == 4
