"""Two real workers, the schedule firing twice, one worker killed mid-batch: every due
subscription is still renewed exactly once — counted in Saleor's orders and at the gateway.
The gateway answers after a provider's latency and each worker has charges in flight on its
charging pool (services/charge_pool.py) while it prepares the next renewals."""
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from saleor.order.models import Order

from saleor_subscriptions.gateway.fake import FakeGateway
from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.plugins import configure_plugin
from saleor_subscriptions.testing.redis_urls import redis_url
from saleor_subscriptions.testing.workers import Sender, Worker, database_url

BROKER = redis_url(7)
FAKE_GATEWAY_REDIS = redis_url(8)
DUE = 160
TIMEOUT_AFTER_CHARGE = 12  # the gateway takes the money and then answers like a timeout


pytestmark = pytest.mark.usefixtures("keep_committed_data")


def wait_until(condition, timeout=180, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def renewal_orders():
    return Order.objects.filter(metadata__has_key="subscription_renewal")


def test_two_workers_double_schedule_and_a_killed_worker_renew_each_once(
        transactional_db, store, staff_api, customer):
    gateway = FakeGateway(FAKE_GATEWAY_REDIS)
    gateway.reset()
    configure_plugin(staff_api, **{"Stripe secret key": "sk_test_fake",
                                    "Renewal batch size": "5",
                                    "Charge requests per second": "1000"})
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    method = rf.shipping_method_from_global_id(store.shipping_method_id)
    plan = rf.make_plan(variant, price=Decimal("20.00"))
    for number in range(DUE):
        card = rf.StripeCard("cus_fake_%d" % number,
                             "pm_fake_timeout" if number < TIMEOUT_AFTER_CHARGE else "pm_fake_ok")
        rf.make_subscription(plan, customer, card, start=rf.utc(2028, 1, 31, 10),
                             shipping_method=method)
    now = rf.utc(2028, 3, 1, 9).isoformat()
    # Unknown outcomes (the timeouts) are looked up again 5 minutes later on the business clock.
    later = rf.utc(2028, 3, 1, 9, 10).isoformat()

    queue = "fault-%s" % uuid.uuid4().hex[:8]
    database = database_url(connection.settings_dict)
    env = {"SUBSCRIPTIONS_GATEWAY": "fake", "SUBSCRIPTIONS_FAKE_GATEWAY_REDIS": FAKE_GATEWAY_REDIS,
           "SUBSCRIPTIONS_RENEWAL_LEASE_SECONDS": "3",
           "SUBSCRIPTIONS_FAKE_GATEWAY_LATENCY_MS": "60", "SUBSCRIPTIONS_FAKE_GATEWAY_JITTER_MS": "50",
           "SUBSCRIPTIONS_RENEWAL_CONCURRENCY": "4"}
    workers = [Worker(queue, BROKER, database, name, env) for name in ("a", "b")]
    sender = Sender(BROKER, queue)
    try:
        for worker in workers:
            worker.wait_ready()
        sender.renew_due(now=now)
        sender.renew_due(now=now)  # beat fired twice
        assert wait_until(lambda: renewal_orders().count() >= 20), workers[0].output()[-3000:]
        workers[0].kill()  # mid-batch
        killed_at = renewal_orders().count()
        assert killed_at < DUE
        workers.append(Worker(queue, BROKER, database, "c", env).wait_ready())

        def settled():
            sender.renew_due(now=later)  # later runs pick up what the killed worker held
            paid = BillingCycle.objects.filter(cycle_index=1, status="paid").count()
            started = PaymentAttempt.objects.filter(status=AttemptStatus.STARTED).count()
            return paid == DUE and started == 0

        assert wait_until(settled, timeout=240, every=3), (
            BillingCycle.objects.filter(cycle_index=1).values_list("status", "error_code")[:20],
            workers[1].output()[-3000:])
        time.sleep(3)  # any batch still queued must find nothing to do
    finally:
        for worker in workers:
            worker.stop()
        sender.close()

    assert BillingCycle.objects.filter(cycle_index=1).count() == DUE
    assert not BillingCycle.objects.filter(cycle_index__gt=1).exists()
    orders = list(renewal_orders())
    assert len(orders) == DUE
    assert len({(o.metadata["subscription_renewal"], o.metadata["subscription_cycle"])
                for o in orders}) == DUE
    assert all(order.is_fully_paid() for order in orders)
    charges = gateway.charges()
    assert len(charges) == DUE
    assert len({charge["key"] for charge in charges}) == DUE
    assert len({charge["params"]["customer"] for charge in charges}) == DUE
    assert sum(Decimal(charge["params"]["amount"]) for charge in charges) == Decimal("25.00") * DUE
    assert gateway.peak_in_flight() > 1  # charges were in flight together
