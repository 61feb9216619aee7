"""The staff list sorts (created, next billing, status, amount) and filters by date ranges
(created, next billing), Saleor's way: `sortBy: {field, direction}`, `filter: {created: {gte,
lte}}`; cursors page over a sorted list; an inverted range is an error that says so."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from graphene import Node

from saleor_subscriptions.testing import factories
from saleor_subscriptions.testing.renewal_factories import variant_from_global_id

LIST = """
query($filter: SubscriptionFilterInput, $sortBy: SubscriptionSortingInput, $first: Int,
      $after: String) {
  customerSubscriptions(first: $first, after: $after, filter: $filter, sortBy: $sortBy) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } }
  }
}"""


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def rows(store, customer):
    """Five subscriptions: (name, status, created, quantity, unit price of the plan)."""
    variant = variant_from_global_id(store.variants["COFFEE-250G"])
    made = {}
    for name, status, start, quantity, price in [
        ("a", "active", utc(2028, 1, 10, 9), 1, "30.00"),      # next billing Feb 10
        ("b", "past_due", utc(2028, 1, 20, 9), 2, "10.00"),    # due again at once: Jan 20
        ("c", "cancelled", utc(2028, 1, 5, 9), 1, "50.00"),    # not billed any more
        ("d", "active", utc(2028, 1, 31, 9), 3, "12.00"),      # next billing Feb 29
        ("e", "paused", utc(2028, 2, 2, 9), 1, "5.00"),        # not billed any more
    ]:
        plan = factories.create_plan(variant, name="Plan " + name, price_amount=Decimal(price))
        made[name] = factories.create_subscription(customer, plan, status, start=start,
                                                   quantity=quantity)
    return made


def listed(api, rows, **variables):
    variables.setdefault("first", 20)
    data = api.execute(LIST, variables)["customerSubscriptions"]
    by_id = {Node.to_global_id("CustomerSubscription", row.pk): name for name, row in rows.items()}
    return "".join(by_id[edge["node"]["id"]] for edge in data["edges"])


@pytest.mark.parametrize("field, ascending", [
    ("CREATED", "cabde"),
    ("NEXT_BILLING", "badce"),  # ce: not billed any more, last (then by id)
    ("STATUS", "adcbe"),  # active, active, cancelled, past_due, paused (then by id)
    ("AMOUNT", "ebadc"),  # 5, 20 (2 × 10), 30, 36 (3 × 12), 50
])
def test_each_field_sorts_both_ways(staff_api, rows, field, ascending):
    sort = {"field": field, "direction": "ASC"}
    assert listed(staff_api, rows, sortBy=sort) == ascending
    # Ties break by id in the same direction: descending is the exact reverse.
    assert listed(staff_api, rows, sortBy=dict(sort, direction="DESC")) == ascending[::-1]


def test_cursors_page_over_a_sorted_list(staff_api, rows):
    sort = {"field": "NEXT_BILLING", "direction": "ASC"}
    seen, after = "", None
    while True:
        data = staff_api.execute(LIST, {"first": 2, "after": after, "sortBy": sort})[
            "customerSubscriptions"]
        by_id = {Node.to_global_id("CustomerSubscription", row.pk): name
                 for name, row in rows.items()}
        seen += "".join(by_id[edge["node"]["id"]] for edge in data["edges"])
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == listed(staff_api, rows, sortBy=sort) == "badce"


def test_date_ranges_filter_created_and_next_billing(staff_api, rows):
    created = {"created": {"gte": "2028-01-10", "lte": "2028-01-31"}}  # both days included
    assert listed(staff_api, rows, filter=created,
                  sortBy={"field": "CREATED", "direction": "ASC"}) == "abd"
    assert listed(staff_api, rows, filter={"created": {"gte": "2028-01-21"}},
                  sortBy={"field": "CREATED", "direction": "ASC"}) == "de"
    due = {"nextBilling": {"gte": "2028-02-01", "lte": "2028-02-29"}}
    assert listed(staff_api, rows, filter=due,
                  sortBy={"field": "NEXT_BILLING", "direction": "ASC"}) == "ad"
    both = {"nextBilling": {"lte": "2028-02-10"}, "status": ["ACTIVE"]}
    assert listed(staff_api, rows, filter=both) == "a"


def test_an_inverted_range_is_an_error_not_an_empty_list(staff_api, rows):
    body = staff_api.raw(LIST, {"first": 5, "filter": {
        "nextBilling": {"gte": "2028-03-01", "lte": "2028-02-01"}}})
    assert body["data"]["customerSubscriptions"] is None
    (error,) = body["errors"]
    assert error["message"] == "`nextBilling`: `gte` (2028-03-01) is after `lte` (2028-02-01)."


def test_an_unknown_sort_field_is_refused_by_the_schema(staff_api, rows):
    body = staff_api.raw(LIST, {"first": 5, "sortBy": {"field": "EMAIL", "direction": "ASC"}})
    assert "errors" in body and "EMAIL" in body["errors"][0]["message"]
