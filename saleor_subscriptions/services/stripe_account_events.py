"""Stripe webhooks in about a subscription's charge or card that happened outside the plugin:
disputes (an event, a staff notice, the store's "pause when disputed" setting) and the stored
card changed, removed or about to expire at Stripe (the card details, an event, a notice to the
customer: the notice ledger's, decided with the event, services/notices.py). Registered in
stripe_webhooks.HANDLERS; replays stop at the stored event id, and each handler also checks the
history, so a second delivery or an older event changes nothing."""
import dataclasses
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .. import GATEWAY_ID
from ..gateway import stripe_events
from ..models import ActorType, EventType, PaymentAttempt, Subscription
from .events import record_event
from .lifecycle import Actor, pause

RECORDED, NOTHING_TO_DO = "recorded", "nothing_to_do"


def _subscription_of_charge(facts, context):
    """The subscription an intent or charge paid for: a renewal's or upgrade's attempt, else
    the order its Saleor payment belongs to (the checkout order)."""
    from ..saleor_adapter import gateway_refunds
    from .stripe_webhooks import _subscription_of_order

    references = [ref for ref in (facts.intent_reference, facts.charge_reference) if ref]
    attempt = PaymentAttempt.objects.filter(gateway_reference__in=references).first()
    gateway_id = getattr(context.gateway, "saleor_gateway_id", "") or GATEWAY_ID
    payment = gateway_refunds.locked_payment(gateway_id, references)
    order = payment.order if payment is not None else None
    if attempt is not None:
        return attempt.subscription_id, order
    if order is not None:
        return _subscription_of_order(order.pk), order
    return None, None


def _seen(subscription, types, **parameters) -> bool:
    lookups = {"parameters__%s" % key: value for key, value in parameters.items()}
    return subscription.events.filter(type__in=types, **lookups).exists()


def _record_dispute(event: dict, now: datetime, context, event_type: str, seen_types):
    """(subscription, facts, order) once the dispute's event is written under the row lock,
    or the handler's answer (a string) when there is nothing to write: not a dispute, not our
    charge, or one of `seen_types` recorded for this dispute already (a replay, an old event).
    Call inside a transaction."""
    facts = stripe_events.dispute_facts(event)
    if facts is None:
        return NOTHING_TO_DO + ": no dispute"
    subscription_id, order = _subscription_of_charge(facts, context)
    if subscription_id is None:
        return NOTHING_TO_DO + ": not our charge"
    subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=subscription_id)
    if _seen(subscription, seen_types, dispute=facts.reference):
        return NOTHING_TO_DO + ": dispute already %s" % (
            "recorded" if event_type == EventType.DISPUTE_OPENED else "closed")
    record_event(subscription, event_type, date=now, order=order, amount=facts.amount,
                 dispute=facts.reference, reason=facts.reason, dispute_status=facts.status)
    return subscription, facts, order


def dispute_opened(event: dict, now: datetime, context) -> str:
    from ..config import load_settings

    with transaction.atomic():
        recorded = _record_dispute(event, now, context, EventType.DISPUTE_OPENED,
                                   (EventType.DISPUTE_OPENED, EventType.DISPUTE_CLOSED))
        if isinstance(recorded, str):
            return recorded
        subscription, facts, order = recorded
        settings = load_settings()
        paused = settings.pause_on_dispute and _pause_for_dispute(subscription.pk, now, settings)
        _tell_staff(subscription, facts, order, opened=True, paused=paused)
    return "%s: dispute opened%s" % (RECORDED, ", paused" if paused else "")


def _pause_for_dispute(subscription_id: int, now: datetime, settings) -> bool:
    """The store's setting, not the customer's: pausing is allowed here even where customers
    may not pause. Not possible (past due, a charge in flight): left as it is, staff are told."""
    try:
        with transaction.atomic():
            pause.pause(subscription_id, Actor(ActorType.SYSTEM), now,
                        dataclasses.replace(settings, allow_pause=True))
    except ValidationError:
        return False
    return True


def dispute_closed(event: dict, now: datetime, context) -> str:
    with transaction.atomic():
        recorded = _record_dispute(event, now, context, EventType.DISPUTE_CLOSED,
                                   (EventType.DISPUTE_CLOSED,))
        if isinstance(recorded, str):
            return recorded
        subscription, facts, order = recorded
        _tell_staff(subscription, facts, order, opened=False, paused=False)
    return "%s: dispute %s" % (RECORDED, facts.status or "closed")


def _tell_staff(subscription, facts, order, opened: bool, paused: bool) -> None:
    """The staff notice of the dispute: services/notices.py, once per dispute and state."""
    from .notices import notify_staff_of_dispute

    notify_staff_of_dispute(
        subscription, facts.reference, amount=facts.amount.amount,
        currency=facts.amount.currency, reason=facts.reason, status=facts.status,
        opened=opened, paused=paused, order_id=order.pk if order is not None else None)


