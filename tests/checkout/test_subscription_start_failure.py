"""Starting the subscription fails after the checkout charge went through: the charge is
refunded through the gateway, the order says why and is cancelled, staff are told."""
import graphene
import stripe
from django.db import IntegrityError, connection
from saleor.account.models import StaffNotificationRecipient
from saleor.order.models import Order

from saleor_subscriptions.models import BillingCycle, Subscription
from saleor_subscriptions.services import subscribe
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"


def run_on_commit_callbacks():
    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def test_subscription_creation_failure_after_charge_refunds_it(
        api, store, monthly, new_card, plugin_on, superuser, monkeypatch, mailoutbox):
    StaffNotificationRecipient.objects.create(user=superuser, active=True)

    def broken_start(*args, **kwargs):  # a database failure while writing the subscription
        raise IntegrityError("simulated failure while starting the subscription")

    monkeypatch.setattr(subscribe, "_start", broken_start)
    plan = graphene.Node.to_global_id("SubscriptionPlan", monthly.pk)
    result = storefront.buy(api, store.variants["COFFEE-250G"], plan, new_card())
    run_on_commit_callbacks()

    assert result["checkoutErrors"] == []
    order = Order.objects.get(pk=int(result["order"]["number"]))
    payment = order.payments.get()
    assert payment.charge_status == "fully-refunded"
    assert order.status == "canceled"
    # The order claims no subscription.
    assert not Subscription.objects.exists()
    assert not BillingCycle.objects.filter(order=order).exists()
    # The money went back at Stripe, once, in full.
    options = rf.stripe_options(plugin_on.url, KEY)
    intent_id = payment.transactions.get(kind="capture").token
    refunds = [refund for refund in stripe.Refund.list(limit=100, **options).auto_paging_iter()
               if refund["payment_intent"] == intent_id]
    assert [refund["amount"] for refund in refunds] == [2300]  # 18.00 + 5.00 shipping
    # The order's history says why; staff got an e-mail.
    notes = [event.parameters["message"] for event in order.events.filter(type="note_added")]
    assert any("refunded" in note and "subscription" in note for note in notes)
    assert order.events.filter(type="payment_refunded").exists()
    alerts = [mail for mail in mailoutbox if mail.to == [superuser.email]
              and "refunded" in mail.subject]
    assert len(alerts) == 1 and str(order.pk) in alerts[0].subject
