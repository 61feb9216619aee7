"""Queries and mutations the plugin adds to Saleor's schema."""
import graphene

from . import permissions
from .connections import CheckedConnectionField, CheckedFilterConnectionField
from .filters import SubscriptionFilterInput
from .ids import decode_pk
from .manage_links import SubscriptionByManageToken, resolve_subscription_by_manage_token
from .metrics import (
    SubscriptionMrrReport,
    SubscriptionRevenueReconciliation,
    resolve_revenue_reconciliation,
    resolve_subscription_mrr,
)
from .mutations.accounts import ConfirmAccount, CreateToken
from .mutations.checkout import CheckoutLineSubscriptionPlanSet
from .mutations.discounts import (
    SubscriptionDiscountEnd,
    SubscriptionDiscountGrant,
    SubscriptionFreePeriodGrant,
)
from .mutations.lifecycle import (
    SubscriptionAddressUpdate,
    SubscriptionCancel,
    SubscriptionCancelReasonEnum,
    SubscriptionCancelUndo,
    SubscriptionChangePlan,
    SubscriptionChangePlanCancel,
    SubscriptionChangePlanPreview,
    SubscriptionExtendPeriod,
    SubscriptionManageLinksRevoke,
    SubscriptionNextBillingDateUpdate,
    SubscriptionPause,
    SubscriptionPaymentMethodUpdate,
    SubscriptionReactivate,
    SubscriptionRefund,
    SubscriptionResume,
    SubscriptionSkipNextRenewal,
    resolve_plan_change_preview,
)
from .mutations.payments import SubscriptionPaymentConfirm
from .mutations.plans import (
    SubscriptionPlanArchive,
    SubscriptionPlanCreate,
    SubscriptionPlanUnarchive,
    SubscriptionPlanUpdate,
)
from .mutations.price_changes import SubscriptionPlanMigrateSubscribers
from .mutations.renewals import SubscriptionRelease, SubscriptionRenewNow, SubscriptionRetryPayment
from .mutations.retention import (
    SubscriptionCancellationOffers,
    SubscriptionRetentionOffer,
    SubscriptionRetentionOfferAccept,
    SubscriptionRetentionOfferArchive,
    SubscriptionRetentionOfferCreate,
    resolve_cancellation_offers,
    resolve_store_offers,
)
from .mutations.voucher_terms import (
    SubscriptionVoucherTerms,
    SubscriptionVoucherTermsSet,
    resolve_voucher_terms,
)
from .mutations.webhooks import (
    SubscriptionWebhookCreate,
    SubscriptionWebhookDelete,
    SubscriptionWebhookDeliveryRedeliver,
    SubscriptionWebhookUpdate,
    resolve_subscription_webhooks,
)
from .mutations.win_back import SubscriptionWinBackRedeem
from .sorters import SubscriptionSortingInput
from .subscription_metrics import resolve_subscription_metrics, subscription_metrics_field
from .types import CheckoutLineSubscriptionPlan, CustomerSubscription, SubscriptionPlan
from .webhook_types import SubscriptionWebhook


class SignedInConnectionField(CheckedConnectionField):
    """A connection that is null for anonymous callers, as Saleor's `me` is.

    (Saleor's connection fields read a resolver's None as "the whole table", so the resolver
    itself must never be reached without a sign-in.)"""

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver,
                            max_limit, enforce_first_or_last, root, info, **args):
        if not info.context.user.is_authenticated:
            return None
        return super().connection_resolver(resolver, connection, default_manager,
                                           queryset_resolver, max_limit, enforce_first_or_last,
                                           root, info, **args)


def _shown(plan, shown_pks):
    return plan if plan is not None and plan.pk in shown_pks else None


