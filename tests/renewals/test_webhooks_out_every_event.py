"""Every lifecycle event reaches a real receiver: one App subscribed to all of them, a store driven
through checkout, customer and staff actions, renewals, reminders and a retention offer; each
delivery signed, versioned, with its own event id and the documented payload."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import graphene
import stripe

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.services import reminders, webhook_outbox, win_back
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.users import login
from saleor_subscriptions.testing.webhook_api import create_app, create_webhook
from saleor_subscriptions.testing.webhook_receiver import WebhookReceiver
from saleor_subscriptions.webhooks.events import all_event_types

KEY = "sk_test_subscriptions"
CANCEL = """mutation($id: ID!, $now: Boolean) { subscriptionCancel(id: $id, immediately: $now,
  reason: TOO_EXPENSIVE) { subscriptionErrors { field code message } } }"""
SIMPLE = """mutation($id: ID!) { %s(id: $id) { subscriptionErrors { field code message } } }"""
CHANGE_PLAN = """mutation($id: ID!, $plan: ID!) { subscriptionChangePlan(id: $id, planId: $plan,
  quantity: 1) { subscriptionErrors { field code message } } }"""
NEW_CARD = """mutation($id: ID!, $pm: String!) { subscriptionPaymentMethodUpdate(id: $id,
  paymentMethodId: $pm) { subscriptionErrors { field code message } } }"""
OFFER_CREATE = """mutation($input: SubscriptionRetentionOfferInput!) {
  subscriptionRetentionOfferCreate(input: $input) { offer { id } subscriptionErrors { code } } }"""
OFFERS = """query($id: ID!) { subscriptionCancellationOffers(id: $id, reason: NOT_USING) {
  offers { id } subscriptionErrors { code } } }"""
OFFER_ACCEPT = """mutation($id: ID!, $offer: ID!) { subscriptionRetentionOfferAccept(id: $id,
  offerId: $offer, reason: NOT_USING) { subscriptionErrors { field code message } } }"""
PAYLOAD_KEYS = {"version", "id", "type", "occurred_at", "subscription", "data"}


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def ok(client, query, variables):
    (payload,) = client.execute(query, variables).values()
    assert payload["subscriptionErrors"] == [], payload


def payment_method(renewal, number=rf.GOOD_CARD):
    return stripe.PaymentMethod.create(
        type="card", card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        **rf.stripe_options(renewal.localstripe.url, KEY))["id"]


def subscribe_app(staff_api, receiver):
    """An App subscribed to every lifecycle event; its webhook's secret."""
    _app, crm = create_app(staff_api, "CRM")
    events = sorted(value.upper() for value in all_event_types())
    return create_webhook(crm, receiver.url, events)["secret"]


