"""A paid checkout order starts one subscription per subscribed line."""
import logging
from datetime import datetime, timedelta
from typing import List

from django.core.exceptions import ValidationError
from django.db import transaction
from prices import Money

from ..domain import periods
from ..domain.states import Status
from ..error_codes import SubscriptionErrorCode
from ..models import BillingCycle, CycleStatus, EventType, Subscription
from ..saleor_adapter import checkout as saleor_checkout
from ..saleor_adapter.checkout_discount import order_has_trial_discount
from . import plans, voucher_terms
from .checkout_plans import is_free_start
from .events import record_event
from .intro_prices import intro_terms
from .trials import record_trial

logger = logging.getLogger(__name__)


def _copy(address):
    return address.get_copy() if address is not None else None


def create_from_order(order, now: datetime) -> List[Subscription]:
    """Runs inside Saleor's checkout transaction, after the payment was captured.

    If starting the subscriptions fails, what was written for them is rolled back (a savepoint),
    the charge is refunded through the gateway, the order is cancelled with a note saying why,
    and staff are alerted: the order stays (Saleor already told the customer it exists) and
    claims no subscription, and no money is left stranded.
    """
    if saleor_checkout.is_renewal_order(order):
        return []
    try:
        return _create_from_order(order, now)
    except Exception as error:  # any failure after the charge: give the money back
        logger.exception("Starting the subscriptions of order %s failed after its payment",
                         order.pk)
        _refund_stranded_order(order, error)
        return []


def _refund_stranded_order(order, error: Exception) -> None:
    from ..saleor_adapter.checkout_refunds import refund_and_cancel
    from ..saleor_adapter.notifications import alert_staff

    refunded = refund_and_cancel(
        order, "The subscription could not be started (%s), so no subscription was created."
        % error.__class__.__name__)
    subject = "Order %s %s: its subscription could not be started" % (
        order.pk, "refunded" if refunded else "NOT refunded")
    message = (
        "Starting the subscription of checkout order %s failed after its payment was captured "
        "(%s: %s). %s" % (
            order.pk, error.__class__.__name__, str(error)[:300],
            "The payment was refunded in full and the order cancelled." if refunded else
            "The automatic refund failed: refund the payment from the order page."))
    transaction.on_commit(lambda: alert_staff(subject, message))


@transaction.atomic
def _create_from_order(order, now: datetime) -> List[Subscription]:
    lines = saleor_checkout.subscribed_lines(order)
    if not lines:
        return []
    card = saleor_checkout.stored_card(order)
    if card is None:
        raise ValidationError("A subscription needs a stored card; none came with the payment.",
                              code=SubscriptionErrorCode.PAYMENT_METHOD_REQUIRED.value)
    started = [_start(order, line, card, now) for line in lines]
    voucher_terms.grant_from_order(
        order, [(subscription, line.order_line) for subscription, line in zip(started, lines)],
        now)
    trial_shown = order_has_trial_discount(order)
    for line in lines:
        if is_free_start(line.plan) and not trial_shown:
            # What the line costs on the order (taxed), which the checkout total left out.
            saleor_checkout.add_order_discount(
                order, line.order_line.get_total().gross, "Free trial")
    return started


def start_for_line(order, line, card, now: datetime) -> Subscription:
    """One subscription from one paid order line, as create_from_order starts each: for an
    order placed without a checkout (saleor_adapter.signup_orders, the simulation)."""
    return _start(order, line, card, now)


def _start(order, line, card, now: datetime) -> Subscription:
    plan = line.plan
    unit_price = plans.plan_unit_price(plan)
    trial = plan.trial_days > 0
    if trial:
        anchor = now + timedelta(days=plan.trial_days)
        period_start, period_end = now, anchor
    else:
        anchor = now
        period_start, period_end = now, periods.billing_date(anchor, plan.interval, 1)
    subscription = Subscription.objects.create(
        user=order.user, is_guest=order.user_id is None, email=order.user_email, plan=plan,
        variant_id=line.order_line.variant_id,
        quantity=line.quantity, status=(Status.TRIALING if trial else Status.ACTIVE).value,
        currency=plan.currency, unit_price_amount=unit_price.amount, anchor_at=anchor,
        cycle_index=0, current_period_start=period_start, current_period_end=period_end,
        next_billing_at=period_end, trial_end_at=anchor if trial else None,
        paid_cycles=0 if trial else 1, shipping_address=_copy(order.shipping_address),
        billing_address=_copy(order.billing_address), shipping_method=order.shipping_method,
        origin_order=order, gateway=card.gateway, customer_reference=card.customer_reference,
        payment_method_reference=card.payment_method_reference, card_brand=card.brand,
        card_last4=card.last4, card_exp_month=card.exp_month, card_exp_year=card.exp_year,
        created_at=now, **intro_terms(plan),
    )
    charged = plans.plan_first_charge(plan, line.quantity)
    BillingCycle.objects.create(
        subscription=subscription, cycle_index=0, period_start=period_start,
        period_end=period_end, status=CycleStatus.PAID, order=order,
        currency=charged.currency, amount=charged.amount,
    )
    actor = {"actor_type": "customer", "user": order.user, "order": order, "date": now}
    record_event(subscription, EventType.CREATED, amount=charged, plan=plan.pk,
                 plan_name=plan.name, quantity=line.quantity, **actor)
    if trial:
        record_event(subscription, EventType.TRIAL_STARTED, trial_end=anchor,
                     amount=Money(plan.signup_fee_amount, plan.currency), **actor)
        record_trial(subscription, card.fingerprint, order.checkout_token)
    return subscription
