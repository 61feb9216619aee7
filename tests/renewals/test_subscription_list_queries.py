"""A list of subscriptions with `pendingPayment`, `discounts` and `nextRenewalPrice` costs the
same queries for two rows as for six (DataLoaders, as saleor_type_fields.py batches its fields),
in the staff's list, `me { subscriptions }` and `mySubscriptions`, and shows the same values."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_subscriptions.discount_models import DiscountSource
from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt
from saleor_subscriptions.services.discounts import grant_discount
from saleor_subscriptions.testing.renewal_factories import utc

FIELDS = """id
  pendingPayment { status clientSecret paymentMethodId amount { amount currency } }
  discounts { name source percent renewalsLeft }
  nextRenewalPrice { amount currency }"""
LISTS = {
    "staff": ("staff_api", "query { customerSubscriptions(first: 50) { edges { node { %s } } } }"),
    "me": ("customer_api", "query { me { subscriptions { %s } } }"),
    "mine": ("customer_api", "query { mySubscriptions(first: 50) { edges { node { %s } } } }"),
}


def rows(payload):
    (value,) = payload.values()
    if "subscriptions" in value:
        return value["subscriptions"]
    return [edge["node"] for edge in value["edges"]]


def add(renewal, count):
    """Every other subscription has a 10% discount and a charge waiting for 3-D Secure."""
    for _ in range(count):
        subscription = renewal.subscription()
        if subscription.pk % 2:
            continue
        grant_discount(subscription, source=DiscountSource.GOODWILL, percent=Decimal("10"),
                       renewals=3, name="Thanks", now=utc(2028, 2, 1))
        cycle = BillingCycle.objects.create(
            subscription=subscription, cycle_index=1, period_start=utc(2028, 2, 29, 10),
            period_end=utc(2028, 3, 31, 10), status="pending", currency="USD",
            amount=Decimal("18.00"), attempt_count=1)
        PaymentAttempt.objects.create(
            subscription=subscription, cycle=cycle, idempotency_key="3ds:%d" % subscription.pk,
            status=AttemptStatus.ACTION_REQUIRED, currency="USD", amount=Decimal("18.00"),
            gateway_reference="pi_%d" % subscription.pk, client_secret="secret_%d" % subscription.pk)


def queries(api, query):
    with CaptureQueriesContext(connection) as plain:
        api.execute(query % "id")
    with CaptureQueriesContext(connection) as full:
        payload = api.execute(query % FIELDS)
    return len(full) - len(plain), rows(payload)


def check_values(found, staff):
    for row in found:
        if row["pendingPayment"] is None:
            assert row["discounts"] == [] and row["nextRenewalPrice"] == {
                "amount": 20.0, "currency": "USD"}
            continue
        pending = row["pendingPayment"]
        assert (pending["status"], pending["amount"]) == (
            "ACTION_REQUIRED", {"amount": 18.0, "currency": "USD"})
        assert pending["paymentMethodId"].startswith("pm_")
        assert (pending["clientSecret"] is None) == staff
        assert row["discounts"] == [{"name": "Thanks", "source": "GOODWILL", "percent": 10.0,
                                     "renewalsLeft": 3}]
        assert row["nextRenewalPrice"] == {"amount": 18.0, "currency": "USD"}


@pytest.mark.parametrize("which", sorted(LISTS))
def test_the_list_fields_cost_the_same_for_two_rows_or_six(renewal, customer_api, which):
    apis = {"staff_api": renewal.staff_api, "customer_api": customer_api}
    api, query = apis[LISTS[which][0]], LISTS[which][1]
    add(renewal, 2)
    for_two, found = queries(api, query)
    assert len(found) == 2
    check_values(found, staff=which == "staff")
    add(renewal, 4)
    for_six, found = queries(api, query)
    assert len(found) == 6 and sum(row["pendingPayment"] is not None for row in found) == 3
    check_values(found, staff=which == "staff")
    assert for_six == for_two <= 4
