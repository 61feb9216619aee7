"""Customer and staff changes to a subscription: the only writers, one transaction each."""
from dataclasses import dataclass
from typing import Optional

from django.core.exceptions import ValidationError

from ...error_codes import SubscriptionErrorCode
from ...models import ActorType, AttemptStatus, PaymentAttempt, Subscription


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


def lock(subscription_id: int, in_flight_ok: bool = False) -> Subscription:
    """The subscription, row-locked, for one change. Refused with RENEWAL_IN_PROGRESS while a
    charge of it is in flight (a STARTED attempt: committed before the gateway call, settled
    under this same lock), so no change is overwritten by, or hides, the charge's outcome.
    in_flight_ok: for the writer of that outcome."""
    subscription = (Subscription.objects.select_for_update().select_related("plan")
                    .get(pk=subscription_id))
    if not in_flight_ok and charge_in_flight(subscription_id):
        raise in_flight_refusal()
    return subscription


def charge_in_flight(subscription_id: int) -> bool:
    return PaymentAttempt.objects.filter(subscription_id=subscription_id,
                                         status=AttemptStatus.STARTED).exists()


def in_flight_refusal() -> ValidationError:
    return refuse("A payment is being taken for this subscription; try again in a moment.",
                  SubscriptionErrorCode.RENEWAL_IN_PROGRESS)