# -- the stored card -----------------------------------------------------------------------------

_CARD_EVENTS = (EventType.CARD_UPDATED, EventType.CARD_DETACHED, EventType.PAYMENT_METHOD_CHANGED)


def _card_subscriptions(facts):
    return (Subscription.objects.select_for_update(of=("self",))
            .filter(payment_method_reference=facts.reference, ended_at__isnull=True)
            .order_by("pk"))


def _newer_card_news(subscription, facts) -> bool:
    """A card event of this card sent after `facts` was recorded already (events come out of
    order: an old payment_method.updated must not undo a detach or a newer update)."""
    return subscription.events.filter(
        type__in=_CARD_EVENTS, parameters__payment_method=facts.reference,
        parameters__sent_at__gte=facts.sent_at).exists()


def card_updated(event: dict, now: datetime, context) -> str:
    facts = stripe_events.card_facts(event)
    if facts is None or not facts.last4:
        return NOTHING_TO_DO + ": no card"
    changed = 0
    with transaction.atomic():
        for subscription in _card_subscriptions(facts):
            if _newer_card_news(subscription, facts):
                continue
            before = (subscription.card_brand, subscription.card_last4,
                      subscription.card_exp_month, subscription.card_exp_year)
            after = (facts.brand or subscription.card_brand, facts.last4, facts.exp_month,
                     facts.exp_year)
            if before == after:
                continue
            (subscription.card_brand, subscription.card_last4, subscription.card_exp_month,
             subscription.card_exp_year) = after
            subscription.save(update_fields=["card_brand", "card_last4", "card_exp_month",
                                             "card_exp_year", "updated_at"])
            record_event(subscription, EventType.CARD_UPDATED, date=now,
                         payment_method=facts.reference, sent_at=facts.sent_at,
                         previous_last4=before[1], last4=facts.last4,
                         exp_month=facts.exp_month, exp_year=facts.exp_year)
            changed += 1
    return "%s: %d" % (RECORDED, changed) if changed else NOTHING_TO_DO + ": no change"


def card_detached(event: dict, now: datetime, context) -> str:
    """The card is gone from the Stripe customer: renewals will fail on it until the customer
    gives another (the notice links to the manage page)."""
    facts = stripe_events.card_facts(event)
    if facts is None:
        return NOTHING_TO_DO + ": no card"
    told = 0
    with transaction.atomic():
        for subscription in _card_subscriptions(facts):
            if _newer_card_news(subscription, facts) or _seen(
                    subscription, (EventType.CARD_DETACHED,), payment_method=facts.reference):
                continue
            record_event(subscription, EventType.CARD_DETACHED, date=now,
                         payment_method=facts.reference, sent_at=facts.sent_at,
                         last4=subscription.card_last4)
            told += 1
    return "%s: %d" % (RECORDED, told) if told else NOTHING_TO_DO + ": no subscription"


def card_expiring(event: dict, now: datetime, context) -> str:
    """Once per card and expiry date."""
    facts = stripe_events.card_facts(event)
    if facts is None:
        return NOTHING_TO_DO + ": no card"
    told = 0
    with transaction.atomic():
        for subscription in _card_subscriptions(facts):
            if _seen(subscription, (EventType.CARD_EXPIRING,), payment_method=facts.reference,
                     exp_month=facts.exp_month, exp_year=facts.exp_year):
                continue
            record_event(subscription, EventType.CARD_EXPIRING, date=now,
                         payment_method=facts.reference, last4=facts.last4 or
                         subscription.card_last4, exp_month=facts.exp_month,
                         exp_year=facts.exp_year)
            _tell_customer_card_expires(subscription, facts)
            told += 1
    return "%s: %d" % (RECORDED, told) if told else NOTHING_TO_DO + ": no subscription"


def _tell_customer_card_expires(subscription, facts) -> None:
    """The card-expiring notice of services/reminders.py: its ledger row also stops the hourly
    reminder run from sending a second one for the same card expiry."""
    from ..domain.notices import NoticeKind
    from .notices import decide, subject_key
    from .reminders import decide_card_expiring

    if facts.exp_month and facts.exp_year and not subscription.card_exp_year:
        subscription.card_exp_month, subscription.card_exp_year = facts.exp_month, facts.exp_year
    if subscription.card_exp_month and subscription.card_exp_year:
        decide_card_expiring(subscription)
    else:  # no expiry known: once per card
        decide(subscription, NoticeKind.CARD_EXPIRING, subject_key("expiring:" + facts.reference),
               card_brand=subscription.card_brand,
               card_last4=facts.last4 or subscription.card_last4, card_expiry="")


HANDLERS = {
    "charge.dispute.created": dispute_opened,
    "charge.dispute.closed": dispute_closed,
    "payment_method.updated": card_updated,
    "payment_method.automatically_updated": card_updated,
    "payment_method.detached": card_detached,
    "customer.source.expiring": card_expiring,
}
