"""A prorated upgrade whose charge asks for 3-D Secure: nobody is asked to complete it, so its
intent is closed through the one rule (cancel it, honour the answer) — closed: the upgrade is
refused; completed first: it is the upgrade's payment; not closed: the upgrade is pending, the
attempt stays open, and whoever sees the outcome (webhook, sweep) records it once."""
import pytest
from saleor.payment.models import Payment
from test_proration_charge import KEY, LATER, captured, sweep, tiers, upgrade  # noqa: F401

from saleor_subscriptions.gateway import registry
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import AttemptStatus, PaymentAttempt, Subscription
from saleor_subscriptions.services import renewals, stripe_webhooks
from saleor_subscriptions.testing import renewal_factories as rf

UNREACHABLE = "http://127.0.0.1:1"  # nothing listens: the stripe library's connection error


class AuthenticationStripe(StripeGateway):
    """localstripe, with the customer completing 3-D Secure just before our cancel when told,
    or the cancel's connection failing when told."""

    complete_first = False
    cancel_fails = False
    client_secret = ""

    def charge(self, request):
        result = super().charge(request)
        self.client_secret = result.client_secret or self.client_secret
        return result

    def cancel_charge(self, reference):
        if self.complete_first:
            rf.complete_authentication(self.api_base, self.client_secret)
        if self.cancel_fails:
            return StripeGateway(KEY, UNREACHABLE).cancel_charge(reference)
        return super().cancel_charge(reference)


@pytest.fixture
def stripe3ds(plugin_on, monkeypatch):
    gateway = AuthenticationStripe(KEY, plugin_on.url)
    gateway.api_base = plugin_on.url
    monkeypatch.setattr(registry, "get_gateway", lambda settings=None: gateway)
    return gateway


@pytest.fixture
def basic(store, customer, tiers, plugin_on):  # noqa: F811
    card = rf.create_card(plugin_on.url, KEY, customer.email, rf.AUTHENTICATION_CARD)
    return rf.make_subscription(
        tiers["basic"], customer, card, start=rf.utc(2030, 1, 1, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))


def errors(body):
    return [(error["field"], error["code"])
            for error in body["data"]["subscriptionChangePlan"]["subscriptionErrors"]]


def statuses(plugin_on, subscription):
    return [intent["status"] for intent in rf.payment_intents(
        plugin_on.url, KEY, subscription.customer_reference)]


def attempt_of(subscription):
    return PaymentAttempt.objects.select_related("order").get(subscription=subscription,
                                                              purpose="proration")


def assert_upgraded_once(plugin_on, subscription, tiers):  # noqa: F811
    (intent,) = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert intent["status"] == "succeeded"
    attempt = attempt_of(subscription)
    assert attempt.status == AttemptStatus.SUCCEEDED
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan == tiers["medium"]
    (payment,) = captured(subscription)
    assert payment.token == intent["id"] and payment.order_id == attempt.order_id
    assert Payment.objects.filter(token=intent["id"]).count() == 1
    assert row.events.filter(type="plan_changed").count() == 1


def test_the_intent_is_closed_and_the_upgrade_refused(customer_api, basic, tiers, stripe3ds,  # noqa: F811
                                                      plugin_on):
    body = upgrade(customer_api, basic, tiers["medium"])
    assert errors(body) == [("planId", "PAYMENT_ERROR")]
    # Nothing is left for the customer to confirm: the words say what to do instead.
    (message,) = [error["message"] for error in
                  body["data"]["subscriptionChangePlan"]["subscriptionErrors"]]
    assert "confirm the payment" not in message
    assert "another card" in message
    assert statuses(plugin_on, basic) == ["canceled"]  # can never be paid for no upgrade
    attempt = attempt_of(basic)
    assert attempt.status == AttemptStatus.FAILED
    assert attempt.order.status == "canceled"
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]
    assert not captured(basic)


