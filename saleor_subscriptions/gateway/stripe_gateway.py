"""Off-session renewal charges on Stripe PaymentIntents (real `stripe` library over HTTP).

Correctness never depends on Stripe's Idempotency-Key (localstripe ignores it): the key also
travels in the PaymentIntent's metadata, and `find_charge` looks it up before any second try.
"""
import logging
from datetime import datetime, timezone
from typing import Iterable, Optional, Tuple

import stripe
from prices import Money

from .. import GATEWAY_ID
from ..domain.money import from_stripe_amount, to_stripe_amount
from . import stripe_client
from .interface import (
    CHARGE_CANCELED,
    CardDetails,
    ChargeOutcome,
    ChargeRequest,
    ChargeResult,
    GatewayRefund,
    PaymentGateway,
    RefundResult,
    state_after_cancel,
)

logger = logging.getLogger(__name__)

METADATA_KEY = "idempotency_key"
#: on every refund we ask for: charge.refunded then knows the refund is recorded by our own
#: request (stripe_webhooks.charge_refunded), not made in Stripe's dashboard
REFUND_METADATA_KEY = "saleor_subscriptions_refund"
#: refunds in these states gave or will give the money back (failed and canceled ones did not)
REFUND_STATUSES = ("succeeded", "pending", None)
AUTHENTICATION_REQUIRED = "authentication_required"
LIST_PAGE_SIZE = 100
# Errors after which Stripe may or may not have taken the money.
_UNKNOWN_ERRORS = (stripe.error.APIConnectionError, stripe.error.APIError,
                   stripe.error.IdempotencyError)
# Our key is wrong or revoked: nothing happened; never blame the customer (services/gateway_health).
GATEWAY_AUTH_FAILED = "gateway_auth_failed"
_CONFIG_ERRORS = (stripe.error.AuthenticationError, stripe.error.PermissionError)
#: Stripe would not list a customer's intents (a deleted customer): whether it was charged is unknown
LOOKUP_REFUSED = "lookup_refused"


