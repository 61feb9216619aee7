"""Real interleavings: a charge held between "attempt committed" and "gateway answered" (in a
thread, on its own database connection) while the customer acts on the same subscription through
/graphql/. Every case ends with charges at the gateway (localstripe) = captured payments in
Saleor = paid cycles and prorated charges, and nothing stuck: no STARTED attempt, no lease,
next_billing_at consistent with the status.

One store for the module (committed, like the worker tests' data; put back as it was after the
last case); each case has its own Stripe customer.
"""
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import graphene
import pytest
from django.db import connection
from django.db.models import Q
from saleor.payment.models import Payment

from saleor_subscriptions.gateway import registry
from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeResult
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import (
    AttemptStatus,
    BillingCycle,
    PaymentAttempt,
    Subscription,
    SubscriptionPlan,
)
from saleor_subscriptions.services import charging, renewals
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.plugins import configure_plugin
from saleor_subscriptions.testing.store import add_product, build_store
from saleor_subscriptions.testing.users import create_user, login

KEY = "sk_test_subscriptions"
HOLD_TIMEOUT = 60


class HeldStripe(StripeGateway):
    """The real Stripe gateway to localstripe; the first charge (or lookup) waits until the test
    releases it — a fake only for timing."""

    def __init__(self, *args, hold=("charge",), **kwargs):
        super().__init__(*args, **kwargs)
        self.hold = set(hold)
        self.reached = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def _wait(self, name):
        with self._lock:
            held = name in self.hold
            self.hold.discard(name)
        if held:
            self.reached.set()
            assert self.release.wait(HOLD_TIMEOUT), "never released"

    def charge(self, request):
        self._wait("charge")
        return super().charge(request)

    def find_charge(self, request):
        self._wait("find_charge")
        return super().find_charge(request)


class AnswerLost(StripeGateway):
    """Stripe charges; the answer never arrives."""

    def charge(self, request):
        super().charge(request)
        return ChargeResult(ChargeOutcome.UNKNOWN, error_code="timeout",
                            error_message="Read timed out.")


@dataclass
class Shop:
    staff: ApiClient
    customer: object
    customer_api: ApiClient
    stripe_url: str
    variant: object
    shipping_method: object
    basic: SubscriptionPlan
    medium: SubscriptionPlan


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker, localstripe):
    from django.core import serializers
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        baseline = connection.creation.serialize_db_to_string()
        owner = create_user("interleavings-owner@example.com", superuser=True)
        staff = ApiClient().as_user(login(ApiClient(), owner.email))
        store = build_store(staff)
        add_product(staff, store, "Coffee beans", Decimal("20.00"),
                    {"COFFEE-250G": Decimal("20.00")})
        configure_plugin(staff, active=True, **{"Stripe secret key": KEY,
                                                 "Stripe API base URL": localstripe.url})
        customer = create_user("interleavings@example.com")
        variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
        plans = [SubscriptionPlan.objects.create(
            variant=variant, name=name, family="club", tier_rank=rank, interval_unit="month",
            currency="USD", price_amount=Decimal(price))
            for name, rank, price in (("basic", 1, "15.00"), ("medium", 2, "25.00"))]
        yield Shop(staff, customer, ApiClient().as_user(login(ApiClient(), customer.email)),
                   localstripe.url, variant,
                   rf.shipping_method_from_global_id(store.shipping_method_id), *plans)
        # As transactional_db leaves it: empty tables, then the rows migrations made.
        call_command("flush", interactive=False, verbosity=0)
        kept = {"contenttypes.ContentType", "auth.Permission"}
        with transaction.atomic():
            for item in serializers.deserialize("json", baseline):
                if item.object._meta.label not in kept:
                    item.save()


@pytest.fixture
def committed(shop, django_db_blocker):
    with django_db_blocker.unblock():
        yield shop
        connection.close()


def utcnow():
    return datetime.now(timezone.utc)


def subscribe(shop, plan=None):
    """Due now: its first period started 35 days ago; its own Stripe customer and card."""
    card = rf.create_card(shop.stripe_url, KEY, shop.customer.email)
    return rf.make_subscription(plan or shop.basic, shop.customer, card,
                                start=utcnow() - timedelta(days=35),
                                shipping_method=shop.shipping_method)


def in_thread(target):
    result = {}

    def run():
        try:
            result["value"] = target()
        except BaseException as error:  # shown by the test that joins
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def finish(gateway, thread, result):
    gateway.release.set()
    thread.join(HOLD_TIMEOUT)
    assert not thread.is_alive()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def held_renewal(shop, subscription, now=None):
    gateway = HeldStripe(KEY, shop.stripe_url)
    context = renewals.make_context(gateway=gateway)
    thread, result = in_thread(lambda: renewals.renew_subscription(
        subscription.pk, now or utcnow(), context=context))
    assert gateway.reached.wait(HOLD_TIMEOUT), result
    return gateway, thread, result


