"""Renewals after a stall: by default one order for the current period, the missed periods
recorded as skipped; the store may choose to bill every missed period instead."""
from saleor.warehouse.models import Stock

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.models import BillingCycle, EventType, SubscriptionEvent
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing.renewal_factories import utc


def paid_cycles(subscription):
    return list(BillingCycle.objects.filter(subscription=subscription, status="paid")
                .exclude(cycle_index=0).order_by("cycle_index")
                .values_list("cycle_index", "period_start", "period_end"))


def missed_event(subscription):
    return SubscriptionEvent.objects.get(subscription=subscription,
                                         type=EventType.RENEWAL_SKIPPED)


def test_a_stall_bills_the_current_period_once_and_records_the_missed_ones(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card)  # anchor Jan 31 2028, due Feb 29
    assert load_settings().missed_renewals == "bill_once"
    # The scheduler was down from Feb 29 to Jun 15: three whole periods went by unbilled.
    assert renewal.run(utc(2028, 6, 15)) == {"renewed": 1}
    subscription.refresh_from_db()
    assert paid_cycles(subscription) == [(1, utc(2028, 5, 31, 10), utc(2028, 6, 30, 10))]
    assert len(renewal.intents(card.customer_id)) == 1
    assert (subscription.cycle_index, subscription.paid_cycles) == (1, 2)
    assert subscription.current_period_start == utc(2028, 5, 31, 10)
    assert subscription.next_billing_at == utc(2028, 6, 30, 10)
    event = missed_event(subscription)
    assert event.parameters["reason"] == "periods_missed"
    assert event.parameters["count"] == 3
    assert event.parameters["periods_missed"] == [
        ["2028-02-29T10:00:00+00:00", "2028-03-31T10:00:00+00:00"],
        ["2028-03-31T10:00:00+00:00", "2028-04-30T10:00:00+00:00"],
        ["2028-04-30T10:00:00+00:00", "2028-05-31T10:00:00+00:00"],
    ]
    # The grid goes on: the next period is billed when it comes, once.
    assert renewal.run(utc(2028, 6, 30, 11)) == {"renewed": 1}
    assert renewal.run(utc(2028, 6, 30, 12)) == {}
    subscription.refresh_from_db()
    assert subscription.cycle_index == 2
    assert subscription.next_billing_at == utc(2028, 7, 31, 10)
    assert SubscriptionEvent.objects.filter(subscription=subscription,
                                            type=EventType.RENEWAL_SKIPPED).count() == 1


def test_a_late_run_inside_the_period_skips_nothing(renewal):
    subscription = renewal.subscription()
    assert renewal.run(utc(2028, 3, 30)) == {"renewed": 1}  # due Feb 29, period ends Mar 31
    subscription.refresh_from_db()
    assert paid_cycles(subscription) == [(1, utc(2028, 2, 29, 10), utc(2028, 3, 31, 10))]
    assert not SubscriptionEvent.objects.filter(subscription=subscription,
                                                type=EventType.RENEWAL_SKIPPED).exists()


def test_the_store_may_bill_every_missed_period(renewal):
    renewal.configure(**{"Missed renewals": "bill_each"})
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    assert renewal.run(utc(2028, 6, 15)) == {"renewed": 4}
    subscription.refresh_from_db()
    assert [row[1] for row in paid_cycles(subscription)] == [
        utc(2028, 2, 29, 10), utc(2028, 3, 31, 10), utc(2028, 4, 30, 10), utc(2028, 5, 31, 10)]
    assert len(renewal.intents(card.customer_id)) == 4
    assert subscription.next_billing_at == utc(2028, 6, 30, 10)


def test_a_released_subscription_bills_the_current_period_once(renewal):
    subscription = renewal.subscription()
    stock = Stock.objects.filter(product_variant=subscription.variant)
    stock.update(quantity=0)
    for now in (utc(2028, 2, 29, 10), utc(2028, 3, 1, 11), utc(2028, 3, 5, 11)):
        assert renewal.run(now) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.parked_at is not None
    stock.update(quantity=10)
    assert renewals.release_subscription(subscription.pk, utc(2028, 6, 1))
    assert renewal.run(utc(2028, 6, 1, 0, 1)) == {"renewed": 1}
    subscription.refresh_from_db()
    # The parked cycle keeps its number and becomes the current period (May 31 - Jun 30).
    assert paid_cycles(subscription) == [(1, utc(2028, 5, 31, 10), utc(2028, 6, 30, 10))]
    assert subscription.next_billing_at == utc(2028, 6, 30, 10)
    assert missed_event(subscription).parameters["count"] == 3
