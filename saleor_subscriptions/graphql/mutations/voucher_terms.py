"""The store's terms for its vouchers on subscriptions (MANAGE_DISCOUNTS): how long a voucher's
discount lasts on a subscription bought with it (services/voucher_terms.py)."""
import graphene
from saleor.core.permissions import DiscountPermissions
from saleor.graphql.core.mutations import BaseMutation
from saleor.graphql.decorators import permission_required

from ...config import require_active
from ...discount_models import VoucherDuration
from ...error_codes import SubscriptionErrorCode
from ...services import voucher_terms
from ..enums import SubscriptionVoucherDurationEnum
from ..errors import SubscriptionError
from ..ids import decode_pk, invalid


def _voucher_type():
    from saleor.graphql.discount.types import Voucher

    return Voucher


class SubscriptionVoucherTerms(graphene.ObjectType):
    voucher = graphene.Field(lambda: _voucher_type(), required=True)
    duration = SubscriptionVoucherDurationEnum(required=True)
    renewals = graphene.Int(description="With RENEWALS: how many renewals are discounted.")
    follows_plan_change = graphene.Boolean(
        required=True, description="Whether the discount stays when the subscription changes "
        "plans.")

    class Meta:
        description = ("How long a voucher's discount lasts on a subscription bought with it "
                       "(without terms: the first charge only).")

    @staticmethod
    def of(terms, voucher):
        if terms is None:
            return SubscriptionVoucherTerms(voucher=voucher, duration=VoucherDuration.FIRST_CHARGE,
                                            renewals=None, follows_plan_change=True)
        return SubscriptionVoucherTerms(voucher=voucher, duration=terms.duration,
                                        renewals=terms.renewals,
                                        follows_plan_change=terms.follows_plan_change)


def _get_voucher(global_id, field="voucher_id"):
    from ...saleor_adapter.vouchers import get_voucher

    pk = decode_pk(global_id, "Voucher")
    voucher = get_voucher(pk) if pk is not None else None
    if voucher is None:
        raise invalid(field, "Voucher not found.", SubscriptionErrorCode.NOT_FOUND)
    return voucher


class SubscriptionVoucherTermsSet(BaseMutation):
    voucher_terms = graphene.Field(SubscriptionVoucherTerms)

    class Arguments:
        voucher_id = graphene.ID(required=True, description="ID of the Saleor voucher.")
        duration = SubscriptionVoucherDurationEnum(required=True)
        renewals = graphene.Int(description="With RENEWALS: 1-120 renewals.")
        follows_plan_change = graphene.Boolean(
            default_value=True, description="Keep the discount when the subscription changes "
            "plans (default); false: it ends with the change.")

    class Meta:
        description = ("Decide how long a voucher's discount lasts on a subscription bought "
                       "with it: FIRST_CHARGE (as any order), RENEWALS (the first N renewals "
                       "too) or FOREVER. Requires MANAGE_DISCOUNTS.")
        permissions = (DiscountPermissions.MANAGE_DISCOUNTS,)
        error_type_class = SubscriptionError
        error_type_field = "subscription_errors"

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        require_active()
        voucher = _get_voucher(data["voucher_id"])
        terms = voucher_terms.set_terms(voucher, data["duration"], data.get("renewals"),
                                        data.get("follows_plan_change", True))
        return cls(voucher_terms=SubscriptionVoucherTerms.of(terms, voucher))


@permission_required(DiscountPermissions.MANAGE_DISCOUNTS)
def resolve_voucher_terms(_root, info, voucher_id):
    from ...saleor_adapter.vouchers import get_voucher

    pk = decode_pk(voucher_id, "Voucher")
    voucher = get_voucher(pk) if pk is not None else None
    if voucher is None:
        return None
    return SubscriptionVoucherTerms.of(voucher_terms.terms_of(voucher), voucher)
