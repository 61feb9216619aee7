from enum import Enum
from typing import Dict, FrozenSet, Union


class Status(str, Enum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class InvalidTransition(ValueError):
    pass


ALLOWED_TRANSITIONS: Dict[Status, FrozenSet[Status]] = {
    Status.TRIALING: frozenset({Status.ACTIVE, Status.PAST_DUE, Status.CANCELLED, Status.PAUSED}),
    Status.ACTIVE: frozenset({Status.PAST_DUE, Status.PAUSED, Status.CANCELLED, Status.EXPIRED}),
    Status.PAST_DUE: frozenset({Status.ACTIVE, Status.PAUSED, Status.CANCELLED}),
    Status.PAUSED: frozenset({Status.ACTIVE, Status.CANCELLED}),
    # Reactivation is the only way back from a cancellation.
    Status.CANCELLED: frozenset({Status.ACTIVE}),
    Status.EXPIRED: frozenset(),
}

BILLABLE: FrozenSet[Status] = frozenset({Status.TRIALING, Status.ACTIVE, Status.PAST_DUE})
TERMINAL: FrozenSet[Status] = frozenset({Status.CANCELLED, Status.EXPIRED})

StatusLike = Union[Status, str]


def can_transition(current: StatusLike, target: StatusLike) -> bool:
    # Coercing makes an unknown status string fail loudly instead of reading as "not allowed".
    return Status(target) in ALLOWED_TRANSITIONS[Status(current)]


def ensure_transition(current: StatusLike, target: StatusLike) -> None:
    current, target = Status(current), Status(target)
    if not can_transition(current, target):
        allowed = sorted(status.value for status in ALLOWED_TRANSITIONS[current])
        raise InvalidTransition(
            f"Cannot change subscription status from {current.value!r} to "
            f"{target.value!r}; allowed from {current.value!r}: {', '.join(allowed) or 'none'}"
        )