class StripeGateway(PaymentGateway):
    saleor_gateway_id = GATEWAY_ID

    def __init__(self, api_key: str, api_base: str = ""):
        self._stripe = stripe_client.StripeClient(api_key, api_base)

    @classmethod
    def from_settings(cls, settings) -> "StripeGateway":
        return cls(settings.stripe_secret_key, settings.stripe_api_base)

    # -- charging ---------------------------------------------------------------------------
    def charge(self, request: ChargeRequest) -> ChargeResult:
        metadata = dict(request.metadata)
        metadata[METADATA_KEY] = request.idempotency_key
        try:
            intent = self._stripe.PaymentIntent.create(
                amount=to_stripe_amount(request.amount),
                currency=request.amount.currency.lower(),
                customer=request.customer_reference,
                payment_method=request.payment_method_reference,
                confirm=True,
                off_session=True,
                metadata=metadata,
                idempotency_key=request.idempotency_key,
            )
        except stripe.error.CardError as error:
            return _card_error(error, request.amount.currency)
        except stripe.error.RateLimitError as error:
            return _error(ChargeOutcome.RATE_LIMITED, error, "rate_limited")
        except _UNKNOWN_ERRORS as error:
            return _error(ChargeOutcome.UNKNOWN, error, "gateway_unavailable")
        except _CONFIG_ERRORS as error:
            return _auth_failed(error)
        except stripe.error.InvalidRequestError as error:
            return _error(ChargeOutcome.INVALID, error, "invalid_request")
        return intent_result(intent)

    def find_charge(self, request: ChargeRequest) -> Optional[ChargeResult]:
        """The charge made with request.idempotency_key, None if there is none.

        Answers ChargeResult(UNKNOWN) when Stripe could not be asked, or refused to list a
        customer's intents (a customer deleted at Stripe) and nothing was found elsewhere: then
        nothing is known, and a charge may have been taken. A request that carries the charge's
        id (request.reference) is looked up by that id first.
        """
        if request.reference:
            found = self.retrieve_charge(request.reference)
            if found.outcome != ChargeOutcome.INVALID:  # no such intent: look the key up
                return found
        best, refused = None, None
        for customer in request.lookup_customer_references:
            try:
                for intent in self._customer_intents(customer):
                    if (intent.get("metadata") or {}).get(METADATA_KEY) != request.idempotency_key:
                        continue
                    result = intent_result(intent)
                    if best is None or result.succeeded:
                        best = result
            except stripe.error.InvalidRequestError as error:
                # Its intents are still at Stripe, and may hold the key's charge.
                logger.warning("find_charge: %s", error)
                refused = error
            except _CONFIG_ERRORS as error:
                return _auth_failed(error)
            except stripe.error.StripeError as error:
                return _error(ChargeOutcome.UNKNOWN, error, "gateway_unavailable")
        if best is None and refused is not None:
            return ChargeResult(ChargeOutcome.UNKNOWN, error_code=LOOKUP_REFUSED,
                                error_message=_message(refused))
        return best

    def _customer_intents(self, customer: str) -> Iterable:
        intents = self._stripe.PaymentIntent
        params = dict(customer=customer, limit=LIST_PAGE_SIZE)
        try:
            page = intents.list(**params)
        except stripe.error.InvalidRequestError as error:
            # localstripe cannot filter PaymentIntents by customer: list all, filter here.
            if "Unexpected" not in str(error):
                raise
            params = dict(limit=LIST_PAGE_SIZE)
            page = intents.list(**params)
        for intent in intents.pages_from(page, **params):
            if intent.get("customer") == customer:
                yield intent

    def retrieve_charge(self, reference: str) -> ChargeResult:
        try:
            intent = self._stripe.PaymentIntent.retrieve(reference)
        except stripe.error.InvalidRequestError as error:
            return _error(ChargeOutcome.INVALID, error, "invalid_request")
        except stripe.error.StripeError as error:
            return _error(ChargeOutcome.UNKNOWN, error, "gateway_unavailable")
        return intent_result(intent)

    def cancel_charge(self, reference: str) -> ChargeResult:
        try:
            intent = self._stripe.PaymentIntent.cancel(reference)
        except stripe.error.StripeError as error:
            # Refused when it is no longer open (paid, or cancelled before), or never done when
            # Stripe could not be reached: only its state says which.
            logger.info("cancel_charge %s: %s", reference, error)
            return state_after_cancel(self.retrieve_charge(reference), reference, _message(error))
        return state_after_cancel(intent_result(intent), reference)

    # -- refunds ----------------------------------------------------------------------------
    def refund(self, reference: str, amount: Money, idempotency_key: str) -> RefundResult:
        try:
            refund = self._stripe.Refund.create(
                payment_intent=reference,
                amount=to_stripe_amount(amount),
                metadata={REFUND_METADATA_KEY: idempotency_key},
                idempotency_key=idempotency_key,
            )
        except stripe.error.StripeError as error:
            return RefundResult(succeeded=False, error_message=_message(error))
        succeeded = refund.get("status") in REFUND_STATUSES
        return RefundResult(succeeded=succeeded, reference=refund["id"],
                            error_message="" if succeeded else str(refund.get("status")))

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        refunds = self._stripe.Refund
        by = "payment_intent" if charge_reference.startswith("pi_") else "charge"
        params = {by: charge_reference, "limit": LIST_PAGE_SIZE}
        try:
            listed = list(refunds.pages_from(refunds.list(**params), **params))
        except stripe.error.StripeError as error:
            logger.warning("list_refunds %s: %s", charge_reference, error)
            return None
        return tuple(refund for refund in (gateway_refund(item, item.get("currency") or "")
                                           for item in listed) if refund is not None)


def gateway_refund(refund, currency: str) -> Optional[GatewayRefund]:
    """A Stripe Refund object (listed, or embedded in a charge) as the services know it; None
    for one that gave no money back."""
    if not refund.get("id") or refund.get("status") not in REFUND_STATUSES:
        return None
    key = (refund.get("metadata") or {}).get(REFUND_METADATA_KEY) or ""
    return GatewayRefund(
        refund["id"], from_stripe_amount(int(refund.get("amount") or 0), currency.upper()),
        bool(key), datetime.fromtimestamp(int(refund.get("created") or 0), tz=timezone.utc),
        key)


