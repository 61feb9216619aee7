"""The simulation's gateway (`simulate_subscriptions`): in this process, no network, and every
answer decided by the card and the idempotency key alone, so a simulation is the same under
the same seed however its renewals are scheduled.

Cards (payment method references):
- "pm_sim_ok": every charge succeeds;
- "pm_sim_flaky_<cycle>_<n>": the renewal of cycle <cycle> is declined on its first <n>
  attempts, then paid (a dunning retry recovers it);
- "pm_sim_lost_<cycle>": every renewal from cycle <cycle> on is declined (dunning gives up).
"""
from dataclasses import replace
from datetime import datetime, timezone
from typing import Dict, Optional, Tuple

from .. import GATEWAY_ID
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

CARD = CardDetails(brand="visa", last4="4242", exp_month=12, exp_year=2034,
                   fingerprint="sim_visa_4242")
OK_CARD = "pm_sim_ok"


def flaky_card(cycle: int, declines: int) -> str:
    return "pm_sim_flaky_%d_%d" % (cycle, declines)


def lost_card(cycle: int) -> str:
    return "pm_sim_lost_%d" % cycle


def _cycle_and_attempt(key: str):
    """(cycle, attempt number) of a renewal key "renewal:<token>:<cycle>:<n>"; (None, None)
    for other charges (a prorated upgrade's)."""
    parts = key.split(":")
    if len(parts) == 4 and parts[0] == "renewal" and parts[2].isdigit() and parts[3].isdigit():
        return int(parts[2]), int(parts[3])
    return None, None


def declines(method: str, key: str) -> bool:
    cycle, attempt = _cycle_and_attempt(key)
    if cycle is None:
        return False
    parts = method.split("_")
    if method.startswith("pm_sim_flaky_") and len(parts) == 5:
        return cycle == int(parts[3]) and attempt <= int(parts[4])
    if method.startswith("pm_sim_lost_") and len(parts) == 4:
        return cycle >= int(parts[3])
    return False


class SimulatedGateway(PaymentGateway):
    saleor_gateway_id = GATEWAY_ID

    def __init__(self):
        self._by_key: Dict[str, ChargeResult] = {}
        self._refunds: Dict[str, tuple] = {}  # key -> (charge reference, GatewayRefund)
        self._sequence = 0

    def charge(self, request: ChargeRequest) -> ChargeResult:
        known = self._by_key.get(request.idempotency_key)
        if known is not None:
            return known
        self._sequence += 1
        reference = "pi_sim_%d" % self._sequence
        if declines(request.payment_method_reference, request.idempotency_key):
            result = ChargeResult(ChargeOutcome.DECLINED, reference=reference,
                                  amount=request.amount, error_code="card_declined",
                                  error_message="The card was declined.")
        else:
            result = ChargeResult(ChargeOutcome.SUCCEEDED, reference=reference,
                                  amount=request.amount, card=CARD)
        self._by_key[request.idempotency_key] = result
        return result

    def find_charge(self, request: ChargeRequest) -> Optional[ChargeResult]:
        return self._by_key.get(request.idempotency_key)

    def retrieve_charge(self, reference: str) -> ChargeResult:
        for result in self._by_key.values():
            if result.reference == reference:
                return result
        return ChargeResult(ChargeOutcome.INVALID, error_code="resource_missing",
                            error_message="No such payment.")

    def cancel_charge(self, reference: str) -> ChargeResult:
        for key, result in self._by_key.items():
            if result.reference == reference and not result.succeeded:
                # Like Stripe: what was not paid is closed for good.
                self._by_key[key] = replace(result, outcome=ChargeOutcome.DECLINED,
                                            error_code=CHARGE_CANCELED,
                                            error_message="The payment was cancelled.")
        return state_after_cancel(self.retrieve_charge(reference), reference)

    def refund(self, reference, amount, idempotency_key: str) -> RefundResult:
        made = GatewayRefund("re_sim_" + idempotency_key, amount, True,
                             datetime.now(timezone.utc), idempotency_key)
        self._refunds.setdefault(idempotency_key, (reference, made))
        return RefundResult(True, reference=made.reference)

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        return tuple(made for charge, made in self._refunds.values() if charge == charge_reference)


#: set to 1 by scripts/demo.sh: the demo's simulated customers keep paying with simulated
#: cards after the simulation, while everything else goes to the real gateway (localstripe)
SIMULATED_CARDS_ENV = "SUBSCRIPTIONS_SIMULATED_CARDS"


def is_simulated(reference: str) -> bool:
    return reference.startswith(("pm_sim_", "pi_sim_"))


class SimulatedCardsRouter(PaymentGateway):
    """The real gateway, except for simulated cards and charges (`pm_sim_…`, `pi_sim_…`)."""

    def __init__(self, real: PaymentGateway, simulated_gateway: Optional[SimulatedGateway] = None):
        self.real = real
        self.simulated = simulated_gateway or SimulatedGateway()
        self.saleor_gateway_id = real.saleor_gateway_id

    def _for(self, reference: str) -> PaymentGateway:
        return self.simulated if is_simulated(reference) else self.real

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self._for(request.payment_method_reference).charge(request)

    def find_charge(self, request: ChargeRequest) -> Optional[ChargeResult]:
        return self._for(request.payment_method_reference).find_charge(request)

    def retrieve_charge(self, reference: str) -> ChargeResult:
        return self._for(reference).retrieve_charge(reference)

    def cancel_charge(self, reference: str) -> ChargeResult:
        return self._for(reference).cancel_charge(reference)

    def refund(self, reference, amount, idempotency_key: str) -> RefundResult:
        return self._for(reference).refund(reference, amount, idempotency_key)

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        return self._for(charge_reference).list_refunds(charge_reference)


def with_simulated_cards(gateway: PaymentGateway) -> PaymentGateway:
    """`gateway`, routed around simulated cards where the host asks for it (the demo)."""
    import os

    if os.environ.get(SIMULATED_CARDS_ENV, "") != "1":
        return gateway
    return SimulatedCardsRouter(gateway)
