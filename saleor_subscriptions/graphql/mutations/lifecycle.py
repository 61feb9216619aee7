"""Customers (their own subscriptions) and staff/apps with MANAGE_ORDERS (any): cancel, undo,
reactivate, pause, resume, skip the next renewal."""
from datetime import datetime, timezone

import graphene
from django.core.exceptions import ValidationError
from saleor.core.permissions import OrderPermissions
from saleor.graphql.account.i18n import I18nMixin
from saleor.graphql.account.types import AddressInput
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.core.scalars import Decimal as DecimalScalar
from saleor.graphql.core.types import Money

from ...config import require_active
from ...domain.text import text_problem
from ...error_codes import SubscriptionErrorCode
from ...services import manage_links
from ...services.lifecycle import Actor, cancel, details, pause, plan_change, refund, staff
from .. import permissions
from ..errors import SubscriptionError, subscription_errors
from ..ids import pk_or_error
from ..types import CustomerSubscription
from .plans import get_plan_or_error

#: Saleor's address columns hold 256 characters.
ADDRESS_TEXT_LENGTH = 256
SubscriptionCancelReasonEnum = graphene.Enum(
    "SubscriptionCancelReason", [(reason.upper(), reason) for reason in cancel.REASONS])


_TOKEN_GIVEN = "_subscriptions_manage_token_given"


class _LifecycleMutation(BaseMutation):
    subscription = graphene.Field(CustomerSubscription, description="The subscription afterwards.")

    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")
        manage_token = graphene.String(
            description="The token of a manage link e-mailed to the customer (?token=…): acts "
            "as the subscription's customer without signing in, on that subscription only.")

    class Meta:
        abstract = True

    @classmethod
    def mutate(cls, root, info, **data):
        # Anonymous visitors may call with a manage link's token (checked with the subscription).
        setattr(info.context, _TOKEN_GIVEN, data.get("manage_token") is not None)
        return super().mutate(root, info, **data)

    @classmethod
    def check_permissions(cls, context, permissions=None):
        # Ownership is checked per subscription; anonymous visitors own none.
        return (getattr(context, _TOKEN_GIVEN, False) or context.user.is_authenticated
                or getattr(context, "app", None) is not None)

    @classmethod
    def subscription_of(cls, info, data):
        """The subscription named by `id`, for the requester or for the holder of
        `manage_token` (both popped from data)."""
        return permissions.get_subscription_or_error(info.context, data.pop("id"),
                                                     manage_token=data.pop("manage_token", None))

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        settings = require_active()
        subscription = cls.subscription_of(info, data)
        actor_type, user, app = permissions.actor(info.context, subscription)
        changed = cls.change(subscription.pk, Actor(actor_type, user, app),
                             datetime.now(timezone.utc), settings, **data)
        return cls(subscription=changed)

    @classmethod
    def change(cls, subscription_id, actor, now, settings, **data):
        raise NotImplementedError


def _meta(description):
    return type("Meta", (), {"description": description, "error_type_class": SubscriptionError,
                             "error_type_field": "subscription_errors"})


class SubscriptionCancel(_LifecycleMutation):
    class Arguments(_LifecycleMutation.Arguments):
        immediately = graphene.Boolean(default_value=False,
                                       description="End now instead of at the period's end.")
        reason = SubscriptionCancelReasonEnum(description="Why the customer leaves.")
        reason_text = graphene.String(description="In the customer's words.")

    Meta = _meta("Cancel a subscription at the end of its period (default) or now.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, immediately=False, reason=None,
               reason_text=None):
        return cancel.cancel(subscription_id, actor, now, immediately=immediately,
                             reason=reason or "other", reason_text=reason_text or "",
                             refund_unused=settings.refund_unused_on_cancel)


