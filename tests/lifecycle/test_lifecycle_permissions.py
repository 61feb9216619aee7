"""Nobody reaches a subscription that is not theirs; bad input changes nothing."""
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


@pytest.mark.parametrize("who", [
    "anonymous", "owner", "other customer", "staff without MANAGE_ORDERS",
    "staff with MANAGE_ORDERS", "app with MANAGE_ORDERS", "app without"])
def test_permission_matrix(requesters, subscription, gid, who):
    before = state(subscription)
    body = requesters[who].raw(PAUSE, {"id": gid(subscription)})
    if who in ALLOWED:
        payload = body["data"]["subscriptionPause"]
        assert payload["subscriptionErrors"] == []
        assert payload["subscription"]["events"][-1]["actorType"] == ALLOWED[who]
        assert state(subscription)[0] == "paused"
        return
    if who == "anonymous":
        assert body["errors"][0]["message"].startswith("You do not have permission")
    else:
        assert body["data"]["subscriptionPause"]["subscriptionErrors"] == [
            {"field": "id", "code": "NOT_FOUND"}]
    assert state(subscription) == before


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
