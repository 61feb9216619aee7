"""Sort orders of the staff list `customerSubscriptions(sortBy: …)`, Saleor's way (its
SortInputObjectType and sort_queryset: each field sorts by its columns, then by the primary
key, so cursors stay stable)."""
from datetime import datetime, timezone

import graphene
from django.db.models import DateTimeField, DecimalField, ExpressionWrapper, F, Value
from django.db.models.functions import Coalesce
from saleor.graphql.core.types import SortInputObjectType

#: where a subscription billed no more (cancelled, paused, expired) sorts by next billing:
#: after every billed one (Saleor's cursors cannot page over NULLs)
NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)


class SubscriptionSortField(graphene.Enum):
    CREATED = ["created_at", "pk"]
    NEXT_BILLING = ["next_billing_sort", "pk"]
    STATUS = ["status", "pk"]
    AMOUNT = ["currency", "amount_sort", "pk"]

    @property
    def description(self):
        return {
            "CREATED": "Sort by when the subscription started.",
            "NEXT_BILLING": "Sort by the next billing time (subscriptions not billed any more "
                            "come last).",
            "STATUS": "Sort by status.",
            "AMOUNT": "Sort by the amount of a cycle (unit price × quantity), within each "
                      "currency.",
        }[self.name]

    @staticmethod
    def qs_with_next_billing(queryset):
        return queryset.annotate(next_billing_sort=Coalesce(
            "next_billing_at", Value(NEVER, output_field=DateTimeField())))

    @staticmethod
    def qs_with_amount(queryset):
        return queryset.annotate(amount_sort=ExpressionWrapper(
            F("unit_price_amount") * F("quantity"),
            output_field=DecimalField(max_digits=20, decimal_places=3)))


class SubscriptionSortingInput(SortInputObjectType):
    class Meta:
        sort_enum = SubscriptionSortField
        type_name = "subscriptions"
