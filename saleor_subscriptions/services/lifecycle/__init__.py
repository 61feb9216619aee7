"""Customer and staff changes to a subscription: the only writers, one transaction each."""
from dataclasses import dataclass
from typing import Optional

from django.core.exceptions import ValidationError

from ...error_codes import SubscriptionErrorCode
from ...models import ActorType, Subscription


@dataclass(frozen=True)
class Actor:
    """Who asked, for the event rows."""

    type: str = ActorType.SYSTEM
    user: Optional[object] = None
    app: Optional[object] = None

    def event_fields(self) -> dict:
        return {"actor_type": self.type, "user": self.user, "app": self.app}


def refuse(message: str, code=SubscriptionErrorCode.INVALID_STATUS, field: str = "id"):
    return ValidationError({field: ValidationError(message, code=code.value)})


def lock(subscription_id: int) -> Subscription:
    return Subscription.objects.select_for_update().select_related("plan").get(pk=subscription_id)
