"""Staff manage plans: subscriptionPlanCreate / Update / Archive / Unarchive over /graphql/."""
from decimal import Decimal

import pytest
from graphene import Node
from plan_api import PLAN_CREATE, PLAN_FIELDS, create_plan_via_api, pk_of, plan_rows, switch_plugin

from saleor_subscriptions.models import SubscriptionPlan
from saleor_subscriptions.testing import factories
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.renewal_factories import variant_from_global_id

PLAN_UPDATE = """
mutation($id: ID!, $input: SubscriptionPlanInput!) {
  subscriptionPlanUpdate(id: $id, input: $input) {
    subscriptionPlan { %s }
    subscriptionErrors { field message code }
  }
}""" % PLAN_FIELDS
PLAN_ARCHIVE = """
mutation($id: ID!) {
  subscriptionPlanArchive(id: $id) {
    subscriptionPlan { id isActive } subscriptionErrors { field message code }
  }
}"""
PLAN_UNARCHIVE = PLAN_ARCHIVE.replace("subscriptionPlanArchive", "subscriptionPlanUnarchive")
PLAN_MIGRATE = """
mutation($plan: ID!, $days: Int!) {
  subscriptionPlanMigrateSubscribers(planId: $plan, noticeDays: $days) {
    scheduledCount subscriptionErrors { field message code }
  }
}"""
VISIBLE_PLANS = """
query($variant: ID, $archived: Boolean) {
  subscriptionPlans(first: 20, variantId: $variant, includeArchived: $archived) {
    edges { node { id name isActive } }
  }
}"""

pytestmark = pytest.mark.usefixtures("subscriptions_on")


def errors_of(body):
    (payload,) = body["data"].values()
    return sorted((e["field"], e["code"]) for e in payload["subscriptionErrors"])


def test_create_with_own_price_stores_every_field(staff_api, store):
    variant_id = store.variants["COFFEE-250G"]
    plan = create_plan_via_api(
        staff_api, variant_id, name="Every 2 weeks", family="coffee", tierRank=2,
        intervalUnit="WEEK", intervalCount=2, currency="usd", price="17.50", trialDays=14,
        signupFee="5.00", billingCycles=12, isActive=True,
    )
    assert plan["name"] == "Every 2 weeks" and plan["family"] == "coffee"
    assert (plan["intervalUnit"], plan["intervalCount"], plan["tierRank"]) == ("WEEK", 2, 2)
    assert plan["variantId"] == variant_id and plan["currency"] == "USD"
    assert plan["price"] == {"amount": 17.5, "currency": "USD"}
    assert plan["discountPercent"] is None
    assert plan["saving"]["amount"] == 2.5 and plan["savingPercent"] == 12.5
    assert plan["signupFee"]["amount"] == 5.0 and plan["firstCharge"]["amount"] == 5.0  # trial
    assert (plan["trialDays"], plan["billingCycles"], plan["isActive"]) == (14, 12, True)
    row = SubscriptionPlan.objects.get(pk=pk_of(plan["id"]))
    assert row.variant == variant_from_global_id(variant_id)
    assert row.price_amount == Decimal("17.50") and row.signup_fee_amount == Decimal("5.00")
    assert row.interval_unit == "week" and row.currency == "USD"


def test_create_subscribe_and_save_follows_the_variant_price(staff_api, store):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-1KG"], discountPercent="12.5")
    assert plan["price"]["amount"] == 52.5  # 60.00 less 12.5 %
    assert plan["oneOffPrice"]["amount"] == 60.0 and plan["saving"]["amount"] == 7.5
    assert plan["discountPercent"] == 12.5 and plan["billingCycles"] is None
    assert plan["firstCharge"]["amount"] == 52.5 and plan["signupFee"]["amount"] == 0


