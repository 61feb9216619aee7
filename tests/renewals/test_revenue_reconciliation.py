"""A month of a store's subscription money, Saleor's payments against our own records: renewals
at localstripe, a decline cancelled by dunning, a prorated upgrade, a partial refund and an
immediate cancellation leave no difference; a capture we never recorded is named."""
from decimal import Decimal

import graphene
from freezegun import freeze_time
from saleor.payment import TransactionKind
from saleor.payment.models import Transaction

from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan

utc = rf.utc
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 1) { subscriptionErrors { code } }
}"""
REFUND = """
mutation($id: ID!, $order: ID!) {
  subscriptionRefund(id: $id, orderId: $order, amount: "5.00") { subscriptionErrors { code } }
}"""
CANCEL = """
mutation($id: ID!) {
  subscriptionCancel(id: $id, immediately: true) { subscriptionErrors { code } }
}"""
RECONCILE = """
query($month: String!) {
  subscriptionRevenueReconciliation(month: $month, currency: "USD") {
    saleor ours difference differences { orderId subscriptionId saleor ours difference }
    subscriptionErrors { field code }
  }
  subscriptionMrr(currency: "USD", date: "2028-03-31T23:00:00+00:00",
                  start: "2028-03-01T00:00:00+00:00") {
    mrr movements { new expansion churn netNew }
  }
}"""


def dec(value):
    return Decimal(str(value))  # Saleor's Decimal scalar answers JSON numbers


def gid(kind, pk):
    return graphene.Node.to_global_id(kind, pk)


def test_a_month_of_renewals_a_decline_an_upgrade_a_refund_and_a_cancel_reconciles(
        renewal, customer_api, staff_api):
    renewal.configure(**{"Payment retry schedule": "1,2",
                         "Action after the last failed retry": "cancel"})
    basic = create_plan(renewal.variant, name="basic", family="club", tier_rank=1,
                        price_amount=Decimal("15.00"))
    medium = create_plan(renewal.variant, name="medium", family="club", tier_rank=2,
                         price_amount=Decimal("25.00"))
    card = renewal.card()
    upgraded = renewal.subscription(plan=basic, card=card, start=utc(2028, 2, 1, 10))
    kept = renewal.subscription(plan=basic, card=card, start=utc(2028, 2, 2, 10))
    declined = renewal.subscription(plan=basic, card=renewal.card(rf.DECLINED_CARD),
                                    start=utc(2028, 2, 3, 10))

    for day in (1, 2, 3, 4, 5):  # two renewals; the decline, its two retries, its cancellation
        with freeze_time(utc(2028, 3, day, 10)):
            renewal.run(utc(2028, 3, day, 10))
    with freeze_time("2028-03-16 22:00:00"):
        body = customer_api.raw(CHANGE, {"id": gid("CustomerSubscription", upgraded.pk),
                                         "plan": gid("SubscriptionPlan", medium.pk)})
    assert body["data"]["subscriptionChangePlan"]["subscriptionErrors"] == []
    renewal_order = BillingCycle.objects.get(subscription=kept, cycle_index=1).order_id
    with freeze_time("2028-03-20 12:00:00"):
        body = staff_api.raw(REFUND, {"id": gid("CustomerSubscription", kept.pk),
                                      "order": gid("Order", renewal_order)})
        assert body["data"]["subscriptionRefund"]["subscriptionErrors"] == []
    with freeze_time("2028-03-25 12:00:00"):
        body = staff_api.raw(CANCEL, {"id": gid("CustomerSubscription", upgraded.pk)})
        assert body["data"]["subscriptionCancel"]["subscriptionErrors"] == []

    succeeded = PaymentAttempt.objects.filter(status=AttemptStatus.SUCCEEDED)
    assert sorted(a.purpose for a in succeeded) == ["proration", "renewal", "renewal"]
    assert not PaymentAttempt.objects.filter(subscription=declined,
                                             status=AttemptStatus.SUCCEEDED).exists()
    data = staff_api.raw(RECONCILE, {"month": "2028-03"})["data"]
    report = data["subscriptionRevenueReconciliation"]
    assert report["subscriptionErrors"] == [] and report["differences"] == []
    assert dec(report["difference"]) == 0
    charged = sum((a.amount for a in succeeded), Decimal(0))
    assert dec(report["ours"]) == dec(report["saleor"]) == charged - Decimal("5.00")
    # MRR by hand: 15 + 15 + 15 in February; March: upgrade +10, two churns (-15, -25).
    mrr = data["subscriptionMrr"]
    assert dec(mrr["mrr"]) == Decimal("15")
    assert {key: dec(value) for key, value in mrr["movements"].items()} == {
        "new": 0, "expansion": Decimal("10"), "churn": Decimal("-40"), "netNew": Decimal("-30")}
    assert staff_api.raw(RECONCILE, {"month": "2028-02"})["data"][
        "subscriptionRevenueReconciliation"]["differences"] == []

    # Money Saleor captured that our records never billed is named, with its order.
    payment = Transaction.objects.filter(payment__order_id=renewal_order,
                                         kind=TransactionKind.CAPTURE).first().payment
    with freeze_time("2028-03-28 12:00:00"):
        Transaction.objects.create(payment=payment, kind=TransactionKind.CAPTURE, token="extra",
                                   is_success=True, amount=Decimal("3.00"), currency="USD",
                                   gateway_response={})
    report = staff_api.raw(RECONCILE, {"month": "2028-03"})["data"][
        "subscriptionRevenueReconciliation"]
    assert dec(report["difference"]) == Decimal("3.00")
    (row,) = report["differences"]
    assert row["orderId"] == gid("Order", renewal_order)
    assert row["subscriptionId"] == gid("CustomerSubscription", kept.pk)
    assert dec(row["difference"]) == Decimal("3.00")
    bad = staff_api.raw(RECONCILE, {"month": "March"})["data"]["subscriptionRevenueReconciliation"]
    assert bad["subscriptionErrors"] == [{"field": "month", "code": "INVALID"}]
