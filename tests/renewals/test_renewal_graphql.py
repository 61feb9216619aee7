"""Operator controls over /graphql/: renew now, retry now, release, and why a renewal failed."""
import graphene

from saleor_subscriptions.models import EventType, SubscriptionEvent
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.renewal_factories import utc

FIELDS = """
  subscription {
    status cycleIndex parkedAt lastRenewalError
    billingCycles { cycleIndex status orderId amount { amount } attemptCount nextRetryAt
                    errorCode lastError order { id number } }
  }
  subscriptionErrors { field code message }
"""
RENEW_NOW = "mutation($id: ID!) { subscriptionRenewNow(id: $id) { renewalStatus renewalDetail %s } }"
RETRY = "mutation($id: ID!) { subscriptionRetryPayment(id: $id) { renewalStatus %s } }"
RELEASE = "mutation($id: ID!) { subscriptionRelease(id: $id) { %s } }"
QUERY = """query($id: ID!) { customerSubscription(id: $id) {
  lastRenewalError lastRenewalProblem lastRenewalErrorDetail
  billingCycles { cycleIndex status attemptCount nextRetryAt errorCode lastError } } }"""


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def test_staff_renews_now_and_sees_the_cycles(renewal, staff_api):
    subscription = renewal.subscription(start=utc(2030, 1, 1))  # far from due
    payload = staff_api.mutate(RENEW_NOW % FIELDS, {"id": gid(subscription)})
    assert payload["renewalStatus"] == "renewed"
    cycles = payload["subscription"]["billingCycles"]
    assert [c["cycleIndex"] for c in cycles] == [1, 0]
    assert cycles[0]["status"] == "paid" and cycles[0]["order"]["id"] == cycles[0]["orderId"]
    assert cycles[0]["amount"]["amount"] == 25.0
    assert payload["subscription"]["cycleIndex"] == 1


def test_customers_cannot_use_operator_controls(renewal, customer_api):
    subscription = renewal.subscription()
    body = customer_api.raw(RENEW_NOW % FIELDS, {"id": gid(subscription)})
    assert body["errors"][0]["message"].startswith("You do not have permission")


def test_failed_renewal_is_explained_then_retried_now(renewal, staff_api, customer_api):
    card = renewal.card(rf.DECLINED_CARD)
    subscription = renewal.subscription(card=card)
    assert renewal.run(utc(2028, 2, 29, 10)) == {"failed": 1}

    seen = customer_api.execute(QUERY, {"id": gid(subscription)})["customerSubscription"]
    assert seen["lastRenewalProblem"] == "CARD_DECLINED"
    assert seen["lastRenewalError"] == "Your card was declined. Update your card or try again."
    assert seen["lastRenewalErrorDetail"] is None  # the gateway's own words: staff only
    staff_seen = staff_api.execute(QUERY, {"id": gid(subscription)})["customerSubscription"]
    assert staff_seen["lastRenewalErrorDetail"] == "card_declined: Your card was declined."
    assert seen["billingCycles"][0]["attemptCount"] == 1
    assert seen["billingCycles"][0]["nextRetryAt"].startswith("2028-03-01")

    subscription.payment_method_reference = renewal.card(customer_id=card.customer_id).payment_method_id
    subscription.save(update_fields=["payment_method_reference"])
    payload = staff_api.mutate(RETRY % FIELDS, {"id": gid(subscription)})
    assert payload["renewalStatus"] == "renewed"
    assert payload["subscription"]["status"] == "ACTIVE"
    assert payload["subscription"]["lastRenewalError"] is None

    again = staff_api.raw(RETRY % FIELDS, {"id": gid(subscription)})["data"]
    assert again["subscriptionRetryPayment"]["subscriptionErrors"][0]["code"] == "INVALID_STATUS"


def test_release_a_parked_subscription(renewal, staff_api):
    subscription = renewal.subscription()
    subscription.variant = None
    subscription.save(update_fields=["variant"])
    for now in (utc(2028, 2, 29, 10), utc(2028, 3, 1, 10), utc(2028, 3, 4, 10)):
        assert renewal.run(now) == {"failed": 1}
    subscription.refresh_from_db()
    assert subscription.parked_at is not None

    payload = staff_api.mutate(RELEASE % FIELDS, {"id": gid(subscription)})
    assert payload["subscription"]["parkedAt"] is None
    event = SubscriptionEvent.objects.get(subscription=subscription, type=EventType.RELEASED)
    assert event.actor_type == "staff"
    body = staff_api.raw(RELEASE % FIELDS, {"id": gid(subscription)})["data"]
    assert body["subscriptionRelease"]["subscriptionErrors"][0]["code"] == "INVALID_STATUS"
