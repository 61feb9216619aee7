"""An in-process gateway with Stripe's semantics, its state in Redis so several worker
processes share it: for large tests and benchmarks (localstripe slows down past ~1,500
PaymentIntents). Never used unless SUBSCRIPTIONS_GATEWAY=fake.

Behaviour by payment method reference: "pm_fake_decline" is declined, "pm_fake_auth" needs
authentication, "pm_fake_detached" is an invalid request, "pm_fake_timeout" takes the money and
then answers like a timeout (UNKNOWN); anything else succeeds. SUBSCRIPTIONS_FAKE_GATEWAY_429_RATE
(0..1) answers that share of calls with a rate limit, charging nothing.

SUBSCRIPTIONS_FAKE_GATEWAY_LATENCY_MS (and _JITTER_MS, uniform ±) make each charge and lookup
take as long as a real provider's answer; the most calls ever in flight at once, over every
process, is counted (`peak_in_flight`).
"""
import json
import os
import random
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Optional, Tuple

import redis
from prices import Money

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

DEFAULT_URL = "redis://127.0.0.1:6379/7"
PREFIX = "subscriptions:fake-gateway:"
CARD = CardDetails(brand="visa", last4="4242", exp_month=12, exp_year=2034)


class FakeGateway(PaymentGateway):
    saleor_gateway_id = GATEWAY_ID

    def __init__(self, url: Optional[str] = None, rate_limit_share: Optional[float] = None,
                 latency_ms: Optional[float] = None, jitter_ms: Optional[float] = None):
        self.redis = redis.Redis.from_url(
            url or os.environ.get("SUBSCRIPTIONS_FAKE_GATEWAY_REDIS", DEFAULT_URL))
        share = os.environ.get("SUBSCRIPTIONS_FAKE_GATEWAY_429_RATE", "0")
        self.rate_limit_share = float(share) if rate_limit_share is None else rate_limit_share
        self.latency_ms = _setting(latency_ms, "SUBSCRIPTIONS_FAKE_GATEWAY_LATENCY_MS")
        self.jitter_ms = _setting(jitter_ms, "SUBSCRIPTIONS_FAKE_GATEWAY_JITTER_MS")
        self._enter = self.redis.register_script(_ENTER)
        self._record = self.redis.register_script(_RECORD)

    # -- the interface ----------------------------------------------------------------------
    def charge(self, request: ChargeRequest) -> ChargeResult:
        with self._answer_time():
            return self._charge(request)

    def find_charge(self, request: ChargeRequest) -> Optional[ChargeResult]:
        with self._answer_time():
            stored = self.redis.hget(PREFIX + "keys", request.idempotency_key)
        return _result(json.loads(stored)) if stored is not None else None

    @contextmanager
    def _answer_time(self) -> Iterator[None]:
        """The provider's latency, the call counted as in flight meanwhile."""
        if not self.latency_ms and not self.jitter_ms:
            yield
            return
        self._enter(keys=[PREFIX + "in_flight", PREFIX + "peak_in_flight"])
        try:
            delay = self.latency_ms + random.uniform(-self.jitter_ms, self.jitter_ms)
            time.sleep(max(delay, 0.0) / 1000.0)
            yield
        finally:
            self.redis.decr(PREFIX + "in_flight")

    def _charge(self, request: ChargeRequest) -> ChargeResult:
        if self.rate_limit_share and random.random() < self.rate_limit_share:
            self.redis.incr(PREFIX + "rate_limited")
            return ChargeResult(ChargeOutcome.RATE_LIMITED, error_code="rate_limit",
                                error_message="Too many requests.")
        params = _params(request)
        stored = self.redis.hget(PREFIX + "keys", request.idempotency_key)
        if stored is not None:
            first = json.loads(stored)
            if first["params"] != params:
                return ChargeResult(ChargeOutcome.INVALID, error_code="idempotency_error",
                                    error_message="Keys for idempotent requests can only be used "
                                    "with the same parameters they were first used with.")
            return _result(first)
        record = self._decide(request, params)
        # Of two concurrent first calls with one key, only one charge is recorded; and a charge
        # is recorded whole (a process killed mid-call leaves all of it or nothing, like Stripe).
        taken = self._record(keys=[PREFIX + "keys", PREFIX + "references", PREFIX + "charges"],
                             args=[request.idempotency_key, json.dumps(record), record["reference"],
                                   int(record["outcome"] == ChargeOutcome.SUCCEEDED.value)])
        if not taken:
            return self._charge(request)
        if request.payment_method_reference == "pm_fake_timeout":
            return ChargeResult(ChargeOutcome.UNKNOWN, error_code="timeout",
                                error_message="The request timed out after the charge.")
        return _result(record)

    def retrieve_charge(self, reference: str) -> ChargeResult:
        key = self.redis.hget(PREFIX + "references", reference)
        stored = self.redis.hget(PREFIX + "keys", key) if key is not None else None
        if stored is None:
            return ChargeResult(ChargeOutcome.INVALID, error_code="resource_missing",
                                error_message="No such payment.")
        return _result(json.loads(stored))

    def cancel_charge(self, reference: str) -> ChargeResult:
        # Like Stripe: an intent declined or waiting for the customer can be cancelled.
        self._settle_open(reference, ChargeOutcome.DECLINED, CHARGE_CANCELED,
                          (ChargeOutcome.ACTION_REQUIRED, ChargeOutcome.DECLINED))
        return state_after_cancel(self.retrieve_charge(reference), reference)

    def complete_authentication(self, reference: str) -> None:
        """For tests: the customer passed 3-D Secure on the storefront."""
        self._settle_open(reference, ChargeOutcome.SUCCEEDED, "")

    def _settle_open(self, reference: str, outcome: ChargeOutcome, code: str,
                     open_outcomes=(ChargeOutcome.ACTION_REQUIRED,)) -> None:
        key = self.redis.hget(PREFIX + "references", reference)
        stored = self.redis.hget(PREFIX + "keys", key) if key is not None else None
        if stored is None:
            return
        record = json.loads(stored)
        if record["outcome"] not in [open_outcome.value for open_outcome in open_outcomes]:
            return
        record["outcome"], record["code"] = outcome.value, code
        self.redis.hset(PREFIX + "keys", key, json.dumps(record))
        if outcome == ChargeOutcome.SUCCEEDED:
            self.redis.rpush(PREFIX + "charges", json.dumps(record))

    def refund(self, reference: str, amount: Money, idempotency_key: str) -> RefundResult:
        # A repeated key refunds nothing more, like Stripe.
        self.redis.hsetnx(PREFIX + "refunds", idempotency_key, json.dumps({
            "charge": reference, "amount": str(amount.amount), "currency": amount.currency,
            "created": time.time()}))
        return RefundResult(True, reference="re_" + idempotency_key)

    def list_refunds(self, charge_reference: str) -> Optional[Tuple[GatewayRefund, ...]]:
        # Our own refunds only: the fake has no dashboard to refund from.
        refunds = (
            (key.decode(), json.loads(value))
            for key, value in self.redis.hgetall(PREFIX + "refunds").items())
        return tuple(
            GatewayRefund("re_" + key, Money(refund["amount"], refund["currency"]), True,
                          datetime.fromtimestamp(refund["created"], tz=timezone.utc), key)
            for key, refund in sorted(refunds, key=lambda item: item[1]["created"])
            if refund["charge"] == charge_reference)

    # -- for tests and benchmarks -------------------------------------------------------------
    def charges(self):
        return [json.loads(item) for item in self.redis.lrange(PREFIX + "charges", 0, -1)]

    def charges_count(self) -> int:
        return self.redis.llen(PREFIX + "charges")

    def peak_in_flight(self) -> int:
        """The most calls ever answering at once (counted only with a latency set)."""
        return int(self.redis.get(PREFIX + "peak_in_flight") or 0)

    def rate_limited_count(self) -> int:
        return int(self.redis.get(PREFIX + "rate_limited") or 0)

    def reset(self) -> None:
        keys = list(self.redis.scan_iter(PREFIX + "*"))
        if keys:
            self.redis.delete(*keys)

    def _decide(self, request: ChargeRequest, params: dict) -> dict:
        method = request.payment_method_reference
        outcome, code = ChargeOutcome.SUCCEEDED, ""
        if method == "pm_fake_decline":
            outcome, code = ChargeOutcome.DECLINED, "card_declined"
        elif method == "pm_fake_auth":
            outcome, code = ChargeOutcome.ACTION_REQUIRED, "authentication_required"
        elif method == "pm_fake_detached":
            outcome, code = ChargeOutcome.INVALID, "payment_method_detached"
        reference = "pi_fake_%d" % self.redis.incr(PREFIX + "sequence")
        return {"params": params, "outcome": outcome.value, "code": code, "reference": reference,
                "key": request.idempotency_key}


