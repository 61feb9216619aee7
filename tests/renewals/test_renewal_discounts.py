"""Discounts on renewals, given by staff (goodwill) through GraphQL and charged at localstripe:
exactly N discounted renewal orders, the discount shown by name, full price after; a declined
renewal uses nothing; the MRR ledger sees the contraction and the expansion."""
from decimal import Decimal

import graphene

from saleor_subscriptions.discount_models import SubscriptionDiscount
from saleor_subscriptions.models import BillingCycle, MrrMovement
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

GRANT = """
mutation($id: ID!, $percent: Decimal, $amount: Decimal, $currency: String, $renewals: Int,
         $reason: String!) {
  subscriptionDiscountGrant(id: $id, percent: $percent, amount: $amount, currency: $currency,
                            renewals: $renewals, reason: $reason) {
    subscription {
      discounts { id source name percent amount { amount currency } renewalsLeft reason }
      nextRenewalPrice { amount }
    }
    subscriptionErrors { field code }
  }
}"""
FREE = """
mutation($id: ID!, $cycles: Int, $days: Int, $reason: String!) {
  subscriptionFreePeriodGrant(id: $id, cycles: $cycles, days: $days, reason: $reason) {
    subscription { nextBillingAt } subscriptionErrors { field code }
  }
}"""
END = """
mutation($id: ID!, $reason: String!) {
  subscriptionDiscountEnd(id: $id, reason: $reason) {
    subscription { discounts { id } } subscriptionErrors { field code }
  }
}"""
SHOWN = """
query($id: ID!) {
  customerSubscription(id: $id) {
    discounts { name renewalsLeft reason } nextRenewalPrice { amount }
    events { type parameters }
  }
}"""


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def grant(renewal, subscription, **variables):
    variables.setdefault("reason", "Late delivery in March")
    result = renewal.staff_api.execute(GRANT, dict(variables, id=gid(subscription)))
    return result["subscriptionDiscountGrant"]


def order_of(subscription, index):
    return BillingCycle.objects.get(subscription=subscription, cycle_index=index).order


def test_a_discount_for_three_renewals_gives_three_discounted_orders_then_full_price(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card, start=utc(2028, 1, 31, 10))
    payload = grant(renewal, subscription, percent="25", renewals=3)
    assert payload["subscriptionErrors"] == []
    shown = payload["subscription"]
    assert shown["discounts"][0]["source"] == "GOODWILL"
    assert shown["discounts"][0]["renewalsLeft"] == 3
    assert shown["nextRenewalPrice"] == {"amount": 15.0}

    for month, day in ((2, 29), (3, 31), (4, 30), (5, 31), (6, 30)):
        assert renewal.run(utc(2028, month, day, 11)) == {"renewed": 1}

    cents = sorted((intent["created"], intent["amount"])
                   for intent in renewal.intents(card.customer_id))
    # 20.00 less 25 % (5.00) plus shipping, three times; then the full 20.00 plus shipping.
    shipping = order_of(subscription, 1).shipping_price_gross_amount
    discounted = int((Decimal("15.00") + shipping) * 100)
    full = int((Decimal("20.00") + shipping) * 100)
    assert [amount for _created, amount in cents] == [discounted] * 3 + [full] * 2
    for index in (1, 2, 3):
        order = order_of(subscription, index)
        assert order.discount_name == "Goodwill discount"
        assert order.discount_amount == Decimal("5.000")
        assert order.total_gross_amount == Decimal("15.00") + shipping
    for index in (4, 5):
        order = order_of(subscription, index)
        assert order.discount_amount == 0 and order.total_gross_amount == Decimal("20.00") + shipping

    discount = SubscriptionDiscount.objects.get()
    assert (discount.renewals_left, discount.renewals_used) == (0, 3)
    assert discount.ended_at is not None and discount.end_reason == "used_up"
    events = [event.type for event in subscription.events.order_by("date", "pk")]
    assert events.count("discount_granted") == 1 and events.count("discount_ended") == 1
    kinds = list(MrrMovement.objects.filter(subscription=subscription).order_by("pk")
                 .values_list("kind", "amount"))
    assert kinds == [("new", Decimal("20.000")), ("contraction", Decimal("-5.000")),
                     ("expansion", Decimal("5.000"))]

    seen = renewal.staff_api.execute(SHOWN, {"id": gid(subscription)})["customerSubscription"]
    assert seen["discounts"] == [] and seen["nextRenewalPrice"] == {"amount": 20.0}


