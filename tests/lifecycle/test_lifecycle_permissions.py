"""Nobody reaches a subscription that is not theirs; bad input changes nothing."""
from datetime import datetime, timedelta, timezone

import graphene
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.users import create_user, login

PAUSE = """
mutation($id: ID!, $cycles: Int) {
  subscriptionPause(id: $id, cycles: $cycles) {
    subscription { status events { actorType } }
    subscriptionErrors { field code }
  }
}"""


def state(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return row.status, row.next_billing_at, row.paused_at, row.events.count()


@pytest.fixture
def requesters(api, customer_api, other_customer_api, staff_api, db):
    def staff(permissions, email):
        create_user(email, staff=True, permissions=permissions)
        return ApiClient().as_user(login(ApiClient(), email))

    return {
        "anonymous": api,
        "owner": customer_api,
        "other customer": other_customer_api,
        "staff without MANAGE_ORDERS": staff(["product.manage_products"], "staff1@example.com"),
        "staff with MANAGE_ORDERS": staff(["order.manage_orders"], "staff2@example.com"),
        "app with MANAGE_ORDERS": app_api(staff_api, "crm", ["MANAGE_ORDERS"]),
        "app without": app_api(staff_api, "feeds", ["MANAGE_PRODUCTS"]),
    }


ALLOWED = {"owner": "CUSTOMER", "staff with MANAGE_ORDERS": "STAFF",
           "app with MANAGE_ORDERS": "APP"}
STAFF_ONLY = {"staff with MANAGE_ORDERS": "STAFF", "app with MANAGE_ORDERS": "APP"}
ADDRESS = ('{firstName: "Ada", lastName: "L", streetAddress1: "1 Main St", city: "AUSTIN", '
           'postalCode: "73301", country: US, countryArea: "TX"}')
def _scheduled_cancellation(row):
    row.cancel_at_period_end = True


def _cancelled(row):
    row.status, row.next_billing_at = "cancelled", None
    row.current_period_end = datetime.now(timezone.utc) + timedelta(days=10)


def _paused(row):
    row.status, row.next_billing_at, row.paused_at = "paused", None, datetime.now(timezone.utc)


def _scheduled_plan_change(row):
    row.scheduled_plan, row.scheduled_quantity = row.plan, 2


NEXT_DATE = (datetime.now(timezone.utc) + timedelta(days=40)).isoformat()
# (mutation name, extra arguments, who may call it, the state it needs)
MUTATIONS = [
    ("subscriptionPause", "", ALLOWED, None),
    ("subscriptionCancel", "", ALLOWED, None),
    ("subscriptionCancelUndo", "", ALLOWED, _scheduled_cancellation),
    ("subscriptionReactivate", "", ALLOWED, _cancelled),
    ("subscriptionResume", "", ALLOWED, _paused),
    ("subscriptionSkipNextRenewal", "", ALLOWED, None),
    ("subscriptionChangePlanCancel", "", ALLOWED, _scheduled_plan_change),
    ("subscriptionAddressUpdate", ", shippingAddress: %s" % ADDRESS, ALLOWED, None),
    ("subscriptionExtendPeriod", ", days: 3", STAFF_ONLY, None),
    ("subscriptionNextBillingDateUpdate", ', date: "%s"' % NEXT_DATE, STAFF_ONLY, None),
]
WHO = ["anonymous", "owner", "other customer", "staff without MANAGE_ORDERS",
       "staff with MANAGE_ORDERS", "app with MANAGE_ORDERS", "app without"]


def full_state(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return (row.status, row.next_billing_at, row.paused_at, row.cancel_at_period_end,
            row.shipping_address_id, row.scheduled_plan_id, row.events.count())


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m[0] for m in MUTATIONS])
@pytest.mark.parametrize("who", WHO)
def test_permission_matrix(requesters, subscription, gid, who, mutation):
    name, extra, allowed, prepare = mutation
    if prepare is not None:
        prepare(subscription)
        subscription.save()
    query = """mutation($id: ID!) { %s(id: $id%s) {
        subscription { events { actorType } } subscriptionErrors { field code } } }""" % (
        name, extra)
    before = full_state(subscription)
    body = requesters[who].raw(query, {"id": gid(subscription)})
    if who in allowed:
        payload = body["data"][name]
        assert payload["subscriptionErrors"] == []
        assert payload["subscription"]["events"][-1]["actorType"] == allowed[who]
        assert full_state(subscription) != before
        return
    if who == "anonymous" or allowed is STAFF_ONLY:
        assert body["errors"][0]["message"].startswith("You do not have permission")
    else:
        assert body["data"][name]["subscriptionErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert full_state(subscription) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cycles=st.integers(min_value=-10**6, max_value=10**6).filter(lambda n: not 1 <= n <= 3))
def test_pause_lengths_outside_the_store_limit_change_nothing(customer_api, subscription, gid,
                                                              cycles):
    before = state(subscription)
    payload = customer_api.execute(PAUSE, {"id": gid(subscription), "cycles": cycles})
    assert payload["subscriptionPause"]["subscriptionErrors"] == [
        {"field": "cycles", "code": "INVALID"}]
    assert state(subscription) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(
    st.text(max_size=40),
    st.builds(lambda kind, pk: graphene.Node.to_global_id(kind, pk),
              st.sampled_from(["Order", "Product", "SubscriptionPlan", "CustomerSubscription"]),
              st.integers(min_value=-5, max_value=10**9)),
))
def test_malformed_or_foreign_ids_change_nothing(customer_api, subscription, raw):
    if raw == graphene.Node.to_global_id("CustomerSubscription", subscription.pk):
        return
    before = state(subscription)
    payload = customer_api.execute(PAUSE, {"id": raw})
    errors = payload["subscriptionPause"]["subscriptionErrors"]
    assert errors and errors[0]["field"] == "id" and errors[0]["code"] in ("INVALID", "NOT_FOUND")
    assert state(subscription) == before


CHANGE = """
mutation($id: ID!, $plan: ID!, $quantity: Int!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: $quantity) {
    subscriptionErrors { field code }
  }
}"""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quantity=st.integers(min_value=-(2 ** 31), max_value=0))
def test_plan_change_to_no_units_changes_nothing(customer_api, subscription, gid, quantity):
    before = full_state(subscription)
    plan = graphene.Node.to_global_id("SubscriptionPlan", subscription.plan_id)
    payload = customer_api.execute(CHANGE, {"id": gid(subscription), "plan": plan,
                                            "quantity": quantity})
    assert payload["subscriptionChangePlan"]["subscriptionErrors"] == [
        {"field": "quantity", "code": "INVALID"}]
    assert full_state(subscription) == before
