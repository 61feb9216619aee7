import graphene

from ..discount_models import DiscountSource, VoucherDuration
from ..domain.periods import IntervalUnit
from ..domain.problems import Problem
from ..domain.states import Status
from ..models import ActorType, EventType

SubscriptionIntervalUnitEnum = graphene.Enum(
    "SubscriptionIntervalUnit", [(unit.name, unit.value) for unit in IntervalUnit]
)
SubscriptionStatusEnum = graphene.Enum(
    "SubscriptionStatus", [(status.name, status.value) for status in Status]
)
SubscriptionEventTypeEnum = graphene.Enum(
    "SubscriptionEventType", [(value.upper(), value) for value, _label in EventType.CHOICES]
)
SubscriptionActorTypeEnum = graphene.Enum(
    "SubscriptionActorType", [(value.upper(), value) for value, _label in ActorType.CHOICES]
)
SubscriptionProblemCodeEnum = graphene.Enum(
    "SubscriptionProblemCode", [(problem.name, problem.value) for problem in Problem],
    description="Why a renewal is not going through (stable codes, safe to show customers).",
)
SubscriptionDiscountSourceEnum = graphene.Enum(
    "SubscriptionDiscountSource", [(value.upper(), value) for value, _label in DiscountSource.CHOICES],
    description="Where a subscription's discount came from.",
)
SubscriptionVoucherDurationEnum = graphene.Enum(
    "SubscriptionVoucherDuration",
    [(value.upper(), value) for value, _label in VoucherDuration.CHOICES],
    description="How long a voucher's discount lasts on a subscription bought with it.",
)
