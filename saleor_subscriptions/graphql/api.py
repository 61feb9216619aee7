"""Saleor's GraphQL schema plus the subscriptions queries and mutations."""
from graphene_federation import build_schema
from saleor.graphql.api import Mutation as SaleorMutation
from saleor.graphql.api import Query as SaleorQuery

from . import saleor_type_fields
from .schema import SubscriptionMutations, SubscriptionQueries

saleor_type_fields.install()


class Query(SubscriptionQueries, SaleorQuery):
    pass


class Mutation(SubscriptionMutations, SaleorMutation):
    pass


schema = build_schema(Query, mutation=Mutation)
