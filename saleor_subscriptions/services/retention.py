"""Retention offers at cancellation: what a subscription may get instead of cancelling for a
reason, accepting one (applied through the lifecycle's own changes), and the declined record a
cancellation after the offers writes.

Eligible: an active or trialing subscription (not past due, paused or ending), no charge of it in
flight, and no accepted offer in the store's "Months between accepted retention offers". An
accept answers the last showing of offers while it is open (not yet accepted or declined): one
showing, one accepted offer, whatever the months between offers.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import List, Optional, Sequence

from django.core.exceptions import ValidationError
from django.db import transaction

from ..discount_models import DiscountSource
from ..domain.states import Status
from ..error_codes import SubscriptionErrorCode
from ..models import EventType, Subscription, SubscriptionEvent, SubscriptionPlan
from ..offer_models import RetentionOffer, RetentionOfferKind
from .discounts import MAX_RENEWALS, grant_offer_discount
from .events import record_event
from .lifecycle import Actor, charge_in_flight, lock, pause, plan_change, refuse
from .lifecycle.cancel import REASONS

#: kinds granted through the discount core (services/discounts.py)
DISCOUNT_KINDS = (RetentionOfferKind.DISCOUNT,)
#: Whole months: the cooldown counts 30-day months (no anchor to clamp to here).
MONTH = timedelta(days=30)


@dataclass(frozen=True)
class OfferInput:
    reason: str
    kind: str
    percent: Optional[Decimal] = None
    renewals: Optional[int] = None
    cycles: Optional[int] = None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message,
                                                   code=SubscriptionErrorCode.INVALID.value)})


def create_offer(data: OfferInput, settings) -> RetentionOffer:
    """The store's offer for a cancellation reason; refuses terms that could never apply."""
    if data.reason not in REASONS:
        raise _invalid("reason", "Unknown reason %r." % data.reason)
    terms = {"percent": None, "renewals": None, "cycles": None}
    if data.kind == RetentionOfferKind.DISCOUNT:
        if data.percent is None or not data.percent.is_finite() or not 0 < data.percent <= 100 \
                or data.percent != data.percent.quantize(Decimal("0.01")):
            raise _invalid("percent", "A discount offer needs a percent above 0, up to 100, "
                           "with at most 2 decimals.")
        if data.renewals is None or not 1 <= data.renewals <= MAX_RENEWALS:
            raise _invalid("renewals", "A discount offer lasts 1 to %d renewals." % MAX_RENEWALS)
        terms.update(percent=data.percent, renewals=data.renewals)
    elif data.kind == RetentionOfferKind.PAUSE:
        if data.cycles is None or not 1 <= data.cycles <= settings.max_pause_cycles:
            raise _invalid("cycles", "A pause offer lasts 1 to %d cycles (the store's maximum "
                           "pause length)." % settings.max_pause_cycles)
        terms.update(cycles=data.cycles)
    elif data.kind not in (RetentionOfferKind.SKIP, RetentionOfferKind.DOWNGRADE):
        raise _invalid("kind", "Unknown offer kind %r." % data.kind)
    return RetentionOffer.objects.create(reason=data.reason, kind=data.kind, **terms)


def archive_offer(offer: RetentionOffer) -> RetentionOffer:
    offer.is_active = False
    offer.save(update_fields=["is_active"])
    return offer


def downgrade_plans(subscription: Subscription) -> List[SubscriptionPlan]:
    """Cheaper tiers of the subscription's family for the same product and currency."""
    current = subscription.plan
    if not current.family:
        return []
    return list(SubscriptionPlan.objects.filter(
        family=current.family, is_active=True, tier_rank__lt=current.tier_rank,
        currency=subscription.currency, variant__product_id=current.variant.product_id,
    ).exclude(pk=current.pk).order_by("-tier_rank", "pk"))


def ensure_eligible(subscription: Subscription, now: datetime, settings) -> None:
    """Raises the typed refusal when the subscription may get no retention offer now."""
    if subscription.status not in (Status.ACTIVE.value, Status.TRIALING.value):
        raise refuse("Retention offers are for active subscriptions (this one is %s)."
                     % subscription.status, SubscriptionErrorCode.NOT_ALLOWED)
    if subscription.cancel_at_period_end:
        raise refuse("The subscription is already set to end.", SubscriptionErrorCode.NOT_ALLOWED)
    if charge_in_flight(subscription.pk):
        raise refuse("A payment is being taken for this subscription; try again in a moment.",
                     SubscriptionErrorCode.RENEWAL_IN_PROGRESS)
    months = settings.retention_offer_months
    if months and SubscriptionEvent.objects.filter(
            subscription=subscription, type=EventType.RETENTION_OFFER_ACCEPTED,
            date__gt=now - months * MONTH).exists():
        raise refuse("This subscription already accepted an offer in the last %d months."
                     % months, SubscriptionErrorCode.NOT_ALLOWED)


def _applicable(offer: RetentionOffer, subscription: Subscription, settings) -> bool:
    if offer.kind == RetentionOfferKind.PAUSE:
        return settings.allow_pause and offer.cycles <= settings.max_pause_cycles
    if offer.kind == RetentionOfferKind.SKIP:
        return subscription.next_billing_at is not None
    if offer.kind == RetentionOfferKind.DOWNGRADE:
        return bool(downgrade_plans(subscription))
    return offer.kind in DISCOUNT_KINDS