def test_a_declined_renewal_uses_nothing_and_amounts_combine(renewal):
    declining = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(card=declining, start=utc(2028, 1, 31, 10))
    assert grant(renewal, subscription, amount="3.50", currency="USD",
                 renewals=2)["subscriptionErrors"] == []
    assert grant(renewal, subscription, percent="10", renewals=1)["subscriptionErrors"] == []
    assert renewal.run(utc(2028, 2, 29, 11)) == {"failed": 1}
    assert set(SubscriptionDiscount.objects.values_list("renewals_left", flat=True)) == {2, 1}

    good = renewal.card(customer_id=declining.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    assert renewal.run(utc(2028, 3, 2, 11)) == {"renewed": 1}
    order = order_of(subscription, 1)
    # Percent first (10 % of 20.00 = 2.00), then the amount (3.50): 5.50 off.
    assert order.discount_name == "Goodwill discount, Goodwill discount"
    assert order.discount_amount == Decimal("5.500")
    left = dict(SubscriptionDiscount.objects.values_list("percent", "renewals_left"))
    assert left == {Decimal("10.00"): 0, None: 1}
    assert renewal.run(utc(2028, 3, 31, 11)) == {"renewed": 1}
    assert order_of(subscription, 2).discount_amount == Decimal("3.500")
    charged = [intent["amount"] for intent in renewal.intents(declining.customer_id)
               if intent["status"] == "succeeded"]
    shipping = order.shipping_price_gross_amount
    assert sorted(charged) == sorted([int((Decimal("14.50") + shipping) * 100),
                                      int((Decimal("16.50") + shipping) * 100)])


def test_bad_grants_are_typed_errors_and_change_nothing(renewal):
    subscription = renewal.subscription()
    cases = [
        ({"percent": "25", "renewals": -1}, "renewals", "INVALID"),
        ({"percent": "25", "renewals": 0}, "renewals", "INVALID"),
        ({"percent": "0"}, "percent", "INVALID"),
        ({"percent": "100.5"}, "percent", "INVALID"),
        ({"amount": "-1"}, "amount", "INVALID"),
        ({"amount": "1.005"}, "amount", "INVALID"),
        ({"amount": "2", "currency": "EUR"}, "amount", "CURRENCY_MISMATCH"),
        ({"percent": "10", "amount": "2"}, "amount", "INVALID"),
        ({}, "percent", "REQUIRED"),
        ({"percent": "10", "reason": "  "}, "reason", "REQUIRED"),
    ]
    for variables, field, code in cases:
        payload = grant(renewal, subscription, **variables)
        assert payload["subscriptionErrors"] == [{"field": field, "code": code}], variables
    for variables, field in (({"cycles": 0}, "cycles"), ({"days": -2}, "days"),
                             ({"cycles": 1, "days": 1}, "cycles")):
        result = renewal.staff_api.execute(FREE, dict(variables, id=gid(subscription),
                                                      reason="x"))
        assert result["subscriptionFreePeriodGrant"]["subscriptionErrors"][0]["field"] == field
    assert not SubscriptionDiscount.objects.exists()
    assert subscription.events.count() == 0


def test_free_cycles_push_billing_on_the_anchor_grid_and_staff_end_a_discount(renewal):
    card = renewal.card()
    subscription = renewal.subscription(card=card, start=utc(2028, 1, 31, 10))
    result = renewal.staff_api.execute(FREE, {"id": gid(subscription), "cycles": 2,
                                              "reason": "Box lost in the post"})
    payload = result["subscriptionFreePeriodGrant"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["nextBillingAt"].startswith("2028-04-30T10:00")
    assert renewal.run(utc(2028, 3, 31, 11)) == {}
    assert renewal.run(utc(2028, 4, 30, 11)) == {"renewed": 1}
    assert len(renewal.intents(card.customer_id)) == 1

    discount_id = grant(renewal, subscription, percent="50")["subscription"]["discounts"][0]["id"]
    ended = renewal.staff_api.execute(END, {"id": discount_id, "reason": "Given by mistake"})
    assert ended["subscriptionDiscountEnd"] == {"subscription": {"discounts": []},
                                                "subscriptionErrors": []}
    again = renewal.staff_api.execute(END, {"id": discount_id, "reason": "twice"})
    assert again["subscriptionDiscountEnd"]["subscriptionErrors"] == [
        {"field": "id", "code": "INVALID_STATUS"}]
    assert renewal.run(utc(2028, 5, 31, 11)) == {"renewed": 1}
    assert order_of(subscription, 2).discount_amount == 0


def test_customers_see_their_discount_but_not_the_staff_reason(renewal, customer_api):
    subscription = renewal.subscription()
    grant(renewal, subscription, percent="10", renewals=2, reason="Complained on the phone")
    seen = customer_api.execute(SHOWN, {"id": gid(subscription)})["customerSubscription"]
    assert seen["discounts"] == [{"name": "Goodwill discount", "renewalsLeft": 2, "reason": None}]
    granted = [event for event in seen["events"] if event["type"] == "DISCOUNT_GRANTED"]
    assert "reason" not in granted[0]["parameters"]
    body = customer_api.raw(GRANT, {"id": gid(subscription), "percent": "90", "reason": "me"})
    assert body["errors"][0]["message"].startswith("You do not have permission")
