"""Manage links: a guest (no account) manages one subscription from the link in an e-mail —
skip, pause, cancel, a new card, a 3-D Secure payment — through the customers' mutations with
the link's token instead of a sign-in; a token acts on its own subscription only."""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import graphene
import pytest
import stripe
from freezegun import freeze_time
from test_renewal_authentication import run_on_commit_callbacks

from saleor_subscriptions.models import AttemptStatus, PaymentAttempt, Subscription
from saleor_subscriptions.services import manage_links
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.client import GraphQLError
from saleor_subscriptions.testing.renewal_factories import utc

PAGE = "https://shop.example.com/subscription"
DUE = utc(2028, 2, 29, 10)
BY_TOKEN = """
query($token: String!) {
  subscriptionByManageToken(token: $token) {
    subscription { id status email cardLast4
                   pendingPayment { clientSecret paymentMethodId status } }
    subscriptionErrors { field code message }
  }
}"""
ACT = """
mutation($id: ID!, $token: String) {
  %s(id: $id, manageToken: $token%s) {
    subscription { status cancelAtPeriodEnd pausedAt cardLast4 events { type actorType } }
    subscriptionErrors { field code message }
  }
}"""


def act(api, mutation, subscription, token, extra=""):
    return api.execute(ACT % (mutation, extra), {"id": gid(subscription), "token": token})[
        mutation]


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def guest_subscription(renewal, number=rf.GOOD_CARD):
    renewal.configure(**{"Payment retry schedule": "1,3,7", "Manage link page": PAGE})
    subscription = rf.make_subscription(renewal.plan(), None, renewal.card(number),
                                        start=utc(2028, 1, 31, 10),
                                        shipping_method=renewal.shipping_method)
    Subscription.objects.filter(pk=subscription.pk).update(is_guest=True)
    subscription.refresh_from_db()
    return subscription


def token_for(subscription, now=None):
    return manage_links.make_token(subscription, now or datetime.now(timezone.utc))


