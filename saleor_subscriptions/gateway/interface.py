"""What renewals need from a payment gateway; Stripe now, other Saleor gateways later.

Every charge carries an idempotency key that the caller stored *before* calling, so that an
unknown outcome (timeout after the money was taken) can be looked up instead of charged again.
"""
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Dict, Optional, Tuple

from prices import Money


class ChargeOutcome(str, Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # the card said no: dunning
    ACTION_REQUIRED = "action_required"  # needs the customer (3-D Secure): dunning, recorded
    UNKNOWN = "unknown"  # timeout or connection error: reconcile before charging again
    RATE_LIMITED = "rate_limited"  # nothing happened: back off and try the same key again
    INVALID = "invalid"  # our request was wrong (no customer, detached card): not a decline
    AUTH_FAILED = "auth_failed"  # our key was refused: nothing happened; halt and alert staff


@dataclass(frozen=True)
class CardDetails:
    brand: str = ""
    last4: str = ""
    exp_month: Optional[int] = None
    exp_year: Optional[int] = None
    # The same for every card object made from one card number (Stripe's card.fingerprint).
    fingerprint: str = ""


@dataclass(frozen=True)
class ChargeRequest:
    amount: Money
    customer_reference: str
    payment_method_reference: str
    idempotency_key: str
    description: str = ""
    metadata: Dict[str, str] = field(default_factory=dict)
    #: the gateway's charge made earlier under this key, when known (an open 3-D Secure intent)
    reference: str = ""


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    reference: str = ""  # the gateway's id for the charge (PaymentIntent id)
    amount: Optional[Money] = None
    error_code: str = ""
    error_message: str = ""
    card: Optional[CardDetails] = None
    #: ACTION_REQUIRED: what the storefront completes the charge with (Stripe.js client secret)
    client_secret: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome == ChargeOutcome.SUCCEEDED


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    error_message: str = ""


@dataclass(frozen=True)
class GatewayRefund:
    """A refund the gateway holds for a charge, wherever it was made."""
    reference: str  # re_...
    amount: Money
    ours: bool  # asked for by our own code (its metadata), which records it itself
    created: datetime


class PaymentGateway:
    """Interface; implementations: gateway.stripe_gateway.StripeGateway, gateway.fake.FakeGateway."""

    #: the Saleor gateway id payments are recorded under (refunds go back through it)
    saleor_gateway_id = ""

    def charge(self, request: ChargeRequest) -> ChargeResult:
        raise NotImplementedError

    def find_charge(self, request: ChargeRequest) -> Optional[ChargeResult]:
        """The result of an earlier charge with request.idempotency_key, or None if none exists."""
        raise NotImplementedError

    def retrieve_charge(self, reference: str) -> ChargeResult:
        """The charge's state now (an intent waiting for the customer may have completed);
        ChargeResult(UNKNOWN) when the gateway could not be asked."""
        raise NotImplementedError

    def cancel_charge(self, reference: str) -> None:
        """Close a charge still waiting for the customer, so it can never be completed later."""
        raise NotImplementedError

    def refund(self, reference: str, amount: Money, idempotency_key: str) -> RefundResult:
        raise NotImplementedError

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        """Every refund of the charge (failed or cancelled ones left out); None when the gateway
        could not be asked."""
        raise NotImplementedError
