"""Cancel, undo, reactivate, pause, resume and skip over /graphql/, for owners and staff."""
from datetime import datetime, timezone

from freezegun import freeze_time

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf

FIELDS = "status cancelAtPeriodEnd nextBillingAt cancelReason pausedAt pauseResumesAt"
MUTATION = """
mutation($id: ID!%(args)s) {
  %(name)s(id: $id%(pass)s) {
    subscription { %(fields)s events { type actorType } }
    subscriptionErrors { field message code }
  }
}"""


def call(api, name, subscription_id, **arguments):
    declared = "".join(", $%s: %s" % (key, kind) for key, (kind, _) in arguments.items())
    passed = "".join(", %s: $%s" % (key, key) for key in arguments)
    query = MUTATION % {"name": name, "args": declared, "pass": passed, "fields": FIELDS}
    variables = {"id": subscription_id}
    variables.update({key: value for key, (_, value) in arguments.items()})
    return api.execute(query, variables)[name]


def snapshot(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return ({field.name: getattr(row, field.attname) for field in Subscription._meta.fields
             if field.name != "updated_at"}, row.events.count())


@freeze_time("2030-02-10 12:00:00")
def test_cancel_at_period_end_then_undo(customer_api, subscription, gid):
    result = call(customer_api, "subscriptionCancel", gid(subscription),
                  reason=("SubscriptionCancelReason", "TOO_EXPENSIVE"),
                  reasonText=("String", "Cheaper elsewhere"))
    assert result["subscriptionErrors"] == []
    assert result["subscription"]["status"] == "ACTIVE"
    assert result["subscription"]["cancelAtPeriodEnd"] is True
    assert result["subscription"]["events"][-1] == {
        "type": "CANCELLATION_SCHEDULED", "actorType": "CUSTOMER"}
    before = snapshot(subscription)
    again = call(customer_api, "subscriptionCancel", gid(subscription))
    assert [e["code"] for e in again["subscriptionErrors"]] == ["INVALID_STATUS"]
    assert snapshot(subscription) == before
    undone = call(customer_api, "subscriptionCancelUndo", gid(subscription))
    assert undone["subscription"]["cancelAtPeriodEnd"] is False
    assert undone["subscription"]["events"][-1]["type"] == "CANCELLATION_UNDONE"


@freeze_time("2030-02-10 12:00:00")
def test_cancel_now_stops_billing_and_reactivate_brings_it_back(
        customer_api, subscription, gid):
    result = call(customer_api, "subscriptionCancel", gid(subscription),
                  immediately=("Boolean", True))
    assert result["subscription"]["status"] == "CANCELLED"
    assert result["subscription"]["nextBillingAt"] is None
    assert renew_due_subscriptions(rf.utc(2030, 3, 1)).claimed == 0
    twice = call(customer_api, "subscriptionCancel", gid(subscription),
                 immediately=("Boolean", True))
    assert [e["code"] for e in twice["subscriptionErrors"]] == ["INVALID_STATUS"]
    back = call(customer_api, "subscriptionReactivate", gid(subscription))
    assert back["subscriptionErrors"] == []
    assert back["subscription"]["status"] == "ACTIVE"
    # Billing continues on the original anchor: Jan 31 -> Feb 28 (2030 is no leap year).
    assert back["subscription"]["nextBillingAt"].startswith("2030-02-28T10:00")


def test_reactivation_after_the_paid_period_is_refused(customer_api, subscription, gid):
    with freeze_time("2030-02-10"):
        call(customer_api, "subscriptionCancel", gid(subscription), immediately=("Boolean", True))
    with freeze_time("2030-03-05"):
        before = snapshot(subscription)
        result = call(customer_api, "subscriptionReactivate", gid(subscription))
    assert [e["code"] for e in result["subscriptionErrors"]] == ["INVALID_STATUS"]
    assert snapshot(subscription) == before


def test_pause_then_resume_keeps_the_unused_paid_days(customer_api, subscription, gid):
    # Paid Jan 31 10:00 -> Feb 28 10:00; paused Feb 10 12:00 with 17 days 22 hours unused.
    with freeze_time("2030-02-10 12:00:00"):
        paused = call(customer_api, "subscriptionPause", gid(subscription))
    assert paused["subscriptionErrors"] == []
    assert paused["subscription"]["status"] == "PAUSED"
    assert paused["subscription"]["nextBillingAt"] is None
    assert renew_due_subscriptions(rf.utc(2030, 3, 1)).claimed == 0  # no orders while paused
    with freeze_time("2030-03-05 12:00:00"):
        resumed = call(customer_api, "subscriptionResume", gid(subscription))
    assert resumed["subscription"]["status"] == "ACTIVE"
    # The unused days are carried: billing restarts Mar 5 12:00 + 17 d 22 h, a new anchor.
    assert resumed["subscription"]["nextBillingAt"].startswith("2030-03-23T10:00")
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.anchor_at == row.current_period_end == datetime(2030, 3, 23, 10, tzinfo=timezone.utc)
    assert row.events.get(type="resumed").parameters["carried_seconds"] == 17 * 86400 + 22 * 3600
    assert renew_due_subscriptions(rf.utc(2030, 3, 23, 9)).claimed == 0  # still paid time


def test_a_short_pause_never_bills_paid_days_again(customer_api, subscription, gid):
    with freeze_time("2030-02-10 12:00:00"):
        call(customer_api, "subscriptionPause", gid(subscription))
    with freeze_time("2030-02-10 12:00:10"):
        resumed = call(customer_api, "subscriptionResume", gid(subscription))
    assert resumed["subscription"]["nextBillingAt"].startswith("2030-02-28T10:00:10")
    assert renew_due_subscriptions(rf.utc(2030, 2, 10, 12, 1)).claimed == 0
    assert not Subscription.objects.get(pk=subscription.pk).cycles.filter(cycle_index=1).exists()


def test_pause_for_cycles_counts_from_the_paid_period_end(customer_api, subscription, gid):
    with freeze_time("2030-02-10 12:00:00"):
        paused = call(customer_api, "subscriptionPause", gid(subscription), cycles=("Int", 2))
    # Paid to Feb 28 10:00, then two monthly cycles paused.
    assert paused["subscription"]["pauseResumesAt"].startswith("2030-04-28T10:00")
    with freeze_time("2030-04-20 12:00:00"):
        resumed = call(customer_api, "subscriptionResume", gid(subscription))
    # Resuming early never bills later than the pause would have ended by itself.
    assert resumed["subscription"]["nextBillingAt"].startswith("2030-04-28T10:00")


def test_pause_rules_from_the_store(customer_api, subscription, subscriptions_on, gid):
    before = snapshot(subscription)
    too_long = call(customer_api, "subscriptionPause", gid(subscription), cycles=("Int", 9))
    assert [(e["field"], e["code"]) for e in too_long["subscriptionErrors"]] == [
        ("cycles", "INVALID")]
    subscriptions_on(**{"Allow pausing": False})
    refused = call(customer_api, "subscriptionPause", gid(subscription))
    assert [e["code"] for e in refused["subscriptionErrors"]] == ["NOT_ALLOWED"]
    assert snapshot(subscription) == before


@freeze_time("2030-02-10 12:00:00")
def test_skip_next_renewal_keeps_the_anchor(customer_api, subscription, gid):
    result = call(customer_api, "subscriptionSkipNextRenewal", gid(subscription))
    assert result["subscriptionErrors"] == []
    # Due Feb 28 (anchor Jan 31): skipping it bills Mar 31 next.
    assert result["subscription"]["nextBillingAt"].startswith("2030-03-31T10:00")
    assert result["subscription"]["events"][-1]["type"] == "RENEWAL_SKIPPED"


def test_a_pause_for_cycles_ends_by_itself_and_is_billed(customer_api, subscription, gid,
                                                         plugin_on):
    with freeze_time("2030-02-10 12:00:00"):
        call(customer_api, "subscriptionPause", gid(subscription), cycles=("Int", 1))
    # Paid to Feb 28 10:00, paused one cycle after that: it ends by itself on Mar 28 10:00.
    assert renew_due_subscriptions(rf.utc(2030, 3, 10, 12, 1)).claimed == 0  # still paused
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.status == "paused"
    row.payment_method_reference = ""  # no card: the renewal is recorded as blocked, not charged
    row.save()
    renew_due_subscriptions(rf.utc(2030, 3, 28, 10, 1))
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.status == "active" and row.paused_at is None
    resumed = row.events.get(type="resumed")
    assert resumed.actor_type == "system" and resumed.parameters["automatic"] is True
    cycle = row.cycles.get(cycle_index=1)  # billed in the same run, from the pause's end
    assert cycle.period_start == datetime(2030, 3, 28, 10, tzinfo=timezone.utc)
