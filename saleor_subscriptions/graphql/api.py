"""Saleor's GraphQL schema plus the subscriptions queries and mutations."""
from graphene_federation import build_schema
from saleor.graphql.api import Mutation as SaleorMutation
from saleor.graphql.api import Query as SaleorQuery

from . import saleor_type_fields
from .mutations.plugins import PluginUpdateAsQueried
from .schema import SubscriptionMutations, SubscriptionQueries

saleor_type_fields.install()


class Query(SubscriptionQueries, SaleorQuery):
    pass


class Mutation(SubscriptionMutations, SaleorMutation):
    # Saleor's, answering as plugin(id) does (its 2.10.1 answer is the bare database row).
    plugin_update = PluginUpdateAsQueried.Field()


schema = build_schema(Query, mutation=Mutation)
