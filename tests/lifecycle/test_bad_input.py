"""Bad input from outside answers typed errors (`subscriptionErrors`/`pluginsErrors`), never a
GraphQL error with Python's text, and changes nothing (issue 12, item 4)."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import graphene
import pytest
from saleor.product.models import ProductVariant

from saleor_subscriptions.models import Subscription, SubscriptionPlan
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import PLUGIN_UPDATE

CANCEL = """
mutation($id: ID!, $text: String) {
  subscriptionCancel(id: $id, reasonText: $text) { subscriptionErrors { field code message } }
}"""
PLAN_CREATE = """
mutation($input: SubscriptionPlanCreateInput!) {
  subscriptionPlanCreate(input: $input) { subscriptionErrors { field code message } }
}"""
REFUND = """
mutation($id: ID!, $order: ID!, $amount: Decimal) {
  subscriptionRefund(id: $id, orderId: $order, amount: $amount) {
    subscriptionErrors { field code message }
  }
}"""
CHANGE = """
mutation($id: ID!, $plan: ID!, $quantity: Int!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: $quantity) {
    subscriptionErrors { field code message }
  }
}"""
PREVIEW = """
query($id: ID!, $plan: ID!, $quantity: Int!) {
  subscriptionChangePlanPreview(id: $id, planId: $plan, quantity: $quantity) {
    quote { kind } subscriptionErrors { field code message }
  }
}"""
MOVE = """
mutation($id: ID!, $date: DateTime!) {
  subscriptionNextBillingDateUpdate(id: $id, date: $date) {
    subscriptionErrors { field code message }
  }
}"""


def snapshot(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return (row.status, row.cancel_at_period_end, row.cancel_reason_text, row.next_billing_at,
            row.anchor_at, row.plan_id, row.quantity, row.scheduled_plan_id, row.events.count())


def typed(body, name):
    """The mutation's typed errors; a GraphQL `errors` entry fails the test."""
    assert "errors" not in body, body.get("errors")
    return [(error["field"], error["code"]) for error in body["data"][name]["subscriptionErrors"]]


def plan_gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


@pytest.mark.parametrize("text", ["too\x00expensive", "x" * 2001], ids=["nul", "2001 chars"])
def test_cancel_reason_text_with_nul_or_too_long_is_refused(customer_api, subscription, gid,
                                                             text):
    before = snapshot(subscription)
    body = customer_api.raw(CANCEL, {"id": gid(subscription), "text": text})
    assert typed(body, "subscriptionCancel") == [("reasonText", "INVALID")]
    assert snapshot(subscription) == before


def test_cancel_reason_text_of_2000_characters_is_kept_whole(customer_api, subscription, gid):
    body = customer_api.raw(CANCEL, {"id": gid(subscription), "text": "y" * 2000})
    assert typed(body, "subscriptionCancel") == []
    event = Subscription.objects.get(pk=subscription.pk).events.get(type="cancellation_scheduled")
    assert event.parameters["reason_text"] == "y" * 2000


@pytest.mark.parametrize("field", ["name", "family"])
def test_nul_in_plan_texts_is_refused(staff_api, store, subscriptions_on, field):
    plan_input = {"variantId": store.variants["COFFEE-250G"], "name": "Monthly",
                  "intervalUnit": "MONTH", "price": "10.00"}
    plan_input[field] = "bad\x00text"
    body = staff_api.raw(PLAN_CREATE, {"input": plan_input})
    assert typed(body, "subscriptionPlanCreate") == [(field, "INVALID")]
    assert not SubscriptionPlan.objects.filter(name__startswith="bad").exists()


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e30", "sNaN", "0.001",
                                    "-1", "0", "lots"])
def test_refund_amounts_that_are_not_money_are_refused(staff_api, subscription, gid, amount):
    before = snapshot(subscription)
    order = graphene.Node.to_global_id("Order", 1)
    body = staff_api.raw(REFUND, {"id": gid(subscription), "order": order, "amount": amount})
    if amount == "lots":
        # Not a Decimal at all: GraphQL's own input coercion refuses it before we run.
        assert 'got invalid value "lots"' in body["errors"][0]["message"]
    else:
        assert typed(body, "subscriptionRefund") == [("amount", "INVALID")]
    assert snapshot(subscription) == before


