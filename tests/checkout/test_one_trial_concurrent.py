"""One free trial per customer holds when two checkouts of the customer complete at the same
moment (two threads, each on its own database connection, through /graphql/): the check and the
claim are taken under a per-customer lock, so exactly one trial starts and the other checkout is
refused before its payment."""
import threading

import graphene
import pytest
from django.db import connection

from saleor_subscriptions.models import Subscription, TrialUse
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin

pytestmark = pytest.mark.usefixtures("keep_committed_data")
OTHER_CARD = "5555555555554444"


def test_two_concurrent_checkouts_start_exactly_one_trial(
        transactional_db, staff_api, api, customer, customer_api, store, variant, new_card,
        plugin_on):
    configure_plugin(staff_api, active=True, **{"Free trials per customer": "one"})
    plan = create_plan(variant, name="Monthly, 14 days free", trial_days=14)
    plan_id = graphene.Node.to_global_id("SubscriptionPlan", plan.pk)
    # Signed in, and as a guest with the account's e-mail (Saleor gives a signed-in customer
    # one checkout): two checkouts, two cards.
    clients = (customer_api, api)
    checkouts = []
    for client, card in zip(clients, (new_card(), new_card(OTHER_CARD))):
        checkout = storefront.create_checkout(client, store.variants["COFFEE-250G"],
                                              email=customer.email)
        assert storefront.choose_plan(client, checkout, plan_id)["subscriptionErrors"] == []
        storefront.choose_shipping(client, checkout)
        storefront.pay(client, checkout, card)
        checkouts.append(checkout)
    assert checkouts[0]["token"] != checkouts[1]["token"]

    start = threading.Barrier(len(checkouts))
    results = [None] * len(checkouts)

    def complete(index):
        try:
            start.wait(10)
            results[index] = storefront.complete(clients[index], checkouts[index])
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    placed = [result for result in results if result and result["order"]]
    refused = [result for result in results if result and not result["order"]]
    assert len(placed) == 1 and len(refused) == 1, results
    assert [(e["field"], e["code"]) for e in refused[0]["checkoutErrors"]] == [("lines", "INVALID")]
    assert "already had a free trial" in refused[0]["checkoutErrors"][0]["message"]
    assert Subscription.objects.filter(status="trialing").count() == 1
    (use,) = TrialUse.objects.all()  # the winner's claim became its use
    assert use.subscription == Subscription.objects.get() and use.claimed_until is None
