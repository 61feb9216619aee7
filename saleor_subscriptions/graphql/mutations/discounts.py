"""Staff goodwill (MANAGE_ORDERS): a discount on the next renewals, ending one, a free period."""
import graphene
from saleor.graphql.core.scalars import Decimal as DecimalScalar

from ...error_codes import SubscriptionErrorCode
from ...services.lifecycle import goodwill
from .. import permissions
from ..ids import invalid, pk_or_error
from .lifecycle import _staff_meta, _StaffMutation

REASON_HELP = "Why (kept with the event; shown to staff only)."


class SubscriptionDiscountGrant(_StaffMutation):
    class Arguments(_StaffMutation.Arguments):
        percent = DecimalScalar(description="Percent off each discounted renewal (0-100].")
        amount = DecimalScalar(description="Amount off each discounted renewal, in the "
                               "subscription's currency.")
        currency = graphene.String(description="The amount's currency; must be the "
                                   "subscription's (refused otherwise).")
        renewals = graphene.Int(description="How many paid renewals get it (1-120); null: every "
                                "renewal for as long as the subscription lasts.")
        reason = graphene.String(required=True, description=REASON_HELP)

    Meta = _staff_meta("Give a subscription a goodwill discount (a percent or an amount, before "
                       "tax) on its next renewals; each renewal order shows it.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, reason, percent=None, amount=None,
               currency=None, renewals=None):
        return goodwill.grant_goodwill(subscription_id, actor, now, reason=reason,
                                       percent=percent, amount=amount, currency=currency,
                                       renewals=renewals)


class SubscriptionDiscountEnd(_StaffMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the SubscriptionDiscount.")
        reason = graphene.String(required=True, description=REASON_HELP)

    Meta = _staff_meta("End a subscription's discount before it is used up.")

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        from datetime import datetime, timezone

        from ...config import require_active
        from ...discount_models import SubscriptionDiscount
        from ...services.lifecycle import Actor

        require_active()
        pk = pk_or_error(data["id"], "SubscriptionDiscount", "id")
        visible = permissions.visible_subscriptions(info.context)
        if not SubscriptionDiscount.objects.filter(pk=pk, subscription__in=visible).exists():
            raise invalid("id", "Discount not found.", SubscriptionErrorCode.NOT_FOUND)
        actor_type, user, app = permissions.actor(info.context)
        changed = goodwill.end_discount(pk, Actor(actor_type, user, app),
                                        datetime.now(timezone.utc), data["reason"])
        return cls(subscription=changed)


class SubscriptionFreePeriodGrant(_StaffMutation):
    class Arguments(_StaffMutation.Arguments):
        cycles = graphene.Int(description="Whole billing cycles to give (1-24).")
        days = graphene.Int(description="Or days to give (1-366).")
        reason = graphene.String(required=True, description=REASON_HELP)

    Meta = _staff_meta("Give a free period: the next billing moves by N cycles (on the same "
                       "billing day) or N days, without a charge.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, reason, cycles=None, days=None):
        return goodwill.give_free_period(subscription_id, actor, now, reason=reason,
                                         cycles=cycles, days=days)
