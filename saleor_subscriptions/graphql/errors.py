import graphene
from saleor.graphql.core.types.common import Error

from ..error_codes import SubscriptionErrorCode

SubscriptionErrorCodeEnum = graphene.Enum.from_enum(SubscriptionErrorCode)


class SubscriptionError(Error):
    code = SubscriptionErrorCodeEnum(description="The error code.", required=True)
