"""Win-back over /graphql/ with localstripe: the beat task sends one code per cancelled
subscription once its day has come (e-mail and webhook), and the former subscriber redeems it
once: the same subscription comes back and its new period is charged at once through the renewal
path, with the saved card or a new one. Bad codes are typed errors and change nothing."""
from decimal import Decimal

import graphene
import pytest
import stripe
from django.contrib.auth.models import Permission
from freezegun import freeze_time
from saleor.app.models import App
from test_renewal_authentication import run_on_commit_callbacks

from saleor_subscriptions.models import (
    Subscription,
    SubscriptionWebhook,
    WebhookDelivery,
    WinBackOffer,
)
from saleor_subscriptions.tasks import send_win_back_offers_task
from saleor_subscriptions.testing import renewal_factories as rf

ERRORS = "subscriptionErrors { field message code }"
CANCEL_NOW = """mutation($id: ID!) { subscriptionCancel(id: $id, immediately: true) {
  subscription { status } %s } }""" % ERRORS
REDEEM = """
mutation($code: String!, $plan: ID, $card: String) {
  subscriptionWinBackRedeem(code: $code, planId: $plan, paymentMethodId: $card) {
    subscription { status nextBillingAt plan { name } events { type } }
    %s } }""" % ERRORS
CANCELLED_AT = "2028-02-10T12:00:00+00:00"
STRIPE_TEST_KEY = "sk_test_subscriptions"  # the key the renewal fixture configures


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def codes(payload):
    return [(error["field"], error["code"]) for error in payload["subscriptionErrors"]]


def redeem(api, code, plan=None, card=None):
    return api.execute(REDEEM, {"code": code, "plan": plan, "card": card})[
        "subscriptionWinBackRedeem"]


def send(now):
    return send_win_back_offers_task(now=now)["sent"]