def test_every_lifecycle_event_reaches_the_receiver_signed_with_its_payload(
        renewal, staff_api, customer):
    receiver = WebhookReceiver()
    try:
        secret = subscribe_app(staff_api, receiver)
        customer_api = ApiClient().as_user(login(ApiClient(), customer.email))
        now = datetime.now(timezone.utc).replace(microsecond=0)
        start = now - timedelta(days=20)
        monthly = renewal.plan(name="Monthly", price=Decimal("20.00"))
        cheaper = renewal.plan(name="Monthly small", price=Decimal("15.00"))
        for plan in (monthly, cheaper):
            plan.family = "coffee"
            plan.save()
        subscriptions = {}

        # created: a real checkout
        bought = storefront.buy(customer_api, renewal.store.variants["COFFEE-250G"],
                                graphene.Node.to_global_id("SubscriptionPlan", monthly.pk),
                                payment_method(renewal), email=customer.email)
        assert bought["checkoutErrors"] == []

        # cancellation scheduled, then cancelled at the period's end by the renewal run
        subscriptions["ending"] = renewal.subscription(plan=monthly, start=start)
        ok(customer_api, CANCEL, {"id": gid(subscriptions["ending"]), "now": False})
        # paused, resumed, a plan change for the next renewal, then renewed and plan changed
        subscriptions["changing"] = renewal.subscription(plan=monthly, start=start)
        ok(customer_api, SIMPLE % "subscriptionPause", {"id": gid(subscriptions["changing"])})
        ok(customer_api, SIMPLE % "subscriptionResume", {"id": gid(subscriptions["changing"])})
        ok(customer_api, CHANGE_PLAN, {
            "id": gid(subscriptions["changing"]),
            "plan": graphene.Node.to_global_id("SubscriptionPlan", cheaper.pk)})
        # payment failed and past due, then recovered with a new card
        subscriptions["declining"] = renewal.subscription(
            plan=monthly, start=start, card=renewal.card(rf.DECLINED_CARD))
        # the bank asks for 3-D Secure
        subscriptions["authenticating"] = renewal.subscription(
            plan=monthly, start=start, card=renewal.card(rf.AUTHENTICATION_CARD))
        # a fixed term of one paid cycle expires
        subscriptions["expiring"] = renewal.subscription(
            plan=renewal.plan(name="One month", billing_cycles=1), start=start)
        # cancelled now, then reactivated (a new charged period)
        subscriptions["returning"] = renewal.subscription(plan=monthly, start=start)
        ok(customer_api, CANCEL, {"id": gid(subscriptions["returning"]), "now": True})
        ok(customer_api, SIMPLE % "subscriptionReactivate", {"id": gid(subscriptions["returning"])})
        # reminders: a renewal coming up and a trial ending
        noticed = renewal.plan(name="Yearly", interval_unit="year", price=Decimal("200.00"))
        noticed.renewal_notice_days = 30
        noticed.save()
        subscriptions["reminded"] = renewal.subscription(
            plan=noticed, start=now - timedelta(days=350))
        subscriptions["trialing"] = renewal.subscription(
            plan=renewal.plan(name="Trial", trial_days=14), start=now - timedelta(days=12),
            trial_end=now + timedelta(days=2))
        reminders.send_due_reminders(now, load_settings())
        # a retention offer taken instead of cancelling
        subscriptions["kept"] = renewal.subscription(plan=monthly, start=start)
        offer = staff_api.mutate(OFFER_CREATE, {"input": {"reason": "NOT_USING", "kind": "SKIP"}})
        (shown,) = customer_api.execute(OFFERS, {"id": gid(subscriptions["kept"])})[
            "subscriptionCancellationOffers"]["offers"]
        assert shown["id"] == offer["offer"]["id"]
        ok(customer_api, OFFER_ACCEPT, {"id": gid(subscriptions["kept"]), "offer": shown["id"]})
        # a win-back code a day after a cancellation
        renewal.configure(**{"Win-back offer after days": "1"})
        subscriptions["won_back"] = renewal.subscription(plan=monthly, start=start)
        ok(customer_api, CANCEL, {"id": gid(subscriptions["won_back"]), "now": True})
        assert win_back.send_due(now + timedelta(days=2), load_settings()) == 1

        due = start + timedelta(days=40)
        renewal.run(due)
        # a new card retries the failed renewal at once
        ok(customer_api, NEW_CARD, {"id": gid(subscriptions["declining"]),
                                    "pm": payment_method(renewal)})
        webhook_outbox.sweep()

        received = [request.payload for request in receiver.requests]
        assert {payload["type"] for payload in received} == set(all_event_types())
        assert receiver.all_signed_with(secret)
        assert len({payload["id"] for payload in received}) == len(received)
        assert [request.event_id for request in receiver.requests] == [
            payload["id"] for payload in received]
        for payload in received:
            assert set(payload) == PAYLOAD_KEYS and payload["version"] == 1
            kind, _pk = graphene.Node.from_global_id(payload["subscription"]["id"])
            assert kind == "CustomerSubscription"
            assert datetime.fromisoformat(payload["occurred_at"]).tzinfo is not None
        by_type = {}
        for payload in received:
            by_type.setdefault(payload["type"], []).append(payload)
        expected_subscription = {
            "subscription_cancellation_scheduled": "ending",
            "subscription_plan_changed": "changing",
            "subscription_paused": "changing",
            "subscription_resumed": "changing",
            "subscription_payment_failed": "declining",
            "subscription_past_due": "declining",
            "subscription_recovered": "declining",
            "subscription_payment_action_required": "authenticating",
            "subscription_expired": "expiring",
            "subscription_reactivated": "returning",
            "subscription_renewal_upcoming": "reminded",
            "subscription_trial_ending": "trialing",
            "subscription_offer_accepted": "kept",
            "subscription_win_back_offered": "won_back",
        }
        for event_type, name in expected_subscription.items():
            assert gid(subscriptions[name]) in [
                payload["subscription"]["id"] for payload in by_type[event_type]], event_type
        def of(event_type, name):
            (payload,) = [payload for payload in by_type[event_type]
                          if payload["subscription"]["id"] == gid(subscriptions[name])]
            return payload

        assert of("subscription_past_due", "declining")["subscription"]["status"] == "past_due"
        assert of("subscription_recovered", "declining")["subscription"]["status"] == "active"
        assert of("subscription_expired", "expiring")["subscription"]["status"] == "expired"
        assert of("subscription_offer_accepted", "kept")["data"]["reason"] == "not_using"
        assert of("subscription_win_back_offered", "won_back")["data"]["win_back_code"]
    finally:
        receiver.close()