@pytest.fixture
def tiers(subscription):
    variant = subscription.plan.variant
    SubscriptionPlan.objects.filter(pk=subscription.plan_id).update(family="club")
    return {
        "bigger": create_plan(variant, name="Bigger", family="club", price_amount=Decimal("99")),
        "tea": create_plan(ProductVariant.objects.get(sku="TEA-100G"), name="Tea", family="club"),
        "other family": create_plan(variant, name="Other", family="tea"),
    }


@pytest.mark.parametrize("quantity", [2 ** 31 - 1, 10001])
def test_plan_change_quantity_has_an_upper_limit(customer_api, subscription, gid, tiers,
                                                 quantity):
    before = snapshot(subscription)
    variables = {"id": gid(subscription), "plan": plan_gid(tiers["bigger"]), "quantity": quantity}
    assert typed(customer_api.raw(CHANGE, variables), "subscriptionChangePlan") == [
        ("quantity", "INVALID")]
    assert typed(customer_api.raw(PREVIEW, variables), "subscriptionChangePlanPreview") == [
        ("quantity", "INVALID")]
    assert snapshot(subscription) == before


def test_plan_change_whose_amount_does_not_fit_is_refused(customer_api, subscription, gid,
                                                          tiers):
    SubscriptionPlan.objects.filter(pk=tiers["bigger"].pk).update(
        price_amount=Decimal("999999999"))
    before = snapshot(subscription)
    variables = {"id": gid(subscription), "plan": plan_gid(tiers["bigger"]), "quantity": 2}
    assert typed(customer_api.raw(CHANGE, variables), "subscriptionChangePlan") == [
        ("quantity", "INVALID")]
    assert snapshot(subscription) == before


@pytest.mark.parametrize("plan, code", [("other family", "OTHER_FAMILY"),
                                        ("tea", "OTHER_PRODUCT")])
def test_preview_and_change_answer_typed_refusals(customer_api, subscription, gid, tiers, plan,
                                                  code):
    before = snapshot(subscription)
    variables = {"id": gid(subscription), "plan": plan_gid(tiers[plan]), "quantity": 1}
    preview = customer_api.raw(PREVIEW, variables)
    assert typed(preview, "subscriptionChangePlanPreview") == [("planId", code)]
    assert preview["data"]["subscriptionChangePlanPreview"]["quote"] is None
    assert typed(customer_api.raw(CHANGE, variables), "subscriptionChangePlan") == [
        ("planId", code)]
    assert snapshot(subscription) == before


def test_preview_outside_the_current_period_is_refused(customer_api, subscription, gid, tiers):
    """A renewal is due (or the period has not begun): there is nothing to prorate yet."""
    variables = {"id": gid(subscription), "plan": plan_gid(tiers["bigger"]), "quantity": 1}
    for start, end in ((NOW + timedelta(days=1), NOW + timedelta(days=31)),
                       (NOW - timedelta(days=31), NOW - timedelta(days=1))):
        Subscription.objects.filter(pk=subscription.pk).update(
            current_period_start=start, current_period_end=end, next_billing_at=end)
        preview = customer_api.raw(PREVIEW, variables)
        assert typed(preview, "subscriptionChangePlanPreview") == [("id", "INVALID_STATUS")]
        assert typed(customer_api.raw(CHANGE, variables), "subscriptionChangePlan") == [
            ("id", "INVALID_STATUS")]


def test_preview_of_an_allowed_change_has_no_errors(customer_api, subscription, gid, tiers):
    Subscription.objects.filter(pk=subscription.pk).update(
        current_period_start=NOW - timedelta(days=1), current_period_end=NOW + timedelta(days=29),
        next_billing_at=NOW + timedelta(days=29))
    variables = {"id": gid(subscription), "plan": plan_gid(tiers["bigger"]), "quantity": 1}
    preview = customer_api.raw(PREVIEW, variables)
    assert typed(preview, "subscriptionChangePlanPreview") == []
    assert preview["data"]["subscriptionChangePlanPreview"]["quote"] == {"kind": "upgrade"}


NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize("date", [
    "9999-12-31T00:00:00+00:00",
    (NOW + timedelta(days=3660 + 10)).isoformat(),
    (NOW - timedelta(days=1)).isoformat(),
    "0001-01-01T00:30:00+01:00",
    (NOW + timedelta(days=10)).replace(tzinfo=None).isoformat(),  # naive: refused
    "not a date",
])
def test_next_billing_date_must_be_aware_and_within_ten_years(staff_api, subscription, gid,
                                                              date):
    before = snapshot(subscription)
    body = staff_api.raw(MOVE, {"id": gid(subscription), "date": date})
    if "errors" in body:
        # A value that is no datetime at all is refused by GraphQL's own input coercion.
        assert date == "not a date" and "Expected type" in body["errors"][0]["message"]
    else:
        assert typed(body, "subscriptionNextBillingDateUpdate") == [("date", "INVALID")]
    assert snapshot(subscription) == before


def test_next_billing_date_ten_years_ahead_is_accepted(staff_api, subscription, gid):
    date = (NOW + timedelta(days=3650)).isoformat()
    assert typed(staff_api.raw(MOVE, {"id": gid(subscription), "date": date}),
                 "subscriptionNextBillingDateUpdate") == []


def test_misspelt_setting_name_is_refused(staff_api, subscriptions_on):
    body = staff_api.raw(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {
        "configuration": [{"name": "Payment retry shedule", "value": "1,2"}]}})
    assert "errors" not in body
    assert [(e["field"], e["code"]) for e in body["data"]["pluginUpdate"]["pluginsErrors"]] == [
        ("Payment retry shedule", "INVALID")]


@pytest.mark.parametrize("value", ["a\x00b", "x" * 1001], ids=["nul", "1001 chars"])
def test_setting_values_with_nul_or_huge_are_refused(staff_api, subscriptions_on, value):
    body = staff_api.raw(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {
        "configuration": [{"name": "Stripe publishable key", "value": value}]}})
    assert "errors" not in body, body.get("errors")
    assert [(e["field"], e["code"]) for e in body["data"]["pluginUpdate"]["pluginsErrors"]] == [
        ("Stripe publishable key", "INVALID")]


def test_retry_schedule_errors_read_as_days_and_hours(staff_api, subscriptions_on):
    body = staff_api.raw(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {
        "configuration": [{"name": "Payment retry schedule", "value": "2,36h"}]}})
    (error,) = body["data"]["pluginUpdate"]["pluginsErrors"]
    assert error["field"] == "Payment retry schedule"
    assert error["message"] == (
        "Retry delays are counted from the first failure and must increase: 1 day 12 hours "
        "is not after 2 days.")


@pytest.mark.parametrize("arguments", ['first: 366', 'last: -1', 'first: 5, after: "0"',
                                       'first: 5, before: "AA=="', 'first: 5, after: "bm90IGpzb24="'])
@pytest.mark.parametrize("field", ["mySubscriptions", "customerSubscriptions", "subscriptionPlans"])
def test_bad_pagination_is_a_graphql_error_not_a_crash(staff_api, field, arguments):
    body = staff_api.raw("{ %s(%s) { edges { node { id } } } }" % (field, arguments))
    (error,) = body["errors"]
    assert error["extensions"]["exception"]["code"] == "GraphQLError", error


ADDRESS_UPDATE = """
mutation($id: ID!, $address: AddressInput) {
  subscriptionAddressUpdate(id: $id, shippingAddress: $address) {
    subscriptionErrors { field code message }
  }
}"""


@pytest.mark.parametrize("field", ["streetAddress1", "city", "firstName", "postalCode"])
def test_control_characters_in_an_address_are_refused(customer_api, subscription, gid, field):
    address = {"firstName": "Ada", "lastName": "L", "streetAddress1": "1 Main St",
               "city": "AUSTIN", "postalCode": "73301", "country": "US", "countryArea": "TX"}
    address[field] = "1\x00"
    before = snapshot(subscription)
    body = customer_api.raw(ADDRESS_UPDATE, {"id": gid(subscription), "address": address})
    assert typed(body, "subscriptionAddressUpdate") == [("shippingAddress", "INVALID")]
    assert snapshot(subscription) == before
