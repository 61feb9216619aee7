"""`subscriptionMrr`: the MRR ledger's answer for staff with MANAGE_ORDERS (or such an App)."""
from datetime import datetime, timezone

import graphene
from django.core.exceptions import ValidationError
from graphql_jwt.exceptions import PermissionDenied
from saleor.graphql.core.scalars import Decimal

from ..domain.mrr import MovementKind
from ..services import metrics as ledger
from . import permissions
from .errors import SubscriptionError, subscription_errors
from .ids import invalid


class SubscriptionMrrMovements(graphene.ObjectType):
    new = Decimal(required=True)
    expansion = Decimal(required=True)
    contraction = Decimal(required=True, description="Negative (or zero).")
    churn = Decimal(required=True, description="Negative (or zero).")
    reactivation = Decimal(required=True)
    net_new = Decimal(required=True, description="All the movements together.")

    class Meta:
        description = "The MRR movements of a date range, summed by kind (monthly, net of tax)."


class SubscriptionMrrReport(graphene.ObjectType):
    currency = graphene.String()
    date = graphene.DateTime(description="MRR as of this moment.")
    mrr = Decimal(description="Monthly recurring revenue at `date`, excluding tax.")
    movements = graphene.Field(SubscriptionMrrMovements,
                               description="From `start` (inclusive) to `date` (inclusive).")
    subscription_errors = graphene.List(graphene.NonNull(SubscriptionError), required=True)

    class Meta:
        description = "MRR at a date and its movements since a start date, in one currency."


def resolve_subscription_mrr(info, currency, date=None, start=None):
    if not permissions.can_manage_orders(info.context):
        raise PermissionDenied()
    try:
        if len(currency) != 3 or not currency.isalpha():
            raise invalid("currency", "Give a three-letter currency code.")
        currency = currency.upper()
        for name, value in (("date", date), ("start", start)):
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                # As everywhere in our API: a moment without a time zone is refused, not guessed.
                raise invalid(name, "Give the %s with a time zone (e.g. 2028-03-01T00:00:00Z)."
                               % name)
        date = date or datetime.now(timezone.utc)
        start = start or date.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start > date:
            raise invalid("start", "The start must not be after the date.")
    except ValidationError as error:
        return SubscriptionMrrReport(subscription_errors=subscription_errors(error))
    summary = ledger.movements_summary(currency, start, date)
    movements = SubscriptionMrrMovements(
        net_new=summary["net_new"], **{kind: summary[kind] for kind in MovementKind.ALL})
    return SubscriptionMrrReport(currency=currency, date=date,
                                 mrr=ledger.mrr_at(currency, date), movements=movements,
                                 subscription_errors=[])


class SubscriptionRevenueDifference(graphene.ObjectType):
    order_id = graphene.ID(required=True, description="The Saleor order (Order global ID).")
    subscription_id = graphene.ID(required=True)
    saleor = Decimal(required=True, description="Captured minus refunded on the order.")
    ours = Decimal(required=True, description="Succeeded attempts minus recorded refunds.")
    difference = Decimal(required=True)


class SubscriptionRevenueReconciliation(graphene.ObjectType):
    currency = graphene.String()
    month = graphene.String()
    saleor = Decimal(description="What Saleor's payments captured minus refunded.")
    ours = Decimal(description="What our payment attempts and refund events say was billed.")
    difference = Decimal(description="Saleor minus ours; 0 when they agree.")
    differences = graphene.List(graphene.NonNull(SubscriptionRevenueDifference),
                                description="The orders that disagree.")
    subscription_errors = graphene.List(graphene.NonNull(SubscriptionError), required=True)

    class Meta:
        description = ("A month's subscription revenue: Saleor's payments on subscription orders "
                       "against the plugin's own records (README: MRR ledger).")


def resolve_revenue_reconciliation(info, month, currency):
    from ..services import revenue_reconciliation

    if not permissions.can_manage_orders(info.context):
        raise PermissionDenied()
    try:
        if len(currency) != 3 or not currency.isalpha():
            raise invalid("currency", "Give a three-letter currency code.")
        try:
            revenue_reconciliation.month_range(month)
        except ValueError:
            raise invalid("month", "Give the month as YYYY-MM.")
    except ValidationError as error:
        return SubscriptionRevenueReconciliation(subscription_errors=subscription_errors(error))
    result = revenue_reconciliation.reconcile(month, currency.upper())
    differences = [SubscriptionRevenueDifference(
        order_id=graphene.Node.to_global_id("Order", row.order_id),
        subscription_id=graphene.Node.to_global_id("CustomerSubscription", row.subscription_id),
        saleor=row.saleor, ours=row.ours, difference=row.difference)
        for row in result.differences]
    return SubscriptionRevenueReconciliation(
        currency=result.currency, month=month, saleor=result.saleor, ours=result.ours,
        difference=result.difference, differences=differences, subscription_errors=[])