def offers_for(subscription: Subscription, reason: str, now: datetime, settings
               ) -> List[RetentionOffer]:
    """The store's active offers for the reason that this subscription can take now."""
    if reason not in REASONS:
        raise refuse("Unknown reason %r." % reason, SubscriptionErrorCode.INVALID, "reason")
    ensure_eligible(subscription, now, settings)
    return [offer for offer in RetentionOffer.objects.filter(reason=reason, is_active=True)
            if _applicable(offer, subscription, settings)]


@transaction.atomic
def record_offered(subscription_id: int, reason: str, offers: Sequence[RetentionOffer],
                   actor: Actor, now: datetime) -> None:
    """Once per showing: not again while the same offers for the same reason are open."""
    if not offers:
        return
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    shown = sorted(offer.pk for offer in offers)
    last = _open_offered(subscription)
    if last is not None and last.parameters.get("reason") == reason \
            and last.parameters.get("offers") == shown:
        return
    record_event(subscription, EventType.RETENTION_OFFERED, date=now, reason=reason,
                 offers=shown, kinds=[offer.kind for offer in offers], **actor.event_fields())


def _open_offered(subscription: Subscription) -> Optional[SubscriptionEvent]:
    """The last showing of offers not yet answered (accepted, declined)."""
    last = subscription.events.filter(type__in=(
        EventType.RETENTION_OFFERED, EventType.RETENTION_OFFER_ACCEPTED,
        EventType.RETENTION_OFFER_DECLINED)).order_by("date", "pk").last()
    return last if last is not None and last.type == EventType.RETENTION_OFFERED else None


def record_declined(subscription: Subscription, reason: str, actor: Actor, now: datetime
                    ) -> None:
    """Called by the cancellation (same transaction, row locked) after offers were shown."""
    shown = _open_offered(subscription)
    if shown is None:
        return
    record_event(subscription, EventType.RETENTION_OFFER_DECLINED, date=now, reason=reason,
                 offered_reason=shown.parameters.get("reason"),
                 offers=shown.parameters.get("offers", []), **actor.event_fields())


@transaction.atomic
def accept(subscription_id: int, offer: RetentionOffer, reason: str, actor: Actor,
           now: datetime, settings, plan: Optional[SubscriptionPlan] = None) -> Subscription:
    """Applies the offer through the lifecycle change it stands for; the cancellation is not
    made. One transaction: a refusal anywhere leaves everything as it was."""
    subscription = lock(subscription_id)
    if reason not in REASONS:
        raise refuse("Unknown reason %r." % reason, SubscriptionErrorCode.INVALID, "reason")
    if not offer.is_active or offer.reason != reason:
        raise refuse("This offer is not available for this reason.",
                     SubscriptionErrorCode.NOT_FOUND, "offer_id")
    ensure_eligible(subscription, now, settings)
    shown = _open_offered(subscription)
    if shown is None or shown.parameters.get("reason") != reason \
            or offer.pk not in shown.parameters.get("offers", []):
        raise refuse("This offer is not open: ask for the cancellation offers again.",
                     SubscriptionErrorCode.NOT_ALLOWED, "offer_id")
    if not _applicable(offer, subscription, settings):
        raise refuse("This offer does not apply to this subscription.",
                     SubscriptionErrorCode.NOT_ALLOWED, "offer_id")
    terms = _apply(subscription, offer, actor, now, settings, plan)
    subscription = Subscription.objects.select_related("plan").get(pk=subscription_id)
    record_event(subscription, EventType.RETENTION_OFFER_ACCEPTED, date=now, reason=reason,
                 offer=offer.pk, kind=offer.kind, **terms, **actor.event_fields())
    return subscription


def _apply(subscription, offer, actor, now, settings, plan) -> dict:
    if offer.kind != RetentionOfferKind.DOWNGRADE and plan is not None:
        raise refuse("Only a downgrade offer takes a plan.", SubscriptionErrorCode.INVALID,
                     "plan_id")
    if offer.kind == RetentionOfferKind.SKIP:
        pause.skip_next_renewal(subscription.pk, actor, now)
        return {}
    if offer.kind == RetentionOfferKind.PAUSE:
        pause.pause(subscription.pk, actor, now, settings, cycles=offer.cycles)
        return {"cycles": offer.cycles}
    if offer.kind == RetentionOfferKind.DOWNGRADE:
        if plan is None or plan.pk not in {p.pk for p in downgrade_plans(subscription)}:
            raise refuse("Choose one of the cheaper plans this offer lists.",
                         SubscriptionErrorCode.REQUIRED if plan is None
                         else SubscriptionErrorCode.INVALID, "plan_id")
        plan_change.change_plan(subscription.pk, actor, now, settings, plan,
                                subscription.quantity)
        return {"to_plan": plan.pk}
    grant_offer_discount(subscription, offer, source=DiscountSource.RETENTION_OFFER,
                         reason="Retention offer (%s)" % offer.reason, actor=actor, now=now)
    return {"percent": offer.percent, "renewals": offer.renewals}