# -- the customer's side, through /graphql/ ---------------------------------------------------

def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def plan_gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def mutate(api, name, arguments, **variables):
    declared = "".join(", $%s: %s" % (key, kind) for key, kind in arguments.items())
    passed = "".join(", %s: $%s" % (key, key) for key in arguments)
    query = """mutation($id: ID!%s) { %s(id: $id%s) {
        subscription { status } subscriptionErrors { code message } } }""" % (
        declared, name, passed)
    payload = api.execute(query, variables)[name]
    return [error["code"] for error in payload["subscriptionErrors"]]


def cancel_now(shop, subscription):
    return mutate(shop.customer_api, "subscriptionCancel", {"immediately": "Boolean"},
                  id=gid(subscription), immediately=True)


def cancel_at_period_end(shop, subscription):
    return mutate(shop.customer_api, "subscriptionCancel", {}, id=gid(subscription))


def pause(shop, subscription):
    return mutate(shop.customer_api, "subscriptionPause", {}, id=gid(subscription))


def skip(shop, subscription):
    return mutate(shop.customer_api, "subscriptionSkipNextRenewal", {}, id=gid(subscription))


def resume(shop, subscription):
    return mutate(shop.customer_api, "subscriptionResume", {}, id=gid(subscription))


def reactivate(shop, subscription):
    return mutate(shop.customer_api, "subscriptionReactivate", {}, id=gid(subscription))


def change_plan(plan_name):
    def act(shop, subscription, api=None):
        return mutate(api or shop.customer_api, "subscriptionChangePlan",
                      {"planId": "ID!", "quantity": "Int!"}, id=gid(subscription),
                      planId=plan_gid(getattr(shop, plan_name)), quantity=1)
    return act


def card_update(shop, subscription):
    card = rf.create_card(shop.stripe_url, KEY, shop.customer.email,
                          customer_id=subscription.customer_reference)
    return mutate(shop.customer_api, "subscriptionPaymentMethodUpdate",
                  {"paymentMethodId": "String!"}, id=gid(subscription),
                  paymentMethodId=card.payment_method_id)


# -- what every case ends with ----------------------------------------------------------------

