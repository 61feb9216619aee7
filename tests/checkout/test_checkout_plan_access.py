"""Who may read and change the plan choices of a checkout (as Saleor's `checkout(token)`):
a customer's checkout only its owner and staff or Apps with MANAGE_CHECKOUTS; a guest checkout
whoever holds its id. Anyone else is answered as if the checkout did not exist."""
import graphene
import pytest

from saleor_subscriptions.models import CheckoutLinePlan
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.apps import app_api
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.users import create_user, login

PLANS = """
query($checkout: ID!) { checkoutSubscriptionPlans(checkoutId: $checkout) { lineId plan { name } } }
"""


def gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


@pytest.fixture
def weekly(variant):
    return create_plan(variant, name="Weekly", interval_unit="week")


def staff(email, *permissions):
    create_user(email, staff=True, permissions=permissions)
    client = ApiClient()
    return client.as_user(login(client, email))


def choices():
    return list(CheckoutLinePlan.objects.values_list("line_id", "plan__name"))


@pytest.fixture
def customers_checkout(customer, customer_api, store, monthly, plugin_on):
    """A signed-in customer's checkout (Saleor makes it theirs) with the monthly plan chosen."""
    checkout = storefront.create_checkout(customer_api, store.variants["COFFEE-250G"],
                                          email=customer.email)
    assert not storefront.choose_plan(customer_api, checkout, gid(monthly))["subscriptionErrors"]
    return checkout


def outsiders(staff_api):
    return {
        "anonymous": ApiClient(),
        "other customer": ApiClient().as_user(login(ApiClient(), create_user("x@example.com").email)),
        "staff without permissions": staff("plain-staff@example.com"),
        "staff with MANAGE_ORDERS": staff("orders@example.com", "order.manage_orders"),
        "app without MANAGE_CHECKOUTS": app_api(staff_api, "orders app", ["MANAGE_ORDERS"]),
    }


def test_outsiders_neither_see_nor_change_a_customers_plan_choice(
        customers_checkout, weekly, staff_api):
    before = choices()
    line = customers_checkout["lines"][0]["id"]
    for who, api in outsiders(staff_api).items():
        seen = api.execute(PLANS, {"checkout": customers_checkout["id"]})
        assert seen["checkoutSubscriptionPlans"] is None, who
        for plan_id in (gid(weekly), None):
            result = api.execute(storefront.PLAN_SET, {
                "checkout": customers_checkout["id"], "line": line, "plan": plan_id,
            })["checkoutLineSubscriptionPlanSet"]
            assert [(e["field"], e["code"]) for e in result["subscriptionErrors"]] == [
                ("checkoutId", "NOT_FOUND")], who
            assert result["checkout"] is None and result["linePlan"] is None, who
        assert choices() == before, who


def test_the_owner_and_checkout_managers_see_and_change_it(
        customers_checkout, customer_api, weekly, monthly, staff_api):
    line = customers_checkout["lines"][0]["id"]
    managers = [customer_api, staff("checkouts@example.com", "checkout.manage_checkouts"),
                app_api(staff_api, "checkouts app", ["MANAGE_CHECKOUTS"])]
    for api in managers:
        seen = api.execute(PLANS, {"checkout": customers_checkout["id"]})
        assert seen["checkoutSubscriptionPlans"][0]["lineId"] == line
        for plan in (weekly, monthly):
            result = storefront.choose_plan(api, customers_checkout, gid(plan))
            assert result["subscriptionErrors"] == []
            assert choices()[0][1] == plan.name
            assert api.execute(PLANS, {"checkout": customers_checkout["id"]})[
                "checkoutSubscriptionPlans"][0]["plan"]["name"] == plan.name


def test_a_guest_checkout_is_reached_by_its_id(api, store, monthly, weekly, customer_api,
                                                plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    for client in (api, customer_api, staff("plain@example.com")):
        assert storefront.choose_plan(client, checkout, gid(weekly))["subscriptionErrors"] == []
        assert storefront.choose_plan(client, checkout, gid(monthly))["subscriptionErrors"] == []
        seen = client.execute(PLANS, {"checkout": checkout["id"]})["checkoutSubscriptionPlans"]
        assert [line["plan"]["name"] for line in seen] == ["Monthly save 10%"]


def test_an_unknown_checkout_reads_as_null(api, plugin_on, store):
    missing = graphene.Node.to_global_id("Checkout", "6b1e1b9e-0d2a-4f57-9bbd-000000000000")
    assert api.execute(PLANS, {"checkout": missing})["checkoutSubscriptionPlans"] is None


def test_a_plan_of_an_unpublished_product_is_neither_shown_nor_chosen(
        api, store, monthly, weekly, plugin_on, staff_with_products):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    assert storefront.choose_plan(api, checkout, gid(monthly))["subscriptionErrors"] == []
    product = monthly.variant.product
    product.is_published = False
    product.save(update_fields=["is_published"])

    (line,) = api.execute(PLANS, {"checkout": checkout["id"]})["checkoutSubscriptionPlans"]
    assert line["plan"] is None
    (line,) = staff_with_products.execute(PLANS, {"checkout": checkout["id"]})[
        "checkoutSubscriptionPlans"]
    assert line["plan"] == {"name": "Monthly save 10%"}
    refused = storefront.choose_plan(api, checkout, gid(weekly))["subscriptionErrors"]
    assert [(e["field"], e["code"]) for e in refused] == [("planId", "NOT_FOUND")]
    assert choices()[0][1] == "Monthly save 10%"


@pytest.fixture
def staff_with_products(db):
    return staff("catalog@example.com", "product.manage_products")
