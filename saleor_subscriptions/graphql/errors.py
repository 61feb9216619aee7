from typing import List

import graphene
from django.core.exceptions import ValidationError
from saleor.graphql.core.mutations import validation_error_to_error_type
from saleor.graphql.core.types.common import Error

from ..error_codes import SubscriptionErrorCode

SubscriptionErrorCodeEnum = graphene.Enum.from_enum(SubscriptionErrorCode)


class SubscriptionError(Error):
    code = SubscriptionErrorCodeEnum(description="The error code.", required=True)


def subscription_errors(error: ValidationError) -> List[SubscriptionError]:
    """A refusal as typed errors, for the queries that answer them like mutations do."""
    return [SubscriptionError(field=found.field, message=found.message, code=code)
            for found, code, _params in validation_error_to_error_type(error)]
