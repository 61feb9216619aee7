"""The one writer of history rows: call it inside the transaction that changes the state."""
from datetime import datetime
from typing import Optional

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
    event = SubscriptionEvent.objects.create(
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
    webhook_outbox.write_deliveries(event, subscription)
    mrr_ledger.record_movement(subscription, event, event.date)
    notices.for_event(event, subscription)
    return event


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
