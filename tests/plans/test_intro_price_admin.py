"""Intro prices on plans: subscriptionPlanCreate/Update validate them like the other prices."""
from decimal import Decimal

import pytest
from plan_api import PLAN_CREATE, create_plan_via_api, pk_of, plan_rows

from saleor_subscriptions.models import SubscriptionPlan

pytestmark = pytest.mark.usefixtures("subscriptions_on")

PLAN_UPDATE = """
mutation($id: ID!, $input: SubscriptionPlanInput!) {
  subscriptionPlanUpdate(id: $id, input: $input) {
    subscriptionPlan { introPrice { amount currency } introCycles firstCharge { amount } }
    subscriptionErrors { field message code }
  }
}"""


def errors_of(body):
    (payload,) = body["data"].values()
    assert all(e["message"] for e in payload["subscriptionErrors"])
    return sorted((e["field"], e["code"]) for e in payload["subscriptionErrors"])


def test_create_and_update_intro_terms(staff_api, store):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="19.99",
                               introPrice="9.99", introCycles=3)
    row = SubscriptionPlan.objects.get(pk=pk_of(plan["id"]))
    assert (row.intro_price_amount, row.intro_cycles) == (Decimal("9.99"), 3)
    assert plan["firstCharge"]["amount"] == 9.99

    changed = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {"introCycles": 2}})
    assert changed["subscriptionPlan"]["introPrice"] == {"amount": 9.99, "currency": "USD"}
    assert changed["subscriptionPlan"]["introCycles"] == 2

    removed = staff_api.mutate(PLAN_UPDATE, {"id": plan["id"], "input": {"introCycles": 0}})
    assert removed["subscriptionPlan"]["introPrice"] is None
    assert removed["subscriptionPlan"]["introCycles"] == 0
    assert removed["subscriptionPlan"]["firstCharge"]["amount"] == 19.99
    row.refresh_from_db()
    assert (row.intro_price_amount, row.intro_cycles) == (None, 0)


@pytest.mark.parametrize("overrides, expected", [
    ({"introPrice": "9.99", "introCycles": -1}, [("introCycles", "INVALID")]),
    ({"introPrice": "9.99", "introCycles": 121}, [("introCycles", "INVALID")]),
    ({"introPrice": "9.999", "introCycles": 3}, [("introPrice", "INVALID")]),
    ({"introPrice": "0", "introCycles": 3}, [("introPrice", "INVALID")]),
    ({"introPrice": "-1", "introCycles": 3}, [("introPrice", "INVALID")]),
    ({"introPrice": "9.99"}, [("introCycles", "REQUIRED")]),
    ({"introPrice": "9.99", "introCycles": 0}, [("introCycles", "REQUIRED")]),
    ({"introCycles": 3}, [("introPrice", "REQUIRED")]),
    ({"introPrice": "9.99", "introCycles": 3, "currency": "EUR"},
     [("currency", "CURRENCY_MISMATCH")]),
    ({"introPrice": "9.99", "introCycles": 7, "billingCycles": 6}, [("introCycles", "INVALID")]),
])
def test_bad_intro_terms_are_refused_and_nothing_is_written(staff_api, store, overrides,
                                                            expected):
    plan_input = {"variantId": store.variants["COFFEE-250G"], "name": "Monthly",
                  "intervalUnit": "MONTH", "price": "19.99"}
    plan_input.update(overrides)
    body = staff_api.raw(PLAN_CREATE, {"input": plan_input})
    assert "errors" not in body
    assert errors_of(body) == expected
    assert plan_rows() == []


@pytest.mark.parametrize("plan_input, expected", [
    ({"introCycles": -2}, [("introCycles", "INVALID")]),
    ({"introPrice": "4.995"}, [("introPrice", "INVALID")]),
    ({"introPrice": None}, [("introPrice", "REQUIRED")]),
    ({"introPrice": "5.00", "currency": "GBP"}, [("currency", "CURRENCY_MISMATCH")]),
])
def test_bad_intro_updates_change_nothing(staff_api, store, plan_input, expected):
    plan = create_plan_via_api(staff_api, store.variants["COFFEE-250G"], price="19.99",
                               introPrice="9.99", introCycles=3)
    before = plan_rows()
    body = staff_api.raw(PLAN_UPDATE, {"id": plan["id"], "input": plan_input})
    assert errors_of(body) == expected
    assert plan_rows() == before