@pytest.mark.parametrize("overrides, expected", [
    ({"price": "0"}, [("price", "INVALID")]),
    ({"price": "-5"}, [("price", "INVALID")]),
    ({"price": "20.001"}, [("price", "INVALID")]),
    ({"price": "1000000000"}, [("price", "INVALID")]),
    ({"price": "NaN"}, [("price", "INVALID")]),
    ({"price": "20", "discountPercent": "10"},
     [("discountPercent", "INVALID"), ("price", "INVALID")]),
    ({"price": None}, [("price", "REQUIRED")]),
    ({"price": None, "discountPercent": "0"}, [("discountPercent", "INVALID")]),
    ({"price": None, "discountPercent": "100"}, [("discountPercent", "INVALID")]),
    ({"price": None, "discountPercent": "150"}, [("discountPercent", "INVALID")]),
    ({"price": None, "discountPercent": "12.345"}, [("discountPercent", "INVALID")]),
    ({"intervalCount": 0}, [("intervalCount", "INVALID")]),
    ({"intervalCount": 25}, [("intervalCount", "INVALID")]),
    ({"intervalUnit": "YEAR", "intervalCount": 6}, [("intervalCount", "INVALID")]),
    ({"trialDays": -1}, [("trialDays", "INVALID")]),
    ({"trialDays": 731}, [("trialDays", "INVALID")]),
    ({"signupFee": "-1"}, [("signupFee", "INVALID")]),
    ({"signupFee": "0.005"}, [("signupFee", "INVALID")]),
    ({"billingCycles": 0}, [("billingCycles", "INVALID")]),
    ({"tierRank": -1}, [("tierRank", "INVALID")]),
    ({"renewalNoticeDays": -1}, [("renewalNoticeDays", "INVALID")]),
    ({"renewalNoticeDays": 366}, [("renewalNoticeDays", "INVALID")]),
    ({"renewalNoticeDays": 28}, [("renewalNoticeDays", "INVALID")]),  # February is 28 days
    ({"intervalUnit": "WEEK", "renewalNoticeDays": 7}, [("renewalNoticeDays", "INVALID")]),
    ({"name": "   "}, [("name", "REQUIRED")]),
    ({"name": "x" * 256}, [("name", "INVALID")]),
    ({"currency": "EUR"}, [("currency", "CURRENCY_MISMATCH")]),
    ({"price": "0", "trialDays": 999, "billingCycles": 0},
     [("billingCycles", "INVALID"), ("price", "INVALID"), ("trialDays", "INVALID")]),
    ({"variantId": "not-an-id"}, [("variantId", "INVALID")]),
    ({"variantId": Node.to_global_id("Product", 1)}, [("variantId", "INVALID")]),
    ({"variantId": Node.to_global_id("ProductVariant", 999999)}, [("variantId", "NOT_FOUND")]),
])
def test_create_rejects_bad_input_and_writes_nothing(staff_api, store, overrides, expected):
    plan_input = {"variantId": store.variants["COFFEE-250G"], "name": "Monthly",
                  "intervalUnit": "MONTH", "price": "18.00"}
    plan_input.update(overrides)
    body = staff_api.raw(PLAN_CREATE, {"input": plan_input})
    assert "errors" not in body
    assert errors_of(body) == expected
    assert body["data"]["subscriptionPlanCreate"]["subscriptionPlan"] is None
    assert all(e["message"] for e in body["data"]["subscriptionPlanCreate"]["subscriptionErrors"])
    assert plan_rows() == []


def test_longest_intervals_are_accepted(staff_api, store):
    variant_id = store.variants["TEA-100G"]
    for unit, count in [("DAY", 730), ("WEEK", 104), ("MONTH", 24), ("YEAR", 5)]:
        plan = create_plan_via_api(staff_api, variant_id, intervalUnit=unit,
                                   intervalCount=count, price="9.99", trialDays=730)
        assert (plan["intervalUnit"], plan["intervalCount"]) == (unit, count)
    assert SubscriptionPlan.objects.count() == 4


def test_renewal_notice_days_per_plan(staff_api, store):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="180.00",
                               intervalUnit="YEAR", renewalNoticeDays=30)
    row = SubscriptionPlan.objects.get(pk=pk_of(plan["id"]))
    assert row.renewal_notice_days == 30
    payload = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {"renewalNoticeDays": 0}})
    assert payload["subscriptionErrors"] == []
    plans = staff_api.execute(VISIBLE_PLANS.replace("id name isActive",
                                                    "id renewalNoticeDays"), {"archived": True})
    assert [edge["node"]["renewalNoticeDays"]
            for edge in plans["subscriptionPlans"]["edges"]] == [0]
    # A monthly plan: 27 days at most (the shortest month is 28 days long).
    monthly = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00",
                                  renewalNoticeDays=27)
    assert SubscriptionPlan.objects.get(pk=pk_of(monthly["id"])).renewal_notice_days == 27