class SubscriptionQueries(graphene.ObjectType):
    subscription_voucher_terms = graphene.Field(
        SubscriptionVoucherTerms, voucher_id=graphene.ID(required=True),
        description="How long a voucher's discount lasts on subscriptions; requires "
        "MANAGE_DISCOUNTS.", resolver=resolve_voucher_terms)
    subscription_change_plan_preview = graphene.Field(
        SubscriptionChangePlanPreview,
        id=graphene.ID(required=True),
        plan_id=graphene.ID(required=True),
        quantity=graphene.Int(required=True),
        immediately=graphene.Boolean(default_value=False),
        manage_token=graphene.String(description="A manage link's token instead of a sign-in."),
        description="The exact amounts of a plan change before the customer confirms it, or "
        "why it would be refused.",
    )
    subscription_by_manage_token = graphene.Field(
        SubscriptionByManageToken, required=True,
        token=graphene.String(required=True, description="The ?token=… of the e-mailed link."),
        description="The subscription a manage link (in every customer e-mail) is for, without "
        "a sign-in; open to anyone holding a valid token.",
    )
    checkout_subscription_plans = graphene.List(
        graphene.NonNull(CheckoutLineSubscriptionPlan),
        checkout_id=graphene.ID(required=True),
        description="The plan chosen for each line of a checkout (null plan: bought once). Null "
        "for an unknown checkout and for a customer's checkout asked by anyone but that "
        "customer or staff with MANAGE_CHECKOUTS.",
    )
    subscription_plans = CheckedConnectionField(
        SubscriptionPlan,
        variant_id=graphene.ID(description="Only the plans of this product variant."),
        product_id=graphene.ID(description="Only the plans of this product's variants."),
        include_archived=graphene.Boolean(
            default_value=False,
            description="Archived plans too; honoured only for MANAGE_PRODUCTS.",
        ),
        description="Active subscription plans with their prices; open to visitors.",
    )
    subscription_plan = graphene.Field(
        SubscriptionPlan,
        id=graphene.ID(required=True),
        description="One active subscription plan; open to visitors (archived ones too for "
        "MANAGE_PRODUCTS).",
    )
    subscription_trial_available = graphene.Boolean(
        plan_id=graphene.ID(required=True),
        email=graphene.String(description="The e-mail the customer will check out with."),
        description="Whether the customer would get the plan's free trial (false for a plan "
        "without one): with 'Free trials per customer' = one, not if the e-mail, or the "
        "signed-in account or its e-mail, already had a trial (a card that had one is refused "
        "at checkoutComplete). Null for an unknown plan. Open to visitors; answers only yes/no.",
    )
    my_subscriptions = SignedInConnectionField(
        CustomerSubscription,
        description="The signed-in customer's own subscriptions; null without a sign-in (as "
        "Saleor's `me`).",
    )
    customer_subscription = graphene.Field(
        CustomerSubscription,
        id=graphene.ID(required=True),
        description="One subscription, for its owner or staff with MANAGE_ORDERS.",
    )
    customer_subscriptions = CheckedFilterConnectionField(
        CustomerSubscription,
        filter=SubscriptionFilterInput(),
        sort_by=SubscriptionSortingInput(description="Sort subscriptions (default: newest "
                                         "first)."),
        description="All subscriptions, for staff with MANAGE_ORDERS.",
    )
    subscription_webhooks = graphene.List(
        graphene.NonNull(SubscriptionWebhook),
        description="Webhooks out with their deliveries: an App's own, or all for MANAGE_APPS.",
    )

    subscription_mrr = graphene.Field(
        SubscriptionMrrReport,
        currency=graphene.String(required=True),
        date=graphene.DateTime(description="Default: now."),
        start=graphene.DateTime(description="Movements from here; default: the date's month."),
        description="Monthly recurring revenue from the MRR ledger, for MANAGE_ORDERS.",
    )

    subscription_metrics = subscription_metrics_field

    subscription_revenue_reconciliation = graphene.Field(
        SubscriptionRevenueReconciliation,
        month=graphene.String(required=True, description="YYYY-MM (UTC)."),
        currency=graphene.String(required=True),
        description="A month's subscription payments in Saleor against the plugin's records, "
        "for MANAGE_ORDERS.",
    )

    subscription_cancellation_offers = graphene.Field(
        SubscriptionCancellationOffers,
        id=graphene.ID(required=True),
        reason=SubscriptionCancelReasonEnum(required=True),
        manage_token=graphene.String(
            description="The token of the subscription's manage link, instead of signing in."),
        description="Before cancelling: the retention offers the store makes for this reason "
        "that this subscription may take now (accept one with subscriptionRetentionOfferAccept, "
        "or cancel). The subscription's owner only (signed in, or with its manage link).",
    )
    subscription_retention_offers = graphene.List(
        graphene.NonNull(SubscriptionRetentionOffer),
        include_archived=graphene.Boolean(default_value=False),
        description="The store's retention offers, for MANAGE_ORDERS.",
    )

    @staticmethod
    def resolve_subscription_cancellation_offers(_root, info, id, reason, manage_token=None):
        return resolve_cancellation_offers(info, id, reason, manage_token)

    @staticmethod
    def resolve_subscription_retention_offers(_root, info, include_archived=False):
        return resolve_store_offers(info, include_archived)

    @staticmethod
    def resolve_subscription_mrr(_root, info, **data):
        return resolve_subscription_mrr(info, **data)

    @staticmethod
    def resolve_subscription_metrics(_root, info, **data):
        return resolve_subscription_metrics(info, **data)

    @staticmethod
    def resolve_subscription_revenue_reconciliation(_root, info, month, currency):
        return resolve_revenue_reconciliation(info, month, currency)

    @staticmethod
    def resolve_subscription_webhooks(_root, info):
        return resolve_subscription_webhooks(info)

    @staticmethod
    def resolve_subscription_by_manage_token(_root, info, token):
        return resolve_subscription_by_manage_token(info, token)

    @staticmethod
    def resolve_subscription_change_plan_preview(_root, info, **data):
        return resolve_plan_change_preview(info, **data)

    @staticmethod
    def resolve_checkout_subscription_plans(_root, info, checkout_id):
        from django.core.exceptions import ValidationError

        from ..services.checkout_plans import plans_by_line
        from .mutations.checkout import get_checkout

        try:
            checkout = get_checkout(info.context, checkout_id)
        except ValidationError:
            return None  # unknown, or another customer's: the same answer (Saleor's checkout())
        chosen = plans_by_line(checkout)
        shown = set(permissions.visible_plans(info.context).filter(
            pk__in=[plan.pk for plan in chosen.values()]).values_list("pk", flat=True))
        return [CheckoutLineSubscriptionPlan.of(line, _shown(chosen.get(line.pk), shown))
                for line in checkout.lines.order_by("pk")]

    @staticmethod
    def resolve_subscription_plans(_root, info, variant_id=None, product_id=None,
                                   include_archived=False, **_kwargs):
        qs = permissions.visible_plans(info.context).select_related("variant__product")
        if not (include_archived and permissions.can_manage_products(info.context)):
            qs = qs.filter(is_active=True)
        if variant_id is not None:
            qs = qs.filter(variant_id=decode_pk(variant_id, "ProductVariant"))
        if product_id is not None:
            qs = qs.filter(variant__product_id=decode_pk(product_id, "Product"))
        return qs

    @staticmethod
    def resolve_subscription_plan(_root, info, id):
        pk = decode_pk(id, "SubscriptionPlan")
        if pk is None:
            return None
        qs = permissions.visible_plans(info.context).filter(pk=pk)
        if not permissions.can_manage_products(info.context):
            qs = qs.filter(is_active=True)
        return qs.first()

    @staticmethod
    def resolve_subscription_trial_available(_root, info, plan_id, email=None):
        from .trials import resolve_trial_available

        return resolve_trial_available(info, plan_id, email)

    @staticmethod
    def resolve_my_subscriptions(_root, info, **_kwargs):
        from ..models import Subscription

        return Subscription.objects.filter(user=info.context.user).select_related("plan")

    @staticmethod
    def resolve_customer_subscription(_root, info, id):
        pk = decode_pk(id, "CustomerSubscription")
        if pk is None:
            return None
        return permissions.visible_subscriptions(info.context).filter(pk=pk).first()

    @staticmethod
    def resolve_customer_subscriptions(_root, info, **_kwargs):
        from graphql_jwt.exceptions import PermissionDenied

        if not permissions.can_manage_orders(info.context):
            raise PermissionDenied()
        return permissions.visible_subscriptions(info.context).select_related("plan")


