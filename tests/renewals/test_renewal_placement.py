"""A renewal order is placed only once it is paid, like a checkout order.

Until the card is charged it is a Saleor draft (stock reserved, invisible to the customer, no
order events, hooks, webhooks or e-mails); a decline e-mails the customer what to do; when dunning
gives up, or the customer cancels during dunning, the draft goes, with its stock and its credit.
"""
from decimal import Decimal

import graphene
import pytest
from saleor.order import OrderStatus
from saleor.order.models import Order
from saleor.warehouse.models import Allocation
from test_renewal_orders import run_on_commit_callbacks
from test_renewal_webhooks import Receiver, subscribe_webhook

from saleor_subscriptions.models import BillingCycle
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

SEEN = """query($id: ID!) { customerSubscription(id: $id) {
  status credit { amount }
  billingCycles { cycleIndex status orderId order { id number status } } } }"""
ORDERS = "{ me { orders(first: 10) { totalCount } } }"
STAFF_ORDERS = "{ orders(first: 10) { totalCount } draftOrders(first: 10) { totalCount } }"
STOCKS = """query($id: ID!) { productVariant(id: $id) { stocks { quantity quantityAllocated } } }"""
CANCEL_NOW = """mutation($id: ID!) { subscriptionCancel(id: $id, immediately: true) {
  subscription { status } subscriptionErrors { field code message } } }"""


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def renewal_orders(subscription):
    return Order.objects.filter(metadata__subscription_renewal=str(subscription.token))


def mails_to(mailoutbox, email):
    return [message for message in mailoutbox if message.to == [email]]


def allocated(staff_api, renewal):
    global_id = graphene.Node.to_global_id("ProductVariant", renewal.variant.pk)
    stocks = staff_api.execute(STOCKS, {"id": global_id})["productVariant"]["stocks"]
    return sum(stock["quantityAllocated"] for stock in stocks)


def test_a_declined_renewal_places_nothing_and_tells_the_customer_what_to_do(
        renewal, staff_api, customer_api, receiver, mailoutbox):
    subscribe_webhook(staff_api, receiver.url, ["ORDER_CREATED", "ORDER_FULLY_PAID"])
    renewal.configure(**{"Payment retry schedule": "1,3,7"})
    card = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(card=card, quantity=2)
    before = allocated(staff_api, renewal)

    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    run_on_commit_callbacks()

    # Nothing was placed: no webhook, no confirmation, no order for the customer or the staff.
    assert receiver.received == []
    assert renewal_orders(subscription).exclude(status=OrderStatus.DRAFT).count() == 0
    assert customer_api.execute(ORDERS)["me"]["orders"]["totalCount"] == 0
    assert staff_api.execute(STAFF_ORDERS) == {
        "orders": {"totalCount": 0}, "draftOrders": {"totalCount": 1}}
    draft = renewal_orders(subscription).get()
    assert draft.events.count() == 0 and draft.payments.count() == 0
    assert allocated(staff_api, renewal) == before + 2  # what the charge pays for is kept

    # The customer is told: the card was declined, update it, the next try is on March 1.
    (mail,) = mails_to(mailoutbox, renewal.customer.email)
    assert "payment" in mail.subject.lower() and "Order" not in mail.subject
    assert "declined" in mail.body and "update" in mail.body.lower()
    assert "March 1, 2028" in mail.body and "45.00" in mail.body
    cycle = customer_api.execute(SEEN, {"id": gid(subscription)})[
        "customerSubscription"]["billingCycles"][0]
    assert (cycle["status"], cycle["orderId"], cycle["order"]) == ("failed", None, None)
    staff_cycle = staff_api.execute(SEEN, {"id": gid(subscription)})[
        "customerSubscription"]["billingCycles"][0]
    assert staff_cycle["order"]["status"] == "DRAFT"
    assert staff_cycle["orderId"] == graphene.Node.to_global_id("Order", draft.pk)

    # The card is fixed: the retry charges, and only then is the same order placed.
    good = renewal.card(rf.GOOD_CARD, customer_id=card.customer_id)
    subscription.payment_method_reference = good.payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    mailoutbox.clear()
    assert renewal.run(utc(2028, 3, 1, 11)) == {"renewed": 1}
    run_on_commit_callbacks()

    order = renewal_orders(subscription).get()
    assert order.pk == draft.pk and order.status == OrderStatus.UNFULFILLED
    assert order.is_fully_paid()
    assert sorted(event for event, _ in receiver.received) == ["order_created", "order_fully_paid"]
    created = next(payload for event, payload in receiver.received if event == "order_created")
    assert len(created[0]["payments"]) == 1  # as from checkoutComplete: placed once paid
    subjects = sorted(message.subject for message in mails_to(mailoutbox, renewal.customer.email))
    assert subjects == ["Order %s received" % order.pk, "Payment for order %s received" % order.pk]
    assert customer_api.execute(ORDERS)["me"]["orders"]["totalCount"] == 1
    assert allocated(staff_api, renewal) == before + 2


