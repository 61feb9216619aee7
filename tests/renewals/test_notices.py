"""E-mail reminders and payment notices, once each: Django's test outbox, the notice ledger, the
history rows that are the webhook events."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.sites.models import Site
from django.db import connection
from saleor.account.models import StaffNotificationRecipient

from saleor_subscriptions import tasks
from saleor_subscriptions.config import load_settings
from saleor_subscriptions.domain.notices import NoticeKind
from saleor_subscriptions.models import EventType, Subscription
from saleor_subscriptions.notice_models import CustomerNotice, NoticeStatus
from saleor_subscriptions.saleor_adapter.notice_emails import send_notice
from saleor_subscriptions.services import notices, reminders, webhook_outbox
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc
from saleor_subscriptions.testing.webhook_api import create_app, create_webhook
from saleor_subscriptions.testing.webhook_receiver import WebhookReceiver
from saleor_subscriptions.webhooks.events import webhook_events_for


def run_on_commit_callbacks():
    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def remind(now):
    """The periodic task's run at `now`, then what it queued after its commit."""
    counts = tasks.send_notices_task.apply(kwargs={"now": now.isoformat()}).get()
    run_on_commit_callbacks()
    return counts


def manage_url():
    return "https://%s/" % Site.objects.get_current().domain


def to(mailoutbox, email):
    return [message for message in mailoutbox if message.to == [email]]


def html(message):
    return message.alternatives[0][0] if message.alternatives else ""


@pytest.fixture
def staff_recipient(superuser):
    StaffNotificationRecipient.objects.create(user=superuser, active=True)
    return superuser.email


def yearly(renewal, **kwargs):
    plan = renewal.plan(name="Coffee club, yearly", interval_unit="year",
                        price=Decimal("200.00"), **kwargs)
    plan.renewal_notice_days = 14
    plan.save()
    return plan


def test_renewal_coming_up_is_sent_once_with_amount_date_and_link(renewal, mailoutbox):
    subscription = renewal.subscription(plan=yearly(renewal), quantity=2)  # renews 2029-01-31
    assert remind(utc(2029, 1, 10, 9))[NoticeKind.RENEWAL_UPCOMING] == 0  # 21 days before
    assert mailoutbox == []

    counts = remind(utc(2029, 1, 20, 9))
    assert counts[NoticeKind.RENEWAL_UPCOMING] == 1
    (message,) = to(mailoutbox, renewal.customer.email)
    assert message.subject == "Your Coffee beans subscription renews on January 31, 2029"
    for text in (message.body, html(message)):
        assert "Coffee club, yearly" in text and "400.00 USD plus shipping" in text
        assert "January 31, 2029" in text and manage_url() in text
    (event,) = subscription.events.filter(type=EventType.RENEWAL_UPCOMING)
    assert webhook_events_for(event.type, event.parameters) == ["subscription_renewal_upcoming"]
    assert event.parameters["cycle_index"] == 1 and event.amount == Decimal("400.00")

    # Later runs, and a retried task, decide nothing more.
    remind(utc(2029, 1, 25, 9))
    remind(utc(2029, 1, 25, 9))
    assert len(mailoutbox) == 1
    assert subscription.events.filter(type=EventType.RENEWAL_UPCOMING).count() == 1
    (notice,) = CustomerNotice.objects.filter(subscription=subscription)
    assert (notice.kind, notice.cycle, notice.status) == (
        NoticeKind.RENEWAL_UPCOMING, 1, NoticeStatus.SENT)
    assert send_notice(notice.pk) == "taken"  # a redelivered send message
    assert len(mailoutbox) == 1


def test_the_next_cycle_gets_its_own_notice(renewal, mailoutbox):
    subscription = renewal.subscription(plan=yearly(renewal))
    remind(utc(2029, 1, 20, 9))
    assert renewal.run(utc(2029, 1, 31, 11)) == {"renewed": 1}
    run_on_commit_callbacks()
    mailoutbox.clear()
    remind(utc(2030, 1, 20, 9))
    (message,) = to(mailoutbox, renewal.customer.email)
    assert "January 31, 2030" in message.subject
    assert sorted(CustomerNotice.objects.filter(subscription=subscription)
                  .values_list("cycle", flat=True)) == [1, 2]


def test_no_renewal_notice_without_notice_days_or_when_it_will_not_renew(renewal, mailoutbox):
    renewal.subscription(plan=renewal.plan(interval_unit="year"))  # notice days 0
    ending = renewal.subscription(plan=yearly(renewal))
    Subscription.objects.filter(pk=ending.pk).update(cancel_at_period_end=True)
    assert remind(utc(2029, 1, 20, 9))[NoticeKind.RENEWAL_UPCOMING] == 0
    assert mailoutbox == []


