"""Win-back: a set number of days after a subscription was cancelled, its former subscriber gets
a single-use code (e-mail and the `subscription_win_back_offered` webhook) that brings the same
subscription back — on its plan or another of the family — at the offered terms, charged at once
through the renewal (the one charging path) with the saved card or a new one.

Exactly once: one `WinBackOffer` row per subscription and ending (unique), written under the
subscription's row lock by the beat task, with its history row, which decides the e-mail once
(the notice ledger, services/notices.py; sent when the row commits).
"""
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Optional

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from ..discount_models import DiscountSource
from ..domain.states import Status
from ..domain.text import text_problem
from ..error_codes import SubscriptionErrorCode
from ..models import EventType, Subscription, SubscriptionPlan
from ..offer_models import WinBackOffer
from .discounts import grant_offer_discount
from .events import record_event
from .lifecycle import Actor, lock, refuse
from .lifecycle.cancel import restart
from .lifecycle.details import save_card, use_card

CODE_BYTES = 12  # 16 characters, url-safe


def _refusal(message: str, code=SubscriptionErrorCode.INVALID, field: str = "code"):
    return ValidationError({field: ValidationError(message, code=code.value)})


def due(now: datetime, settings):
    """Cancelled subscriptions whose win-back is due and not yet sent (ended within the last
    after + valid days: a store switching win-back on does not write to every ex-subscriber)."""
    after = timedelta(days=settings.win_back_after_days)
    sent = WinBackOffer.objects.filter(subscription=OuterRef("pk"), ended_at=OuterRef("ended_at"))
    return (Subscription.objects.filter(
        status=Status.CANCELLED.value, ended_at__lte=now - after,
        ended_at__gt=now - after - timedelta(days=settings.win_back_valid_days))
        .exclude(email="").annotate(sent=Exists(sent)).filter(sent=False))


def send_due(now: datetime, settings, limit: int = 200) -> int:
    """The beat task's work: one offer per due subscription; returns how many were sent."""
    if not settings.active or not settings.win_back_after_days:
        return 0
    sent = 0
    for subscription_id in list(due(now, settings).order_by("ended_at", "pk")
                                .values_list("pk", flat=True)[:limit]):
        sent += _offer(subscription_id, now, settings)
    return sent


def _offer(subscription_id: int, now: datetime, settings) -> int:
    try:
        with transaction.atomic():
            subscription = (Subscription.objects
                            .select_for_update(skip_locked=True, of=("self",))
                            .select_related("plan", "user").filter(pk=subscription_id).first())
            if subscription is None or subscription.status != Status.CANCELLED.value:
                return 0  # another worker has it, or it came back meanwhile
            offer = WinBackOffer.objects.create(
                subscription=subscription, ended_at=subscription.ended_at,
                code=secrets.token_urlsafe(CODE_BYTES),
                expires_at=now + timedelta(days=settings.win_back_valid_days),
                percent=Decimal(settings.win_back_percent), renewals=settings.win_back_renewals,
                created_at=now)
            record_event(subscription, EventType.WIN_BACK_OFFERED, date=now,
                         win_back_code=offer.code,
                         expires_at=offer.expires_at, percent=offer.percent,
                         renewals=offer.renewals)
    except IntegrityError:  # sent by another worker in the meantime: exactly once
        return 0
    return 1


def _find(code: str, user, now: datetime, for_update: bool = False) -> WinBackOffer:
    """The caller's own, unused, unexpired offer; anything else is a typed refusal."""
    if not isinstance(code, str) or not 1 <= len(code) <= 64 or text_problem(
            code, 64, single_line=True):
        raise _refusal("Win-back code not found.", SubscriptionErrorCode.NOT_FOUND)
    offers = WinBackOffer.objects.select_related("subscription__plan")
    if for_update:
        offers = offers.select_for_update(of=("self",))
    offer = offers.filter(code=code).first()
    owner = user is not None and user.is_authenticated
    if offer is None or not owner or offer.subscription.user_id != user.pk:
        raise _refusal("Win-back code not found.", SubscriptionErrorCode.NOT_FOUND)
    if offer.redeemed_at is not None:
        raise _refusal("This win-back code has already been used.")
    if offer.expires_at <= now:
        raise _refusal("This win-back code expired on %s." % offer.expires_at.date())
    if offer.subscription.status != Status.CANCELLED.value:
        raise _refusal("The subscription is %s: nothing to bring back."
                       % offer.subscription.status, SubscriptionErrorCode.INVALID_STATUS)
    return offer


def _check_plan(subscription: Subscription, plan: Optional[SubscriptionPlan]) -> None:
    if plan is None or plan.pk == subscription.plan_id:
        return
    current = subscription.plan
    if not plan.is_active:
        raise refuse("Plan %s is no longer available." % plan.name,
                     SubscriptionErrorCode.PLAN_NOT_AVAILABLE, "plan_id")
    if not current.family or plan.family != current.family \
            or plan.variant.product_id != current.variant.product_id:
        raise refuse("Choose a plan of the same family.", SubscriptionErrorCode.OTHER_FAMILY,
                     "plan_id")
    if plan.currency != subscription.currency:
        raise refuse("Plan %s is priced in another currency." % plan.name,
                     SubscriptionErrorCode.CURRENCY_MISMATCH, "plan_id")


def redeem(code: str, user, actor: Actor, now: datetime, settings,
           plan: Optional[SubscriptionPlan] = None,
           payment_method_id: Optional[str] = None) -> Subscription:
    """Checked (code, plan, card) before anything changes; then, under the row lock, the code
    is used, the subscription restarted with the offered terms, and after the commit its first
    period charged through the renewal run's path."""
    offer = _find(code, user, now)
    subscription = offer.subscription
    _check_plan(subscription, plan)
    card = None
    if payment_method_id:
        card = save_card(subscription, settings, payment_method_id)
    elif not subscription.payment_method_reference:
        raise refuse("The card of this subscription is gone: give a new one.",
                     SubscriptionErrorCode.PAYMENT_METHOD_REQUIRED, "payment_method_id")
    with transaction.atomic():
        offer = _find(code, user, now, for_update=True)
        subscription = lock(offer.subscription_id)
        if card is not None:
            use_card(subscription, payment_method_id, card, actor, now)
        restart(subscription, actor, now, plan, win_back=True)
        offer.redeemed_at = now
        offer.save(update_fields=["redeemed_at"])
        if offer.percent and offer.renewals:
            grant_offer_discount(subscription, offer, source=DiscountSource.WIN_BACK,
                                 reason="Win-back offer", actor=actor, now=now)
        record_event(subscription, EventType.WIN_BACK_REDEEMED, date=now,
                     percent=offer.percent, renewals=offer.renewals,
                     plan=subscription.plan_id, **actor.event_fields())
    from .renewals import renew_subscription

    renew_subscription(subscription.pk, now, force=True)
    return Subscription.objects.select_related("plan").get(pk=subscription.pk)

