"""A batch's plain renewals are written in groups (services/renewal_batches.py): the same rows as
one renewal at a time, in a few statements per group; a group whose transaction fails is
renewed one at a time, each still charged once."""
import pytest
from django.db import connection
from saleor.account.models import CustomerEvent
from saleor.order.models import Order, OrderEvent
from saleor.payment.models import Payment, Transaction
from saleor.warehouse.models import Allocation

from saleor_subscriptions.gateway.fake import FakeGateway
from saleor_subscriptions.models import (
    BillingCycle,
    MrrMovement,
    PaymentAttempt,
    Subscription,
    SubscriptionEvent,
)
from saleor_subscriptions.saleor_adapter import batch_orders
from saleor_subscriptions.services import renewal_batches, renewals
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.redis_urls import redis_url

REDIS = redis_url(12)
DUE = rf.utc(2028, 2, 29, 10)
COUNT = 9  # the first renewal of a batch goes alone, the other eight in groups


@pytest.fixture
def gateway(settings):
    settings.SUBSCRIPTIONS_RENEWAL_CONCURRENCY = 8
    # The group's answers are recorded together however the test machine schedules threads.
    settings.SUBSCRIPTIONS_RENEWAL_GATHER_SECONDS = 30
    fake = FakeGateway(REDIS, rate_limit_share=0, latency_ms=0, jitter_ms=0)
    fake.reset()
    yield fake
    fake.reset()


def due_subscriptions(renewal, count):
    return rf.fake_card_subscriptions(renewal.plan(), renewal.customer, count, "cus_group",
                                      start=rf.utc(2028, 1, 29, 10),
                                      shipping_method=renewal.shipping_method)


def spy(monkeypatch, name):
    """Record the subscriptions a group function wrote, calling it as it is."""
    seen = []
    original = getattr(renewal_batches, name)

    def recording(items, *args):
        done = original(items, *args)
        seen.extend(done)
        return done

    monkeypatch.setattr(renewal_batches, name, recording)
    return seen


def rows(model, exclude=(), **filters):
    skip = {"id", "pk", "token", "created", "updated_at", "date", "created_at", "modified",
            "finished_at"} | set(exclude)
    return [{key: value for key, value in row.items() if key not in skip and not key.endswith("_id")}
            for row in model.objects.filter(**filters).order_by("pk").values()]


def renewal_rows(subscription):
    """Everything one renewal wrote, without what differs between any two renewals (ids,
    tokens, clocks, the customer's Stripe references)."""
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    order = Order.objects.get(pk=cycle.order_id)
    payment = Payment.objects.get(order=order)
    return {
        "order": rows(Order, exclude={"metadata", "user_email"}, pk=order.pk),
        "metadata": sorted(order.metadata),
        "lines": rows(order.lines.model, order=order),
        "allocations": rows(Allocation, order_line__order=order),
        "addresses": [order.billing_address.as_data(), order.shipping_address.as_data()],
        "address copies": {order.billing_address_id, order.shipping_address_id}.isdisjoint(
            {subscription.billing_address_id, subscription.shipping_address_id}),
        "order events": [(row.type, row.user_id, sorted(row.parameters))
                         for row in OrderEvent.objects.filter(order=order).order_by("pk")],
        "customer events": list(CustomerEvent.objects.filter(order=order).values_list("type")),
        "payment": rows(Payment, exclude={"customer_ip_address"}, pk=payment.pk),
        "transactions": rows(Transaction, exclude={"customer_id", "gateway_response"},
                             payment=payment),
        "cycle": rows(BillingCycle, pk=cycle.pk),
        "attempts": rows(PaymentAttempt, exclude={"idempotency_key", "gateway_reference",
                                                  "customer_reference"},
                         subscription=subscription),
        "events": [(row.type, row.status, row.amount, sorted(row.parameters))
                   for row in SubscriptionEvent.objects.filter(
                       subscription=subscription).order_by("pk")],
        "mrr": list(MrrMovement.objects.filter(subscription=subscription).order_by("pk")
                    .values_list("kind", "amount", "mrr_after")),
        "subscription": rows(Subscription, exclude={"customer_reference",
                                                    "payment_method_reference"},
                             pk=subscription.pk),
    }


def test_renewals_in_groups_write_what_one_renewal_writes_in_fewer_statements(
        renewal, gateway, monkeypatch):
    subscriptions = due_subscriptions(renewal, COUNT)
    begun, settled = spy(monkeypatch, "_begin_plain"), spy(monkeypatch, "_complete_plain")
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        result = renewals.renew_due_subscriptions(DUE, context=renewal.context(gateway=gateway))

    assert result.counts == {"renewed": COUNT}
    assert len(gateway.charges()) == COUNT
    alone, grouped = subscriptions[0], subscriptions[1:]
    assert sorted(begun) == sorted(settled) == [row.pk for row in grouped]
    # The same rows, whichever way they were written.
    expected = renewal_rows(alone)
    for subscription in grouped:
        assert renewal_rows(subscription) == expected
    # Each attempt names the Stripe customer it charged: the sweep looks its charge up there.
    for subscription in subscriptions:
        assert [attempt.customer_reference for attempt in subscription.payment_attempts.all()] == [
            subscription.customer_reference]
    # One renewal at a time costs about 40 statements; in groups, under half of that.
    assert len(statements) < 20 * COUNT


def test_a_group_whose_start_fails_is_started_one_at_a_time(renewal, gateway, monkeypatch):
    subscriptions = due_subscriptions(renewal, 5)

    def broken(*args, **kwargs):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(batch_orders, "create_renewal_orders", broken)
    result = renewals.renew_due_subscriptions(DUE, context=renewal.context(gateway=gateway))

    assert result.counts == {"renewed": 5}
    assert len(gateway.charges()) == 5
    assert BillingCycle.objects.filter(cycle_index=1, status="paid").count() == 5
    assert Order.objects.filter(metadata__has_key="subscription_renewal").count() == 5
    assert not Subscription.objects.filter(pk__in=[row.pk for row in subscriptions],
                                           renewal_lease_until__isnull=False).exists()


def test_a_group_whose_outcome_fails_is_recorded_one_at_a_time(renewal, gateway, monkeypatch):
    subscriptions = due_subscriptions(renewal, 5)
    settled = spy(monkeypatch, "_begin_plain")

    def broken(*args, **kwargs):
        raise RuntimeError("the database said no")

    monkeypatch.setattr(batch_orders, "place_paid_orders", broken)
    result = renewals.renew_due_subscriptions(DUE, context=renewal.context(gateway=gateway))

    assert settled  # the group was started together, then recorded one at a time
    assert result.counts == {"renewed": 5}
    assert len(gateway.charges()) == 5
    assert Payment.objects.filter(order__metadata__has_key="subscription_renewal").count() == 5
    assert Order.objects.filter(metadata__has_key="subscription_renewal",
                                status="unfulfilled").count() == 5
    assert SubscriptionEvent.objects.filter(subscription__in=subscriptions,
                                            type="renewed").count() == 5