def snapshot(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return ({field.name: getattr(row, field.attname) for field in Subscription._meta.fields
             if field.name != "updated_at"}, row.events.count())


def test_a_guest_skips_pauses_resumes_and_cancels_with_the_link(renewal, api):
    subscription = guest_subscription(renewal)
    token = token_for(subscription)
    shown = api.execute(BY_TOKEN, {"token": token})["subscriptionByManageToken"]
    assert shown["subscriptionErrors"] == []
    assert shown["subscription"]["id"] == gid(subscription)
    assert shown["subscription"]["email"] == "guest@example.com"

    skipped = act(api, "subscriptionSkipNextRenewal", subscription, token)
    assert skipped["subscriptionErrors"] == []
    paused = act(api, "subscriptionPause", subscription, token)
    assert paused["subscription"]["status"] == "PAUSED"
    resumed = act(api, "subscriptionResume", subscription, token)
    assert resumed["subscription"]["status"] == "ACTIVE"
    cancelled = act(api, "subscriptionCancel", subscription, token)
    assert cancelled["subscriptionErrors"] == []
    assert cancelled["subscription"]["cancelAtPeriodEnd"] is True
    events = cancelled["subscription"]["events"]
    assert [event["type"] for event in events][-4:] == [
        "RENEWAL_SKIPPED", "PAUSED", "RESUMED", "CANCELLATION_SCHEDULED"]
    assert {event["actorType"] for event in events[-4:]} == {"CUSTOMER"}
    # Without the token a visitor may do nothing.
    with pytest.raises(GraphQLError, match="permission"):
        api.execute(ACT % ("subscriptionCancelUndo", ""), {"id": gid(subscription)})


def test_a_token_never_acts_on_another_subscription(renewal, api, customer):
    mine = guest_subscription(renewal)
    other = rf.make_subscription(renewal.plan(), customer, renewal.card(),
                                 start=utc(2028, 1, 31, 10))
    before = snapshot(other)
    answer = act(api, "subscriptionCancel", other, token_for(mine), ", immediately: true")
    assert [(e["field"], e["code"]) for e in answer["subscriptionErrors"]] == [("id", "NOT_FOUND")]
    assert answer["subscription"] is None
    assert snapshot(other) == before


def test_forged_expired_and_revoked_tokens_are_refused_and_change_nothing(renewal, api,
                                                                          staff_api):
    subscription = guest_subscription(renewal)
    before = snapshot(subscription)
    token = token_for(subscription)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_key = manage_links.signing.dumps({"s": subscription.pk}, key="not-the-secret",
                                           salt=manage_links.SALT)
    for bad in (forged, other_key, "", "garbage", "x" * 5000):
        answer = act(api, "subscriptionPause", subscription, bad)
        assert [(e["field"], e["code"]) for e in answer["subscriptionErrors"]] == [
            ("manageToken", "INVALID")], bad
        shown = api.execute(BY_TOKEN, {"token": bad})["subscriptionByManageToken"]
        assert shown["subscription"] is None
        assert [e["code"] for e in shown["subscriptionErrors"]] == ["INVALID"]

    with freeze_time(datetime.now(timezone.utc) + manage_links.LIFETIME + timedelta(minutes=1)):
        answer = act(api, "subscriptionCancel", subscription, token)
        assert [(e["field"], e["code"]) for e in answer["subscriptionErrors"]] == [
            ("manageToken", "LINK_EXPIRED")]
    assert snapshot(subscription) == before

    # The store (or the customer, with the link) revokes: every link sent so far stops working.
    revoked = staff_api.execute(
        "mutation($id: ID!) { subscriptionManageLinksRevoke(id: $id) { "
        "subscriptionErrors { code } } }", {"id": gid(subscription)})
    assert revoked["subscriptionManageLinksRevoke"]["subscriptionErrors"] == []
    answer = act(api, "subscriptionCancel", subscription, token)
    assert [e["code"] for e in answer["subscriptionErrors"]] == ["INVALID"]
    subscription.refresh_from_db()
    assert act(api, "subscriptionPause", subscription, token_for(subscription))[
        "subscriptionErrors"] == []


def test_a_guest_confirms_a_3ds_renewal_and_changes_the_card_with_the_link(renewal, api):
    subscription = guest_subscription(renewal, rf.AUTHENTICATION_CARD)
    assert renewal.run(DUE) == {"failed": 1}
    token = token_for(subscription)
    pending = api.execute(BY_TOKEN, {"token": token})["subscriptionByManageToken"][
        "subscription"]["pendingPayment"]
    assert pending["status"] == "ACTION_REQUIRED" and pending["clientSecret"]
    rf.complete_authentication(renewal.localstripe.url, pending["clientSecret"])
    confirmed = act(api, "subscriptionPaymentConfirm", subscription, token)
    assert confirmed["subscriptionErrors"] == []
    assert confirmed["subscription"]["status"] == "ACTIVE"
    assert PaymentAttempt.objects.get(subscription=subscription).status == (
        AttemptStatus.SUCCEEDED)

    method = stripe.PaymentMethod.create(
        type="card", card={"number": rf.GOOD_CARD, "exp_month": 11, "exp_year": 2035,
                           "cvc": "123"},
        **rf.stripe_options(renewal.localstripe.url, "sk_test_subscriptions"))["id"]
    changed = api.execute(
        "mutation($id: ID!, $token: String, $pm: String!) { subscriptionPaymentMethodUpdate("
        "id: $id, manageToken: $token, paymentMethodId: $pm) { subscription { cardLast4 } "
        "subscriptionErrors { code } } }",
        {"id": gid(subscription), "token": token, "pm": method})["subscriptionPaymentMethodUpdate"]
    assert changed["subscriptionErrors"] == []
    assert Subscription.objects.get(pk=subscription.pk).payment_method_reference == method


def test_customer_emails_carry_a_working_manage_link(renewal, api, mailoutbox):
    subscription = guest_subscription(renewal, rf.DECLINED_CARD)
    assert renewal.run(DUE) == {"failed": 1}
    run_on_commit_callbacks()
    (message,) = [mail for mail in mailoutbox if mail.to == ["guest@example.com"]]
    (url,) = set(re.findall(re.escape(PAGE) + r"[^\s)]*", message.body))
    assert url.startswith(PAGE + "?token=")
    html = message.alternatives[0][0] if message.alternatives else ""
    assert url.replace("&", "&amp;") in html or url in html
    token = parse_qs(urlsplit(url).query)["token"][0]
    shown = api.execute(BY_TOKEN, {"token": token})["subscriptionByManageToken"]
    assert shown["subscription"]["id"] == gid(subscription)
    assert shown["subscription"]["status"] == "PAST_DUE"


OFFERS_BY_LINK = """
query($id: ID!, $token: String) {
  subscriptionCancellationOffers(id: $id, reason: NOT_USING, manageToken: $token) {
    offers { id kind } subscriptionErrors { field code } } }"""
ACCEPT_BY_LINK = """
mutation($id: ID!, $token: String, $offer: ID!) {
  subscriptionRetentionOfferAccept(id: $id, manageToken: $token, offerId: $offer,
                                   reason: NOT_USING) {
    subscription { status events { type actorType } } subscriptionErrors { field code } } }"""


def test_a_guest_gets_and_takes_a_retention_offer_with_the_link(renewal, api):
    subscription = guest_subscription(renewal)
    other = guest_subscription(renewal)
    offer = renewal.staff_api.mutate("""
      mutation { subscriptionRetentionOfferCreate(input: {reason: NOT_USING, kind: SKIP}) {
        offer { id } subscriptionErrors { code } } }""")["offer"]["id"]
    token = token_for(subscription)

    shown = api.execute(OFFERS_BY_LINK, {"id": gid(subscription), "token": token})[
        "subscriptionCancellationOffers"]
    assert shown == {"offers": [{"id": offer, "kind": "SKIP"}], "subscriptionErrors": []}
    unsigned = api.execute(OFFERS_BY_LINK, {"id": gid(subscription), "token": None})[
        "subscriptionCancellationOffers"]
    assert unsigned["offers"] == [] and unsigned["subscriptionErrors"][0]["code"] == "NOT_FOUND"
    before = snapshot(other)
    foreign = api.execute(ACCEPT_BY_LINK, {"id": gid(other), "token": token, "offer": offer})[
        "subscriptionRetentionOfferAccept"]
    assert foreign["subscriptionErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert snapshot(other) == before

    taken = api.execute(ACCEPT_BY_LINK, {"id": gid(subscription), "token": token,
                                         "offer": offer})["subscriptionRetentionOfferAccept"]

    assert taken["subscriptionErrors"] == []
    assert taken["subscription"]["status"] == "ACTIVE"
    events = [event["type"] for event in taken["subscription"]["events"]]
    assert "RETENTION_OFFER_ACCEPTED" in events and "CANCELLED" not in events


def test_the_renewal_order_confirmation_carries_the_link_below_saleors_text(renewal, api,
                                                                           mailoutbox):
    subscription = guest_subscription(renewal)
    assert renewal.run(DUE) == {"renewed": 1}
    run_on_commit_callbacks()

    order_id = subscription.cycles.get(cycle_index=1).order_id
    (message,) = [mail for mail in mailoutbox if mail.to == ["guest@example.com"]
                  and mail.subject == "Order %s received" % order_id]
    assert message.body.startswith("Thank you for your order %s." % order_id)
    (url,) = set(re.findall(re.escape(PAGE) + r"[^\s)<\"]*", message.body))
    token = parse_qs(urlsplit(url).query)["token"][0]
    shown = api.execute(BY_TOKEN, {"token": token})["subscriptionByManageToken"]
    assert shown["subscription"]["id"] == gid(subscription)
    assert url.replace("&", "&amp;") in message.alternatives[0][0]
