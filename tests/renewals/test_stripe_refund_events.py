"""charge.refunded for refunds our own code made (staff refunds, unused-time refunds) is never
recorded a second time: our refunds carry our metadata and are de-duplicated by Stripe's refund
id, also when the event arrives before our own request has recorded the refund."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from prices import Money
from saleor.payment import TransactionKind
from saleor.payment.models import Payment
from test_stripe_webhooks_in import DUE, STRIPE_TEST_KEY, configured, event, post, stripe_object

from saleor_subscriptions.config import load_settings
from saleor_subscriptions.gateway.stripe_gateway import StripeGateway
from saleor_subscriptions.models import BillingCycle, EventType, StripeWebhookEvent
from saleor_subscriptions.services import stripe_webhooks
from saleor_subscriptions.services.lifecycle import Actor, refund
from saleor_subscriptions.testing import renewal_factories as rf


def _renewed(renewal):
    configured(renewal)
    subscription = renewal.subscription(card=renewal.card())
    assert renewal.run(DUE) == {"renewed": 1}
    cycle = BillingCycle.objects.get(subscription=subscription, cycle_index=1)
    return subscription, cycle, Payment.objects.get(order_id=cycle.order_id)


def _charge(renewal, payment) -> dict:
    charge_id = stripe_object(renewal, "PaymentIntent", payment.token)["charges"]["data"][0]["id"]
    charge = stripe_object(renewal, "Charge", charge_id)
    charge.setdefault("payment_intent", payment.token)  # localstripe's charges lack it
    return charge


def _refund_rows(payment):
    return list(payment.transactions.filter(kind=TransactionKind.REFUND)
                .values_list("token", "amount"))


def test_a_staff_refund_is_not_recorded_again_by_its_charge_refunded_event(renewal, client):
    subscription, cycle, payment = _renewed(renewal)
    refund.refund(subscription.pk, Actor(), DUE, cycle.order_id, Decimal("5.00"))
    charge = _charge(renewal, payment)
    (stripe_refund,) = charge["refunds"]["data"]
    assert stripe_refund["metadata"].get("saleor_subscriptions_refund")

    assert post(client, event("evt_own_1", "charge.refunded", charge)).json()[
        "result"] == "nothing_to_do"
    assert _refund_rows(payment) == [(stripe_refund["id"], Decimal("5.00"))]
    assert subscription.events.filter(type=EventType.REFUNDED).count() == 1


def _refund_as_the_event_arrives(monkeypatch, client, subscription, cycle, event_id, charge):
    """Staff refund 5.00; Stripe's charge.refunded (the `charge()` it sends) arrives as soon as
    Stripe has refunded, before our request has recorded the refund. Its answer."""
    answers = []
    stripe_refund = StripeGateway.refund

    def refund_then_event_arrives(gateway, reference, amount, idempotency_key):
        result = stripe_refund(gateway, reference, amount, idempotency_key)
        answers.append(post(client, event(event_id, "charge.refunded", charge())))
        return result

    monkeypatch.setattr(StripeGateway, "refund", refund_then_event_arrives)
    refund.refund(subscription.pk, Actor(), DUE, cycle.order_id, Decimal("5.00"))
    monkeypatch.undo()
    (early,) = answers
    return early


def test_the_event_arriving_before_our_refund_is_recorded_waits_for_it(renewal, client,
                                                                       monkeypatch):
    """The race: Stripe sends charge.refunded as soon as it refunds, before the request that
    asked for the refund has written Saleor's REFUND transaction (or committed)."""
    subscription, cycle, payment = _renewed(renewal)
    early = _refund_as_the_event_arrives(monkeypatch, client, subscription, cycle, "evt_early",
                                         lambda: _charge(renewal, payment))
    assert early.status_code == 503  # not handled: Stripe sends it again
    row = StripeWebhookEvent.objects.get(stripe_id="evt_early")
    assert row.processed_at is None
    # Sent again after our refund was recorded: nothing more to record.
    assert post(client, event("evt_early", "charge.refunded", _charge(renewal, payment))).json()[
        "result"] == "nothing_to_do"
    (recorded,) = _refund_rows(payment)
    assert recorded[1] == Decimal("5.00")
    payment.refresh_from_db()
    assert payment.captured_amount == cycle.amount - Decimal("5.00")
    assert subscription.events.filter(type=EventType.REFUNDED).count() == 1


def test_our_refund_never_recorded_by_us_is_recorded_from_the_event_once_it_is_old(
        renewal, client):
    """Our request died after Stripe refunded: after the grace period the event records it."""
    subscription, cycle, payment = _renewed(renewal)

    gateway = StripeGateway.from_settings(load_settings())
    assert gateway.refund(payment.token, Money(Decimal("3.00"), "USD"), "refund:died").succeeded
    charge = _charge(renewal, payment)
    context = renewal.context()
    soon = stripe_webhooks.receive(event("evt_died", "charge.refunded", charge),
                                   datetime.now(timezone.utc), context)
    assert soon.startswith("retry") and _refund_rows(payment) == []
    later = datetime.now(timezone.utc) + stripe_webhooks.OWN_REFUND_GRACE + timedelta(seconds=1)
    assert stripe_webhooks.receive(event("evt_died", "charge.refunded", charge), later,
                                   context).startswith("recorded")
    assert [amount for _, amount in _refund_rows(payment)] == [Decimal("3.00")]
    assert subscription.events.filter(type=EventType.REFUNDED).count() == 1


