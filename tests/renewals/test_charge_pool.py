"""A batch's charges are in flight together on the worker's pool, and each is still made once,
with its attempt committed first and its outcome recorded by the batch's own thread."""
import itertools
import threading
from collections import Counter

import pytest
from django.db import connections

from saleor_subscriptions.gateway.fake import FakeGateway
from saleor_subscriptions.gateway.interface import ChargeOutcome, ChargeResult
from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt, Subscription
from saleor_subscriptions.services import renewals
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.redis_urls import redis_url

REDIS = redis_url(12)
DUE = rf.utc(2028, 2, 29, 10)
MEETING = 4  # charges that must be in flight at the same moment (the whole pool)


class MeetingGateway(FakeGateway):
    """The fake provider, where charges 2 to 1 + MEETING answer only once all of them have
    arrived: a pool that sent charges one at a time would never get them answered (the
    meeting breaks and the renewals fail). Records which thread sent what."""

    def __init__(self, refuse_key_from=None):
        super().__init__(REDIS, rate_limit_share=0, latency_ms=0, jitter_ms=0)
        self.meeting = threading.Barrier(MEETING)
        self.numbers = itertools.count(1)
        self.calls = []  # (number, thread, opened a database connection?)
        self.refuse_key_from = refuse_key_from

    def charge(self, request):
        number = next(self.numbers)
        if 2 <= number <= 1 + MEETING:
            self.meeting.wait(timeout=120)
        if self.refuse_key_from is not None and number >= self.refuse_key_from:
            result = ChargeResult(ChargeOutcome.AUTH_FAILED, error_code="gateway_auth_failed",
                                  error_message="Invalid API Key provided")
        else:
            result = super().charge(request)
        self.calls.append((number, threading.get_ident(),
                           connections["default"].connection is not None))
        return result


@pytest.fixture
def gateway(settings):
    settings.SUBSCRIPTIONS_RENEWAL_CONCURRENCY = 4
    fake = MeetingGateway()
    fake.reset()
    yield fake
    fake.reset()


def due_subscriptions(renewal, count):
    return rf.fake_card_subscriptions(renewal.plan(), renewal.customer, count, "cus_pool",
                                      start=rf.utc(2028, 1, 29, 10),
                                      shipping_method=renewal.shipping_method)


def test_charges_of_a_batch_are_in_flight_together_and_each_is_made_once(renewal, gateway):
    subscriptions = due_subscriptions(renewal, 7)

    result = renewals.renew_due_subscriptions(DUE, context=renewal.context(gateway=gateway))

    assert result.counts == {"renewed": 7}
    # Outcomes in the order the batch claimed them, whatever order the answers came in.
    assert [outcome.subscription_id for outcome in result.outcomes] == [
        subscription.pk for subscription in subscriptions]
    # Each charged exactly once: at the gateway, in our attempts and in Saleor's orders.
    charges = gateway.charges()
    assert len(charges) == 7
    assert Counter(charge["params"]["customer"] for charge in charges) == {
        "cus_pool_%d" % number: 1 for number in range(7)}
    attempts = PaymentAttempt.objects.filter(subscription__in=subscriptions)
    assert sorted(attempts.values_list("status", flat=True)) == [AttemptStatus.SUCCEEDED] * 7
    assert {attempt.idempotency_key for attempt in attempts} == {
        charge["key"] for charge in charges}
    paid = BillingCycle.objects.filter(cycle_index=1, status="paid", order__isnull=False)
    assert paid.count() == 7
    # The pool was used: the charges came from threads other than the batch's own, at least
    # MEETING of them at once, and none of those threads ever opened a database connection.
    threads = {thread for _, thread, _ in gateway.calls}
    assert threading.get_ident() not in threads and len(threads) >= MEETING
    assert not any(connected for _, _, connected in gateway.calls)
    assert not Subscription.objects.filter(renewal_lease_until__isnull=False).exists()


def test_a_key_refused_while_charges_are_in_flight_sends_no_more_and_charges_each_once_later(
        renewal, gateway):
    """The first charge (sent alone) works; the key is refused from the second on: the charges
    in flight are parked with their STARTED attempt, the rest of the batch is not begun; once
    the key works each is charged once, the parked ones with the key of their attempt."""
    subscriptions = due_subscriptions(renewal, 7)
    gateway.refuse_key_from = 2

    result = renewals.renew_due_subscriptions(DUE, context=renewal.context(gateway=gateway))

    assert result.halted == "gateway_auth_failed"
    # Sent alone, then the whole pool (4) in flight when the refusals came back; 2 not begun.
    assert result.counts == {"renewed": 1, "failed": 4}
    assert Subscription.objects.filter(parked_at__isnull=False).count() == 4
    assert gateway.charges_count() == 1
    assert not Subscription.objects.filter(renewal_lease_until__isnull=False).exists()
    started = PaymentAttempt.objects.filter(status=AttemptStatus.STARTED)
    keys_before = set(started.values_list("idempotency_key", flat=True))

    # The key works again; staff release the parked ones (README: gateway key).
    gateway.refuse_key_from = None
    for subscription in Subscription.objects.filter(parked_at__isnull=False):
        renewals.release_subscription(subscription.pk, rf.utc(2028, 2, 29, 11))
    later = rf.utc(2028, 2, 29, 11)
    while renewals.renew_due_subscriptions(later, context=renewal.context(gateway=gateway)).claimed:
        pass

    assert gateway.charges_count() == 7
    assert Counter(charge["params"]["customer"] for charge in gateway.charges()) == {
        "cus_pool_%d" % number: 1 for number in range(7)}
    assert keys_before <= {charge["key"] for charge in gateway.charges()}
    assert BillingCycle.objects.filter(subscription__in=subscriptions, cycle_index=1,
                                       status="paid").count() == 7
