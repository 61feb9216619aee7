"""Why a renewal is not going through, as a stable code and words a customer may read.

The rows keep the raw detail (a gateway's message, an exception's text) for staff; customers get
only the problem code and its message, never that detail.
"""
from enum import Enum
from typing import Optional


class Problem(Enum):
    CARD_DECLINED = "card_declined"
    CARD_EXPIRED = "card_expired"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_REQUIRED = "authentication_required"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_PENDING = "payment_pending"
    PAYMENT_METHOD_MISSING = "payment_method_missing"
    PLAN_UNAVAILABLE = "plan_unavailable"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    OUT_OF_STOCK = "out_of_stock"
    ADDRESS_MISSING = "address_missing"
    SHIPPING_UNAVAILABLE = "shipping_unavailable"
    ACCOUNT_DELETED = "account_deleted"
    INTERNAL_ERROR = "internal_error"


MESSAGES = {
    Problem.CARD_DECLINED: "Your card was declined. Update your card or try again.",
    Problem.CARD_EXPIRED: "Your card has expired. Update your card.",
    Problem.INSUFFICIENT_FUNDS: "Your card has insufficient funds. Update your card or try again.",
    Problem.AUTHENTICATION_REQUIRED: "Your bank asks you to confirm the payment.",
    Problem.PAYMENT_FAILED: "The payment did not go through. Update your card or try again.",
    Problem.PAYMENT_PENDING: "The payment is being checked; nothing to do for now.",
    Problem.PAYMENT_METHOD_MISSING: "No card is stored for this subscription. Add a card.",
    Problem.PLAN_UNAVAILABLE: "This plan is no longer offered. The store will contact you.",
    Problem.PRODUCT_UNAVAILABLE: "This product is no longer available. The store will "
    "contact you.",
    Problem.OUT_OF_STOCK: "This product is out of stock; the renewal will be tried again.",
    Problem.ADDRESS_MISSING: "An address is missing. Update your subscription's addresses.",
    Problem.SHIPPING_UNAVAILABLE: "The shipping method is no longer available. The store will "
    "contact you.",
    Problem.ACCOUNT_DELETED: "The account of this subscription was deleted.",
    Problem.INTERNAL_ERROR: "Something went wrong on our side; the store is looking into it.",
}

#: raw codes (gateway decline codes, renewal blockers) that name a problem of their own
_BY_CODE = {
    "card_declined": Problem.CARD_DECLINED,
    "generic_decline": Problem.CARD_DECLINED,
    "do_not_honor": Problem.CARD_DECLINED,
    "lost_card": Problem.CARD_DECLINED,
    "stolen_card": Problem.CARD_DECLINED,
    "fraudulent": Problem.CARD_DECLINED,
    "expired_card": Problem.CARD_EXPIRED,
    "insufficient_funds": Problem.INSUFFICIENT_FUNDS,
    "authentication_required": Problem.AUTHENTICATION_REQUIRED,
    "timeout": Problem.PAYMENT_PENDING,
    "unknown": Problem.PAYMENT_PENDING,
    "rate_limited": Problem.PAYMENT_PENDING,
    "rate_limit": Problem.PAYMENT_PENDING,
    "payment_method_missing": Problem.PAYMENT_METHOD_MISSING,
    "plan_archived": Problem.PLAN_UNAVAILABLE,
    "variant_deleted": Problem.PRODUCT_UNAVAILABLE,
    "out_of_stock": Problem.OUT_OF_STOCK,
    "address_missing": Problem.ADDRESS_MISSING,
    "shipping_method_missing": Problem.SHIPPING_UNAVAILABLE,
    "customer_deleted": Problem.ACCOUNT_DELETED,
    "internal_error": Problem.INTERNAL_ERROR,
}


def classify(code: str) -> Optional[Problem]:
    """The problem behind a raw code; any other non-empty code is a failed payment."""
    if not code:
        return None
    if code.startswith("status_"):  # a PaymentIntent still processing
        return Problem.PAYMENT_PENDING
    return _BY_CODE.get(code, Problem.PAYMENT_FAILED)


def classify_reason(reason: str) -> Optional[Problem]:
    """A parked reason is stored as "<code>: <detail>"."""
    return classify(reason.split(":", 1)[0].strip()) if reason else None


def message(problem: Optional[Problem]) -> Optional[str]:
    return MESSAGES[problem] if problem is not None else None
