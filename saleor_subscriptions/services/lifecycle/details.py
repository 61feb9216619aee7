"""The card and the addresses future renewals use."""
from datetime import datetime

import stripe
from django.db import transaction

from ...domain.states import Status
from ...error_codes import SubscriptionErrorCode
from ...gateway import stripe_client
from ...gateway.customers import CardNotSaved, save_card_for_off_session
from ...models import EventType, Subscription
from ..events import record_event
from . import Actor, charge_in_flight, in_flight_refusal, lock, refuse


def change_card(subscription_id: int, actor: Actor, now: datetime, settings,
                payment_method_id: str) -> Subscription:
    """Save a new Stripe PaymentMethod on the subscription's customer for off-session use (a
    SetupIntent) and use it from now on; a past-due subscription is charged again at once."""
    if not payment_method_id.startswith("pm_"):
        raise refuse("Give a Stripe PaymentMethod id (pm_...).", SubscriptionErrorCode.INVALID,
                     field="payment_method_id")
    subscription = Subscription.objects.get(pk=subscription_id)
    if Status(subscription.status) in (Status.CANCELLED, Status.EXPIRED):
        raise refuse("The subscription has ended.")
    if charge_in_flight(subscription_id):  # checked again under the lock; spares Stripe a call
        raise in_flight_refusal()
    card = save_card(subscription, settings, payment_method_id)
    with transaction.atomic():
        subscription = lock(subscription_id)
        use_card(subscription, payment_method_id, card, actor, now)
    if subscription.status == Status.PAST_DUE.value:
        from ..renewals import renew_subscription

        renew_subscription(subscription.pk, now, force=True)
        subscription.refresh_from_db()
    return subscription


def save_card(subscription: Subscription, settings, payment_method_id: str):
    """The card saved on the subscription's Stripe customer for off-session charges (before any
    row lock: a Stripe call); refused with PAYMENT_ERROR."""
    if not payment_method_id.startswith("pm_"):
        raise refuse("Give a Stripe PaymentMethod id (pm_...).", SubscriptionErrorCode.INVALID,
                     field="payment_method_id")
    try:
        return save_card_for_off_session(stripe_client.from_settings(settings),
                                         subscription.customer_reference, payment_method_id)
    except CardNotSaved as error:
        raise refuse(error.message, SubscriptionErrorCode.PAYMENT_ERROR, field="payment_method_id")
    except stripe.error.StripeError as error:
        raise refuse("Stripe refused the card: %s" % (error.user_message or error),
                     SubscriptionErrorCode.PAYMENT_ERROR, field="payment_method_id")


def use_card(subscription: Subscription, payment_method_id: str, card, actor: Actor,
             now: datetime) -> None:
    """Under the row lock: renewals charge this card from now on."""
    previous = subscription.card_last4
    subscription.payment_method_reference = payment_method_id
    subscription.card_brand, subscription.card_last4 = card.brand, card.last4
    subscription.card_exp_month, subscription.card_exp_year = card.exp_month, card.exp_year
    subscription.save()
    record_event(subscription, EventType.PAYMENT_METHOD_CHANGED, date=now,
                 previous_last4=previous, last4=card.last4, **actor.event_fields())


@transaction.atomic
def change_addresses(subscription_id: int, actor: Actor, now: datetime, shipping=None,
                     billing=None) -> Subscription:
    """`shipping`/`billing`: validated, unsaved Saleor Address instances."""
    subscription = lock(subscription_id)
    if Status(subscription.status) in (Status.CANCELLED, Status.EXPIRED):
        raise refuse("The subscription has ended.")
    changed = []
    for name, address in (("shipping_address", shipping), ("billing_address", billing)):
        if address is not None:
            address.save()
            setattr(subscription, name, address)
            changed.append(name)
    if not changed:
        raise refuse("Give a shipping or a billing address.", SubscriptionErrorCode.REQUIRED,
                     field="shipping_address")
    subscription.save()
    record_event(subscription, EventType.ADDRESS_CHANGED, date=now, changed=changed,
                 **actor.event_fields())
    return subscription
