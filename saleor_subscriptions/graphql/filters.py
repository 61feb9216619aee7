import django_filters
from graphene_django.filter import GlobalIDMultipleChoiceFilter
from graphql.error import GraphQLError
from saleor.graphql.core.filters import ListObjectTypeFilter, ObjectTypeFilter
from saleor.graphql.core.types import FilterInputObjectType
from saleor.graphql.core.types.common import DateRangeInput
from saleor.graphql.utils import get_nodes
from saleor.graphql.utils.filters import filter_range_field

from ..models import Subscription
from .enums import SubscriptionStatusEnum


def _filter_status(qs, _field, value):
    return qs.filter(status__in=value) if value else qs


def _filter_plans(qs, _field, value):
    from .types import SubscriptionPlan

    return qs.filter(plan__in=get_nodes(value, SubscriptionPlan)) if value else qs


def _date_range(column: str, argument: str):
    """A DateRangeInput filter on the UTC date of `column` (both ends included, as Saleor's
    orders `created`); an inverted range is a mistake, answered as one."""

    def apply(qs, _field, value):
        gte, lte = value.get("gte"), value.get("lte")
        if gte is not None and lte is not None and gte > lte:
            raise GraphQLError("`%s`: `gte` (%s) is after `lte` (%s)." % (argument, gte, lte))
        return filter_range_field(qs, "%s__date" % column, value)

    return apply


class SubscriptionFilter(django_filters.FilterSet):
    status = ListObjectTypeFilter(input_class=SubscriptionStatusEnum, method=_filter_status)
    plans = GlobalIDMultipleChoiceFilter(method=_filter_plans)
    customer_email = django_filters.CharFilter(field_name="email", lookup_expr="icontains")
    created = ObjectTypeFilter(input_class=DateRangeInput,
                               method=_date_range("created_at", "created"))
    next_billing = ObjectTypeFilter(input_class=DateRangeInput,
                                    method=_date_range("next_billing_at", "nextBilling"))

    class Meta:
        model = Subscription
        fields = ["status", "plans", "customer_email", "created", "next_billing"]


class SubscriptionFilterInput(FilterInputObjectType):
    class Meta:
        filterset_class = SubscriptionFilter
