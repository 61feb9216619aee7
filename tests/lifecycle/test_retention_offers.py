"""Retention offers at cancellation over /graphql/: staff set them up per reason, the owner asks
which apply, accepts one (applied through pause / skip / plan change, no cancellation) or
cancels anyway (declined); eligibility refusals and bad input change nothing."""
import graphene
import pytest
from freezegun import freeze_time

from saleor_subscriptions.models import (
    AttemptStatus,
    PaymentAttempt,
    RetentionOffer,
    Subscription,
    WebhookDelivery,
)
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.webhook_api import create_app, create_webhook

ERRORS = "subscriptionErrors { field message code }"
CREATE = """
mutation($input: SubscriptionRetentionOfferInput!) {
  subscriptionRetentionOfferCreate(input: $input) {
    offer { id reason kind percent renewals cycles isActive } %s } }""" % ERRORS
ARCHIVE = """mutation($id: ID!) {
  subscriptionRetentionOfferArchive(id: $id) { offer { id isActive } %s } }""" % ERRORS
STORE_OFFERS = "query($all: Boolean) { subscriptionRetentionOffers(includeArchived: $all) { id } }"
OFFERS = """
query($id: ID!, $reason: SubscriptionCancelReason!) {
  subscriptionCancellationOffers(id: $id, reason: $reason) {
    offers { id kind cycles } downgradePlans { id name } %s } }""" % ERRORS
ACCEPT = """
mutation($id: ID!, $offer: ID!, $reason: SubscriptionCancelReason!, $plan: ID) {
  subscriptionRetentionOfferAccept(id: $id, offerId: $offer, reason: $reason, planId: $plan) {
    subscription { status cancelAtPeriodEnd nextBillingAt pauseResumesAt
                   scheduledPlan { id } events { type parameters } }
    %s } }""" % ERRORS
CANCEL = """
mutation($id: ID!, $reason: SubscriptionCancelReason) {
  subscriptionCancel(id: $id, reason: $reason) {
    subscription { status cancelAtPeriodEnd } %s } }""" % ERRORS


def snapshot(subscription):
    row = Subscription.objects.get(pk=subscription.pk)
    return ({field.name: getattr(row, field.attname) for field in Subscription._meta.fields
             if field.name != "updated_at"}, row.events.count())


def create_offer(staff_api, **values):
    payload = staff_api.execute(CREATE, {"input": values})["subscriptionRetentionOfferCreate"]
    assert payload[ERRORS.split()[0]] == [], payload
    return payload["offer"]


def offers(api, subscription_id, reason):
    return api.execute(OFFERS, {"id": subscription_id, "reason": reason})[
        "subscriptionCancellationOffers"]


def accept(api, subscription_id, offer_id, reason, plan=None):
    return api.execute(ACCEPT, {"id": subscription_id, "offer": offer_id, "reason": reason,
                                "plan": plan})["subscriptionRetentionOfferAccept"]


def codes(payload):
    return [(error["field"], error["code"]) for error in payload["subscriptionErrors"]]


def event_types(subscription):
    return list(Subscription.objects.get(pk=subscription.pk).events.values_list("type", flat=True))


@pytest.fixture
def store_offers(staff_api, subscriptions_on):
    return {
        "skip": create_offer(staff_api, reason="NOT_USING", kind="SKIP"),
        "pause": create_offer(staff_api, reason="NOT_USING", kind="PAUSE", cycles=2),
        "downgrade": create_offer(staff_api, reason="SWITCHING", kind="DOWNGRADE"),
    }


@pytest.fixture
def tiers(subscription):
    """The subscription's plan becomes the top tier of a family with a cheaper tier."""
    plan = subscription.plan
    plan.family, plan.tier_rank = "coffee", 2
    plan.save()
    return create_plan(plan.variant, name="Small", family="coffee", tier_rank=1,
                       price_amount="12.00")


