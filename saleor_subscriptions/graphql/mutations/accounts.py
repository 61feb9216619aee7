"""Saleor's account mutations that also hand a guest's subscriptions to their account.

Saleor 2.10.1 has no plugin hook for account confirmation or sign-in, so our schema serves
these two under Saleor's own names, arguments and answers, and links afterwards.
"""
from django.utils import timezone
from saleor.graphql.account.mutations.base import ConfirmAccount as SaleorConfirmAccount
from saleor.graphql.core.mutations import CreateToken as SaleorCreateToken
from saleor.graphql.core.types.common import AccountError

from ...services.guest_linking import link_guest_subscriptions


class ConfirmAccount(SaleorConfirmAccount):
    class Meta:
        name = "ConfirmAccount"
        description = SaleorConfirmAccount._meta.description
        error_type_class = AccountError
        error_type_field = "account_errors"

    @classmethod
    def perform_mutation(cls, root, info, **data):
        response = super().perform_mutation(root, info, **data)
        link_guest_subscriptions(response.user, timezone.now())
        return response


class CreateToken(SaleorCreateToken):
    class Meta:
        name = "CreateToken"
        description = SaleorCreateToken._meta.description

    @classmethod
    def mutate(cls, root, info, **kwargs):
        response = super().mutate(root, info, **kwargs)
        if getattr(response, "token", None) and getattr(response, "user", None) is not None:
            link_guest_subscriptions(response.user, timezone.now())
        return response
