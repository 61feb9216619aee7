"""The one writer of history rows: call it inside the transaction that changes the state."""
from datetime import datetime
from typing import List, Optional, Sequence, Tuple

from django.utils import timezone
from prices import Money

from ..models import ActorType, Subscription, SubscriptionEvent
from . import mrr_ledger, notices, webhook_outbox


def record_event(
    subscription: Subscription,
    type: str,
    *,
    actor_type: str = ActorType.SYSTEM,
    user=None,
    app=None,
    order=None,
    amount: Optional[Money] = None,
    date: Optional[datetime] = None,
    **parameters,
) -> SubscriptionEvent:
    """`date` is the business clock (the `now` passed into services); defaults to the real one.

    Also writes the webhook deliveries of the event (the outbox), the MRR movement the change
    makes (the ledger) and the customer's confirmation e-mail it asks for (services/notices.py),
    in the same transaction."""
    event = SubscriptionEvent.objects.create(**_event_fields(
        subscription, type, actor_type, user, app, order, amount, date, parameters))
    webhook_outbox.write_deliveries(event, subscription)
    mrr_ledger.record_movement(subscription, event, event.date)
    notices.for_event(event, subscription)
    return event


def record_events(entries: Sequence[Tuple[Subscription, str, dict]]) -> List[SubscriptionEvent]:
    """record_event for many (subscription, type, keyword arguments) at once, in a few
    statements: one INSERT of the events, one of their webhook deliveries, the MRR ledger's
    movements in two (a renewal batch's history rows)."""
    events = SubscriptionEvent.objects.bulk_create([
        SubscriptionEvent(**_event_fields(subscription, type, **_split(arguments)))
        for subscription, type, arguments in entries])
    pairs = [(event, subscription) for event, (subscription, _t, _a) in zip(events, entries)]
    webhook_outbox.write_deliveries_many(pairs)
    mrr_ledger.record_movements(pairs)
    for event, subscription in pairs:
        notices.for_event(event, subscription)
    return events


def _split(arguments: dict) -> dict:
    arguments = dict(arguments)
    named = {key: arguments.pop(key, None) for key in ("user", "app", "order", "amount", "date")}
    named["actor_type"] = arguments.pop("actor_type", ActorType.SYSTEM)
    named["parameters"] = arguments
    return named


def _event_fields(subscription, type, actor_type, user, app, order, amount, date,
                  parameters) -> dict:
    return dict(
        subscription=subscription,
        date=date or timezone.now(),
        type=type,
        actor_type=actor_type,
        user=user,
        app=app,
        order=order,
        currency=amount.currency if amount is not None else "",
        amount=amount.amount if amount is not None else None,
        parameters={key: _jsonable(value) for key, value in parameters.items()},
        status=subscription.status,
        plan_id=subscription.plan_id,
    )


def _jsonable(value):
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)
