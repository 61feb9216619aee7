"""The lifecycle events an App can subscribe to, and which history rows produce them."""
from typing import Any, Dict, List, Mapping

from ..models import EventType


class WebhookEventType:
    CREATED = "subscription_created"
    TRIAL_ENDING = "subscription_trial_ending"
    RENEWAL_UPCOMING = "subscription_renewal_upcoming"
    RENEWED = "subscription_renewed"
    PAYMENT_FAILED = "subscription_payment_failed"
    PAYMENT_ACTION_REQUIRED = "subscription_payment_action_required"
    PAST_DUE = "subscription_past_due"
    RECOVERED = "subscription_recovered"
    PAUSED = "subscription_paused"
    RESUMED = "subscription_resumed"
    PLAN_CHANGED = "subscription_plan_changed"
    CANCELLATION_SCHEDULED = "subscription_cancellation_scheduled"
    CANCELLED = "subscription_cancelled"
    EXPIRED = "subscription_expired"
    REACTIVATED = "subscription_reactivated"
    OFFER_ACCEPTED = "subscription_offer_accepted"  # a retention offer instead of cancelling
    WIN_BACK_OFFERED = "subscription_win_back_offered"  # data.win_back_code: the code

    CHOICES = [
        (value, value.replace("_", " ").capitalize())
        for name, value in vars().items()
        if name.isupper() and isinstance(value, str)
    ]


#: history row type -> the webhook event it is
BY_HISTORY_TYPE = {
    EventType.CREATED: WebhookEventType.CREATED,
    EventType.TRIAL_ENDING: WebhookEventType.TRIAL_ENDING,
    EventType.RENEWAL_UPCOMING: WebhookEventType.RENEWAL_UPCOMING,
    EventType.RENEWED: WebhookEventType.RENEWED,
    EventType.PAYMENT_FAILED: WebhookEventType.PAYMENT_FAILED,
    EventType.PAYMENT_ACTION_REQUIRED: WebhookEventType.PAYMENT_ACTION_REQUIRED,
    EventType.PAYMENT_RECOVERED: WebhookEventType.RECOVERED,
    EventType.PAUSED: WebhookEventType.PAUSED,
    EventType.RESUMED: WebhookEventType.RESUMED,
    EventType.PLAN_CHANGED: WebhookEventType.PLAN_CHANGED,
    EventType.CANCELLATION_SCHEDULED: WebhookEventType.CANCELLATION_SCHEDULED,
    EventType.CANCELLED: WebhookEventType.CANCELLED,
    EventType.EXPIRED: WebhookEventType.EXPIRED,
    EventType.REACTIVATED: WebhookEventType.REACTIVATED,
    EventType.RETENTION_OFFER_ACCEPTED: WebhookEventType.OFFER_ACCEPTED,
    EventType.WIN_BACK_OFFERED: WebhookEventType.WIN_BACK_OFFERED,
}

PAST_DUE = "past_due"


def webhook_events_for(history_type: str, parameters: Mapping[str, Any]) -> List[str]:
    """The webhook events one history row stands for (often none, sometimes two)."""
    found = []
    mapped = BY_HISTORY_TYPE.get(history_type)
    if mapped is not None:
        found.append(mapped)
    # Becoming past due is written on the payment failure that caused it.
    became_past_due = (parameters.get("status") == PAST_DUE
                       and parameters.get("previous_status") not in (None, PAST_DUE))
    if became_past_due:
        found.append(WebhookEventType.PAST_DUE)
    return found


def all_event_types() -> Dict[str, str]:
    return dict(WebhookEventType.CHOICES)
