"""Visitors browse plans: subscriptionPlans(variantId | productId) and subscriptionPlan(id)."""
import pytest
from graphene import Node
from plan_api import PLAN_FIELDS, create_plan_via_api

from saleor_subscriptions.testing.client import ApiClient

PLANS = """
query($variant: ID, $product: ID, $archived: Boolean, $quantity: Int) {
  subscriptionPlans(first: 20, variantId: $variant, productId: $product,
                    includeArchived: $archived) {
    totalCount
    edges { node { %s firstCharge(quantity: $quantity) { amount currency } } }
  }
}""" % PLAN_FIELDS.replace("firstCharge { amount currency }", "")
PLAN = """
query($id: ID!) { subscriptionPlan(id: $id) { %s firstCharge(quantity: 2) { amount } } }
""" % PLAN_FIELDS.replace("firstCharge { amount currency }", "")
ARCHIVE = """
mutation($id: ID!) { subscriptionPlanArchive(id: $id) { subscriptionErrors { code } } }"""

pytestmark = pytest.mark.usefixtures("subscriptions_on")


def usd(amount):
    return {"amount": amount, "currency": "USD"}


@pytest.fixture
def plans(staff_api, store):
    """Coffee 250 g (20.00): monthly at 18.00 + 3.00 sign-up fee, and 10 % off with a 14-day trial;
    Coffee 1 kg (60.00): yearly at 600.00; Tea (10.00): weekly 5 % off, archived."""
    coffee, big, tea = (store.variants[sku] for sku in ("COFFEE-250G", "COFFEE-1KG", "TEA-100G"))
    made = {
        "monthly": create_plan_via_api(staff_api, coffee, name="Monthly", price="18.00",
                                       signupFee="3.00"),
        "trial": create_plan_via_api(staff_api, coffee, name="Save 10%", discountPercent="10",
                                     trialDays=14, signupFee="1.50"),
        "yearly": create_plan_via_api(staff_api, big, name="Yearly", intervalUnit="YEAR",
                                      price="600.00"),
        "tea": create_plan_via_api(staff_api, tea, name="Weekly tea", intervalUnit="WEEK",
                                   discountPercent="5"),
    }
    staff_api.mutate(ARCHIVE, {"id": made["tea"]["id"]})
    return made


def nodes(api, **variables):
    variables.setdefault("quantity", 1)
    data = api.execute(PLANS, variables)["subscriptionPlans"]
    return {edge["node"]["name"]: edge["node"] for edge in data["edges"]}


def test_visitor_sees_prices_savings_and_first_charge_of_a_variant(store, plans):
    shown = nodes(ApiClient(), variant=store.variants["COFFEE-250G"], quantity=3)
    assert sorted(shown) == ["Monthly", "Save 10%"]

    monthly = shown["Monthly"]
    assert monthly["price"] == usd(18.0) and monthly["oneOffPrice"] == usd(20.0)
    assert monthly["saving"] == usd(2.0) and monthly["savingPercent"] == 10.0
    assert monthly["signupFee"] == usd(3.0) and monthly["trialDays"] == 0
    assert monthly["firstCharge"] == usd(57.0)  # 3 x 18.00 + 3.00 sign-up fee
    assert monthly["intervalUnit"] == "MONTH" and monthly["billingCycles"] is None

    trial = shown["Save 10%"]
    assert trial["price"] == usd(18.0) and trial["discountPercent"] == 10.0
    assert trial["saving"] == usd(2.0) and trial["savingPercent"] == 10.0
    assert trial["trialDays"] == 14
    assert trial["firstCharge"] == usd(1.5)  # only the sign-up fee during the trial


def test_visitor_sees_every_variant_of_a_product(store, plans):
    shown = nodes(ApiClient(), product=store.products["Coffee beans"])
    assert sorted(shown) == ["Monthly", "Save 10%", "Yearly"]
    yearly = shown["Yearly"]
    assert yearly["price"] == usd(600.0) and yearly["oneOffPrice"] == usd(60.0)
    assert yearly["saving"] == usd(0.0) and yearly["savingPercent"] == 0.0


def test_one_plan_by_id(plans):
    plan = ApiClient().execute(PLAN, {"id": plans["monthly"]["id"]})["subscriptionPlan"]
    assert plan["name"] == "Monthly" and plan["firstCharge"] == {"amount": 39.0}


def test_archived_plans_are_hidden_from_visitors_and_customers(
        store, plans, customer_api, staff_with):
    tea = store.variants["TEA-100G"]
    for api in [ApiClient(), customer_api, staff_with("order.manage_orders")]:
        assert nodes(api, variant=tea, archived=True) == {}
        assert api.execute(PLAN, {"id": plans["tea"]["id"]})["subscriptionPlan"] is None
        assert sorted(nodes(api, archived=True)) == ["Monthly", "Save 10%", "Yearly"]


def test_product_staff_see_archived_plans_when_asking(store, plans, staff_with):
    catalog = staff_with("product.manage_products")
    tea = store.variants["TEA-100G"]
    assert nodes(catalog, variant=tea) == {}
    archived = nodes(catalog, variant=tea, archived=True)["Weekly tea"]
    assert archived["isActive"] is False and archived["price"] == usd(9.5)
    plan = catalog.execute(PLAN, {"id": plans["tea"]["id"]})["subscriptionPlan"]
    assert plan["name"] == "Weekly tea"


@pytest.mark.parametrize("variables", [
    {"variant": "garbage"},
    {"variant": Node.to_global_id("Product", 1)},
    {"product": Node.to_global_id("ProductVariant", 1)},
    {"variant": Node.to_global_id("ProductVariant", 999999)},
])
def test_unknown_ids_find_no_plans(plans, variables):
    assert nodes(ApiClient(), **variables) == {}


@pytest.mark.parametrize("plan_id", ["garbage", Node.to_global_id("ProductVariant", 1)])
def test_unknown_plan_id_is_null(plans, plan_id):
    assert ApiClient().execute(PLAN, {"id": plan_id})["subscriptionPlan"] is None
