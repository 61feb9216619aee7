"""Stripe's currency rules (domain/money.py) and that the Stripe gateway sends amounts by them."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prices import Money

from saleor_subscriptions.domain.money import (
    STRIPE_THREE_DECIMAL_CURRENCIES,
    STRIPE_ZERO_DECIMAL_CURRENCIES,
    below_minimum_charge,
    from_stripe_amount,
    minimum_charge,
    to_stripe_amount,
)

ZERO = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
THREE = "BHD JOD KWD OMR TND".split()


def test_the_lists_are_stripes():
    assert STRIPE_ZERO_DECIMAL_CURRENCIES == frozenset(ZERO)
    assert STRIPE_THREE_DECIMAL_CURRENCIES == frozenset(THREE)


@pytest.mark.parametrize("currency", ZERO)
def test_zero_decimal_currencies_are_sent_as_whole_units(currency):
    assert to_stripe_amount(Money(Decimal("500"), currency)) == 500
    assert from_stripe_amount(500, currency) == Money(Decimal("500"), currency)


def test_isk_is_sent_times_100_ending_in_00():
    assert to_stripe_amount(Money(Decimal("5"), "ISK")) == 500
    assert to_stripe_amount(Money(Decimal("1234"), "ISK")) == 123400
    assert from_stripe_amount(123400, "ISK") == Money(Decimal("1234"), "ISK")


@pytest.mark.parametrize("currency", THREE)
def test_three_decimal_currencies_are_sent_times_1000_rounded_to_a_final_0(currency):
    assert to_stripe_amount(Money(Decimal("1.230"), currency)) == 1230
    assert to_stripe_amount(Money(Decimal("1.234"), currency)) == 1230
    assert to_stripe_amount(Money(Decimal("1.235"), currency)) == 1240
    assert from_stripe_amount(1240, currency) == Money(Decimal("1.240"), currency)


def test_two_decimal_currencies():
    assert to_stripe_amount(Money(Decimal("12.34"), "USD")) == 1234
    assert to_stripe_amount(Money(Decimal("12.34"), "IQD")) == 1234  # not three-decimal at Stripe
    with pytest.raises(ValueError):
        to_stripe_amount(Money(Decimal("12.345"), "USD"))


@given(units=st.integers(0, 10 ** 10), currency=st.sampled_from(ZERO + THREE + ["USD", "ISK"]))
def test_amounts_stripe_sends_back_round_trip(units, currency):
    if currency in THREE:
        units -= units % 10
    if currency == "ISK":
        units -= units % 100
    assert to_stripe_amount(from_stripe_amount(units, currency)) == units


def test_minimum_charge_table():
    assert minimum_charge("USD") == Money(Decimal("0.50"), "USD")
    assert minimum_charge("eur") == Money(Decimal("0.50"), "EUR")
    assert minimum_charge("GBP") == Money(Decimal("0.30"), "GBP")
    assert minimum_charge("JPY") == Money(Decimal("50"), "JPY")
    assert below_minimum_charge(Money(Decimal("0.49"), "USD"))
    assert not below_minimum_charge(Money(Decimal("0.50"), "USD"))
    assert below_minimum_charge(Money(Decimal("0.29"), "GBP"))
    assert not below_minimum_charge(Money(Decimal("0.30"), "GBP"))
    # Nothing to charge is not "below the minimum": it is settled without the gateway.
    assert not below_minimum_charge(Money(Decimal("0"), "USD"))


def test_the_stripe_gateway_sends_amounts_by_stripes_rules(monkeypatch):
    """The request the gateway makes, captured at our Stripe client's boundary."""
    from saleor_subscriptions.gateway.interface import ChargeRequest
    from saleor_subscriptions.gateway.stripe_client import StripeClient
    from saleor_subscriptions.gateway.stripe_gateway import StripeGateway

    sent = []

    def request(_client, method, url, params=None, idempotency_key=None):
        assert (method, url) == ("post", "/v1/payment_intents")
        sent.append(params)
        return {"id": "pi_1", "status": "succeeded", "amount": params["amount"],
                "currency": params["currency"]}

    monkeypatch.setattr(StripeClient, "request", request)
    gateway = StripeGateway("sk_test_x", "http://127.0.0.1:1")
    for amount, currency in (("1234", "ISK"), ("5.125", "KWD"), ("500", "JPY")):
        result = gateway.charge(ChargeRequest(Money(Decimal(amount), currency), "cus_1", "pm_1",
                                              "key-%s" % currency))
        assert result.succeeded
    assert [params["amount"] for params in sent] == [123400, 5130, 500]
    assert [params["currency"] for params in sent] == ["isk", "kwd", "jpy"]