@freeze_time("2030-02-10 12:00:00")
def test_owner_sees_the_offers_for_a_reason_and_pauses_instead_of_cancelling(
        customer_api, staff_api, subscription, gid, store_offers):
    _, crm_api = create_app(staff_api, "CRM")
    create_webhook(crm_api, "https://crm.example.com/hook", ["SUBSCRIPTION_OFFER_ACCEPTED"])

    shown = offers(customer_api, gid(subscription), "NOT_USING")
    assert shown["subscriptionErrors"] == []
    assert [(o["kind"], o["cycles"]) for o in shown["offers"]] == [("SKIP", None), ("PAUSE", 2)]
    offers(customer_api, gid(subscription), "NOT_USING")  # asked again: shown once
    assert event_types(subscription).count("retention_offered") == 1

    result = accept(customer_api, gid(subscription), store_offers["pause"]["id"], "NOT_USING")

    assert result["subscriptionErrors"] == []
    assert result["subscription"]["status"] == "PAUSED"
    assert result["subscription"]["cancelAtPeriodEnd"] is False
    # Paid to Feb 28 10:00, then two monthly cycles paused.
    assert result["subscription"]["pauseResumesAt"].startswith("2030-04-28T10:00")
    types = [e["type"] for e in result["subscription"]["events"]]
    assert types[-3:] == ["RETENTION_OFFERED", "PAUSED", "RETENTION_OFFER_ACCEPTED"]
    accepted = Subscription.objects.get(pk=subscription.pk).events.get(
        type="retention_offer_accepted")
    assert accepted.parameters["reason"] == "not_using" and accepted.parameters["cycles"] == 2
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event_type == "subscription_offer_accepted"


@freeze_time("2030-02-10 12:00:00")
def test_skip_offer_moves_the_next_renewal(customer_api, subscription, gid, store_offers):
    offers(customer_api, gid(subscription), "NOT_USING")
    result = accept(customer_api, gid(subscription), store_offers["skip"]["id"], "NOT_USING")
    assert result["subscriptionErrors"] == []
    assert result["subscription"]["status"] == "ACTIVE"
    assert result["subscription"]["nextBillingAt"].startswith("2030-03-31T10:00")
    assert event_types(subscription)[-3:] == [
        "retention_offered", "renewal_skipped", "retention_offer_accepted"]


@freeze_time("2030-02-10 12:00:00")
def test_downgrade_offer_lists_the_cheaper_tiers_and_schedules_one(
        customer_api, subscription, gid, store_offers, tiers):
    small = graphene.Node.to_global_id("SubscriptionPlan", tiers.pk)
    shown = offers(customer_api, gid(subscription), "SWITCHING")
    assert [o["kind"] for o in shown["offers"]] == ["DOWNGRADE"]
    assert shown["downgradePlans"] == [{"id": small, "name": "Small"}]
    offer = store_offers["downgrade"]["id"]
    before = snapshot(subscription)
    missing = accept(customer_api, gid(subscription), offer, "SWITCHING")
    assert codes(missing) == [("planId", "REQUIRED")]
    own = graphene.Node.to_global_id("SubscriptionPlan", subscription.plan_id)
    assert codes(accept(customer_api, gid(subscription), offer, "SWITCHING", own)) == [
        ("planId", "INVALID")]
    assert snapshot(subscription) == before

    result = accept(customer_api, gid(subscription), offer, "SWITCHING", small)

    assert result["subscriptionErrors"] == []
    assert result["subscription"]["scheduledPlan"] == {"id": small}
    assert event_types(subscription)[-2:] == ["plan_change_scheduled", "retention_offer_accepted"]


@freeze_time("2030-02-10 12:00:00")
def test_declining_the_offers_cancels_and_records_the_decline(
        customer_api, subscription, gid, store_offers):
    offers(customer_api, gid(subscription), "NOT_USING")

    result = customer_api.execute(CANCEL, {"id": gid(subscription), "reason": "NOT_USING"})[
        "subscriptionCancel"]

    assert result["subscriptionErrors"] == []
    assert result["subscription"]["cancelAtPeriodEnd"] is True
    assert event_types(subscription)[-3:] == [
        "retention_offered", "retention_offer_declined", "cancellation_scheduled"]
    declined = Subscription.objects.get(pk=subscription.pk).events.get(
        type="retention_offer_declined")
    assert declined.parameters["reason"] == "not_using"
    assert declined.parameters["offers"] == sorted(
        RetentionOffer.objects.filter(reason="not_using").values_list("pk", flat=True))