def test_trial_ending(renewal, mailoutbox):
    subscription = renewal.subscription(plan=renewal.plan(trial_days=14),
                                        start=utc(2028, 2, 1, 10), trial_end=utc(2028, 2, 15, 10))
    assert remind(utc(2028, 2, 11, 9))[NoticeKind.TRIAL_ENDING] == 0  # 4 days before; default 3
    remind(utc(2028, 2, 12, 11))
    remind(utc(2028, 2, 13, 11))
    (message,) = to(mailoutbox, renewal.customer.email)
    assert message.subject == "Your Coffee beans free trial ends on February 15, 2028"
    assert "20.00 USD" in message.body and "cancel before you are charged" in message.body
    assert manage_url() in message.body
    (event,) = subscription.events.filter(type=EventType.TRIAL_ENDING)
    assert webhook_events_for(event.type, event.parameters) == ["subscription_trial_ending"]


def test_trial_notice_days_is_a_setting(renewal, mailoutbox):
    renewal.configure(**{"Trial ending notice days": "7"})
    renewal.subscription(plan=renewal.plan(trial_days=14), start=utc(2028, 2, 1, 10),
                         trial_end=utc(2028, 2, 15, 10))
    remind(utc(2028, 2, 9, 9))
    assert len(to(mailoutbox, renewal.customer.email)) == 1


def test_card_expiring_in_its_last_month_once_per_card(renewal, mailoutbox):
    subscription = renewal.subscription()
    Subscription.objects.filter(pk=subscription.pk).update(card_exp_month=3, card_exp_year=2028)
    assert remind(utc(2028, 2, 28, 9))[NoticeKind.CARD_EXPIRING] == 0
    remind(utc(2028, 3, 2, 9))
    remind(utc(2028, 3, 20, 9))
    (message,) = to(mailoutbox, renewal.customer.email)
    assert message.subject == "The card for your Coffee beans subscription expires soon"
    assert "visa ending in 4242" in message.body and "03/2028" in message.body
    assert "add a new card" in message.body and manage_url() in message.body
    # A new card that also runs out is a new notice.
    Subscription.objects.filter(pk=subscription.pk).update(card_exp_month=4)
    remind(utc(2028, 4, 2, 9))
    assert len(to(mailoutbox, renewal.customer.email)) == 2


def test_switched_off_reminders_send_nothing_but_the_webhook_event_still_goes_once(
        renewal, mailoutbox):
    renewal.configure(**{"E-mail: renewal coming up": False, "E-mail: card expiring": False})
    subscription = renewal.subscription(plan=yearly(renewal))
    Subscription.objects.filter(pk=subscription.pk).update(card_exp_month=1, card_exp_year=2029)
    remind(utc(2029, 1, 20, 9))
    remind(utc(2029, 1, 21, 9))
    assert mailoutbox == []
    assert subscription.events.filter(type=EventType.RENEWAL_UPCOMING).count() == 1
    assert set(CustomerNotice.objects.values_list("kind", "status")) == {
        (NoticeKind.RENEWAL_UPCOMING, NoticeStatus.OFF), (NoticeKind.CARD_EXPIRING, NoticeStatus.OFF)}


def test_payment_failed_tells_the_customer_what_to_do_and_staff_what_happened(
        renewal, mailoutbox, staff_recipient):
    subscription = renewal.subscription(card=renewal.card(rf.DECLINED_CARD))
    assert renewal.run(utc(2028, 2, 29, 11)) == {"failed": 1}
    run_on_commit_callbacks()
    (customer_mail,) = to(mailoutbox, renewal.customer.email)
    (staff_mail,) = to(mailoutbox, staff_recipient)
    assert customer_mail.subject == "Payment for your Coffee beans subscription failed"
    assert "25.00 USD" in customer_mail.body and "your card was declined" in customer_mail.body
    assert "update the card" in customer_mail.body and "March 1, 2028" in customer_mail.body
    assert manage_url() in customer_mail.body
    # Staff get the gateway's own words; the customer gets none of them, nor staff addresses.
    cycle = subscription.cycles.get(cycle_index=1)
    assert cycle.error_code in staff_mail.body and renewal.customer.email in staff_mail.subject
    assert str(cycle.order_id) in staff_mail.body and "March 1, 2028" in staff_mail.body
    for text in (customer_mail.body, html(customer_mail), customer_mail.subject):
        assert staff_recipient not in text and cycle.error_code not in text
        assert cycle.last_error not in text and str(subscription.token) not in text

    # The next decline: the customer again (the next date), staff not (once per cycle).
    mailoutbox.clear()
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    run_on_commit_callbacks()
    (again,) = mailoutbox
    assert again.to == [renewal.customer.email] and "March 3, 2028" in again.body


