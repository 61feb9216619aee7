"""One free trial per customer: a second trial is refused at checkout before money moves, by
account, by e-mail (normalised) and by card (localstripe gives card fingerprints, as Stripe
does: the same for every PaymentMethod of one card number)."""
import graphene
import pytest

from saleor_subscriptions.models import Subscription, TrialUse
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin

KEY = "sk_test_subscriptions"
OTHER_CARD = "5555555555554444"
AVAILABLE = """
query($plan: ID!, $email: String) { subscriptionTrialAvailable(planId: $plan, email: $email) }"""


@pytest.fixture
def one_trial(staff_api, plugin_on):
    configure_plugin(staff_api, active=True, **{"Free trials per customer": "one"})
    return plugin_on


@pytest.fixture
def trial_plan(variant):
    return create_plan(variant, name="Monthly, 14 days free", trial_days=14)


def gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def buy(api, store, plan, card, email):
    return storefront.buy(api, store.variants["COFFEE-250G"], gid(plan), card, email=email)


def all_intents(plugin_on):
    client = rf.stripe_client(plugin_on.url, KEY)
    return (list(client.PaymentIntent.auto_paging_iter(limit=100)),
            list(client.SetupIntent.list(limit=100).get("data", [])))


def refused(result, code):
    assert result["order"] is None
    assert [error["code"] for error in result["checkoutErrors"]] == [code]
    assert "already had a free trial" in result["checkoutErrors"][0]["message"]


def test_second_trial_of_a_signed_in_customer_is_refused_before_payment(
        customer, customer_api, store, trial_plan, new_card, one_trial):
    assert buy(customer_api, store, trial_plan, new_card(), customer.email)["checkoutErrors"] == []
    before = all_intents(one_trial)

    # Another card and another e-mail on the checkout: the account alone is enough.
    result = buy(customer_api, store, trial_plan, new_card(OTHER_CARD), "new@example.com")

    refused(result, "INVALID")
    assert result["checkoutErrors"][0]["field"] == "lines"
    assert all_intents(one_trial) == before  # the gateway was never called
    assert Subscription.objects.count() == 1
    (use,) = TrialUse.objects.all()
    assert use.user == customer and use.email == "customer@example.com"
    assert use.card_fingerprint and use.subscription == Subscription.objects.get()


def test_second_trial_of_an_email_in_another_case_is_refused(api, store, trial_plan, new_card,
                                                               one_trial):
    assert buy(api, store, trial_plan, new_card(), "Trial.Fan@Example.com")["checkoutErrors"] == []
    before = all_intents(one_trial)

    refused(buy(api, store, trial_plan, new_card(OTHER_CARD), "TRIAL.fan+again@EXAMPLE.com"),
            "INVALID")

    assert all_intents(one_trial) == before
    assert Subscription.objects.count() == 1


def test_second_trial_with_the_same_card_number_is_refused_in_the_gateway(
        api, store, trial_plan, new_card, one_trial):
    assert buy(api, store, trial_plan, new_card(), "first@example.com")["checkoutErrors"] == []
    before = all_intents(one_trial)
    first = Subscription.objects.get()
    assert [i["amount"] for i in rf.payment_intents(one_trial.url, KEY, first.customer_reference)
            ] == [500]  # the first checkout paid its shipping

    # A new PaymentMethod of the same card number, under a new e-mail.
    result = buy(api, store, trial_plan, new_card(), "second@example.org")

    refused(result, "PAYMENT_ERROR")
    assert all_intents(one_trial) == before  # nothing charged, no card set up
    assert Subscription.objects.count() == 1


def test_without_the_rule_trials_repeat(api, store, trial_plan, new_card, plugin_on):
    for _ in range(2):
        assert buy(api, store, trial_plan, new_card(), "again@example.com")["checkoutErrors"] == []
    assert Subscription.objects.filter(status="trialing").count() == 2
    assert TrialUse.objects.count() == 2
    assert api.execute(AVAILABLE, {"plan": gid(trial_plan), "email": "again@example.com"}) == {
        "subscriptionTrialAvailable": True}


def test_storefronts_ask_whether_a_trial_is_available(
        api, customer, customer_api, store, monthly, trial_plan, new_card, one_trial):
    def available(client, plan, email=None):
        return client.execute(AVAILABLE, {"plan": plan, "email": email})[
            "subscriptionTrialAvailable"]

    plan = gid(trial_plan)
    assert available(api, plan, "customer@example.com") is True
    assert available(customer_api, plan) is True
    assert buy(customer_api, store, trial_plan, new_card(), customer.email)["checkoutErrors"] == []

    assert available(customer_api, plan) is False  # the account
    assert available(api, plan, "Customer+promo@example.com") is False  # the e-mail, anyone
    assert available(api, plan, "someone.else@example.com") is True
    assert available(api, plan) is True  # nothing to go by yet
    assert available(api, gid(monthly), "someone.else@example.com") is False  # no trial
    assert available(api, graphene.Node.to_global_id("SubscriptionPlan", 999999)) is None


def test_one_checkout_starts_at_most_one_trial(api, store, trial_plan, new_card, one_trial):
    from saleor_subscriptions.testing.store import US_ADDRESS

    tea = create_plan(rf.variant_from_global_id(store.variants["TEA-100G"]), name="Tea trial",
                      trial_days=7)
    checkout = api.mutate(storefront.CHECKOUT_CREATE, {"input": {
        "email": "two@example.com", "shippingAddress": US_ADDRESS, "billingAddress": US_ADDRESS,
        "lines": [{"variantId": store.variants["COFFEE-250G"], "quantity": 1},
                  {"variantId": store.variants["TEA-100G"], "quantity": 1}]}})["checkout"]
    for index, plan in enumerate((trial_plan, tea)):
        assert storefront.choose_plan(api, checkout, gid(plan), index)["subscriptionErrors"] == []
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, new_card())
    before = all_intents(one_trial)

    result = storefront.complete(api, checkout)

    assert result["order"] is None
    assert [(e["field"], e["code"]) for e in result["checkoutErrors"]] == [("lines", "INVALID")]
    assert "one free trial" in result["checkoutErrors"][0]["message"]
    assert all_intents(one_trial) == before and Subscription.objects.count() == 0