def test_a_cancellation_without_offers_shown_records_no_decline(
        customer_api, subscription, gid, store_offers):
    customer_api.execute(CANCEL, {"id": gid(subscription), "reason": "NOT_USING"})
    assert "retention_offer_declined" not in event_types(subscription)


def test_one_accepted_offer_per_twelve_months(customer_api, subscription, gid, store_offers):
    with freeze_time("2030-02-10 12:00:00"):
        offers(customer_api, gid(subscription), "NOT_USING")
        assert accept(customer_api, gid(subscription), store_offers["skip"]["id"],
                      "NOT_USING")["subscriptionErrors"] == []
    with freeze_time("2030-09-10 12:00:00"):
        shown = offers(customer_api, gid(subscription), "NOT_USING")
        assert shown["offers"] == [] and codes(shown) == [("id", "NOT_ALLOWED")]
        before = snapshot(subscription)
        refused = accept(customer_api, gid(subscription), store_offers["skip"]["id"],
                         "NOT_USING")
        assert codes(refused) == [("id", "NOT_ALLOWED")]
        assert snapshot(subscription) == before
    with freeze_time("2031-02-11 12:00:00"):
        assert len(offers(customer_api, gid(subscription), "NOT_USING")["offers"]) == 2


@freeze_time("2030-02-10 12:00:00")
def test_no_offers_while_past_due_or_while_a_charge_is_in_flight(
        customer_api, subscription, gid, store_offers):
    Subscription.objects.filter(pk=subscription.pk).update(status="past_due")
    before = snapshot(subscription)
    assert codes(offers(customer_api, gid(subscription), "NOT_USING")) == [("id", "NOT_ALLOWED")]
    assert codes(accept(customer_api, gid(subscription), store_offers["skip"]["id"],
                        "NOT_USING")) == [("id", "NOT_ALLOWED")]
    assert snapshot(subscription) == before

    Subscription.objects.filter(pk=subscription.pk).update(status="active")
    PaymentAttempt.objects.create(subscription=subscription, idempotency_key="in-flight",
                                  status=AttemptStatus.STARTED, currency="USD", amount=20)
    before = snapshot(subscription)
    assert codes(offers(customer_api, gid(subscription), "NOT_USING")) == [
        ("id", "RENEWAL_IN_PROGRESS")]
    assert codes(accept(customer_api, gid(subscription), store_offers["skip"]["id"],
                        "NOT_USING")) == [("id", "RENEWAL_IN_PROGRESS")]
    assert snapshot(subscription) == before


@freeze_time("2030-02-10 12:00:00")
def test_offers_are_the_owners_alone_and_bad_input_changes_nothing(
        customer_api, other_customer_api, staff_api, subscription, gid, store_offers):
    offers(customer_api, gid(subscription), "NOT_USING")
    before = snapshot(subscription)
    for api in (other_customer_api, staff_api):
        assert codes(offers(api, gid(subscription), "NOT_USING")) == [("id", "NOT_FOUND")]
        assert codes(accept(api, gid(subscription), store_offers["skip"]["id"],
                            "NOT_USING")) == [("id", "NOT_FOUND")]
    # An offer of another reason, an unknown offer, a plan on a non-downgrade offer.
    assert codes(accept(customer_api, gid(subscription), store_offers["skip"]["id"],
                        "TOO_EXPENSIVE")) == [("offerId", "NOT_FOUND")]
    unknown = graphene.Node.to_global_id("SubscriptionRetentionOffer", 10 ** 6)
    assert codes(accept(customer_api, gid(subscription), unknown, "NOT_USING")) == [
        ("offerId", "NOT_FOUND")]
    plan = graphene.Node.to_global_id("SubscriptionPlan", subscription.plan_id)
    assert codes(accept(customer_api, gid(subscription), store_offers["skip"]["id"], "NOT_USING",
                        plan)) == [("planId", "INVALID")]
    assert snapshot(subscription) == before


