"""The fake gateway behaves like Stripe where renewals depend on it."""
import pytest
from prices import Money

from saleor_subscriptions.gateway.fake import FakeGateway
from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeRequest
from saleor_subscriptions.testing.redis_urls import redis_url

REDIS = redis_url(9)


@pytest.fixture
def gateway():
    fake = FakeGateway(REDIS, rate_limit_share=0)
    fake.reset()
    yield fake
    fake.reset()


def request(key, method="pm_fake_ok", amount="20.00"):
    return ChargeRequest(Money(amount, "USD"), "cus_1", method, key)


def test_same_key_same_params_returns_the_first_result_without_charging_again(gateway):
    first = gateway.charge(request("k1"))
    again = gateway.charge(request("k1"))
    assert first.succeeded and again == first
    assert gateway.charges_count() == 1


def test_same_key_other_params_is_refused(gateway):
    gateway.charge(request("k1"))
    other = gateway.charge(request("k1", amount="21.00"))
    assert other.outcome == ChargeOutcome.INVALID and other.error_code == "idempotency_error"
    assert gateway.charges_count() == 1


@pytest.mark.parametrize("method,outcome", [
    ("pm_fake_decline", ChargeOutcome.DECLINED),
    ("pm_fake_auth", ChargeOutcome.ACTION_REQUIRED),
    ("pm_fake_detached", ChargeOutcome.INVALID),
])
def test_failures_charge_nothing(gateway, method, outcome):
    assert gateway.charge(request("k-" + method, method)).outcome == outcome
    assert gateway.charges_count() == 0


def test_an_open_authentication_is_checked_completed_or_cancelled_like_stripe(gateway):
    waiting = gateway.charge(request("k1", "pm_fake_auth"))
    assert waiting.client_secret and gateway.retrieve_charge(waiting.reference) == waiting
    gateway.complete_authentication(waiting.reference)
    assert gateway.retrieve_charge(waiting.reference).succeeded
    # A succeeded charge stays succeeded, and the cancel says so (a payment to record).
    assert gateway.cancel_charge(waiting.reference).succeeded
    assert gateway.retrieve_charge(waiting.reference).succeeded
    assert gateway.charges_count() == 1

    other = gateway.charge(request("k2", "pm_fake_auth"))
    assert gateway.cancel_charge(other.reference).closed
    assert gateway.cancel_charge(other.reference).closed  # cancelled before: still closed
    closed = gateway.retrieve_charge(other.reference)
    assert closed.outcome == ChargeOutcome.DECLINED
    assert closed.error_code == "payment_intent_canceled"
    assert gateway.charges_count() == 1


def test_timeout_after_the_charge_is_found_again(gateway):
    result = gateway.charge(request("k1", "pm_fake_timeout"))
    assert result.outcome == ChargeOutcome.UNKNOWN
    found = gateway.find_charge(request("k1", "pm_fake_timeout"))
    assert found.succeeded and found.amount == Money("20.00", "USD")
    assert gateway.find_charge(request("never-used")) is None
    assert gateway.charges_count() == 1


def test_injected_rate_limits_charge_nothing(gateway):
    limited = FakeGateway(REDIS, rate_limit_share=1.0)
    assert limited.charge(request("k1")).outcome == ChargeOutcome.RATE_LIMITED
    assert limited.charges_count() == 0 and limited.rate_limited_count() == 1


def test_refunds_are_listed_by_charge_once_per_key_like_stripe(gateway):
    charged = gateway.charge(request("k-refunded"))
    other = gateway.charge(request("k-other"))
    for key in ("refund:a", "refund:a", "refund:b"):
        assert gateway.refund(charged.reference, Money("2.00", "USD"), key).succeeded
    gateway.refund(other.reference, Money("1.00", "USD"), "refund:c")

    listed = gateway.list_refunds(charged.reference)
    assert sorted((r.reference, r.amount, r.ours) for r in listed) == [
        ("re_refund:a", Money("2.00", "USD"), True), ("re_refund:b", Money("2.00", "USD"), True)]
    assert gateway.list_refunds("pi_fake_unknown") == ()


def test_the_simulated_gateway_lists_its_refunds_by_charge():
    from saleor_subscriptions.gateway.simulated import SimulatedCardsRouter, SimulatedGateway

    router = SimulatedCardsRouter(FakeGateway(REDIS), SimulatedGateway())
    charged = router.charge(ChargeRequest(Money("9.00", "USD"), "cus_1", "pm_sim_ok", "sim-1"))
    router.refund(charged.reference, Money("4.00", "USD"), "refund:sim")
    (refunded,) = router.list_refunds(charged.reference)
    assert (refunded.reference, refunded.amount) == ("re_sim_refund:sim", Money("4.00", "USD"))
