import django_filters
from graphene_django.filter import GlobalIDMultipleChoiceFilter
from saleor.graphql.core.filters import ListObjectTypeFilter
from saleor.graphql.core.types import FilterInputObjectType
from saleor.graphql.utils import get_nodes

from ..models import Subscription
from .enums import SubscriptionStatusEnum


def _filter_status(qs, _field, value):
    return qs.filter(status__in=value) if value else qs


def _filter_plans(qs, _field, value):
    from .types import SubscriptionPlan

    return qs.filter(plan__in=get_nodes(value, SubscriptionPlan)) if value else qs


class SubscriptionFilter(django_filters.FilterSet):
    status = ListObjectTypeFilter(input_class=SubscriptionStatusEnum, method=_filter_status)
    plans = GlobalIDMultipleChoiceFilter(method=_filter_plans)
    customer_email = django_filters.CharFilter(field_name="email", lookup_expr="icontains")

    class Meta:
        model = Subscription
        fields = ["status", "plans", "customer_email"]


class SubscriptionFilterInput(FilterInputObjectType):
    class Meta:
        filterset_class = SubscriptionFilter
