"""A wrong or revoked Stripe key parks the renewal with a clear reason, stops the batch, alerts
staff once, and renewals resume by themselves when another key is saved."""
from dataclasses import replace

from django.db import connection
from saleor.account.models import StaffNotificationRecipient

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.models import BillingCycle, EventType, PaymentAttempt, Subscription
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
REVOKED_KEY = "rk_test_revoked"  # Stripe (and localstripe) answer 401


def run_on_commit_callbacks():
    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def wrong_key_context():
    return renewals.make_context(replace(load_settings(), stripe_secret_key=REVOKED_KEY))


def test_refused_key_parks_one_renewal_stops_the_batch_and_alerts_staff_once(
        renewal, superuser, mailoutbox):
    StaffNotificationRecipient.objects.create(user=superuser, active=True)
    first, second = renewal.subscription(), renewal.subscription()

    result = renewals.renew_due_subscriptions(DUE, context=wrong_key_context())
    run_on_commit_callbacks()
    assert result.halted == "gateway_auth_failed"
    assert result.counts == {"failed": 1}
    parked = Subscription.objects.filter(parked_at__isnull=False)
    (stopped,) = parked
    assert stopped.parked_reason == ("gateway_auth_failed: The Stripe secret key was refused: "
                                     "update it on the Plugins page")
    assert stopped.events.filter(type=EventType.PARKED).count() == 1
    (attempt,) = PaymentAttempt.objects.filter(subscription=stopped)
    assert attempt.status == "started"  # nothing charged; looked up before any new charge
    other = (first if stopped.pk == second.pk else second)
    other.refresh_from_db()
    assert other.parked_at is None and other.renewal_lease_until is None
    assert not BillingCycle.objects.filter(subscription=other, cycle_index=1).exists()
    alerts = [mail for mail in mailoutbox if "renewals are halted" in mail.subject]
    (alert,) = alerts  # (the renewal order's own confirmations went out too)
    assert alert.to == [superuser.email]
    assert "halted" in alert.subject and "Plugins page" in alert.body
    assert REVOKED_KEY not in alert.body

    # The next beat with the same key does nothing: no more requests, parks or alerts.
    later = renewals.renew_due_subscriptions(utc(2028, 2, 29, 10, 5), context=wrong_key_context())
    run_on_commit_callbacks()
    assert later.claimed == 0 and later.halted == "gateway_auth_failed"
    assert len([mail for mail in mailoutbox if "renewals are halted" in mail.subject]) == 1
    assert parked.count() == 1

    # Staff save the right key: the parked renewal is released and both renew, each once.
    assert renewal.run(utc(2028, 2, 29, 11)) == {"renewed": 2}
    for subscription in (first, second):
        subscription.refresh_from_db()
        assert subscription.parked_at is None and subscription.cycle_index == 1
        assert len(renewal.intents(subscription.customer_reference)) == 1
    assert stopped.events.filter(type=EventType.RELEASED).count() == 1


def test_releasing_a_subscription_parked_for_the_key_lets_batches_try_it_again(
        renewal, superuser, mailoutbox):
    """E.g. the restricted key's permissions were fixed in Stripe: the key stays the same."""
    StaffNotificationRecipient.objects.create(user=superuser, active=True)
    renewal.subscription()
    renewals.renew_due_subscriptions(DUE, context=wrong_key_context())
    (stopped,) = Subscription.objects.filter(parked_at__isnull=False)
    assert renewals.release_subscription(stopped.pk, utc(2028, 2, 29, 11))
    # Tried again with the same (still refused) key: parked again, and staff hear again.
    again = renewals.renew_due_subscriptions(utc(2028, 2, 29, 12), context=wrong_key_context())
    run_on_commit_callbacks()
    assert again.claimed == 1 and again.halted == "gateway_auth_failed"
    stopped.refresh_from_db()
    assert stopped.parked_at == utc(2028, 2, 29, 12)
    assert stopped.events.filter(type=EventType.PARKED).count() == 2
    assert len([mail for mail in mailoutbox if "renewals are halted" in mail.subject]) == 2
