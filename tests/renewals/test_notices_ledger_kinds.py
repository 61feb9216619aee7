"""The card updated / card removed, price change and win-back e-mails go through the notice
ledger like every other notice: one `CustomerNotice` row per subscription, subject and kind,
decided in the transaction that decides it, sent after the commit at most once, and each with
its switch in the plugin settings (recorded `off` and not sent when switched off)."""
import time

from freezegun import freeze_time
from test_renewal_authentication import run_on_commit_callbacks
from test_renewal_price_change import MIGRATE, UPDATE_PRICE, gid, price_emails
from test_stripe_disputes_cards import card_event, renewed
from test_stripe_webhooks_in import post
from test_win_back import CANCEL_NOW, CANCELLED_AT, send
from test_win_back import gid as subscription_gid

from saleor_subscriptions.models import EventType, WinBackOffer
from saleor_subscriptions.notice_models import CustomerNotice, NoticeStatus
from saleor_subscriptions.testing.renewal_factories import utc


def ledger(subscription, kind):
    return list(CustomerNotice.objects.filter(subscription=subscription, kind=kind)
                .values_list("status", flat=True))


def to_customer(renewal, mailoutbox):
    return [mail for mail in mailoutbox if mail.to == [renewal.customer.email]]


def test_card_notices_are_ledger_rows_with_their_switches(renewal, client, mailoutbox):
    subscription, _ = renewed(renewal, **{"E-mail: card updated": False})
    mailoutbox.clear()
    now = int(time.time())
    updated = card_event("evt_pm_upd", "payment_method.automatically_updated", subscription,
                         at=now)
    assert post(client, updated).json()["result"] == "recorded"
    run_on_commit_callbacks()
    assert subscription.events.filter(type=EventType.CARD_UPDATED).count() == 1
    assert to_customer(renewal, mailoutbox) == []  # switched off: not sent
    assert ledger(subscription, "card_updated") == [NoticeStatus.OFF]

    detached = card_event("evt_pm_det", "payment_method.detached", subscription, at=now + 1)
    assert post(client, detached).json()["result"] == "recorded"
    run_on_commit_callbacks()
    run_on_commit_callbacks()
    (mail,) = to_customer(renewal, mailoutbox)
    assert mail.subject == "Your subscription needs a new card" and "1881" in mail.body
    assert ledger(subscription, "card_detached") == [NoticeStatus.SENT]


def test_a_price_change_run_twice_tells_the_customer_once(renewal, mailoutbox):
    api = renewal.staff_api
    subscription = renewal.subscription()  # Jan 31, 20.00 a month
    plan_id = gid("SubscriptionPlan", subscription.plan.pk)
    with freeze_time("2028-02-20 09:00:00"):
        api.execute(UPDATE_PRICE, {"id": plan_id, "price": "25.00"})
        first = api.execute(MIGRATE, {"plan": plan_id, "days": 30})
    run_on_commit_callbacks()
    with freeze_time("2028-02-21 09:00:00"):
        second = api.execute(MIGRATE, {"plan": plan_id, "days": 30})
    run_on_commit_callbacks()

    assert first["subscriptionPlanMigrateSubscribers"]["scheduledCount"] == 1
    assert second["subscriptionPlanMigrateSubscribers"]["subscriptionErrors"] == []
    (notice,) = price_emails(mailoutbox)
    assert "20.00 USD" in notice.body and "25.00 USD" in notice.body
    assert "March 21, 2028" in notice.body and "March 31, 2028" in notice.body
    assert ledger(subscription, "price_change") == [NoticeStatus.SENT]
    subscription.refresh_from_db()
    assert subscription.scheduled_price_at == utc(2028, 3, 21, 9)  # the date the customer read


def test_a_switched_off_price_change_notice_is_recorded_and_not_sent(renewal, mailoutbox):
    renewal.configure(**{"E-mail: price change": False})
    subscription = renewal.subscription()
    plan_id = gid("SubscriptionPlan", subscription.plan.pk)
    with freeze_time("2028-02-20 09:00:00"):
        api = renewal.staff_api
        api.execute(UPDATE_PRICE, {"id": plan_id, "price": "25.00"})
        payload = api.execute(MIGRATE, {"plan": plan_id, "days": 30})
    run_on_commit_callbacks()
    assert payload["subscriptionPlanMigrateSubscribers"]["scheduledCount"] == 1
    assert price_emails(mailoutbox) == []
    assert ledger(subscription, "price_change") == [NoticeStatus.OFF]


def test_a_switched_off_win_back_offer_is_made_but_not_e_mailed(renewal, customer_api,
                                                               mailoutbox):
    renewal.configure(**{"Win-back offer after days": "7", "Win-back offer valid for days": "14",
                         "E-mail: win-back offer": False})
    subscription = renewal.subscription()
    with freeze_time(CANCELLED_AT):
        customer_api.execute(CANCEL_NOW, {"id": subscription_gid(subscription)})
    mailoutbox.clear()
    assert send("2028-02-17T13:00:00+00:00") == 1
    run_on_commit_callbacks()
    (offer,) = WinBackOffer.objects.all()
    assert not [mail for mail in mailoutbox if offer.code in mail.body]
    assert ledger(subscription, "win_back") == [NoticeStatus.OFF]


def test_a_win_back_offer_is_one_ledger_row_sent_once(renewal, customer_api, mailoutbox):
    renewal.configure(**{"Win-back offer after days": "7", "Win-back offer valid for days": "14"})
    subscription = renewal.subscription()
    with freeze_time(CANCELLED_AT):
        customer_api.execute(CANCEL_NOW, {"id": subscription_gid(subscription)})
    assert send("2028-02-17T13:00:00+00:00") == 1
    assert send("2028-02-18T13:00:00+00:00") == 0
    run_on_commit_callbacks()
    (offer,) = WinBackOffer.objects.all()
    (mail,) = [mail for mail in mailoutbox if offer.code in mail.body]
    assert mail.to == [renewal.customer.email] and "March 2, 2028" in mail.body
    assert ledger(subscription, "win_back") == [NoticeStatus.SENT]
