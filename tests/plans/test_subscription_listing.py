"""Who sees which subscriptions: mySubscriptions, customerSubscription(id), customerSubscriptions."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from graphene import Node

from saleor_subscriptions.testing import factories
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.renewal_factories import variant_from_global_id

MINE = """
{ mySubscriptions(first: 20) {
    totalCount edges { node { id email status plan { name } unitPrice { amount } } }
} }"""
ONE = """
query($id: ID!) {
  customerSubscription(id: $id) {
    id email status quantity anchorAt currentPeriodStart currentPeriodEnd nextBillingAt
    trialEndAt plan { name } unitPrice { amount currency }
  }
}"""
ALL = """
query($filter: SubscriptionFilterInput, $first: Int, $after: String) {
  customerSubscriptions(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id email status plan { name } } }
  }
}"""


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def gid(subscription):
    return Node.to_global_id("CustomerSubscription", subscription.pk)


@pytest.fixture
def subs(store, customer, other_customer):
    """Six subscriptions on two plans, created a day apart (newest first in listings)."""
    monthly = factories.create_plan(variant_from_global_id(store.variants["COFFEE-250G"]),
                                    name="Monthly coffee", price_amount=Decimal("18.00"))
    weekly = factories.create_plan(variant_from_global_id(store.variants["TEA-100G"]),
                                   name="Weekly tea", interval_unit="week",
                                   discount_percent=Decimal("10"), trial_days=7)
    rows = [
        ("mine_active", customer, monthly, "active"),
        ("mine_trial", customer, weekly, "trialing"),
        ("mine_cancelled", customer, monthly, "cancelled"),
        ("other_past_due", other_customer, monthly, "past_due"),
        ("other_paused", other_customer, weekly, "paused"),
        ("guest_active", None, monthly, "active"),
    ]
    return {
        name: factories.create_subscription(user, plan, status, start=utc(2028, 1, 31 - i, 10))
        for i, (name, user, plan, status) in enumerate(rows)
    }


def listed(api, **variables):
    variables.setdefault("first", 20)
    data = api.execute(ALL, variables)["customerSubscriptions"]
    return data["totalCount"], [edge["node"]["id"] for edge in data["edges"]]


def ids(subs, *names):
    return [gid(subs[name]) for name in names]


def test_customers_list_only_their_own(subs, customer_api, other_customer_api):
    data = customer_api.execute(MINE)["mySubscriptions"]
    assert data["totalCount"] == 3
    assert [edge["node"]["id"] for edge in data["edges"]] == ids(
        subs, "mine_active", "mine_trial", "mine_cancelled")
    assert {edge["node"]["email"] for edge in data["edges"]} == {"customer@example.com"}
    trial = data["edges"][1]["node"]
    assert trial["plan"]["name"] == "Weekly tea" and trial["unitPrice"]["amount"] == 9.0

    data = other_customer_api.execute(MINE)["mySubscriptions"]
    assert [edge["node"]["id"] for edge in data["edges"]] == ids(
        subs, "other_past_due", "other_paused")
    assert ApiClient().execute(MINE)["mySubscriptions"] is None  # as Saleor's `me`


def test_owner_reads_one_subscription_with_its_billing_dates(subs, customer_api):
    one = customer_api.execute(ONE, {"id": gid(subs["mine_active"])})["customerSubscription"]
    assert one["status"] == "ACTIVE" and one["plan"]["name"] == "Monthly coffee"
    assert one["unitPrice"] == {"amount": 18.0, "currency": "USD"}
    # Started Jan 31: the month-end anchor gives Feb 29 (2028 is a leap year).
    assert one["currentPeriodStart"].startswith("2028-01-31T10:00:00")
    assert one["currentPeriodEnd"].startswith("2028-02-29T10:00:00")
    assert one["nextBillingAt"] == one["currentPeriodEnd"] and one["trialEndAt"] is None

    trial = customer_api.execute(ONE, {"id": gid(subs["mine_trial"])})["customerSubscription"]
    assert trial["status"] == "TRIALING"
    assert trial["trialEndAt"].startswith("2028-02-06T10:00:00")  # 7 trial days from Jan 30
    assert trial["anchorAt"] == trial["nextBillingAt"] == trial["trialEndAt"]


def test_someone_elses_subscription_reads_as_null(subs, other_customer_api, staff_with):
    subscription_id = gid(subs["mine_active"])
    for api in [other_customer_api, ApiClient(), staff_with("product.manage_products")]:
        assert api.execute(ONE, {"id": subscription_id})["customerSubscription"] is None
    orders = staff_with("order.manage_orders")
    assert orders.execute(ONE, {"id": subscription_id})["customerSubscription"]["email"] == (
        "customer@example.com")


@pytest.mark.parametrize("as_app", [False, True], ids=["staff", "app"])
def test_order_managers_filter_all_subscriptions(subs, staff_api, staff_with, as_app):
    api = (app_api(staff_api, "Support desk", ["MANAGE_ORDERS"]) if as_app
           else staff_with("order.manage_orders"))
    monthly = Node.to_global_id("SubscriptionPlan", subs["mine_active"].plan_id)
    weekly = Node.to_global_id("SubscriptionPlan", subs["mine_trial"].plan_id)

    assert listed(api) == (6, ids(subs, "mine_active", "mine_trial", "mine_cancelled",
                                  "other_past_due", "other_paused", "guest_active"))
    assert listed(api, filter={"status": ["ACTIVE", "PAST_DUE"]}) == (
        3, ids(subs, "mine_active", "other_past_due", "guest_active"))
    assert listed(api, filter={"plans": [weekly]}) == (2, ids(subs, "mine_trial", "other_paused"))
    assert listed(api, filter={"customerEmail": "OTHER@"}) == (
        2, ids(subs, "other_past_due", "other_paused"))
    assert listed(api, filter={"status": ["ACTIVE"], "plans": [monthly]}) == (
        2, ids(subs, "mine_active", "guest_active"))
    assert listed(api, filter={"status": ["EXPIRED"]}) == (0, [])


def test_cursor_pagination_walks_every_subscription_once(subs, staff_with):
    api = staff_with("order.manage_orders")
    seen, after = [], None
    while True:
        data = api.execute(ALL, {"first": 4, "after": after})["customerSubscriptions"]
        seen += [edge["node"]["id"] for edge in data["edges"]]
        assert data["totalCount"] == 6
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == listed(api)[1] and len(set(seen)) == 6

    first_page = api.execute(ALL, {"first": 2, "filter": {"status": ["ACTIVE", "TRIALING"]}})
    page = first_page["customerSubscriptions"]
    assert [e["node"]["id"] for e in page["edges"]] == ids(subs, "mine_active", "mine_trial")
    rest = listed(api, first=2, after=page["pageInfo"]["endCursor"],
                  filter={"status": ["ACTIVE", "TRIALING"]})
    assert rest == (3, ids(subs, "guest_active"))


def test_listing_all_is_refused_without_manage_orders(subs, staff_api, staff_with, customer_api):
    for api in [ApiClient(), customer_api, staff_with("product.manage_products"),
                app_api(staff_api, "Catalog app", ["MANAGE_PRODUCTS"])]:
        body = api.raw(ALL, {"first": 5})
        assert body["errors"][0]["message"].startswith("You do not have permission")
        assert body["data"]["customerSubscriptions"] is None
