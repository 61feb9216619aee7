"""The versioned JSON body of a delivery (version 1): global ids, ISO 8601 UTC times."""
import json
from decimal import Decimal
from typing import Any, Dict, Optional

from graphql_relay import to_global_id

VERSION = 1
#: event parameters that hold primary keys, and the type of their global id
GLOBAL_IDS = {"plan": "SubscriptionPlan", "from_plan": "SubscriptionPlan",
              "to_plan": "SubscriptionPlan", "order_id": "Order",
              "offer": "SubscriptionRetentionOffer"}


def _gid(type_name: str, pk: Optional[int]) -> Optional[str]:
    return to_global_id(type_name, pk) if pk is not None else None


def _time(value) -> Optional[str]:
    return value.isoformat() if value is not None else None


def _money(amount: Optional[Decimal], currency: str) -> Optional[Dict[str, str]]:
    return {"amount": str(amount), "currency": currency} if amount is not None else None


def subscription_part(subscription) -> Dict[str, Any]:
    """What the webhook's App (an integration with MANAGE_ORDERS) may know of the subscription."""
    return {
        "id": _gid("CustomerSubscription", subscription.pk),
        "token": str(subscription.token),
        "status": subscription.status,
        "plan_id": _gid("SubscriptionPlan", subscription.plan_id),
        "variant_id": _gid("ProductVariant", subscription.variant_id),
        "quantity": subscription.quantity,
        "unit_price": _money(subscription.unit_price_amount, subscription.currency),
        "user_id": _gid("User", subscription.user_id),
        "email": subscription.email,
        "is_guest": subscription.is_guest,
        "current_period_start": _time(subscription.current_period_start),
        "current_period_end": _time(subscription.current_period_end),
        "next_billing_at": _time(subscription.next_billing_at),
        "trial_end_at": _time(subscription.trial_end_at),
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "cancelled_at": _time(subscription.cancelled_at),
        "paused_at": _time(subscription.paused_at),
        "pause_resumes_at": _time(subscription.pause_resumes_at),
        "ended_at": _time(subscription.ended_at),
        "origin_order_id": _gid("Order", subscription.origin_order_id),
    }


def event_data(event) -> Dict[str, Any]:
    data = dict(event.parameters or {})
    for key, type_name in GLOBAL_IDS.items():
        if isinstance(data.get(key), int):
            data[key] = to_global_id(type_name, data[key])
    data["history_type"] = event.type
    data["actor_type"] = event.actor_type
    data["order_id"] = _gid("Order", event.order_id) if event.order_id else data.get("order_id")
    data["amount"] = _money(event.amount, event.currency)
    return data


def build_body(event, subscription, webhook_type: str, event_id: str) -> str:
    payload = {
        "version": VERSION,
        "id": event_id,
        "type": webhook_type,
        "occurred_at": _time(event.date),
        "subscription": subscription_part(subscription),
        "data": event_data(event),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))