def test_an_intent_completed_before_the_cancel_pays_the_upgrade(customer_api, basic, tiers,  # noqa: F811
                                                                stripe3ds, plugin_on):
    stripe3ds.complete_first = True
    body = upgrade(customer_api, basic, tiers["medium"])
    assert errors(body) == []
    assert_upgraded_once(plugin_on, basic, tiers)


def pending_upgrade(customer_api, basic, tiers, stripe3ds):  # noqa: F811
    stripe3ds.cancel_fails = True
    body = upgrade(customer_api, basic, tiers["medium"])
    assert errors(body) == [("planId", "PAYMENT_PENDING")]
    attempt = attempt_of(basic)
    assert attempt.status == AttemptStatus.STARTED  # open: it may still be paid
    assert attempt.gateway_reference
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]
    stripe3ds.cancel_fails = False
    return attempt


def succeeded_event(number, attempt):
    return {"id": "evt_upgrade_%d" % number, "type": "payment_intent.succeeded",
            "data": {"object": {"id": attempt.gateway_reference, "object": "payment_intent",
                                "metadata": {"idempotency_key": attempt.idempotency_key}}}}


@pytest.mark.parametrize("left", ["pending", "left_open_before"])
def test_an_upgrade_completed_later_is_recorded_once_by_the_webhook(
        customer_api, basic, tiers, stripe3ds, plugin_on, left):  # noqa: F811
    attempt = pending_upgrade(customer_api, basic, tiers, stripe3ds)
    if left == "left_open_before":  # what an upgrade needing 3-D Secure left before the fix
        from saleor_subscriptions.saleor_adapter.orders import cancel_unpaid_order

        cancel_unpaid_order(attempt.order)
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            status=AttemptStatus.ACTION_REQUIRED)
    (intent,) = rf.payment_intents(plugin_on.url, KEY, basic.customer_reference)
    assert intent["status"] == "requires_action"
    rf.complete_authentication(plugin_on.url, intent["client_secret"])
    context = renewals.make_context()
    answer = stripe_webhooks.receive(succeeded_event(1, attempt), LATER, context)
    assert answer.startswith(stripe_webhooks.RECORDED)
    stripe_webhooks.receive(succeeded_event(2, attempt), LATER, context)
    sweep()
    assert_upgraded_once(plugin_on, basic, tiers)


def test_an_upgrade_left_awaiting_authentication_before_fails_once(customer_api, basic, tiers,  # noqa: F811
                                                                  stripe3ds, plugin_on):
    """What the old code left: the attempt ACTION_REQUIRED with its PAYMENT_FAILED event written
    already. The customer's failed authentication closes it without a second failure."""
    from saleor_subscriptions.saleor_adapter.orders import cancel_unpaid_order
    from saleor_subscriptions.services.events import record_event

    attempt = pending_upgrade(customer_api, basic, tiers, stripe3ds)
    cancel_unpaid_order(attempt.order)
    PaymentAttempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.ACTION_REQUIRED)
    record_event(basic, "payment_failed", date=LATER, order=attempt.order, purpose="proration")
    (intent,) = rf.payment_intents(plugin_on.url, KEY, basic.customer_reference)
    rf.complete_authentication(plugin_on.url, intent["client_secret"], success=False)
    failed = dict(succeeded_event(1, attempt), type="payment_intent.payment_failed")

    answer = stripe_webhooks.receive(failed, LATER, renewals.make_context())
    assert answer.startswith(stripe_webhooks.RECORDED)
    assert attempt_of(basic).status == AttemptStatus.FAILED
    assert basic.events.filter(type="payment_failed").count() == 1
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]
    assert not captured(basic)


def test_a_pending_upgrade_left_open_is_closed_by_the_sweep(customer_api, basic, tiers,  # noqa: F811
                                                            stripe3ds, plugin_on):
    pending_upgrade(customer_api, basic, tiers, stripe3ds)
    sweep()
    assert statuses(plugin_on, basic) == ["canceled"]
    attempt = attempt_of(basic)
    assert attempt.status == AttemptStatus.FAILED and attempt.order.status == "canceled"
    assert Subscription.objects.get(pk=basic.pk).plan == tiers["basic"]
    assert not captured(basic)
