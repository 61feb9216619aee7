"""Renewal orders are recognisable in Saleor's dashboard: a note in the order's history names the
subscription's plan and cycle, says when it was paid on a dunning retry, and points to the
subscription's page in the console."""
import graphene

from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

ORDER_HISTORY = """query($id: ID!) { order(id: $id) {
  status events { type message user { email } } } }"""
SEEN = """query($id: ID!) { customerSubscription(id: $id) {
  billingCycles { cycleIndex status order { id } } } }"""


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def history(staff_api, subscription, cycle_index):
    cycles = staff_api.execute(SEEN, {"id": gid(subscription)})["customerSubscription"][
        "billingCycles"]
    (cycle,) = [cycle for cycle in cycles if cycle["cycleIndex"] == cycle_index]
    return staff_api.execute(ORDER_HISTORY, {"id": cycle["order"]["id"]})["order"]


def notes(order):
    return [event["message"] for event in order["events"] if event["type"] == "NOTE_ADDED"]


def test_a_renewal_order_carries_a_note_with_plan_cycle_and_console_page(renewal, staff_api):
    renewal.configure()
    plan = renewal.plan(name="Coffee monthly")
    subscription = renewal.subscription(plan=plan)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"renewed": 1}

    order = history(staff_api, subscription, 1)
    assert order["status"] == "UNFULFILLED"
    assert [event["type"] for event in order["events"]][:2] == ["PLACED", "NOTE_ADDED"]
    assert notes(order) == [
        "Subscription renewal: Coffee monthly, cycle 1. Subscription console: "
        "/subscriptions/dashboard/subscriptions/%s" % gid(subscription)]
    (note,) = [event for event in order["events"] if event["type"] == "NOTE_ADDED"]
    assert note["user"] is None  # written by the system, not by a member of staff


def test_a_renewal_paid_on_a_dunning_retry_says_so(renewal, staff_api):
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(plan=renewal.plan(name="Coffee monthly"), card=card)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    assert renewal.run(utc(2028, 3, 1, 11)) == {"failed": 1}
    good = renewal.card(rf.GOOD_CARD, customer_id=card.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    assert renewal.run(utc(2028, 3, 3, 11)) == {"renewed": 1}

    assert notes(history(staff_api, subscription, 1)) == [
        "Subscription renewal: Coffee monthly, cycle 1. Paid on a dunning retry after 2 failed "
        "attempts. Subscription console: /subscriptions/dashboard/subscriptions/%s"
        % gid(subscription)]
