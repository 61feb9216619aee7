"""A manage link's page in the storefront: the subscription its token names, for a customer who
is not signed in (guests have no account)."""
import graphene
from django.core.exceptions import ValidationError

from ..config import require_active
from . import permissions
from .errors import SubscriptionError, subscription_errors
from .types import CustomerSubscription


class SubscriptionByManageToken(graphene.ObjectType):
    subscription = graphene.Field(
        CustomerSubscription,
        description="The subscription the link is for, as its customer sees it; null when the "
        "token is refused. Pass the same token as manageToken to the subscription mutations.")
    subscription_errors = graphene.List(
        graphene.NonNull(SubscriptionError), required=True,
        description="Why the token is refused: INVALID (forged or revoked) or LINK_EXPIRED.")

    class Meta:
        description = "A manage link opened: its subscription, or why the link does not work."


def resolve_subscription_by_manage_token(info, token):
    try:
        require_active()
        subscription = permissions.manage_link_subscription(info.context, token, field="token")
    except ValidationError as error:
        return SubscriptionByManageToken(subscription=None,
                                         subscription_errors=subscription_errors(error))
    return SubscriptionByManageToken(subscription=subscription, subscription_errors=[])
