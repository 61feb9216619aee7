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


def test_yearly_plan_anchored_on_february_29(renewal):
    subscription = renewal.subscription(plan=renewal.plan(interval_unit="year"),
                                        start=utc(2028, 2, 29, 9))
    assert subscription.next_billing_at == utc(2029, 2, 28, 9)
    assert renewal.run(utc(2029, 2, 28, 9)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.next_billing_at == utc(2030, 2, 28, 9)
    for year in (2030, 2031):
        assert renewal.run(utc(year, 2, 28, 9)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert subscription.next_billing_at == utc(2032, 2, 29, 9)  # back on the 29th in a leap year


def test_month_end_anchor_does_not_drift_after_february(renewal):
    subscription = renewal.subscription(start=utc(2027, 1, 31, 8))
    seen = []
    for _ in range(3):
        now = subscription.next_billing_at
        assert renewal.run(now) == {"renewed": 1}
        subscription.refresh_from_db()
        seen.append(subscription.next_billing_at)
    assert seen == [utc(2027, 3, 31, 8), utc(2027, 4, 30, 8), utc(2027, 5, 31, 8)]


def test_fixed_term_expires_after_the_last_paid_cycle(renewal):
    card = renewal.card()
    subscription = renewal.subscription(plan=renewal.plan(billing_cycles=3), card=card,
                                        start=utc(2028, 1, 10, 10))
    assert renewal.run(utc(2028, 2, 10, 10)) == {"renewed": 1}
    assert renewal.run(utc(2028, 3, 10, 10)) == {"renewed": 1}
    assert renewal.run(utc(2028, 4, 10, 10)) == {"ended": 1}
    assert renewal.run(utc(2028, 9, 10, 10)) == {}
    subscription.refresh_from_db()
    assert subscription.status == "expired"
    assert subscription.paid_cycles == 3
    assert subscription.ended_at == utc(2028, 4, 10, 10)
    assert subscription.next_billing_at is None
    assert EventType.EXPIRED in event_types(subscription)
    assert len(renewal.intents(card.customer_id)) == 2