def assert_settled(shop, subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    token = str(row.token)
    intents = [intent for intent in rf.payment_intents(shop.stripe_url, KEY,
                                                       row.customer_reference)
               if intent["status"] == "succeeded"]
    payments = Payment.objects.filter(
        Q(order__metadata__subscription_renewal=token)
        | Q(order__metadata__subscription_adjustment=token), charge_status="fully-charged")
    paid_cycles = BillingCycle.objects.filter(subscription=row, cycle_index__gt=0, status="paid")
    prorations = PaymentAttempt.objects.filter(subscription=row, purpose="proration",
                                               status=AttemptStatus.SUCCEEDED)
    charged = sorted(Decimal(intent["amount"]) / 100 for intent in intents)
    assert charged == sorted(payment.captured_amount for payment in payments)
    assert charged == sorted([cycle.amount for cycle in paid_cycles]
                             + [attempt.amount for attempt in prorations])
    assert not PaymentAttempt.objects.filter(subscription=row,
                                             status=AttemptStatus.STARTED).exists()
    assert row.renewal_lease_until is None
    assert row.cycle_index == max([0] + [cycle.cycle_index for cycle in paid_cycles])
    if row.status in ("active", "trialing", "past_due"):
        assert row.next_billing_at is not None
    else:
        assert row.next_billing_at is None
    return row, len(intents)


# -- the cases ----------------------------------------------------------------------------------

ACTIONS = {
    "cancel_now": (cancel_now, "basic", "cancelled"),
    "cancel_at_period_end": (cancel_at_period_end, "basic", "active"),
    "pause": (pause, "basic", "paused"),
    "skip": (skip, "basic", "active"),
    "upgrade": (change_plan("medium"), "basic", "active"),
    "downgrade": (change_plan("basic"), "medium", "active"),
    "card_update": (card_update, "basic", "active"),
}


@pytest.mark.parametrize("case", list(ACTIONS))
def test_action_during_a_held_renewal_is_refused_then_works(committed, case):
    shop = committed
    action, plan, status_after = ACTIONS[case]
    subscription = subscribe(shop, getattr(shop, plan))
    gateway, thread, result = held_renewal(shop, subscription)
    assert action(shop, subscription) == ["RENEWAL_IN_PROGRESS"]
    assert finish(gateway, thread, result).status == "renewed"
    renewed = Subscription.objects.get(pk=subscription.pk)
    assert renewed.cycle_index == 1 and renewed.next_billing_at == renewed.current_period_end
    # Tried again a moment later, it works, on top of the paid period.
    assert action(shop, renewed) == []
    row, charges = assert_settled(shop, subscription)
    assert row.status == status_after
    assert charges == (2 if case == "upgrade" else 1)
    if case == "skip":
        assert row.next_billing_at > renewed.next_billing_at
    if case == "cancel_at_period_end":
        assert row.cancel_at_period_end and row.current_period_end == renewed.current_period_end


def test_double_submitted_upgrade_charges_once_and_switches_once(committed, monkeypatch):
    shop = committed
    subscription = subscribe(shop)
    renewals.renew_subscription(subscription.pk, utcnow())  # the current period is paid
    gateway = HeldStripe(KEY, shop.stripe_url)
    monkeypatch.setattr(registry, "get_gateway", lambda settings=None: gateway)
    from saleor_subscriptions.services.lifecycle import proration_charge

    monkeypatch.setattr(proration_charge, "get_gateway", lambda settings=None: gateway,
                        raising=False)
    upgrade = change_plan("medium")
    first_tab = ApiClient(token=shop.customer_api.token)  # a client of its own per thread
    thread, result = in_thread(lambda: upgrade(shop, subscription, first_tab))
    assert gateway.reached.wait(HOLD_TIMEOUT), result
    second = upgrade(shop, subscription)  # the double click, while the first is charged
    assert finish(gateway, thread, result) == []
    retried = upgrade(shop, subscription)  # the client's retry, after the first answered
    row, charges = assert_settled(shop, subscription)
    assert row.plan == shop.medium and charges == 2  # the renewal and one prorated charge
    assert row.events.filter(type="plan_changed").count() == 1
    assert second == ["RENEWAL_IN_PROGRESS"] and retried == ["SAME_PLAN"]


def test_a_second_worker_and_a_second_run_leave_the_held_renewal_alone(committed):
    from saleor_subscriptions.tasks import renew_due_subscriptions_task

    shop = committed
    subscription = subscribe(shop)
    gateway, thread, result = held_renewal(shop, subscription)
    now = utcnow()
    assert renewals.renew_subscription(subscription.pk, now).detail == "not_billable_or_busy"
    assert mutate(shop.staff, "subscriptionRenewNow", {}, id=gid(subscription)) == [
        "RENEWAL_IN_PROGRESS"]
    assert renewals.renew_due_subscriptions(now).claimed == 0
    # Its lease ran out while the gateway call hangs: another worker claims it, finds it busy.
    Subscription.objects.filter(pk=subscription.pk).update(
        renewal_lease_until=now - timedelta(minutes=1))
    second = renew_due_subscriptions_task.apply(kwargs={"now": now.isoformat()}).get()
    assert second["counts"].get("renewed", 0) == 0 and second["more"] is False
    assert finish(gateway, thread, result).status == "renewed"
    row, charges = assert_settled(shop, subscription)
    assert charges == 1 and row.status == "active"


@pytest.mark.parametrize("case", ["resume", "reactivate"])
def test_a_lookup_in_flight_blocks_resume_and_reactivate_and_the_paid_period_counts(
        committed, case):
    """A renewal whose answer was lost (Stripe took the money) on a subscription that is no
    longer billed — paused or cancelled while it was in flight, before this guard existed: the
    sweep looks the charge up (held here) and the customer's action waits for it."""
    shop = committed
    subscription = subscribe(shop)
    now = utcnow()
    context = renewals.make_context(gateway=AnswerLost(KEY, shop.stripe_url))
    assert renewals.renew_subscription(subscription.pk, now, context=context).status == "pending"
    ended = {"resume": {"status": "paused", "paused_at": now},
             "reactivate": {"status": "cancelled", "cancelled_at": now, "ended_at": now}}[case]
    Subscription.objects.filter(pk=subscription.pk).update(next_billing_at=None, **ended)
    gateway = HeldStripe(KEY, shop.stripe_url, hold=("find_charge",))
    sweep = renewals.make_context(gateway=gateway)
    later = now + charging.UNKNOWN_RETRY_DELAY + timedelta(seconds=1)
    thread, result = in_thread(lambda: renewals.renew_due_subscriptions(later, context=sweep))
    assert gateway.reached.wait(HOLD_TIMEOUT), result
    action = {"resume": resume, "reactivate": reactivate}[case]
    assert action(shop, subscription) == ["RENEWAL_IN_PROGRESS"]
    finish(gateway, thread, result)
    paid = Subscription.objects.get(pk=subscription.pk)
    assert (paid.cycle_index, paid.paid_cycles, paid.status) == (1, 2, ended["status"])
    assert paid.current_period_end > utcnow()  # the paid period is the customer's
    assert action(shop, subscription) == []
    row, charges = assert_settled(shop, subscription)
    assert row.status == "active" and charges == 1
