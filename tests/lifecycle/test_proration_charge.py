"""The prorated upgrade is a purpose of the one charging path: a deterministic key stored under
the row lock, an unknown outcome left STARTED (never assumed failed) and settled by the renewal
run's sweep, which also finds attempts a crash left behind."""
from decimal import Decimal

import graphene
import pytest
from freezegun import freeze_time
from saleor.payment.models import Payment

from saleor_subscriptions.gateway import registry
from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeResult
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, PaymentAttempt, Subscription
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

KEY = "sk_test_subscriptions"
MID_PERIOD = "2030-01-16 22:00:00"
LATER = rf.utc(2030, 1, 16, 22, 10)  # the renewal run after the unknown-outcome delay
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) {
    subscription { plan { name } }
    subscriptionErrors { field code message }
  }
}"""


class WorkerKilled(Exception):
    """The process died (the request's answer is a GraphQL error; the database keeps what was
    committed)."""


class FlakyStripe(StripeGateway):
    """Real charges at localstripe; the network fails around them as told (the outside world)."""

    lose_answer = False  # Stripe charges, the answer never arrives
    lookups_fail = False  # Stripe cannot be asked afterwards either
    lookups_refused = False  # our key is refused when we ask afterwards
    crash_before = False  # the process dies before Stripe is called
    crash_after = False  # the process dies after Stripe charged

    def charge(self, request):
        if self.crash_before:
            raise WorkerKilled("before the charge")
        result = super().charge(request)
        if self.crash_after:
            raise WorkerKilled("after the charge")
        if self.lose_answer:
            return ChargeResult(ChargeOutcome.UNKNOWN, error_code="timeout",
                                error_message="Read timed out.")
        return result

    def find_charge(self, request):
        if self.lookups_refused:
            return ChargeResult(ChargeOutcome.AUTH_FAILED, error_code="gateway_auth_failed",
                                error_message="Invalid API Key provided.")
        if self.lookups_fail:
            return ChargeResult(ChargeOutcome.UNKNOWN, error_code="timeout",
                                error_message="Read timed out.")
        return super().find_charge(request)


@pytest.fixture
def tiers(store):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    return {name: create_plan(variant, name=name, family="club", tier_rank=rank,
                              price_amount=Decimal(price))
            for name, rank, price in (("basic", 1, "15.00"), ("medium", 2, "25.00"))}


@pytest.fixture
def flaky(plugin_on, monkeypatch):
    gateway = FlakyStripe(KEY, plugin_on.url)
    monkeypatch.setattr(registry, "get_gateway", lambda settings=None: gateway)
    from saleor_subscriptions.services.lifecycle import proration_charge

    monkeypatch.setattr(proration_charge, "get_gateway", lambda settings=None: gateway,
                        raising=False)
    return gateway


@pytest.fixture
def basic(store, customer, tiers, plugin_on):
    card = rf.create_card(plugin_on.url, KEY, customer.email)
    return rf.make_subscription(
        tiers["basic"], customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))


def upgrade(api, subscription, plan):
    variables = {"id": graphene.Node.to_global_id("CustomerSubscription", subscription.pk),
                 "plan": graphene.Node.to_global_id("SubscriptionPlan", plan.pk)}
    with freeze_time(MID_PERIOD):
        body = api.raw(CHANGE, variables)
    return body


def sweep(now=LATER):
    renewals.renew_due_subscriptions(now)


def captured(subscription):
    return list(Payment.objects.filter(
        order__metadata__subscription_adjustment=str(subscription.token),
        charge_status="fully-charged"))


def intents(plugin_on, subscription):
    return [intent for intent in rf.payment_intents(plugin_on.url, KEY,
                                                    subscription.customer_reference)
            if intent["status"] == "succeeded"]


def test_the_key_is_deterministic_and_stored_before_the_charge(customer_api, basic, tiers,
                                                               flaky, plugin_on):
    body = upgrade(customer_api, basic, tiers["medium"])
    assert body["data"]["subscriptionChangePlan"]["subscriptionErrors"] == []
    attempt = PaymentAttempt.objects.get(subscription=basic, purpose="proration")
    row = Subscription.objects.get(pk=basic.pk)
    assert attempt.idempotency_key == "proration:%s:0:1:%d:1" % (basic.token.hex,
                                                                 tiers["medium"].pk)
    assert attempt.status == AttemptStatus.SUCCEEDED and row.plan == tiers["medium"]
    (intent,) = intents(plugin_on, basic)
    assert intent["metadata"]["idempotency_key"] == attempt.idempotency_key


def test_unknown_outcome_is_not_a_failure_and_the_sweep_applies_the_change(
        customer_api, basic, tiers, flaky, plugin_on):
    flaky.lose_answer = flaky.lookups_fail = True
    body = upgrade(customer_api, basic, tiers["medium"])
    errors = body["data"]["subscriptionChangePlan"]["subscriptionErrors"]
    assert [error["code"] for error in errors] == ["PAYMENT_PENDING"]
    attempt = PaymentAttempt.objects.get(subscription=basic, purpose="proration")
    assert attempt.status == AttemptStatus.STARTED
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]
    assert len(intents(plugin_on, basic)) == 1  # the money was taken
    flaky.lose_answer = flaky.lookups_fail = False
    sweep()
    attempt.refresh_from_db()
    row = Subscription.objects.get(pk=basic.pk)
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert row.plan == tiers["medium"] and row.unit_price_amount == Decimal("25.000")
    assert [p.captured_amount for p in captured(basic)] == [Decimal("5.00")]
    assert row.events.filter(type="plan_changed").count() == 1
    assert len(intents(plugin_on, basic)) == 1


def test_a_refused_key_at_the_lookup_is_no_answer_the_charge_is_kept(
        customer_api, basic, tiers, flaky, plugin_on):
    flaky.lose_answer = flaky.lookups_refused = True
    upgrade(customer_api, basic, tiers["medium"])
    sweep()
    attempt = PaymentAttempt.objects.get(subscription=basic, purpose="proration")
    assert attempt.status == AttemptStatus.STARTED  # not assumed failed: the money was taken
    assert len(intents(plugin_on, basic)) == 1
    flaky.lose_answer = flaky.lookups_refused = False
    sweep()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["medium"]
    assert len(captured(basic)) == len(intents(plugin_on, basic)) == 1


def test_a_crash_after_the_charge_is_reconciled_by_the_sweep(customer_api, basic, tiers, flaky,
                                                            plugin_on):
    flaky.crash_after = True
    assert upgrade(customer_api, basic, tiers["medium"])["errors"]
    flaky.crash_after = False
    assert PaymentAttempt.objects.get(subscription=basic).status == AttemptStatus.STARTED
    sweep(rf.utc(2030, 1, 16, 22, 1))  # too early: it may still be in flight
    assert PaymentAttempt.objects.get(subscription=basic).status == AttemptStatus.STARTED
    sweep()
    row = Subscription.objects.get(pk=basic.pk)
    assert PaymentAttempt.objects.get(subscription=basic).status == AttemptStatus.SUCCEEDED
    assert row.plan == tiers["medium"]
    assert len(captured(basic)) == len(intents(plugin_on, basic)) == 1


def test_a_crash_before_the_charge_drops_the_change(customer_api, basic, tiers, flaky,
                                                    plugin_on):
    flaky.crash_before = True
    assert upgrade(customer_api, basic, tiers["medium"])["errors"]
    flaky.crash_before = False
    sweep()
    attempt = PaymentAttempt.objects.get(subscription=basic)
    row = Subscription.objects.get(pk=basic.pk)
    assert attempt.status == AttemptStatus.FAILED and attempt.error_code == "not_charged"
    assert row.plan == tiers["basic"] and not captured(basic) and not intents(plugin_on, basic)
    assert row.events.filter(type="payment_failed", parameters__purpose="proration").exists()
    # The customer can try again: a new attempt with the next key.
    body = upgrade(customer_api, basic, tiers["medium"])
    assert body["data"]["subscriptionChangePlan"]["subscriptionErrors"] == []
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["medium"]
    assert len(captured(basic)) == len(intents(plugin_on, basic)) == 1


def test_a_refused_upgrade_tells_the_customer_safe_words_not_the_gateways(
        customer_api, basic, tiers, flaky, monkeypatch):
    raw = "AuthenticationError: Invalid API Key provided: sk_test_****ions"

    def refused(request):
        return ChargeResult(ChargeOutcome.INVALID, error_code="gateway_auth_failed",
                            error_message=raw)

    monkeypatch.setattr(flaky, "charge", refused)
    body = upgrade(customer_api, basic, tiers["medium"])
    errors = body["data"]["subscriptionChangePlan"]["subscriptionErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("planId", "PAYMENT_ERROR")]
    assert "sk_test" not in errors[0]["message"] and "AuthenticationError" not in errors[0]["message"]
    assert errors[0]["message"].endswith(
        "The payment did not go through. Update your card or try again.")
    attempt = PaymentAttempt.objects.get(subscription=basic, purpose="proration")
    assert attempt.error_message == raw  # the detail stays for staff
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]


def test_the_upgrade_charges_through_the_one_amount_rule(customer_api, basic, tiers, flaky,
                                                         monkeypatch):
    """tests/unit/test_charge_amounts.py pins the rule of `charging.call_for`; the prorated
    upgrade asks it, as the renewal run does, rather than a gateway call of its own."""
    from saleor_subscriptions.services import charging

    asked, call_for = [], charging.call_for

    def spy(context, started):
        asked.append(started[1].idempotency_key)
        return call_for(context, started)

    monkeypatch.setattr(charging, "call_for", spy)
    body = upgrade(customer_api, basic, tiers["medium"])
    assert body["data"]["subscriptionChangePlan"]["subscriptionErrors"] == []
    attempt = PaymentAttempt.objects.get(subscription=basic, purpose="proration")
    assert asked == [attempt.idempotency_key]