class SubscriptionCancelUndo(_LifecycleMutation):
    Meta = _meta("Keep a subscription that was set to end at its period's end.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return cancel.undo_cancellation(subscription_id, actor, now)


class SubscriptionReactivate(_LifecycleMutation):
    Meta = _meta("Bring back a cancelled subscription while its paid period still runs. If "
                 "the cancellation refunded the unused time, a new period starts now, charged by "
                 "the renewal run.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return cancel.reactivate(subscription_id, actor, now)


class SubscriptionPause(_LifecycleMutation):
    class Arguments(_LifecycleMutation.Arguments):
        cycles = graphene.Int(description="Billing cycles to pause for; null: until resumed.")

    Meta = _meta("Pause a subscription: no orders and no charges until it is resumed.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, cycles=None):
        return pause.pause(subscription_id, actor, now, settings, cycles=cycles)


class SubscriptionResume(_LifecycleMutation):
    Meta = _meta("Resume a paused subscription on a new anchor: the paid time left unused at "
                 "the pause is kept, billing restarts when it is used up (at once if none).")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return pause.resume(subscription_id, actor, now)


class SubscriptionSkipNextRenewal(_LifecycleMutation):
    Meta = _meta("Skip the next renewal: the one after it is billed instead.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return pause.skip_next_renewal(subscription_id, actor, now)


class SubscriptionManageLinksRevoke(_LifecycleMutation):
    Meta = _meta("Make every manage link e-mailed for this subscription so far stop working "
                 "(a forwarded e-mail); the next e-mails carry new ones.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return manage_links.revoke(subscription_id, actor, now)


def _staff_meta(description):
    meta = _meta(description + " Requires MANAGE_ORDERS.")
    meta.permissions = (OrderPermissions.MANAGE_ORDERS,)
    return meta


class _StaffMutation(_LifecycleMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")

    class Meta:
        abstract = True

    check_permissions = classmethod(BaseMutation.check_permissions.__func__)


class SubscriptionNextBillingDateUpdate(_StaffMutation):
    class Arguments(_StaffMutation.Arguments):
        date = graphene.DateTime(required=True, description="When to bill next (future).")

    Meta = _staff_meta("Move a subscription's next billing date; later dates follow from it.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, date):
        return staff.move_next_billing(subscription_id, actor, now, date)


class SubscriptionExtendPeriod(_StaffMutation):
    class Arguments(_StaffMutation.Arguments):
        days = graphene.Int(required=True, description="Free days to add (1-366).")

    Meta = _staff_meta("Extend the current period for free (goodwill).")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, days):
        return staff.extend_period(subscription_id, actor, now, days)


class SubscriptionPaymentMethodUpdate(_LifecycleMutation):
    class Arguments(_LifecycleMutation.Arguments):
        payment_method_id = graphene.String(
            required=True, description="A Stripe PaymentMethod id from Stripe.js.")

    Meta = _meta("Use another card for this subscription; a past-due one is charged again now.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, payment_method_id):
        return details.change_card(subscription_id, actor, now, settings, payment_method_id)


class SubscriptionAddressUpdate(_LifecycleMutation, I18nMixin):
    class Arguments(_LifecycleMutation.Arguments):
        shipping_address = AddressInput(description="Where renewals ship from now on.")
        billing_address = AddressInput(description="The billing address of future renewals.")

    Meta = _meta("Change the addresses future renewal orders use.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings, shipping_address=None,
               billing_address=None):
        for field, address in (("shipping_address", shipping_address),
                               ("billing_address", billing_address)):
            _check_address_texts(field, address or {})
        shipping = cls.validate_address(shipping_address) if shipping_address else None
        billing = cls.validate_address(billing_address) if billing_address else None
        return details.change_addresses(subscription_id, actor, now, shipping, billing)


def _check_address_texts(field: str, address) -> None:
    # Saleor's address normalisation fails on control characters with a KeyError.
    for value in address.values():
        problem = isinstance(value, str) and text_problem(value, ADDRESS_TEXT_LENGTH,
                                                          single_line=True)
        if problem:
            raise ValidationError({field: ValidationError(
                problem, code=SubscriptionErrorCode.INVALID.value)})


class SubscriptionPlanChangeQuote(graphene.ObjectType):
    kind = graphene.String(required=True, description="upgrade or downgrade.")
    applies = graphene.String(required=True, description="now or period_end.")
    charge_now = graphene.Field(Money, required=True, description="Charged at once.")
    credit = graphene.Field(Money, required=True, description="Kept for the next renewal.")
    new_unit_price = graphene.Field(Money, required=True)
    new_quantity = graphene.Int(required=True)
    effective_at = graphene.DateTime(required=True)
    intro_price = graphene.Field(
        Money, description="The new plan's introductory price per unit, when it applies (the "
        "subscription never had one): the coming introCycles paid cycles cost this instead of "
        "newUnitPrice, and the change is priced with it.")
    intro_cycles = graphene.Int(
        required=True, description="Paid cycles at introPrice after the change (0: none).")

    class Meta:
        description = "What a plan change does and costs, before the customer confirms."


class SubscriptionChangePlanPreview(graphene.ObjectType):
    quote = graphene.Field(SubscriptionPlanChangeQuote,
                           description="What the change would do; null when it is refused.")
    subscription_errors = graphene.List(
        graphene.NonNull(SubscriptionError), required=True,
        description="Why the change would be refused (the mutation's errors).")

    class Meta:
        description = "A plan change previewed: its quote, or why it is not possible."


def resolve_plan_change_preview(info, id, plan_id, quantity, immediately=False,
                                manage_token=None):
    try:
        settings = require_active()
        subscription = permissions.get_subscription_or_error(info.context, id,
                                                             manage_token=manage_token)
        plan = get_plan_or_error(plan_id, field="plan_id")
        offer = plan_change.quote(subscription, plan, quantity, datetime.now(timezone.utc),
                                  settings, immediately)
    except ValidationError as error:
        return SubscriptionChangePlanPreview(quote=None,
                                             subscription_errors=subscription_errors(error))
    return SubscriptionChangePlanPreview(quote=offer, subscription_errors=[])


class SubscriptionChangePlan(_LifecycleMutation):
    quote = graphene.Field(SubscriptionPlanChangeQuote, description="What the change cost.")

    class Arguments(_LifecycleMutation.Arguments):
        plan_id = graphene.ID(required=True, description="A plan of the same family.")
        quantity = graphene.Int(required=True, description="Units per period (>= 1).")
        immediately = graphene.Boolean(
            default_value=False, description="Downgrades: switch now and keep the credit.")

    Meta = _meta("Upgrade (now, prorated) or downgrade (at period end, or now with credit).")

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        settings = require_active()
        subscription = cls.subscription_of(info, data)
        plan = get_plan_or_error(data["plan_id"], field="plan_id")
        actor_type, user, app = permissions.actor(info.context, subscription)
        changed, offer = plan_change.change_plan(
            subscription.pk, Actor(actor_type, user, app), datetime.now(timezone.utc), settings,
            plan, data["quantity"], data.get("immediately", False))
        return cls(subscription=changed, quote=offer)


class SubscriptionChangePlanCancel(_LifecycleMutation):
    Meta = _meta("Drop a plan change scheduled for the end of the period.")

    @classmethod
    def change(cls, subscription_id, actor, now, settings):
        return plan_change.cancel_scheduled(subscription_id, actor, now)


class SubscriptionRefund(_StaffMutation):
    refunded = graphene.Field(Money, description="What went back to the customer.")

    class Arguments(_StaffMutation.Arguments):
        order_id = graphene.ID(required=True, description="One of the subscription's orders.")
        amount = DecimalScalar(description="Leave out to refund everything captured.")

    Meta = _staff_meta("Refund a subscription payment, fully or in part, through its gateway.")

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        subscription = permissions.get_subscription_or_error(info.context, data["id"])
        actor_type, user, app = permissions.actor(info.context)
        order_pk = pk_or_error(data["order_id"], "Order", "order_id")
        refunded = refund.refund(subscription.pk, Actor(actor_type, user, app),
                                 datetime.now(timezone.utc), order_pk, data.get("amount"))
        subscription.refresh_from_db()
        return cls(subscription=subscription, refunded=refunded)