def test_update_changes_only_the_given_fields(staff_api, store):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00",
                               billingCycles=6, family="coffee", signupFee="2.00")
    payload = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {
        "name": "Monthly, save 25%", "discountPercent": "25",
    }})
    updated = payload["subscriptionPlan"]
    assert updated["name"] == "Monthly, save 25%"
    assert updated["discountPercent"] == 25 and updated["price"]["amount"] == 15.0
    assert updated["family"] == "coffee" and updated["billingCycles"] == 6
    assert updated["signupFee"]["amount"] == 2.0
    row = SubscriptionPlan.objects.get(pk=pk_of(plan["id"]))
    assert row.price_amount is None and row.discount_percent == Decimal("25")

    # An explicit null makes it renew until cancelled; a price switches back to an own price.
    payload = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {
        "billingCycles": None, "price": "16.00", "variantId": store.variants["COFFEE-1KG"],
    }})
    updated = payload["subscriptionPlan"]
    assert updated["billingCycles"] is None and updated["discountPercent"] is None
    assert updated["price"]["amount"] == 16.0 and updated["oneOffPrice"]["amount"] == 60.0


@pytest.mark.parametrize("plan_input, expected", [
    ({"price": "0"}, [("price", "INVALID")]),
    ({"discountPercent": "10", "price": "10"},
     [("discountPercent", "INVALID"), ("price", "INVALID")]),
    ({"intervalUnit": "YEAR"}, [("intervalCount", "INVALID")]),  # 12 years
    ({"currency": "GBP"}, [("currency", "CURRENCY_MISMATCH")]),
    ({"name": ""}, [("name", "REQUIRED")]),
    ({"variantId": Node.to_global_id("ProductVariant", 999999)}, [("variantId", "NOT_FOUND")]),
])
def test_update_rejects_bad_input_and_writes_nothing(staff_api, store, plan_input, expected):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00",
                               intervalCount=12)
    before = plan_rows()
    body = staff_api.raw(PLAN_UPDATE, {"id": plan["id"], "input": plan_input})
    assert errors_of(body) == expected
    assert plan_rows() == before


def test_billing_terms_are_locked_once_customers_subscribed(staff_api, store, customer):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00")
    subscription = factories.create_subscription(customer, SubscriptionPlan.objects.get())
    before = plan_rows()
    body = staff_api.raw(PLAN_UPDATE, {"id": plan["id"], "input": {
        "intervalCount": 2, "billingCycles": 3, "variantId": store.variants["TEA-100G"],
    }})
    assert errors_of(body) == [("billingCycles", "NOT_ALLOWED"), ("intervalCount", "NOT_ALLOWED"),
                               ("variantId", "NOT_ALLOWED")]
    assert plan_rows() == before

    # The price may change: new subscribers pay it, existing ones keep theirs.
    payload = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {"price": "19.00"}})
    assert payload["subscriptionPlan"]["price"]["amount"] == 19.0
    subscription.refresh_from_db()
    assert subscription.unit_price_amount == Decimal("18.00")