class SubscriptionMutations(graphene.ObjectType):
    subscription_cancel = SubscriptionCancel.Field()
    subscription_cancel_undo = SubscriptionCancelUndo.Field()
    subscription_reactivate = SubscriptionReactivate.Field()
    subscription_pause = SubscriptionPause.Field()
    subscription_resume = SubscriptionResume.Field()
    subscription_skip_next_renewal = SubscriptionSkipNextRenewal.Field()
    subscription_next_billing_date_update = SubscriptionNextBillingDateUpdate.Field()
    subscription_extend_period = SubscriptionExtendPeriod.Field()
    subscription_discount_grant = SubscriptionDiscountGrant.Field()
    subscription_discount_end = SubscriptionDiscountEnd.Field()
    subscription_free_period_grant = SubscriptionFreePeriodGrant.Field()
    subscription_voucher_terms_set = SubscriptionVoucherTermsSet.Field()
    subscription_payment_method_update = SubscriptionPaymentMethodUpdate.Field()
    subscription_payment_confirm = SubscriptionPaymentConfirm.Field()
    subscription_address_update = SubscriptionAddressUpdate.Field()
    subscription_change_plan = SubscriptionChangePlan.Field()
    subscription_change_plan_cancel = SubscriptionChangePlanCancel.Field()
    subscription_refund = SubscriptionRefund.Field()
    subscription_manage_links_revoke = SubscriptionManageLinksRevoke.Field()
    subscription_retention_offer_accept = SubscriptionRetentionOfferAccept.Field()
    subscription_retention_offer_create = SubscriptionRetentionOfferCreate.Field()
    subscription_retention_offer_archive = SubscriptionRetentionOfferArchive.Field()
    subscription_win_back_redeem = SubscriptionWinBackRedeem.Field()
    checkout_line_subscription_plan_set = CheckoutLineSubscriptionPlanSet.Field()
    subscription_plan_create = SubscriptionPlanCreate.Field()
    subscription_plan_update = SubscriptionPlanUpdate.Field()
    subscription_plan_archive = SubscriptionPlanArchive.Field()
    subscription_plan_unarchive = SubscriptionPlanUnarchive.Field()
    subscription_plan_migrate_subscribers = SubscriptionPlanMigrateSubscribers.Field()
    subscription_renew_now = SubscriptionRenewNow.Field()
    subscription_retry_payment = SubscriptionRetryPayment.Field()
    subscription_release = SubscriptionRelease.Field()
    subscription_webhook_create = SubscriptionWebhookCreate.Field()
    subscription_webhook_update = SubscriptionWebhookUpdate.Field()
    subscription_webhook_delete = SubscriptionWebhookDelete.Field()
    subscription_webhook_delivery_redeliver = SubscriptionWebhookDeliveryRedeliver.Field()
    # Saleor's own two, under their names, also linking a guest's subscriptions to the account.
    token_create = CreateToken.Field()
    confirm_account = ConfirmAccount.Field()
