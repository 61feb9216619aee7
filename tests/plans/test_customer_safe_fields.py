"""What customers see of their own subscriptions: no staff e-mails, no database ids, no raw
exception or gateway text (a stable problem code and a message instead), no plans of hidden
products or while subscriptions are switched off; staff with the right permission see the rest."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from graphene import Node
from plan_api import switch_plugin

from saleor_subscriptions.models import ActorType, BillingCycle, EventType
from saleor_subscriptions.services.events import record_event
from saleor_subscriptions.testing import factories
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.renewal_factories import variant_from_global_id

EVENTS = """
query($id: ID!) { customerSubscription(id: $id) {
  events { type actorType userEmail parameters }
} }"""
EXTEND = """
mutation($id: ID!) { subscriptionExtendPeriod(id: $id, days: 3) { subscriptionErrors { code } } }"""
PROBLEMS = """
query($id: ID!) { customerSubscription(id: $id) {
  lastRenewalError lastRenewalProblem lastRenewalErrorDetail
  parkedReason parkedProblem parkedReasonDetail
  billingCycles { cycleIndex errorCode problem lastError lastErrorDetail }
} }"""
PLANS = """
query($variant: ID) { subscriptionPlans(first: 10, variantId: $variant) { edges { node { name } } } }
"""
PLAN = "query($id: ID!) { subscriptionPlan(id: $id) { name } }"
MINE = "{ mySubscriptions(first: 5) { totalCount edges { node { id } } } }"

RAW_DECLINE = "Your card was declined. Request req_8Hx2 (pi_3Kq) for cus_Q1"
RAW_CRASH = "KeyError: 'shipping_method' in /srv/saleor_subscriptions/services/renewals.py"


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def gid(type_name, pk):
    return Node.to_global_id(type_name, pk)


@pytest.fixture
def plan(store):
    return factories.create_plan(variant_from_global_id(store.variants["COFFEE-250G"]),
                                 name="Monthly", price_amount=Decimal("18.00"))


@pytest.fixture
def subscription(customer, plan, subscriptions_on):
    return factories.create_subscription(customer, plan, start=utc(2030, 1, 31, 10))


@pytest.fixture
def staff_of(staff_with):
    return staff_with("order.manage_orders")


def events(api, subscription):
    data = api.execute(EVENTS, {"id": gid("CustomerSubscription", subscription.pk)})
    return data["customerSubscription"]["events"]


def parameters(api, subscription):
    return [json.loads(event["parameters"]) for event in events(api, subscription)]


def test_the_owner_sees_no_staff_email_but_their_own(subscription, customer, customer_api,
                                                      staff_of, staff_with):
    staff_of.mutate(EXTEND, {"id": gid("CustomerSubscription", subscription.pk)})
    record_event(subscription, EventType.CANCELLATION_UNDONE, actor_type=ActorType.CUSTOMER,
                 user=customer)
    staff_email = "staff-1@example.com"

    mine = [(e["type"], e["actorType"], e["userEmail"]) for e in events(customer_api, subscription)]
    assert mine == [("PERIOD_EXTENDED", "STAFF", None),
                    ("CANCELLATION_UNDONE", "CUSTOMER", customer.email)]
    # MANAGE_ORDERS alone is not enough to see who a user is (Saleor: MANAGE_USERS).
    assert [e["userEmail"] for e in events(staff_of, subscription)] == [staff_email, None]
    user_managers = staff_with("order.manage_orders", "account.manage_users")
    assert [e["userEmail"] for e in events(user_managers, subscription)] == [
        staff_email, customer.email]


def test_event_parameters_carry_global_ids_and_no_raw_text_for_customers(
        subscription, plan, customer_api, staff_of, store):
    other = factories.create_plan(plan.variant, name="Weekly", interval_unit="week")
    record_event(subscription, EventType.PLAN_CHANGED, kind="upgrade", from_plan=plan.pk,
                 to_plan=other.pk, from_quantity=1, to_quantity=2)
    record_event(subscription, EventType.PAYMENT_RETRIED, order_id=4242, cycle_index=1,
                 retry_number=2)
    record_event(subscription, EventType.PAYMENT_FAILED, cycle_index=1, attempt=1,
                 code="card_declined", message=RAW_DECLINE, status="past_due")
    record_event(subscription, EventType.PARKED, reason="internal_error: " + RAW_CRASH)
    record_event(subscription, EventType.RENEWED, cycle_index=1, payment_reference="pi_3Kq")

    changed, retried, failed, parked, renewed = parameters(customer_api, subscription)
    assert changed == {"kind": "upgrade", "from_plan": gid("SubscriptionPlan", plan.pk),
                       "to_plan": gid("SubscriptionPlan", other.pk),
                       "from_quantity": 1, "to_quantity": 2}
    assert retried == {"order_id": gid("Order", 4242), "cycle_index": 1, "retry_number": 2}
    assert failed == {"cycle_index": 1, "attempt": 1, "status": "past_due",
                      "problem": "CARD_DECLINED"}
    assert parked == {"problem": "INTERNAL_ERROR"}
    assert renewed == {"cycle_index": 1}

    staff_seen = parameters(staff_of, subscription)
    assert staff_seen[0]["to_plan"] == gid("SubscriptionPlan", other.pk)
    assert staff_seen[2]["message"] == RAW_DECLINE and staff_seen[2]["code"] == "card_declined"
    assert staff_seen[3]["reason"] == "internal_error: " + RAW_CRASH
    assert staff_seen[4]["payment_reference"] == "pi_3Kq"


def test_renewal_errors_are_codes_and_safe_messages_for_the_owner(
        subscription, customer_api, staff_of):
    BillingCycle.objects.create(
        subscription=subscription, cycle_index=1, period_start=utc(2030, 2, 28, 10),
        period_end=utc(2030, 3, 31, 10), currency="USD", amount=Decimal("18.00"),
        status="failed", attempt_count=1, error_code="fraudulent", last_error=RAW_DECLINE)
    subscription.parked_at = utc(2030, 3, 1)
    subscription.parked_reason = "internal_error: " + RAW_CRASH
    subscription.save()
    variables = {"id": gid("CustomerSubscription", subscription.pk)}

    mine = customer_api.execute(PROBLEMS, variables)["customerSubscription"]
    assert mine["lastRenewalProblem"] == "CARD_DECLINED"
    assert mine["lastRenewalError"] == "Your card was declined. Update your card or try again."
    assert mine["parkedProblem"] == "INTERNAL_ERROR"
    assert "req_" not in mine["parkedReason"] and "KeyError" not in mine["parkedReason"]
    assert mine["lastRenewalErrorDetail"] is None and mine["parkedReasonDetail"] is None
    (cycle,) = mine["billingCycles"]
    # Stripe asks not to tell customers a card was flagged as fraudulent or lost: a generic code.
    assert cycle["problem"] == "CARD_DECLINED" and cycle["lastErrorDetail"] is None
    assert cycle["errorCode"] is None
    assert cycle["lastError"] == mine["lastRenewalError"]
    assert RAW_DECLINE not in str(mine) and RAW_CRASH not in str(mine)

    seen = staff_of.execute(PROBLEMS, variables)["customerSubscription"]
    assert seen["lastRenewalErrorDetail"] == "fraudulent: " + RAW_DECLINE
    assert seen["billingCycles"][0]["errorCode"] == "fraudulent"
    assert seen["parkedReasonDetail"] == "internal_error: " + RAW_CRASH
    assert seen["billingCycles"][0]["lastErrorDetail"] == RAW_DECLINE
    assert seen["lastRenewalError"] == mine["lastRenewalError"]


def test_plans_of_unpublished_products_are_hidden_from_visitors(
        store, plan, subscriptions_on, customer_api, staff_with):
    plan.variant.product.is_published = False
    plan.variant.product.save(update_fields=["is_published"])
    variables = {"variant": store.variants["COFFEE-250G"]}
    for api in (ApiClient(), customer_api, staff_with("order.manage_orders")):
        assert api.execute(PLANS, variables)["subscriptionPlans"]["edges"] == []
        assert api.execute(PLAN, {"id": gid("SubscriptionPlan", plan.pk)})[
            "subscriptionPlan"] is None
    catalog = staff_with("product.manage_products")
    assert [e["node"]["name"] for e in catalog.execute(PLANS, variables)[
        "subscriptionPlans"]["edges"]] == ["Monthly"]
    assert catalog.execute(PLAN, {"id": gid("SubscriptionPlan", plan.pk)})[
        "subscriptionPlan"] == {"name": "Monthly"}


def test_no_plans_are_listed_while_subscriptions_are_off(store, plan, staff_api, customer_api,
                                                         staff_with):
    switch_plugin(staff_api, True)
    switch_plugin(staff_api, False)
    variables = {"variant": store.variants["COFFEE-250G"]}
    for api in (ApiClient(), customer_api):
        assert api.execute(PLANS, variables)["subscriptionPlans"]["edges"] == []
        assert api.execute(PLAN, {"id": gid("SubscriptionPlan", plan.pk)})[
            "subscriptionPlan"] is None
    catalog = staff_with("product.manage_products")
    assert len(catalog.execute(PLANS, variables)["subscriptionPlans"]["edges"]) == 1


def test_my_subscriptions_is_null_without_a_sign_in_like_me(subscription, staff_api):
    body = ApiClient().raw(MINE + " ")
    assert body.get("errors") is None
    assert body["data"]["mySubscriptions"] is None
    assert ApiClient().execute("{ me { id } }")["me"] is None