def test_switched_off_payment_notices_are_not_sent(renewal, mailoutbox, staff_recipient):
    renewal.configure(**{"E-mail: payment failed": False, "Staff e-mail: payment failed": False})
    renewal.subscription(card=renewal.card(rf.DECLINED_CARD))
    assert renewal.run(utc(2028, 2, 29, 11)) == {"failed": 1}
    run_on_commit_callbacks()
    assert mailoutbox == []


def test_staff_dispute_notice_for_stripe_webhooks(renewal, mailoutbox, staff_recipient):
    subscription = renewal.subscription()
    for _ in range(2):  # a replayed Stripe event
        notices.notify_staff_of_dispute(subscription, "dp_123", amount=Decimal("20"),
                                        currency="USD", reason="fraudulent",
                                        status="needs_response", opened=True)
        run_on_commit_callbacks()
    notices.notify_staff_of_dispute(subscription, "dp_123", amount=Decimal("20"), currency="USD",
                                    reason="fraudulent", status="won", opened=False)
    run_on_commit_callbacks()
    opened, closed = to(mailoutbox, staff_recipient)
    assert "dispute was opened" in opened.subject and "dp_123" in opened.body
    assert "20.00 USD" in opened.body and renewal.customer.email in opened.body
    assert "closed (won)" in closed.subject
    assert to(mailoutbox, renewal.customer.email) == []


def test_a_notice_whose_send_message_was_lost_is_sent_by_the_sweep_once(renewal, mailoutbox):
    subscription = renewal.subscription(plan=yearly(renewal))
    assert reminders.renewal_upcoming(subscription.pk, utc(2029, 1, 20, 9), load_settings())
    connection.run_on_commit = []  # the broker lost the message
    notice = CustomerNotice.objects.get()
    CustomerNotice.objects.filter(pk=notice.pk).update(
        created_at=notice.created_at - timedelta(hours=1))
    remind(utc(2029, 1, 20, 10))
    remind(utc(2029, 1, 20, 11))
    assert len(to(mailoutbox, renewal.customer.email)) == 1


def test_a_failed_send_is_recorded_and_not_repeated(renewal, mailoutbox, settings):
    settings.EMAIL_BACKEND = "saleor_subscriptions.testing.mail.FailingBackend"
    subscription = renewal.subscription(plan=yearly(renewal))
    remind(utc(2029, 1, 20, 9))
    notice = CustomerNotice.objects.get(subscription=subscription)
    assert notice.status == NoticeStatus.FAILED and "mail server down" in notice.error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_notice(notice.pk) == "taken"
    remind(utc(2029, 1, 21, 9))
    assert mailoutbox == []


def test_a_receiver_gets_renewal_upcoming_and_trial_ending_once_signed(renewal, staff_api):
    receiver = WebhookReceiver()
    try:
        _app, crm = create_app(staff_api, "CRM")
        secret = create_webhook(crm, receiver.url, [
            "SUBSCRIPTION_RENEWAL_UPCOMING", "SUBSCRIPTION_TRIAL_ENDING"])["secret"]
        renewal.subscription(plan=yearly(renewal))
        renewal.subscription(plan=renewal.plan(trial_days=365), start=utc(2028, 1, 25, 10),
                             trial_end=utc(2029, 1, 22, 10))
        for _ in range(2):
            remind(utc(2029, 1, 20, 9))
            webhook_outbox.sweep()
        assert receiver.all_signed_with(secret)
        payloads = {request.payload["type"]: request.payload for request in receiver.requests}
        assert len(receiver.requests) == 2
        upcoming = payloads["subscription_renewal_upcoming"]["data"]
        assert upcoming["next_billing_at"] == "2029-01-31T10:00:00+00:00"
        assert upcoming["days"] == 14 and upcoming["cycle_index"] == 1
        assert upcoming["amount"] == {"amount": "200.000", "currency": "USD"}
        ending = payloads["subscription_trial_ending"]["data"]
        assert ending["trial_end"] == "2029-01-22T10:00:00+00:00" and ending["days"] == 3
    finally:
        receiver.close()