def snapshot(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return ({field.name: getattr(row, field.attname) for field in Subscription._meta.fields
             if field.name != "updated_at"}, row.events.count(),
            list(WinBackOffer.objects.values_list("pk", "redeemed_at")))


@pytest.fixture
def cancelled(renewal, customer_api):
    """A monthly subscription (20.00, from Jan 31 2028) cancelled on Feb 10; win-back after 7
    days, valid for 14."""
    renewal.configure(**{"Win-back offer after days": "7", "Win-back offer valid for days": "14"})
    subscription = renewal.subscription()
    with freeze_time(CANCELLED_AT):
        result = customer_api.execute(CANCEL_NOW, {"id": gid(subscription)})["subscriptionCancel"]
    assert result["subscription"]["status"] == "CANCELLED"
    return subscription


def test_the_code_is_sent_once_and_brings_the_subscription_back_on_the_saved_card(
        renewal, cancelled, customer_api, mailoutbox):
    app = App.objects.create(name="CRM", is_active=True)
    app.permissions.add(Permission.objects.get(content_type__app_label="order",
                                               codename="manage_orders"))
    SubscriptionWebhook.objects.create(app=app, target_url="https://crm.example.com/hook",
                                       secret="s" * 32, event_types=["subscription_win_back_offered"])
    assert send("2028-02-17T11:00:00+00:00") == 0  # 7 days are not over yet
    assert send("2028-02-17T13:00:00+00:00") == 1
    assert send("2028-02-18T13:00:00+00:00") == 0  # exactly once
    (offer,) = WinBackOffer.objects.all()
    assert offer.expires_at.isoformat() == "2028-03-02T13:00:00+00:00"
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event_type == "subscription_win_back_offered"
    assert offer.code in delivery.body
    WebhookDelivery.objects.all().delete()  # not sent anywhere from this test
    run_on_commit_callbacks()
    (mail,) = [m for m in mailoutbox if offer.code in m.body]
    assert mail.to == [renewal.customer.email] and "March 2, 2028" in mail.body
    before = renewal.intents(cancelled.customer_reference)

    with freeze_time("2028-02-20T12:00:00+00:00"):
        result = redeem(customer_api, offer.code)

    assert result["subscriptionErrors"] == []
    back = result["subscription"]
    assert back["status"] == "ACTIVE"
    assert back["nextBillingAt"].startswith("2028-03-20T12:00")  # a new period from now
    assert [e["type"] for e in back["events"]][-4:] == [
        "REACTIVATED", "WIN_BACK_REDEEMED", "RENEWAL_ORDER_CREATED", "RENEWED"]
    intents = renewal.intents(cancelled.customer_reference)
    (charged,) = [intent for intent in intents if intent not in before]
    assert charged["amount"] == 2500 and charged["status"] == "succeeded"  # 20.00 + 5.00
    cycle = Subscription.objects.get(pk=cancelled.pk).cycles.get(cycle_index=1)
    assert cycle.status == "paid" and cycle.order.total_gross_amount == Decimal("25.00")

    before = snapshot(cancelled)
    with freeze_time("2028-02-21T12:00:00+00:00"):
        again = redeem(customer_api, offer.code)
    assert codes(again) == [("code", "INVALID")] and "already been used" in (
        again["subscriptionErrors"][0]["message"])
    assert snapshot(cancelled) == before


def test_bad_codes_are_refused_and_change_nothing(renewal, cancelled, customer_api,
                                                   other_customer_api):
    send("2028-02-17T13:00:00+00:00")
    offer = WinBackOffer.objects.get()
    tea = rf.make_plan(rf.variant_from_global_id(renewal.store.variants["TEA-100G"]), name="Tea")
    before, intents = snapshot(cancelled), renewal.intents(cancelled.customer_reference)
    with freeze_time("2028-02-20T12:00:00+00:00"):
        assert codes(redeem(other_customer_api, offer.code)) == [("code", "NOT_FOUND")]
        assert codes(redeem(customer_api, "no-such-code")) == [("code", "NOT_FOUND")]
        assert codes(redeem(customer_api, "x" * 5000)) == [("code", "NOT_FOUND")]
        other_family = graphene.Node.to_global_id("SubscriptionPlan", tea.pk)
        assert codes(redeem(customer_api, offer.code, plan=other_family)) == [
            ("planId", "OTHER_FAMILY")]
        assert codes(redeem(customer_api, offer.code, card="not-a-card")) == [
            ("paymentMethodId", "INVALID")]
    with freeze_time("2028-03-03T12:00:00+00:00"):
        expired = redeem(customer_api, offer.code)
        assert codes(expired) == [("code", "INVALID")]
        assert "expired" in expired["subscriptionErrors"][0]["message"]
    anonymous = renewal.staff_api.__class__().raw(REDEEM, {"code": offer.code})
    assert anonymous["errors"][0]["message"].startswith("You do not have permission")
    assert snapshot(cancelled) == before
    assert renewal.intents(cancelled.customer_reference) == intents


def test_without_the_old_card_a_new_one_is_needed_and_charged(renewal, cancelled, customer_api):
    send("2028-02-17T13:00:00+00:00")
    offer = WinBackOffer.objects.get()
    Subscription.objects.filter(pk=cancelled.pk).update(payment_method_reference="")
    before = snapshot(cancelled)
    with freeze_time("2028-02-20T12:00:00+00:00"):
        assert codes(redeem(customer_api, offer.code)) == [
            ("paymentMethodId", "PAYMENT_METHOD_REQUIRED")]
        assert snapshot(cancelled) == before
        new_card = stripe.PaymentMethod.create(
            type="card", card={"number": "5555555555554444", "exp_month": 12, "exp_year": 2034,
                               "cvc": "123"},
            **rf.stripe_options(renewal.localstripe.url, STRIPE_TEST_KEY))["id"]
        result = redeem(customer_api, offer.code, card=new_card)

    assert result["subscriptionErrors"] == []
    assert result["subscription"]["status"] == "ACTIVE"
    row = Subscription.objects.get(pk=cancelled.pk)
    assert row.payment_method_reference == new_card and row.card_last4 == "4444"
    charged = [intent for intent in renewal.intents(cancelled.customer_reference)
               if intent["payment_method"] == new_card]
    assert [(intent["amount"], intent["status"]) for intent in charged] == [(2500, "succeeded")]


def test_nothing_is_sent_while_win_back_is_off(renewal, customer_api):
    renewal.configure()
    subscription = renewal.subscription()
    with freeze_time(CANCELLED_AT):
        customer_api.execute(CANCEL_NOW, {"id": gid(subscription)})
    assert send("2028-02-20T13:00:00+00:00") == 0
    assert WinBackOffer.objects.count() == 0


def test_the_offered_discount_prices_the_comeback_charge_and_the_next_renewal(
        renewal, customer_api):
    """50 % off 2 renewals: the charge at redemption and the next renewal cost 10.00 + 5.00
    shipping; the one after costs the full 20.00 + 5.00."""
    renewal.configure(**{"Win-back offer after days": "7", "Win-back discount percent": "50",
                         "Win-back discounted renewals": "2"})
    subscription = renewal.subscription()
    with freeze_time(CANCELLED_AT):
        customer_api.execute(CANCEL_NOW, {"id": gid(subscription)})
    send("2028-02-17T13:00:00+00:00")
    offer = WinBackOffer.objects.get()
    assert (offer.percent, offer.renewals) == (Decimal("50"), 2)
    with freeze_time("2028-02-20T12:00:00+00:00"):
        assert redeem(customer_api, offer.code)["subscriptionErrors"] == []
    assert renewal.run(rf.utc(2028, 3, 20, 12)) == {"renewed": 1}
    assert renewal.run(rf.utc(2028, 4, 20, 12)) == {"renewed": 1}

    intents = renewal.intents(subscription.customer_reference)
    assert sorted(intent["amount"] for intent in intents) == [1500, 1500, 2500]
    totals = [cycle.order.total_gross_amount for cycle in Subscription.objects.get(
        pk=subscription.pk).cycles.filter(cycle_index__gte=1).order_by("cycle_index")]
    assert totals == [Decimal("15.00"), Decimal("15.00"), Decimal("25.00")]
