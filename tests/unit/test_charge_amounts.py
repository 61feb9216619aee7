"""One rule for amounts the gateway must not be asked to charge, whoever charges: a renewal (the
renewal run and its charging pool) and a prorated upgrade (plan_change) answer alike. Nothing to
charge succeeds without a call; more than nothing but below the gateway's minimum is CARRIED
(the caller carries it to the next renewal); an interrupted attempt is looked up first, whatever
its amount."""
from decimal import Decimal
from types import SimpleNamespace

import pytest
from prices import Money

from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeRequest, ChargeResult
from saleor_subscriptions.services import charging


class RecordingGateway:
    """Answers every charge with success and remembers what it was asked."""

    def __init__(self, found=None):
        self.charged, self.looked_up, self.found = [], [], found

    def charge(self, request):
        self.charged.append(request.amount)
        return ChargeResult(ChargeOutcome.SUCCEEDED, reference="pi_1", amount=request.amount)

    def find_charge(self, request):
        self.looked_up.append(request.idempotency_key)
        return self.found


def started(purpose: str, amount: str, currency: str = "USD", reconcile: bool = False):
    request = ChargeRequest(amount=Money(Decimal(amount), currency), customer_reference="cus_1",
                            payment_method_reference="pm_1", idempotency_key=purpose + ":1")
    return 1, request, reconcile


#: each caller's call with its committed attempt (that the prorated upgrade makes it:
#: tests/lifecycle/test_proration_charge.py::test_the_upgrade_charges_through_the_one_amount_rule)
CALLERS = {
    charging.RENEWAL: lambda context, begun: charging.call_for(context, begun),
    charging.PRORATION: lambda context, begun: charging.call_for(context, begun),
}


def context_of(gateway):
    return SimpleNamespace(gateway=gateway, throttle=None, sleep=lambda seconds: None)


@pytest.mark.parametrize("purpose", sorted(CALLERS))
def test_nothing_to_charge_succeeds_without_the_gateway(purpose):
    gateway = RecordingGateway()
    result = CALLERS[purpose](context_of(gateway), started(purpose, "0.00"))
    assert result.outcome == ChargeOutcome.SUCCEEDED and result.amount == Money(0, "USD")
    assert gateway.charged == []


@pytest.mark.parametrize("purpose", sorted(CALLERS))
@pytest.mark.parametrize("amount, currency", [("0.30", "USD"), ("0.49", "EUR"), ("49", "JPY")])
def test_below_the_minimum_is_carried_without_the_gateway(purpose, amount, currency):
    gateway = RecordingGateway()
    result = CALLERS[purpose](context_of(gateway), started(purpose, amount, currency))
    assert result is charging.CARRIED
    assert gateway.charged == []


@pytest.mark.parametrize("purpose", sorted(CALLERS))
def test_the_minimum_is_charged(purpose):
    gateway = RecordingGateway()
    result = CALLERS[purpose](context_of(gateway), started(purpose, "0.50"))
    assert result.outcome == ChargeOutcome.SUCCEEDED
    assert gateway.charged == [Money(Decimal("0.50"), "USD")]


@pytest.mark.parametrize("purpose", sorted(CALLERS))
@pytest.mark.parametrize("amount", ["0.30", "20.00"])
def test_an_interrupted_attempt_is_looked_up_before_anything_else(purpose, amount):
    taken = ChargeResult(ChargeOutcome.SUCCEEDED, reference="pi_earlier")
    gateway = RecordingGateway(found=taken)
    result = CALLERS[purpose](context_of(gateway), started(purpose, amount, reconcile=True))
    assert result == taken
    assert gateway.looked_up == [purpose + ":1"] and gateway.charged == []
