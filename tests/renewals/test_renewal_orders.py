"""Each renewal order is a normal Saleor order: lines, shipping, totals, events, payment, refund."""
from decimal import Decimal

import graphene
from saleor.order import OrderEvents
from saleor.order.models import Order
from saleor.payment import ChargeStatus, TransactionKind
from saleor.warehouse.models import Allocation

from saleor_subscriptions.models import BillingCycle
from saleor_subscriptions.testing.renewal_factories import utc

ORDER_REFUND = """
mutation($id: ID!, $amount: Decimal!) {
  orderRefund(id: $id, amount: $amount) {
    order { id paymentStatus totalCaptured { amount } }
    orderErrors { field message code }
  }
}"""


def renew_once(renewal, subscription, **kwargs):
    assert renewal.run(utc(2028, 2, 29, 10), **kwargs) == {"renewed": 1}
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    return Order.objects.get(pk=cycle.order_id)


def test_renewal_order_is_a_complete_saleor_order(renewal):
    subscription = renewal.subscription(quantity=2)
    order = renew_once(renewal, subscription)

    line = order.lines.get()
    assert line.product_sku == "COFFEE-250G"
    assert line.product_name == "Coffee beans"
    assert line.quantity == 2
    assert line.unit_price.gross.amount == Decimal("20.00")
    assert line.variant_id == subscription.variant_id
    assert order.user_id == renewal.customer.pk
    assert order.shipping_method_id == subscription.shipping_method_id
    assert order.shipping_price.gross.amount == Decimal("5.00")
    assert order.total.gross.amount == Decimal("45.00")
    assert order.shipping_address.pk != subscription.shipping_address_id  # the order's own copy
    assert order.billing_address.city == subscription.billing_address.city
    assert order.metadata["subscription_renewal"] == str(subscription.token)
    assert Allocation.objects.filter(order_line=line).get().quantity_allocated == 2

    event_types = set(order.events.values_list("type", flat=True))
    assert {OrderEvents.PLACED, OrderEvents.ORDER_FULLY_PAID} <= event_types
    payment = order.payments.get()
    assert payment.charge_status == ChargeStatus.FULLY_CHARGED
    capture = payment.transactions.get(kind=TransactionKind.CAPTURE)
    assert capture.is_success and capture.token.startswith("pi_")
    assert capture.amount == Decimal("45.00")


def test_saleor_refund_goes_back_through_our_gateway(renewal, staff_api):
    subscription = renewal.subscription()
    order = renew_once(renewal, subscription)
    payload = staff_api.mutate(ORDER_REFUND, {
        "id": graphene.Node.to_global_id("Order", order.pk), "amount": "10.00"})
    assert payload["order"]["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert Decimal(str(payload["order"]["totalCaptured"]["amount"])) == Decimal("15.00")
    refund = order.payments.get().transactions.get(kind=TransactionKind.REFUND)
    assert refund.is_success and refund.amount == Decimal("10.00")


def test_credit_is_applied_to_the_renewal_and_cleared(renewal):
    subscription = renewal.subscription()
    subscription.credit_amount = Decimal("7.50")
    subscription.save(update_fields=["credit_amount"])
    order = renew_once(renewal, subscription)
    assert order.total.gross.amount == Decimal("17.50")
    assert order.discount_amount == Decimal("7.50")
    assert order.is_fully_paid()
    subscription.refresh_from_db()
    assert subscription.credit_amount == 0
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    assert cycle.amount == Decimal("17.50")


def run_on_commit_callbacks():
    """The test transaction never commits: run what would have run at commit (Django 3.0 has
    no captureOnCommitCallbacks)."""
    from django.db import connection

    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def test_renewal_sends_saleors_order_and_payment_emails(renewal, mailoutbox):
    subscription = renewal.subscription()
    order = renew_once(renewal, subscription)
    run_on_commit_callbacks()

    to_customer = [message for message in mailoutbox if message.to == [renewal.customer.email]]
    assert len(to_customer) == 2  # order confirmation and payment confirmation
    assert all(str(order.pk) in message.subject + message.body for message in to_customer)
    email_events = sorted(order.events.filter(type=OrderEvents.EMAIL_SENT)
                          .values_list("parameters__email_type", flat=True))
    assert email_events == ["order_confirmation", "payment_confirmation"]
