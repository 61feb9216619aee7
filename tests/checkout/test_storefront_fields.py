"""A storefront reads plans where it reads products: subscription fields on Saleor's own types
(Product, ProductVariant, CheckoutLine, Order, User), batched, and shown only to whom they may be."""
from decimal import Decimal

import graphene
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.store import add_product

PRODUCTS = """
query {
  products(first: 20) {
    edges { node {
      name
      subscriptionPlans { name price { amount currency } }
      variants { sku subscriptionPlans { name } }
    } }
  }
}"""

CHECKOUT_LINES = """
query($token: UUID!) {
  checkout(token: $token) {
    lines { quantity variant { sku } subscriptionPlan { name firstCharge(quantity: 2) { amount } } }
  }
}"""

ORDER_SUBSCRIPTIONS = """
query($id: ID!) { order(id: $id) { number subscriptions { id status plan { name } } } }"""

MY_SUBSCRIPTIONS = """
query { me { email subscriptions { id status quantity plan { name } } } }"""

USER_SUBSCRIPTIONS = """
query($id: ID!) { user(id: $id) { email subscriptions { id plan { name } } } }"""


def gid(type_name, pk):
    return graphene.Node.to_global_id(type_name, pk)


def products(api):
    edges = api.execute(PRODUCTS)["products"]["edges"]
    return {edge["node"]["name"]: edge["node"] for edge in edges}


def test_products_and_variants_list_their_active_plans(api, store, monthly, plugin_on):
    big = rf.variant_from_global_id(store.variants["COFFEE-1KG"])
    yearly = create_plan(big, name="Yearly", interval_unit="year", price_amount=Decimal("600.00"))
    create_plan(big, name="Old plan", is_active=False)

    coffee = products(api)["Coffee beans"]

    assert [plan["name"] for plan in coffee["subscriptionPlans"]] == [
        monthly.name, yearly.name]
    assert {plan["name"]: plan["price"] for plan in coffee["subscriptionPlans"]}[yearly.name] == {
        "amount": 600.0, "currency": "USD"}
    by_sku = {variant["sku"]: variant["subscriptionPlans"] for variant in coffee["variants"]}
    assert by_sku == {"COFFEE-250G": [{"name": monthly.name}], "COFFEE-1KG": [{"name": "Yearly"}]}
    assert products(api)["Tea"]["subscriptionPlans"] == []


def plan_field_queries(api):
    """The queries our plan fields add to a product list (with them minus without them)."""
    plain = PRODUCTS.replace("subscriptionPlans { name price { amount currency } }", "").replace(
        "subscriptionPlans { name }", "")
    with CaptureQueriesContext(connection) as without:
        api.execute(plain)
    with CaptureQueriesContext(connection) as with_plans:
        api.execute(PRODUCTS)
    return len(with_plans) - len(without)


def test_plan_fields_cost_the_same_queries_for_two_products_or_five(
        api, staff_api, store, plugin_on):
    for sku in ("COFFEE-250G", "COFFEE-1KG", "TEA-100G"):
        create_plan(rf.variant_from_global_id(store.variants[sku]), name="Plan " + sku)
    for_three = plan_field_queries(api)
    for index in range(3):
        sku = "EXTRA-%d" % index
        added = add_product(staff_api, store, "Extra %d" % index, Decimal("5.00"),
                            {sku: Decimal("5.00")})
        create_plan(rf.variant_from_global_id(added[sku]), name="Plan " + sku)

    assert len(products(api)) == 5
    assert plan_field_queries(api) == for_three <= 4


def test_a_visitor_sees_no_plans_of_an_unpublished_product(api, staff_api, store, monthly,
                                                            plugin_on):
    staff_api.mutate("""
      mutation($id: ID!) { productUpdate(id: $id, input: {isPublished: false}) {
        productErrors { code } } }""", {"id": store.products["Coffee beans"]})

    assert "Coffee beans" not in products(api)
    coffee = products(staff_api)["Coffee beans"]
    assert [plan["name"] for plan in coffee["subscriptionPlans"]] == [monthly.name]


def test_a_checkout_line_shows_the_chosen_plan(api, store, monthly, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"], quantity=2)
    lines = api.execute(CHECKOUT_LINES, {"token": checkout["token"]})["checkout"]["lines"]
    assert lines == [{"quantity": 2, "variant": {"sku": "COFFEE-250G"}, "subscriptionPlan": None}]

    storefront.choose_plan(api, checkout, gid("SubscriptionPlan", monthly.pk))
    lines = api.execute(CHECKOUT_LINES, {"token": checkout["token"]})["checkout"]["lines"]

    assert lines == [{"quantity": 2, "variant": {"sku": "COFFEE-250G"}, "subscriptionPlan": {
        "name": monthly.name, "firstCharge": {"amount": 36.0}}}]


def test_order_and_user_show_the_subscription_to_its_owner_and_staff_only(
        customer, customer_api, other_customer_api, staff_api, store, monthly, new_card):
    result = storefront.buy(customer_api, store.variants["COFFEE-250G"],
                            gid("SubscriptionPlan", monthly.pk), new_card(),
                            email=customer.email)
    assert result["checkoutErrors"] == []
    order_id = result["order"]["id"]

    mine = customer_api.execute(MY_SUBSCRIPTIONS)["me"]["subscriptions"]
    assert [(s["status"], s["quantity"], s["plan"]["name"]) for s in mine] == [
        ("ACTIVE", 1, monthly.name)]
    from_order = staff_api.execute(ORDER_SUBSCRIPTIONS, {"id": order_id})["order"]
    assert [s["id"] for s in from_order["subscriptions"]] == [mine[0]["id"]]
    staff_view = staff_api.execute(USER_SUBSCRIPTIONS, {"id": gid("User", customer.pk)})["user"]
    assert [s["id"] for s in staff_view["subscriptions"]] == [mine[0]["id"]]

    assert other_customer_api.execute(MY_SUBSCRIPTIONS)["me"]["subscriptions"] == []
    assert ApiClient().raw(ORDER_SUBSCRIPTIONS, {"id": order_id})["data"]["order"] is None


def test_staff_without_manage_orders_sees_no_subscriptions_of_a_user(customer, store, monthly,
                                                                       new_card, customer_api):
    from saleor_subscriptions.testing.users import create_user, login

    storefront.buy(customer_api, store.variants["COFFEE-250G"],
                   gid("SubscriptionPlan", monthly.pk), new_card(), email=customer.email)
    users_only = create_user("users@example.com", staff=True, permissions=["account.manage_users"])
    client = ApiClient()
    client = client.as_user(login(client, users_only.email))

    viewed = client.execute(USER_SUBSCRIPTIONS, {"id": gid("User", customer.pk)})["user"]

    assert viewed["email"] == customer.email and viewed["subscriptions"] == []
