"""A retention discount accepted instead of cancelling prices the next renewals at localstripe
to the cent: 30 % off 3 renewals of 20.00 (+ 5.00 shipping) is 19.00 three times, then 25.00."""
from decimal import Decimal

import graphene
from freezegun import freeze_time

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.testing import renewal_factories as rf

ERRORS = "subscriptionErrors { field message code }"
CREATE = """mutation($input: SubscriptionRetentionOfferInput!) {
  subscriptionRetentionOfferCreate(input: $input) { offer { id } %s } }""" % ERRORS
OFFERS = """query($id: ID!) { subscriptionCancellationOffers(id: $id, reason: TOO_EXPENSIVE) {
  offers { id kind percent renewals } %s } }""" % ERRORS
ACCEPT = """mutation($id: ID!, $offer: ID!) {
  subscriptionRetentionOfferAccept(id: $id, offerId: $offer, reason: TOO_EXPENSIVE) {
    subscription { status cancelAtPeriodEnd } %s } }""" % ERRORS


def test_thirty_percent_off_the_next_three_renewals(renewal, staff_api, customer_api):
    renewal.configure()
    subscription = renewal.subscription()  # 20.00 a month from Jan 31 2028, shipped for 5.00
    sub_id = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    created = staff_api.execute(CREATE, {"input": {
        "reason": "TOO_EXPENSIVE", "kind": "DISCOUNT", "percent": "30", "renewals": 3}})[
        "subscriptionRetentionOfferCreate"]
    assert created["subscriptionErrors"] == []

    with freeze_time("2028-02-10T12:00:00+00:00"):
        shown = customer_api.execute(OFFERS, {"id": sub_id})["subscriptionCancellationOffers"]
        assert [(o["kind"], o["percent"], o["renewals"]) for o in shown["offers"]] == [
            ("DISCOUNT", 30.0, 3)]
        accepted = customer_api.execute(ACCEPT, {"id": sub_id, "offer": created["offer"]["id"]})[
            "subscriptionRetentionOfferAccept"]
    assert accepted["subscriptionErrors"] == []
    assert accepted["subscription"] == {"status": "ACTIVE", "cancelAtPeriodEnd": False}
    types = list(Subscription.objects.get(pk=subscription.pk).events.values_list(
        "type", flat=True))
    assert types[-3:] == ["retention_offered", "discount_granted", "retention_offer_accepted"]

    for due in (rf.utc(2028, 2, 29, 10), rf.utc(2028, 3, 31, 10), rf.utc(2028, 4, 30, 10),
                rf.utc(2028, 5, 31, 10)):
        assert renewal.run(due) == {"renewed": 1}

    intents = renewal.intents(subscription.customer_reference)
    assert sorted(intent["amount"] for intent in intents) == [1900, 1900, 1900, 2500]
    assert all(intent["status"] == "succeeded" for intent in intents)
    totals = [cycle.order.total_gross_amount for cycle in Subscription.objects.get(
        pk=subscription.pk).cycles.filter(cycle_index__gte=1).order_by("cycle_index")]
    assert totals == [Decimal("19.00")] * 3 + [Decimal("25.00")]