def test_staff_set_up_list_and_archive_offers_with_typed_errors(staff_api, subscriptions_on):
    def refused(**values):
        payload = staff_api.execute(CREATE, {"input": values})["subscriptionRetentionOfferCreate"]
        assert payload["offer"] is None
        return codes(payload)

    assert refused(reason="TOO_EXPENSIVE", kind="DISCOUNT", percent="0", renewals=3) == [
        ("percent", "INVALID")]
    assert refused(reason="TOO_EXPENSIVE", kind="DISCOUNT", percent="30", renewals=-1) == [
        ("renewals", "INVALID")]
    assert refused(reason="TOO_EXPENSIVE", kind="DISCOUNT", percent="30.005", renewals=3) == [
        ("percent", "INVALID")]
    assert refused(reason="NOT_USING", kind="PAUSE", cycles=4) == [("cycles", "INVALID")]
    assert RetentionOffer.objects.count() == 0

    offer = create_offer(staff_api, reason="NOT_USING", kind="PAUSE", cycles=3)
    assert (offer["reason"], offer["kind"], offer["cycles"]) == ("NOT_USING", "PAUSE", 3)
    listed = staff_api.execute(STORE_OFFERS, {})["subscriptionRetentionOffers"]
    assert listed == [{"id": offer["id"]}]
    archived = staff_api.execute(ARCHIVE, {"id": offer["id"]})["subscriptionRetentionOfferArchive"]
    assert archived["offer"]["isActive"] is False
    assert staff_api.execute(STORE_OFFERS, {})["subscriptionRetentionOffers"] == []
    assert staff_api.execute(STORE_OFFERS, {"all": True})["subscriptionRetentionOffers"] == [
        {"id": offer["id"]}]


def test_customers_cannot_set_up_offers(customer_api, subscriptions_on):
    body = customer_api.raw(CREATE, {"input": {"reason": "NOT_USING", "kind": "SKIP"}})
    assert body["errors"][0]["message"].startswith("You do not have permission")
    assert RetentionOffer.objects.count() == 0



@freeze_time("2030-02-10 12:00:00")
def test_without_a_cooldown_an_offer_shown_once_is_accepted_once(
        customer_api, staff_api, subscription, gid, subscriptions_on):
    """'Months between accepted retention offers' = 0: an accept answers the offers shown and
    still open; a second accept of the same showing is refused and grants nothing more."""
    subscriptions_on(**{"Months between accepted retention offers": "0"})
    discount = create_offer(staff_api, reason="TOO_EXPENSIVE", kind="DISCOUNT", percent="30",
                            renewals=3)
    assert [o["id"] for o in offers(customer_api, gid(subscription), "TOO_EXPENSIVE")[
        "offers"]] == [discount["id"]]
    assert accept(customer_api, gid(subscription), discount["id"],
                  "TOO_EXPENSIVE")["subscriptionErrors"] == []
    before = snapshot(subscription)

    again = accept(customer_api, gid(subscription), discount["id"], "TOO_EXPENSIVE")

    assert codes(again) == [("offerId", "NOT_ALLOWED")]
    assert snapshot(subscription) == before
    assert event_types(subscription).count("discount_granted") == 1
    # Shown again (no cooldown in this store): it may be accepted again.
    offers(customer_api, gid(subscription), "TOO_EXPENSIVE")
    assert accept(customer_api, gid(subscription), discount["id"],
                  "TOO_EXPENSIVE")["subscriptionErrors"] == []
    assert event_types(subscription).count("discount_granted") == 2


@freeze_time("2030-02-10 12:00:00")
def test_an_offer_never_shown_is_not_accepted(customer_api, subscription, gid, store_offers,
                                              tiers):
    offers(customer_api, gid(subscription), "NOT_USING")
    before = snapshot(subscription)
    # The downgrade answers another reason than the offers shown.
    small = graphene.Node.to_global_id("SubscriptionPlan", tiers.pk)
    refused = accept(customer_api, gid(subscription), store_offers["downgrade"]["id"],
                     "SWITCHING", small)
    assert codes(refused) == [("offerId", "NOT_ALLOWED")]
    assert snapshot(subscription) == before
