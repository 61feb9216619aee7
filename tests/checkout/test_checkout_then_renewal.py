"""The subscription a checkout starts is renewed off-session with the card it kept."""
from datetime import timedelta
from decimal import Decimal

import graphene
from saleor.order import OrderStatus

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"


def test_checkout_subscription_renews_with_the_stored_card(api, store, monthly, new_card, plugin_on):
    plan = graphene.Node.to_global_id("SubscriptionPlan", monthly.pk)
    storefront.buy(api, store.variants["COFFEE-250G"], plan, new_card(), quantity=2)
    subscription = Subscription.objects.get()
    due = subscription.next_billing_at

    result = renew_due_subscriptions(due + timedelta(hours=1))

    assert result.renewed == 1
    subscription.refresh_from_db()
    assert subscription.cycle_index == 1 and subscription.paid_cycles == 2
    assert subscription.current_period_start == due
    renewal = subscription.cycles.get(cycle_index=1).order
    assert renewal.pk != subscription.origin_order_id
    assert renewal.total.gross.amount == Decimal("41.00")  # 2 x 18.00 + 5.00 shipping
    assert renewal.shipping_address.city == "MOUNTAIN VIEW"
    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert sorted(intent["amount"] for intent in intents) == [4100, 4100]
    assert all(intent["status"] == "succeeded" for intent in intents)



def _placement_rows(order):
    """What Saleor writes for a placed order, in comparable form."""
    from saleor.account.models import CustomerEvent
    from saleor.warehouse.models import Allocation

    return {
        "status": order.status,
        "placed_events": list(order.events.filter(type="placed").values_list("type", "user_id")),
        "customer_events": sorted(CustomerEvent.objects.filter(order=order)
                                  .values_list("type", "user_id")),
        "allocated": sum(Allocation.objects.filter(order_line__order=order)
                         .values_list("quantity_allocated", flat=True)),
        "lines": list(order.lines.values_list("variant_id", "quantity", "unit_price_gross_amount")),
    }


def _payment_rows(order):
    """What Saleor writes when a captured payment makes an order fully paid."""
    payment = order.payments.get()
    capture = payment.transactions.get()
    payment_fields = ("gateway", "is_active", "charge_status", "total", "captured_amount",
                      "currency", "billing_email", "billing_first_name", "billing_last_name",
                      "billing_address_1", "billing_city", "billing_postal_code",
                      "billing_country_code", "token", "customer_ip_address")
    return {
        # the renewal's own note (test_renewal_order_notes.py) is ours, not Saleor's
        "events": sorted(order.events.exclude(type__in=["placed", "note_added"])
                         .values_list("type", "parameters")),
        "fully_paid": order.is_fully_paid(),
        "payment": {name: getattr(payment, name) for name in payment_fields},
        "capture": (capture.kind, capture.is_success, capture.amount, capture.currency,
                    capture.token, capture.customer_id, capture.error),
    }


def _pay_the_saleor_way(order, reference, customer_id):
    """The oracle: Saleor's own create_payment + CAPTURE transaction + gateway_postprocess."""
    from saleor.payment import TransactionKind
    from saleor.payment.interface import GatewayResponse
    from saleor.payment.utils import (
        create_payment,
        create_payment_information,
        create_transaction,
        gateway_postprocess,
    )

    payment = create_payment(gateway="saleor.subscriptions.stripe", total=order.total.gross.amount,
                             currency=order.currency, email=order.get_customer_email(),
                             payment_token=reference, order=order)
    response = GatewayResponse(
        is_success=True, action_required=False, kind=TransactionKind.CAPTURE,
        amount=order.total.gross.amount, currency=order.currency, transaction_id=reference,
        error=None, customer_id=customer_id, raw_response={},
    )
    information = create_payment_information(payment, reference, customer_id=customer_id)
    capture = create_transaction(payment, kind=TransactionKind.CAPTURE,
                                 payment_information=information, gateway_response=response)
    gateway_postprocess(capture, payment)


def _place_the_saleor_way(order):
    """The oracle for placing a draft: what checkout/utils.py create_order does once the order
    exists (its status, then order.actions.order_created)."""
    from django.contrib.auth.models import AnonymousUser
    from saleor.order.actions import order_created

    order.status = OrderStatus.UNFULFILLED
    order.save(update_fields=["status"])
    order_created(order, user=order.user or AnonymousUser())  # a guest, as checkoutComplete


def test_a_renewal_order_has_the_rows_saleor_writes(api, store, monthly, new_card, plugin_on):
    """The renewal writes Saleor's rows itself (saleor_adapter/order_effects.py, payments.py):
    once paid, its placement must match a checkoutComplete order of the same basket (and a draft
    placed by Saleor's own order_created), its payment what Saleor's own payment functions
    write, and its totals what recalculate_order computes."""
    from django.db import transaction
    from saleor.order.utils import recalculate_order

    from saleor_subscriptions.saleor_adapter.orders import create_renewal_order
    from saleor_subscriptions.services.renewals import lock_subscription

    plan = graphene.Node.to_global_id("SubscriptionPlan", monthly.pk)
    storefront.buy(api, store.variants["COFFEE-250G"], plan, new_card(), quantity=2)
    subscription = Subscription.objects.get()
    assert renew_due_subscriptions(subscription.next_billing_at + timedelta(hours=1)).renewed == 1
    renewal_order = subscription.cycles.get(cycle_index=1).order

    checkout_placement = _placement_rows(subscription.origin_order)
    assert checkout_placement["placed_events"] and checkout_placement["allocated"] == 2
    assert _placement_rows(renewal_order) == checkout_placement

    # The reference: the same draft, placed and paid by Saleor's own functions.
    with transaction.atomic():
        reference_order = create_renewal_order(lock_subscription(subscription.pk), 99)
    assert reference_order.status == OrderStatus.DRAFT and not reference_order.events.exists()
    _place_the_saleor_way(reference_order)
    assert _placement_rows(reference_order) == checkout_placement
    payment = renewal_order.payments.get()
    _pay_the_saleor_way(reference_order, payment.token, subscription.customer_reference)
    expected = _payment_rows(reference_order)
    assert ("order_fully_paid", {}) in expected["events"] and expected["fully_paid"]
    assert _payment_rows(renewal_order) == expected
    (note,) = renewal_order.events.filter(type="note_added").values_list("parameters", flat=True)
    assert note["message"].startswith("Subscription renewal: ")

    totals = (renewal_order.total, renewal_order.weight, renewal_order.discount_amount)
    recalculate_order(renewal_order, update_voucher_discount=False)
    renewal_order.refresh_from_db()
    assert (renewal_order.total, renewal_order.weight, renewal_order.discount_amount) == totals
    assert renewal_order.weight.value > 0
