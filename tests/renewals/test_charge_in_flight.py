"""Customer actions while a renewal charge is in flight, late successes, and the renewal task's
re-enqueueing. The renewal is held between "attempt committed" and "gateway answered" by running
its steps by hand (the threaded version with real interleavings is tests/fault/
test_charge_interleavings.py)."""
from decimal import Decimal

from django.db import transaction
from freezegun import freeze_time

from saleor_subscriptions.models import AttemptStatus, BillingCycle, PaymentAttempt, Subscription
from saleor_subscriptions.services import charging, renewals
from saleor_subscriptions.testing.renewal_factories import utc

DUE = utc(2028, 2, 29, 10)
MUTATION = """
mutation($id: ID!) {
  %s(id: $id) {
    subscription { status nextBillingAt }
    subscriptionErrors { field message code }
  }
}"""


def gid(subscription):
    import graphene

    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def start_renewal(renewal, subscription, now=DUE):
    """Steps 1-2 of a renewal: the cycle, its order and the STARTED attempt, committed."""
    context = renewal.context()
    with transaction.atomic():
        locked = renewals.lock_subscription(subscription.pk)
        cycle = renewals._prepare_cycle(locked, now, context, force=False)
        started = charging.start_attempt(locked, cycle, now)
    return context, cycle, started


def act(api, name, subscription):
    return api.execute(MUTATION % name, {"id": gid(subscription)})[name]


def codes(payload):
    return [error["code"] for error in payload["subscriptionErrors"]]


def test_skip_while_the_renewal_is_charged_is_refused_not_overwritten(renewal, customer_api):
    subscription = renewal.subscription()
    context, cycle, started = start_renewal(renewal, subscription)
    with freeze_time(DUE):
        refused = act(customer_api, "subscriptionSkipNextRenewal", subscription)
    assert codes(refused) == ["RENEWAL_IN_PROGRESS"]
    assert "try again" in refused["subscriptionErrors"][0]["message"]
    assert charging.settle(subscription.pk, cycle.pk, started, DUE, context).status == "renewed"
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.next_billing_at == utc(2028, 3, 31, 10)
    assert not row.events.filter(type="renewal_skipped").exists()
    with freeze_time(DUE):
        skipped = act(customer_api, "subscriptionSkipNextRenewal", subscription)
    assert codes(skipped) == []
    assert Subscription.objects.get(pk=subscription.pk).next_billing_at == utc(2028, 4, 30, 10)


def test_pause_while_the_renewal_is_charged_is_refused_and_the_paid_cycle_counts(
        renewal, customer_api):
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    context, cycle, started = start_renewal(renewal, subscription)
    with freeze_time(DUE):
        refused = act(customer_api, "subscriptionPause", subscription)
    assert codes(refused) == ["RENEWAL_IN_PROGRESS"]
    charging.settle(subscription.pk, cycle.pk, started, DUE, context)
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.status, row.cycle_index, row.paid_cycles) == ("active", 1, 2)
    assert row.current_period_end == row.next_billing_at == utc(2028, 3, 31, 10)
    with freeze_time(DUE):
        assert codes(act(customer_api, "subscriptionPause", subscription)) == []
    assert len(renewal.intents(card.customer_id)) == 1


def test_a_late_success_advances_the_period_of_a_paused_subscription(renewal):
    """A subscription paused while its charge was in flight (before this guard existed, or by
    the store's own tools): the money is in, so the period it paid for is the customer's."""
    card = renewal.card()
    subscription = renewal.subscription(card=card)
    context, cycle, started = start_renewal(renewal, subscription)
    Subscription.objects.filter(pk=subscription.pk).update(
        status="paused", paused_at=DUE, next_billing_at=None)
    assert charging.settle(subscription.pk, cycle.pk, started, DUE, context).status == "renewed"
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.status, row.next_billing_at) == ("paused", None)
    assert (row.cycle_index, row.paid_cycles) == (1, 2)
    assert (row.current_period_start, row.current_period_end) == (DUE, utc(2028, 3, 31, 10))
    assert BillingCycle.objects.get(subscription=row, cycle_index=1).status == "paid"
    # Nothing is left that a later run would find and skip forever.
    Subscription.objects.filter(pk=subscription.pk).update(
        status="active", paused_at=None, next_billing_at=utc(2028, 3, 31, 10))
    assert renewal.run(utc(2028, 3, 31, 11)) == {"renewed": 1}
    assert len(renewal.intents(card.customer_id)) == 2


def test_cancel_and_card_change_while_the_renewal_is_charged_are_refused(renewal, customer_api):
    subscription = renewal.subscription()
    context, cycle, started = start_renewal(renewal, subscription)
    with freeze_time(DUE):
        assert codes(act(customer_api, "subscriptionCancel", subscription)) == [
            "RENEWAL_IN_PROGRESS"]
        other = renewal.card(customer_id=subscription.customer_reference)
        payload = customer_api.execute("""
            mutation($id: ID!, $pm: String!) {
              subscriptionPaymentMethodUpdate(id: $id, paymentMethodId: $pm) {
                subscriptionErrors { code } } }""", {"id": gid(subscription),
                                                     "pm": other.payment_method_id})
    assert codes(payload["subscriptionPaymentMethodUpdate"]) == ["RENEWAL_IN_PROGRESS"]
    charging.settle(subscription.pk, cycle.pk, started, DUE, context)
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.status == "active" and row.payment_method_reference != other.payment_method_id
    assert not PaymentAttempt.objects.filter(status=AttemptStatus.STARTED).exists()


def test_the_renewal_task_re_enqueues_itself_only_when_its_batch_made_progress(
        renewal, caplog):
    """A due row that every batch claims and skips (here: its next period is already paid, as
    an earlier version left a paid cycle that a pause had hidden) must not make the task spin."""
    from saleor_subscriptions.saleor_adapter.orders import create_renewal_order
    from saleor_subscriptions.tasks import renew_due_subscriptions_task

    subscription = renewal.subscription()
    BillingCycle.objects.create(subscription=subscription, cycle_index=1, period_start=DUE,
                                period_end=utc(2028, 3, 31, 10), status="paid", currency="USD",
                                amount=Decimal("25.00"),
                                order=create_renewal_order(subscription, 1, Decimal(0)))
    with caplog.at_level("INFO", logger="saleor_subscriptions.tasks"):
        result = renew_due_subscriptions_task.apply(kwargs={"now": DUE.isoformat()}).get()
    batches = [r for r in caplog.records if r.getMessage().startswith("Renewal batch")]
    assert result["claimed"] == 1 and result["counts"] == {"skipped": 1}
    assert result["more"] is False and len(batches) == 1
    # A batch that renewed something goes on while rows remain.
    subscription.delete()
    renewal.configure(**{"Renewal batch size": "1"})
    for _ in range(2):
        renewal.subscription()
    with caplog.at_level("INFO", logger="saleor_subscriptions.tasks"):
        caplog.clear()
        result = renew_due_subscriptions_task.apply(kwargs={"now": DUE.isoformat()}).get()
    batches = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Renewal batch")]
    assert result["more"] is True
    assert BillingCycle.objects.filter(cycle_index=1, status="paid").count() == 2
    # (eager: the batch it enqueued ran inside it, and found nothing more)
    assert len(batches) == 2 and batches[0].endswith("more=False")