def intent_result(intent) -> ChargeResult:
    """Map a PaymentIntent (real Stripe or localstripe) to a ChargeResult."""
    status = intent.get("status")
    amount = from_stripe_amount(int(intent["amount"]), intent["currency"].upper())
    reference = intent["id"]
    if status == "succeeded":
        return ChargeResult(ChargeOutcome.SUCCEEDED, reference=reference, amount=amount,
                            card=_card(intent))
    if status in ("requires_action", "requires_source_action"):
        return ChargeResult(
            ChargeOutcome.ACTION_REQUIRED, reference=reference, amount=amount,
            error_code=AUTHENTICATION_REQUIRED,
            error_message="The card needs the customer to authenticate the payment.",
            client_secret=intent.get("client_secret") or "",
        )
    if status == "canceled":
        # Closed for good (by us, or by Stripe): whatever it waited for will never come.
        return ChargeResult(ChargeOutcome.DECLINED, reference=reference, amount=amount,
                            error_code=CHARGE_CANCELED,
                            error_message="The payment was cancelled.")
    if status in ("requires_payment_method", "requires_source"):
        error = intent.get("last_payment_error") or {}
        code = error.get("decline_code") or error.get("code") or "card_declined"
        outcome = ChargeOutcome.DECLINED
        if code == AUTHENTICATION_REQUIRED:
            outcome = ChargeOutcome.ACTION_REQUIRED
        return ChargeResult(outcome, reference=reference, amount=amount, error_code=code,
                            error_message=error.get("message") or "The card was declined.",
                            client_secret=(intent.get("client_secret") or "")
                            if outcome == ChargeOutcome.ACTION_REQUIRED else "")
    # processing / requires_confirmation / requires_capture: not (yet) money we can record.
    return ChargeResult(ChargeOutcome.UNKNOWN, reference=reference, amount=amount,
                        error_code="status_" + str(status),
                        error_message="PaymentIntent is %s." % status)


def _card(intent) -> Optional[CardDetails]:
    charges = (intent.get("charges") or {}).get("data") or []
    details = (charges[0].get("payment_method_details") or {}).get("card") if charges else None
    if not details:
        return None
    return CardDetails(brand=details.get("brand") or "", last4=details.get("last4") or "",
                       exp_month=details.get("exp_month"), exp_year=details.get("exp_year"))


def _message(error: stripe.error.StripeError) -> str:
    return getattr(error, "user_message", None) or str(error) or error.__class__.__name__


def _error(outcome: ChargeOutcome, error: stripe.error.StripeError, default_code: str):
    code = getattr(error, "code", None) or default_code
    return ChargeResult(outcome, error_code=str(code), error_message=_message(error))


def _auth_failed(error: stripe.error.StripeError) -> ChargeResult:
    # Stripe's message quotes part of the key: keep it out of rows customers might see.
    logger.error("Stripe refused the secret key: %s", error)
    return ChargeResult(ChargeOutcome.AUTH_FAILED, error_code=GATEWAY_AUTH_FAILED,
                        error_message="Stripe refused the secret key (%s)."
                        % error.__class__.__name__)


def _card_error(error: stripe.error.CardError, currency: str) -> ChargeResult:
    body = (getattr(error, "json_body", None) or {}).get("error") or {}
    intent = body.get("payment_intent") or {}
    code = body.get("decline_code") or error.code or "card_declined"
    outcome = ChargeOutcome.DECLINED
    if error.code == AUTHENTICATION_REQUIRED or code == AUTHENTICATION_REQUIRED:
        outcome, code = ChargeOutcome.ACTION_REQUIRED, AUTHENTICATION_REQUIRED
    amount = from_stripe_amount(int(intent["amount"]), currency) if intent.get("amount") else None
    secret = (intent.get("client_secret") or "") if outcome == ChargeOutcome.ACTION_REQUIRED else ""
    return ChargeResult(outcome, reference=intent.get("id") or "", amount=amount,
                        error_code=str(code), error_message=_message(error), client_secret=secret)
