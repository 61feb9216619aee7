"""End to end with a real Celery worker process on Redis, PostgreSQL and localstripe."""
import os
import subprocess
import sys
import tempfile
import time
import uuid

import pytest
import redis
from celery import Celery
from django.db import connection

from saleor_subscriptions.models import BillingCycle, Subscription
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.redis_urls import redis_url
from saleor_subscriptions.testing.renewal_factories import utc

BROKER = os.environ.get("SUBSCRIPTIONS_TEST_BROKER_URL", redis_url(5))
TASK = "saleor_subscriptions.tasks.renew_due_subscriptions_task"




pytestmark = pytest.mark.usefixtures("keep_committed_data")


@pytest.fixture
def worker(transactional_db):
    """A `celery -A saleor.celeryconf:app worker` on a queue of its own, on the test database."""
    queue = "renewals-test-%s" % uuid.uuid4().hex[:8]
    database = connection.settings_dict
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": "postgres://%s@%s:%s/%s" % (
            database["USER"] or "postgres", database["HOST"] or "127.0.0.1",
            database["PORT"] or 5432, database["NAME"]),
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DJANGO_SETTINGS_MODULE": "saleor_subscriptions.host.settings",
    })
    log = tempfile.NamedTemporaryFile(prefix="renewal-worker-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "saleor.celeryconf:app", "worker", "-Q", queue,
         "-c", "2", "-l", "info", "-n", "%s@%%h" % queue, "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    sender = Celery("renewal-tests")
    # Celery prefers the CELERY_BROKER_URL environment variable over broker= and conf: send
    # through an explicit connection to the worker's broker.
    broker_connection = sender.connection(BROKER)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in open(log.name).read():
            assert process.poll() is None, open(log.name).read()[-3000:]
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.3)
        yield (
            lambda **kwargs: sender.send_task(TASK, kwargs=kwargs, queue=queue, connection=broker_connection),
            log.name,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        broker_connection.release()
        sender.close()
        redis.Redis.from_url(BROKER).delete(queue, "celery")


def wait_until(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_worker_registers_the_tasks_and_renews_due_subscriptions_once(renewal, worker):
    send, log_path = worker
    renewal.configure(**{"Renewal batch size": "2"})
    card = renewal.card()
    declined = renewal.card(rf.DECLINED_CARD)
    good = [renewal.subscription(card=card) for _ in range(4)]
    trial = renewal.subscription(card=card, plan=renewal.plan(trial_days=7),
                                 start=utc(2028, 2, 22, 10), trial_end=utc(2028, 2, 29, 10))
    bad = renewal.subscription(card=declined)
    not_due = renewal.subscription(card=card, start=utc(2028, 2, 15, 10))

    log = open(log_path).read()
    for name in ("renew_due_subscriptions_task", "renew_subscription_task", "retry_payment_task"):
        assert "saleor_subscriptions.tasks." + name in log

    now = utc(2028, 3, 1, 9).isoformat()
    send(now=now)
    send(now=now)  # beat fired twice

    def settled():
        paid = BillingCycle.objects.filter(cycle_index=1, status="paid").count()
        failed = BillingCycle.objects.filter(cycle_index=1, status="failed").count()
        return paid == 5 and failed == 1

    assert wait_until(settled), open(log_path).read()[-4000:]
    time.sleep(2)  # let the second (and any re-enqueued) batch finish: it must find nothing
    for subscription in good + [trial]:
        subscription.refresh_from_db()
        assert subscription.status == "active" and subscription.cycle_index == 1
    assert Subscription.objects.get(pk=bad.pk).status == "past_due"
    assert Subscription.objects.get(pk=not_due.pk).cycle_index == 0
    assert len([i for i in renewal.intents(card.customer_id) if i["status"] == "succeeded"]) == 5
    assert len(renewal.intents(declined.customer_id)) == 1
    assert BillingCycle.objects.filter(cycle_index=1).count() == 6
