"""Stripe webhooks in about disputes and the stored card: an event on the subscription, a staff
notice (disputes), the store's "pause when disputed" setting, the card details and a notice to
the customer (with the manage link); replays, second deliveries and older events change
nothing."""
import time

from saleor.account.models import StaffNotificationRecipient
from saleor.payment.models import Payment
from test_renewal_authentication import run_on_commit_callbacks
from test_stripe_webhooks_in import DUE, SECRET, event, post

from saleor_subscriptions.models import BillingCycle, EventType, Subscription

PAUSE_ON_DISPUTE = "Pause a subscription when its charge is disputed"
PAGE = "https://shop.example.com/subscription"


def renewed(renewal, **settings):
    renewal.configure(**dict({"Payment retry schedule": "1,3,7",
                              "Stripe webhook signing secret": SECRET,
                              "Manage link page": PAGE}, **settings))
    subscription = renewal.subscription(card=renewal.card())
    assert renewal.run(DUE) == {"renewed": 1}
    run_on_commit_callbacks()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    return subscription, Payment.objects.get(order_id=cycle.order_id)


def dispute(payment, status="needs_response", reference="dp_1"):
    return {"id": reference, "object": "dispute", "charge": "ch_unknown_to_us",
            "payment_intent": payment.token, "amount": 2500, "currency": "usd",
            "reason": "fraudulent", "status": status}


def types(subscription):
    return list(subscription.events.values_list("type", flat=True))


def test_a_dispute_is_recorded_staff_are_told_and_the_store_setting_pauses(
        renewal, client, superuser, mailoutbox):
    StaffNotificationRecipient.objects.create(user=superuser, active=True)
    subscription, payment = renewed(renewal, **{PAUSE_ON_DISPUTE: True})
    mailoutbox.clear()
    opened = event("evt_dp_open", "charge.dispute.created", dispute(payment))
    assert post(client, opened).json()["result"] == "recorded"
    run_on_commit_callbacks()
    assert post(client, opened).json()["result"] == "duplicate"
    # Another delivery of the same news under another event id: already recorded.
    assert post(client, event("evt_dp_open_2", "charge.dispute.created",
                              dispute(payment))).json()["result"] == "nothing_to_do"
    subscription.refresh_from_db()
    assert subscription.status == "paused"
    (history,) = subscription.events.filter(type=EventType.DISPUTE_OPENED)
    assert history.order_id == payment.order_id and history.parameters["dispute"] == "dp_1"
    assert history.parameters["reason"] == "fraudulent"
    (notice,) = [mail for mail in mailoutbox if "dispute was opened" in mail.subject]
    assert notice.to == [superuser.email] and "dp_1" in notice.body
    assert "paused" in notice.body

    closed = event("evt_dp_closed", "charge.dispute.closed", dispute(payment, "won"))
    assert post(client, closed).json()["result"] == "recorded"
    run_on_commit_callbacks()
    assert subscription.events.filter(type=EventType.DISPUTE_CLOSED).count() == 1
    assert any("dispute was closed" in mail.subject for mail in mailoutbox)
    subscription.refresh_from_db()
    assert subscription.status == "paused"  # staff decide when it resumes


def test_without_the_setting_a_dispute_pauses_nothing_and_a_late_opening_changes_nothing(
        renewal, client):
    subscription, payment = renewed(renewal)
    # Out of order: closed first, then the older "created".
    assert post(client, event("evt_c", "charge.dispute.closed", dispute(payment, "lost"))).json()[
        "result"] == "recorded"
    assert post(client, event("evt_o", "charge.dispute.created", dispute(payment))).json()[
        "result"] == "nothing_to_do"
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert EventType.DISPUTE_OPENED not in types(subscription)


def test_a_dispute_of_someone_elses_charge_is_ignored(renewal, client):
    subscription, payment = renewed(renewal)
    other = dict(dispute(payment), payment_intent="pi_not_ours", charge="ch_not_ours")
    assert post(client, event("evt_x", "charge.dispute.created", other)).json()[
        "result"] == "nothing_to_do"
    assert EventType.DISPUTE_OPENED not in types(subscription)


def card_event(event_id, type_, subscription, last4="1881", exp=(1, 2031), at=None):
    body = event(event_id, type_, {
        "id": subscription.payment_method_reference, "object": "payment_method",
        "customer": subscription.customer_reference,
        "card": {"brand": "visa", "last4": last4, "exp_month": exp[0], "exp_year": exp[1]}})
    body["created"] = at or int(time.time())
    return body


def test_a_card_updated_by_the_bank_is_stored_and_the_customer_told(renewal, client,
                                                                    mailoutbox):
    subscription, _ = renewed(renewal)
    mailoutbox.clear()
    now = int(time.time())
    updated = card_event("evt_pm_auto", "payment_method.automatically_updated", subscription,
                         at=now)
    assert post(client, updated).json()["result"] == "recorded"
    run_on_commit_callbacks()
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.card_last4, row.card_exp_month, row.card_exp_year) == ("1881", 1, 2031)
    (history,) = row.events.filter(type=EventType.CARD_UPDATED)
    assert (history.parameters["previous_last4"], history.parameters["last4"]) == ("4242", "1881")
    (notice,) = [mail for mail in mailoutbox if mail.to == [renewal.customer.email]]
    assert "1881" in notice.body and PAGE + "?token=" in notice.body

    # An older event, delivered late, does not bring the old card back.
    older = card_event("evt_pm_old", "payment_method.updated", subscription, last4="4242",
                       exp=(12, 2029), at=now - 60)
    assert post(client, older).json()["result"] == "nothing_to_do"
    assert Subscription.objects.get(pk=subscription.pk).card_last4 == "1881"


def test_a_detached_card_and_an_expiring_one_are_told_once(renewal, client, mailoutbox):
    subscription, _ = renewed(renewal)
    mailoutbox.clear()
    detached = card_event("evt_detach", "payment_method.detached", subscription)
    assert post(client, detached).json()["result"] == "recorded"
    assert post(client, card_event("evt_detach_2", "payment_method.detached", subscription)
                ).json()["result"] == "nothing_to_do"
    expiring = card_event("evt_exp", "customer.source.expiring", subscription, last4="4242",
                          exp=(12, 2028))
    assert post(client, expiring).json()["result"] == "recorded"
    assert post(client, card_event("evt_exp_2", "customer.source.expiring", subscription,
                                   last4="4242", exp=(12, 2028))).json()[
        "result"] == "nothing_to_do"
    run_on_commit_callbacks()
    assert types(subscription).count(EventType.CARD_DETACHED) == 1
    assert types(subscription).count(EventType.CARD_EXPIRING) == 1
    subjects = sorted(mail.subject for mail in mailoutbox
                      if mail.to == [renewal.customer.email])
    assert subjects == ["The card for your Coffee beans subscription expires soon",
                        "Your subscription needs a new card"]