def test_archive_hides_the_plan_and_unarchive_brings_it_back(staff_api, store):
    variant_id = store.variants["COFFEE-250G"]
    kept = create_plan_via_api(staff_api, variant_id, name="Monthly", price="18.00")
    plan = create_plan_via_api(staff_api, variant_id, name="Weekly", intervalUnit="WEEK",
                               price="5.00")
    visitor = ApiClient()

    def names(api, archived=None):
        data = api.execute(VISIBLE_PLANS, {"variant": variant_id, "archived": archived})
        return sorted(edge["node"]["name"] for edge in data["subscriptionPlans"]["edges"])

    archived = staff_api.mutate(PLAN_ARCHIVE, {"id": plan["id"]})["subscriptionPlan"]
    assert archived == {"id": plan["id"], "isActive": False}
    assert not SubscriptionPlan.objects.get(pk=pk_of(plan["id"])).is_active
    assert names(visitor) == ["Monthly"] and names(visitor, True) == ["Monthly"]
    assert names(staff_api) == ["Monthly"]
    assert names(staff_api, True) == ["Monthly", "Weekly"]
    # Archiving twice is harmless.
    assert staff_api.mutate(PLAN_ARCHIVE, {"id": plan["id"]})["subscriptionPlan"]["isActive"] is False

    unarchived = staff_api.mutate(PLAN_UNARCHIVE, {"id": plan["id"]})["subscriptionPlan"]
    assert unarchived["isActive"] is True
    assert names(visitor) == ["Monthly", "Weekly"]
    assert SubscriptionPlan.objects.get(pk=pk_of(kept["id"])).is_active


@pytest.mark.parametrize("mutation", [PLAN_ARCHIVE, PLAN_UNARCHIVE, PLAN_UPDATE])
@pytest.mark.parametrize("plan_id, code", [
    ("bogus", "INVALID"),
    (Node.to_global_id("ProductVariant", 1), "INVALID"),
    (Node.to_global_id("SubscriptionPlan", 999999), "NOT_FOUND"),
])
def test_unknown_plan_ids_are_reported(staff_api, store, mutation, plan_id, code):
    variables = {"id": plan_id}
    if mutation is PLAN_UPDATE:
        variables["input"] = {"name": "Renamed"}
    assert errors_of(staff_api.raw(mutation, variables)) == [("id", code)]


def test_plugin_switched_off_refuses_plan_changes(staff_api, store):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00")
    switch_plugin(staff_api, False)
    before = plan_rows()
    plan_input = {"variantId": store.variants["TEA-100G"], "name": "Monthly",
                  "intervalUnit": "MONTH", "price": "9.00"}
    for query, variables in [
        (PLAN_CREATE, {"input": plan_input}),
        (PLAN_UPDATE, {"id": plan["id"], "input": {"price": "1.00"}}),
        (PLAN_ARCHIVE, {"id": plan["id"]}),
    ]:
        assert errors_of(staff_api.raw(query, variables)) == [(None, "PLUGIN_INACTIVE")]
    assert plan_rows() == before


def _refused(api, store, plan_id):
    plan_input = {"variantId": store.variants["TEA-100G"], "name": "Monthly",
                  "intervalUnit": "MONTH", "price": "9.00"}
    for query, variables in [
        (PLAN_CREATE, {"input": plan_input}),
        (PLAN_UPDATE, {"id": plan_id, "input": {"price": "1.00"}}),
        (PLAN_ARCHIVE, {"id": plan_id}),
        (PLAN_UNARCHIVE, {"id": plan_id}),
        (PLAN_MIGRATE, {"plan": plan_id, "days": 30}),
    ]:
        body = api.raw(query, variables)
        assert body["errors"][0]["message"].startswith("You do not have permission")
        assert list(body["data"].values()) == [None]


@pytest.mark.parametrize("who", ["anonymous", "customer", "orders_staff", "orders_app"])
def test_refused_without_manage_products(request, staff_api, staff_with, store, who):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="18.00")
    api = {
        "anonymous": ApiClient,
        "customer": lambda: request.getfixturevalue("customer_api"),
        "orders_staff": lambda: staff_with("order.manage_orders", "plugins.manage_plugins"),
        "orders_app": lambda: app_api(staff_api, "Orders app", ["MANAGE_ORDERS"]),
    }[who]()
    before = plan_rows()
    _refused(api, store, plan["id"])
    assert plan_rows() == before


def test_staff_and_apps_with_manage_products_manage_plans(staff_api, staff_with, store):
    for api in [staff_with("product.manage_products"),
                app_api(staff_api, "Catalog app", ["MANAGE_PRODUCTS"])]:
        plan = create_plan_via_api(api, store.variants["TEA-100G"], price="9.00")
        assert api.mutate(PLAN_ARCHIVE, {"id": plan["id"]})["subscriptionPlan"]["isActive"] is False
    assert SubscriptionPlan.objects.filter(is_active=False).count() == 2
