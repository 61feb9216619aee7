"""Notices with real Celery workers: two workers run the notice task at the same time (and once
more, as a retried task), the renewal task declines a card; every e-mail — written by the
workers' mail backend to files — goes out once."""
import email
import os
import tempfile
import time
import uuid
from decimal import Decimal

import pytest
import redis
from django.db import connection
from saleor.account.models import StaffNotificationRecipient

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.notice_models import CustomerNotice, NoticeStatus
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.redis_urls import redis_url
from saleor_subscriptions.testing.renewal_factories import utc
from saleor_subscriptions.testing.workers import Sender, Worker, database_url

BROKER = redis_url(11)
NOTICES_TASK = "saleor_subscriptions.tasks.send_notices_task"
YEARLY, TRIALS, CARDS = 12, 6, 6

pytestmark = pytest.mark.usefixtures("keep_committed_data")


def wait_until(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def sent_mails(directory):
    """Every message the file backend wrote: (recipients, subject, plain body)."""
    found = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as written:
            for chunk in written.read().split(b"-" * 79):
                if not chunk.strip():
                    continue
                message = email.message_from_bytes(chunk.strip())
                plain = next(part for part in message.walk()
                             if part.get_content_type() == "text/plain")
                found.append((message["To"], message["Subject"],
                              plain.get_payload(decode=True).decode()))
    return found


@pytest.fixture
def mail_directory():
    with tempfile.TemporaryDirectory(prefix="notices-mail-") as directory:
        yield directory


def test_two_workers_send_each_notice_once(transactional_db, renewal, superuser,
                                           mail_directory):
    StaffNotificationRecipient.objects.create(user=superuser, active=True)
    plan = renewal.plan(name="Yearly beans", interval_unit="year", price=Decimal("200.00"))
    plan.renewal_notice_days = 14
    plan.save()
    card = renewal.card()
    yearly = [renewal.subscription(plan=plan, card=card) for _ in range(YEARLY)]  # 2029-01-31
    trial_plan = renewal.plan(trial_days=30)
    for _ in range(TRIALS):
        renewal.subscription(plan=trial_plan, card=card, start=utc(2029, 1, 1, 10),
                             trial_end=utc(2029, 1, 31, 10))
    expiring = [renewal.subscription(card=card, start=utc(2028, 12, 31, 10))
                for _ in range(CARDS)]
    Subscription.objects.filter(pk__in=[s.pk for s in expiring]).update(
        card_exp_month=1, card_exp_year=2029)
    declined = renewal.subscription(card=renewal.card(rf.DECLINED_CARD),
                                    start=utc(2028, 12, 20, 10))  # due 2029-01-20 10:00

    queue = "notices-%s" % uuid.uuid4().hex[:8]
    env = {"EMAIL_URL": "file:///" + mail_directory}  # dj-email-url drops one slash
    database = database_url(connection.settings_dict)
    workers = [Worker(queue, BROKER, database, name, env, concurrency=2, also_queues=["celery"])
               for name in ("a", "b")]
    sender = Sender(BROKER, queue)
    now = utc(2029, 1, 29, 9).isoformat()
    try:
        for worker in workers:
            worker.wait_ready()
        for _ in range(2):  # beat fired twice: both run at once on the two workers
            sender.app.send_task(NOTICES_TASK, kwargs={"now": now}, queue=queue,
                                 connection=sender.connection)
        sender.renew_due(now=utc(2029, 1, 29, 9).isoformat())
        expected = YEARLY + TRIALS + CARDS + 2  # + the decline: customer and staff

        def settled():
            return CustomerNotice.objects.filter(status=NoticeStatus.SENT).count() == expected

        assert wait_until(settled), workers[0].output()[-3000:] + workers[1].output()[-3000:]
        sender.app.send_task(NOTICES_TASK, kwargs={"now": now}, queue=queue,  # a retried task
                             connection=sender.connection)
        assert wait_until(lambda: sum(worker.output().count("Subscription notices:")
                                      for worker in workers) == 3)
    finally:
        for worker in workers:
            worker.stop()
        sender.close()
        redis.Redis.from_url(BROKER).delete(queue, "celery")

    mails = sent_mails(mail_directory)
    assert len(mails) == expected
    assert CustomerNotice.objects.count() == expected
    assert set(CustomerNotice.objects.values_list("status", flat=True)) == {NoticeStatus.SENT}
    subjects = [subject for to, subject, _ in mails if to == renewal.customer.email]
    assert subjects.count("Your Coffee beans subscription renews on January 31, 2029") == YEARLY
    assert subjects.count("Your Coffee beans free trial ends on January 31, 2029") == TRIALS
    assert subjects.count("The card for your Coffee beans subscription expires soon") == CARDS
    assert subjects.count("Payment for your Coffee beans subscription failed") == 1
    (staff,) = [body for to, _, body in mails if to == superuser.email]
    assert "card_declined" in staff
    (body,) = {body for _, subject, body in mails if "renews on" in subject}
    assert "Yearly beans" in body and "200.00 USD" in body and "https://" in body
    for subscription in yearly:
        assert subscription.events.filter(type="renewal_upcoming").count() == 1
    assert Subscription.objects.get(pk=declined.pk).status == "past_due"
