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


#: ChargeResult.error_code of a charge closed for good (Stripe's cancelled PaymentIntent)
CHARGE_CANCELED = "payment_intent_canceled"


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
    #: the customer the attempt was stored for, when the subscription has moved to another
    #: since (a new card): a charge made under the key may be under either
    charged_customer_reference: str = ""

    @property
    def lookup_customer_references(self) -> Tuple[str, ...]:
        """Where `find_charge` looks for the key's charge: the stored customer first."""
        if self.charged_customer_reference in ("", self.customer_reference):
            return (self.customer_reference,)
        return (self.charged_customer_reference, self.customer_reference)


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

    @property
    def closed(self) -> bool:
        """Closed for good unpaid (a cancelled intent): it can never be completed."""
        return self.outcome == ChargeOutcome.DECLINED and self.error_code == CHARGE_CANCELED


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
    key: str = ""  # ours: the idempotency key it was asked for with


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

    def cancel_charge(self, reference: str) -> ChargeResult:
        """Close a charge still waiting for the customer, so it can never be completed later.

        Answers its state then: `closed` (now or before), SUCCEEDED (the customer completed it
        first: a payment to record), or UNKNOWN (the cancel did not go through: it may still
        be completed). See `state_after_cancel`."""
        raise NotImplementedError

    def refund(self, reference: str, amount: Money, idempotency_key: str) -> RefundResult:
        raise NotImplementedError

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        """Every refund of the charge (failed or cancelled ones left out); None when the gateway
        could not be asked. `charge_reference` may also name the charge's intent."""
        raise NotImplementedError


def state_after_cancel(state: ChargeResult, reference: str, message: str = "") -> ChargeResult:
    """What a cancel answers once the charge's `state` was read again after it: paid or closed
    as it is; no such charge is nothing left open; anything else may still be completed."""
    if state.succeeded or state.closed:
        return state
    if state.outcome == ChargeOutcome.INVALID:
        return ChargeResult(ChargeOutcome.DECLINED, reference=reference,
                            error_code=CHARGE_CANCELED,
                            error_message=state.error_message or "No such payment.")
    return ChargeResult(ChargeOutcome.UNKNOWN, reference=reference,
                        error_code="cancel_failed",
                        error_message=message or state.error_message
                        or "The payment could not be cancelled.")