def test_a_dashboard_refund_and_ours_each_recorded_once_whatever_the_order_of_events(
        renewal, client):
    subscription, cycle, payment = _renewed(renewal)
    stripe = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    stripe.Refund.create(payment_intent=payment.token, amount=300)  # the dashboard: 3.00
    after_dashboard = _charge(renewal, payment)
    refund.refund(subscription.pk, Actor(), DUE, cycle.order_id, Decimal("5.00"))
    after_both = _charge(renewal, payment)

    # The newer event first, then the older one (out of order), then a replay of the newer.
    assert post(client, event("evt_both", "charge.refunded", after_both)).json()[
        "result"] == "recorded"
    assert post(client, event("evt_dash", "charge.refunded", after_dashboard)).json()[
        "result"] == "nothing_to_do"
    assert post(client, event("evt_both", "charge.refunded", after_both)).json()[
        "result"] == "duplicate"
    assert sorted(amount for _, amount in _refund_rows(payment)) == [Decimal("3.00"),
                                                                   Decimal("5.00")]
    payment.refresh_from_db()
    assert payment.captured_amount == cycle.amount - Decimal("8.00")
    sources = sorted(e.parameters.get("source", "") for e in
                     subscription.events.filter(type=EventType.REFUNDED))
    assert sources == ["", "stripe_dashboard"]


def _charge_without_refunds(renewal, payment) -> dict:
    """The charge as Stripe's API 2022-11-15 and later sends it: no embedded `refunds`."""
    charge = _charge(renewal, payment)
    charge.pop("refunds", None)
    return charge


def test_without_embedded_refunds_the_event_waits_for_our_own_refund(renewal, client,
                                                                      monkeypatch):
    """The charge's refunds are listed at Stripe and each goes through the same by-id check:
    ours not yet recorded -> 503, nothing written; sent again once recorded -> nothing more."""
    subscription, cycle, payment = _renewed(renewal)
    early = _refund_as_the_event_arrives(monkeypatch, client, subscription, cycle,
                                         "evt_bare_early",
                                         lambda: _charge_without_refunds(renewal, payment))
    assert early.status_code == 503
    assert StripeWebhookEvent.objects.get(stripe_id="evt_bare_early").processed_at is None
    assert post(client, event("evt_bare_early", "charge.refunded",
                              _charge_without_refunds(renewal, payment))).json()[
        "result"] == "nothing_to_do"
    (recorded,) = _refund_rows(payment)
    assert recorded[0].startswith("re_") and recorded[1] == Decimal("5.00")
    payment.refresh_from_db()
    assert payment.captured_amount == cycle.amount - Decimal("5.00")
    (history,) = subscription.events.filter(type=EventType.REFUNDED)
    assert history.parameters.get("source", "") != "stripe_dashboard"


def test_without_embedded_refunds_a_dashboard_refund_is_recorded_once_by_its_id(renewal,
                                                                                client):
    subscription, cycle, payment = _renewed(renewal)
    stripe = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    dashboard = stripe.Refund.create(payment_intent=payment.token, amount=300)
    charge = _charge_without_refunds(renewal, payment)

    assert post(client, event("evt_bare_dash", "charge.refunded", charge)).json()[
        "result"] == "recorded"
    # Another delivery of the same refund (another event id): already recorded by its id.
    assert post(client, event("evt_bare_dash_2", "charge.refunded", charge)).json()[
        "result"] == "nothing_to_do"
    assert _refund_rows(payment) == [(dashboard["id"], Decimal("3.00"))]
    (history,) = subscription.events.filter(type=EventType.REFUNDED)
    assert history.parameters["source"] == "stripe_dashboard"
    assert history.parameters["payment_reference"] == dashboard["id"]


def test_without_embedded_refunds_the_refunds_are_listed_through_the_gateway(renewal):
    """StripeGateway.list_refunds: each refund of the charge, ours marked by its metadata."""
    _, _, payment = _renewed(renewal)
    gateway = StripeGateway.from_settings(load_settings())
    assert gateway.refund(payment.token, Money(Decimal("2.00"), "USD"), "refund:listed").succeeded
    stripe = rf.stripe_client(renewal.localstripe.url, STRIPE_TEST_KEY)
    stripe.Refund.create(payment_intent=payment.token, amount=100)

    listed = gateway.list_refunds(_charge(renewal, payment)["id"])
    assert sorted((refund.amount, refund.ours) for refund in listed) == [
        (Money(Decimal("1.00"), "USD"), False), (Money(Decimal("2.00"), "USD"), True)]
    assert gateway.list_refunds("ch_unknown") is None