def _decline_with_credit(renewal, staff_api, schedule, **settings):
    renewal.configure(**{"Payment retry schedule": schedule}, **settings)
    subscription = renewal.subscription(card=renewal.card(rf.DECLINED_CARD))
    subscription.credit_amount = Decimal("7.50")
    subscription.save(update_fields=["credit_amount"])
    before = allocated(staff_api, renewal)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.credit_amount == 0  # taken off the draft
    assert renewal_orders(subscription).get().discount_amount == Decimal("7.50")
    assert allocated(staff_api, renewal) == before + 1
    return subscription, before


def _assert_abandoned(renewal, staff_api, customer_api, subscription, stock_before):
    assert renewal_orders(subscription).count() == 0
    assert Allocation.objects.filter(order_line__order__metadata__subscription_renewal=str(
        subscription.token)).count() == 0
    assert allocated(staff_api, renewal) == stock_before
    assert staff_api.execute(STAFF_ORDERS) == {
        "orders": {"totalCount": 0}, "draftOrders": {"totalCount": 0}}
    seen = customer_api.execute(SEEN, {"id": gid(subscription)})["customerSubscription"]
    assert seen["status"] == "CANCELLED"
    assert seen["credit"]["amount"] == 7.5  # the credit the draft used is back
    cycle = seen["billingCycles"][0]
    assert (cycle["status"], cycle["orderId"], cycle["order"]) == ("abandoned", None, None)
    assert BillingCycle.objects.get(subscription=subscription, cycle_index=1).order_id is None


def test_the_final_dunning_action_removes_the_draft_its_stock_and_returns_credit(
        renewal, staff_api, customer_api, mailoutbox):
    subscription, before = _decline_with_credit(
        renewal, staff_api, "1", **{"Action after the last failed retry": "cancel"})
    assert renewal.run(utc(2028, 3, 1, 10)) == {"failed": 1}
    run_on_commit_callbacks()

    _assert_abandoned(renewal, staff_api, customer_api, subscription, before)
    last = mails_to(mailoutbox, renewal.customer.email)[-1]
    assert "cancelled" in last.body and "March" not in last.body  # no next try to announce


def test_cancelling_during_dunning_removes_the_draft_its_stock_and_returns_credit(
        renewal, staff_api, customer_api):
    subscription, before = _decline_with_credit(renewal, staff_api, "1,3,7")

    payload = customer_api.mutate(CANCEL_NOW, {"id": gid(subscription)})
    assert payload["subscription"]["status"] == "CANCELLED"

    _assert_abandoned(renewal, staff_api, customer_api, subscription, before)
    assert renewal.run(utc(2028, 3, 1, 10)) == {}  # no retry of an abandoned cycle


class CancelledDuringCharge:
    """The real (localstripe) gateway; the customer tries to cancel while the charge is in
    flight: refused (RENEWAL_IN_PROGRESS, services/lifecycle.lock), nothing changed."""

    def __init__(self, gateway, subscription_id, now):
        self.gateway, self.subscription_id, self.now = gateway, subscription_id, now
        self.saleor_gateway_id = gateway.saleor_gateway_id
        self.refusals = []

    def charge(self, request):
        from django.core.exceptions import ValidationError

        from saleor_subscriptions.services.lifecycle import Actor
        from saleor_subscriptions.services.lifecycle.cancel import cancel

        try:
            cancel(self.subscription_id, Actor(), self.now, immediately=True)
        except ValidationError as refusal:
            self.refusals.append(refusal.error_dict["id"][0].code)
        return self.gateway.charge(request)

    def find_charge(self, request):
        return self.gateway.find_charge(request)


@pytest.mark.parametrize("number", [rf.DECLINED_CARD, rf.GOOD_CARD])
def test_a_cancel_during_the_charge_is_refused_then_follows_the_outcome(
        renewal, staff_api, number, settings):
    # The cancel runs inside the gateway's charge, so it must see the test's transaction: the
    # charge on the batch's own thread (a pool of one). A pool thread would cancel on a
    # connection of its own, outside the test's transaction (like another request would).
    settings.SUBSCRIPTIONS_RENEWAL_CONCURRENCY = 1
    from saleor_subscriptions.services.lifecycle import Actor
    from saleor_subscriptions.services.lifecycle.cancel import cancel

    subscription = renewal.subscription(card=renewal.card(number))
    subscription.credit_amount = Decimal("7.50")
    subscription.save(update_fields=["credit_amount"])
    before = allocated(staff_api, renewal)
    now = utc(2028, 2, 29, 10)
    gateway = CancelledDuringCharge(renewal.context().gateway, subscription.pk, now)

    renewal.run(now, gateway=gateway)

    assert gateway.refusals == ["renewal_in_progress"]
    cancel(subscription.pk, Actor(), now, immediately=True)  # once the outcome is recorded
    subscription.refresh_from_db()
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert subscription.status == "cancelled"
    if number == rf.GOOD_CARD:  # the money is in: the order is placed and paid, nothing else
        order = renewal_orders(subscription).get()
        assert cycle.status == "paid" and cycle.order_id == order.pk
        assert order.status == OrderStatus.UNFULFILLED and order.is_fully_paid()
        assert subscription.credit_amount == 0
        assert allocated(staff_api, renewal) == before + 1
    else:  # declined, then cancelled during dunning: the draft, its stock and credit go back
        assert cycle.status == "abandoned" and cycle.order_id is None
        assert renewal_orders(subscription).count() == 0
        assert subscription.credit_amount == Decimal("7.50")
        assert allocated(staff_api, renewal) == before
