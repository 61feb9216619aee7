"""Saleor's vouchers as a subscription sees them: what a voucher takes off, and whether it
applies to a subscribed order line (Saleor 2.10's own rules for its voucher types)."""
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from saleor.discount import DiscountValueType, VoucherType
from saleor.discount.models import Voucher


@dataclass(frozen=True)
class VoucherOffer:
    voucher: Voucher
    name: str  # as Saleor names the discount on a checkout and its order
    code: str
    percent: Optional[Decimal]
    amount: Optional[Decimal]
    currency: str


def get_voucher(pk) -> Optional[Voucher]:
    return Voucher.objects.filter(pk=pk).first()


def is_shipping_voucher(voucher: Voucher) -> bool:
    return voucher.type == VoucherType.SHIPPING


def offer_of(voucher: Voucher) -> VoucherOffer:
    percent = amount = None
    if voucher.discount_value_type == DiscountValueType.PERCENTAGE:
        percent = voucher.discount_value
    else:
        amount = voucher.discount_value
    return VoucherOffer(voucher=voucher, name=str(voucher), code=voucher.code, percent=percent,
                        amount=amount, currency=voucher.currency)


def order_voucher(order) -> Optional[Voucher]:
    return order.voucher if order.voucher_id else None


def checkout_voucher(checkout) -> Optional[Voucher]:
    if not checkout.voucher_code:
        return None
    return Voucher.objects.filter(code=checkout.voucher_code).first()


def applies_to_line(voucher: Voucher, order_line) -> bool:
    """Whether Saleor would discount this line with the voucher: an entire-order voucher
    discounts every line, a specific-product one the lines of its products, categories and
    collections, a shipping one no line."""
    if voucher.type == VoucherType.ENTIRE_ORDER:
        return True
    if voucher.type != VoucherType.SPECIFIC_PRODUCT or order_line.variant is None:
        return False
    product = order_line.variant.product
    return (voucher.products.filter(pk=product.pk).exists()
            or voucher.categories.filter(pk=product.category_id).exists()
            or voucher.collections.filter(pk__in=product.collections.all()).exists())