def _setting(value: Optional[float], variable: str) -> float:
    return float(os.environ.get(variable, "0") or 0) if value is None else float(value)


# HSETNX the key's record; only if new, its reference and (a success) the charge, atomically.
_RECORD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] == '1' then redis.call('RPUSH', KEYS[3], ARGV[2]) end
return 1
"""

# One round trip: count the call in flight and keep the peak.
_ENTER = """
local now = redis.call('INCR', KEYS[1])
if now > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], now) end
return now
"""


def _params(request: ChargeRequest) -> dict:
    return {"amount": str(request.amount.amount), "currency": request.amount.currency,
            "customer": request.customer_reference, "method": request.payment_method_reference}


def _result(record: dict) -> ChargeResult:
    outcome = ChargeOutcome(record["outcome"])
    params = record["params"]
    amount = Money(params["amount"], params["currency"])
    if outcome == ChargeOutcome.SUCCEEDED:
        return ChargeResult(outcome, reference=record["reference"], amount=amount, card=CARD)
    if outcome == ChargeOutcome.INVALID:
        return ChargeResult(outcome, error_code=record["code"],
                            error_message="No such PaymentMethod on the customer.")
    action = outcome == ChargeOutcome.ACTION_REQUIRED
    return ChargeResult(outcome, reference=record["reference"], amount=amount,
                        error_code=record["code"], error_message="Authentication required."
                        if action else "The card was declined.",
                        client_secret=record["reference"] + "_secret_fake" if action else "")


def get_fake_gateway() -> FakeGateway:
    return FakeGateway()
