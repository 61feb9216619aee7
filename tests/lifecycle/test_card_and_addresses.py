"""The customer replaces the card (past-due subscriptions are charged again at once) and the
addresses future renewals use."""
import graphene
import stripe

from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.store import US_ADDRESS

KEY = "sk_test_subscriptions"
CARD_UPDATE = """
mutation($id: ID!, $pm: String!) {
  subscriptionPaymentMethodUpdate(id: $id, paymentMethodId: $pm) {
    subscription { status cardLast4 events { type } } subscriptionErrors { field code message }
  }
}"""
ADDRESS_UPDATE = """
mutation($id: ID!, $shipping: AddressInput) {
  subscriptionAddressUpdate(id: $id, shippingAddress: $shipping) {
    subscription { shippingAddress { city postalCode } } subscriptionErrors { field code }
  }
}"""


def new_method(localstripe, number=rf.GOOD_CARD):
    options = rf.stripe_options(localstripe.url, KEY)
    return stripe.PaymentMethod.create(type="card", card={
        "number": number, "exp_month": 11, "exp_year": 2035, "cvc": "123"}, **options)["id"]


def past_due_subscription(store, customer, localstripe):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    card = rf.create_card(localstripe.url, KEY, customer.email, rf.DECLINED_CARD)
    subscription = rf.make_subscription(
        rf.make_plan(variant), customer, card, start=rf.utc(2028, 1, 31, 10),
        shipping_method=rf.shipping_method_from_global_id(store.shipping_method_id))
    renew_due_subscriptions(rf.utc(2028, 3, 1, 9))
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    return subscription


def gid(subscription):
    return graphene.Node.to_global_id("CustomerSubscription", subscription.pk)


def test_new_card_recovers_a_past_due_subscription(customer_api, customer, store, plugin_on):
    subscription = past_due_subscription(store, customer, plugin_on)
    method = new_method(plugin_on)
    payload = customer_api.execute(CARD_UPDATE, {"id": gid(subscription), "pm": method})[
        "subscriptionPaymentMethodUpdate"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["cardLast4"] == "4242"
    assert payload["subscription"]["status"] == "ACTIVE"
    types = [event["type"] for event in payload["subscription"]["events"]]
    assert {"PAYMENT_METHOD_CHANGED", "PAYMENT_RECOVERED"} <= set(types)
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.payment_method_reference == method and row.paid_cycles == 2
    attached = stripe.PaymentMethod.retrieve(method, **rf.stripe_options(plugin_on.url, KEY))
    assert attached["customer"] == row.customer_reference


def setup_intents(localstripe, customer_id):
    options = rf.stripe_options(localstripe.url, KEY)
    return [intent for intent in stripe.SetupIntent.list(limit=100, **options).auto_paging_iter()
            if intent.get("customer") == customer_id]


def test_new_card_is_saved_for_off_session_use_with_a_setup_intent(customer_api, customer, store,
                                                                   plugin_on):
    subscription = past_due_subscription(store, customer, plugin_on)
    method = new_method(plugin_on)
    payload = customer_api.execute(CARD_UPDATE, {"id": gid(subscription), "pm": method})[
        "subscriptionPaymentMethodUpdate"]
    assert payload["subscriptionErrors"] == []
    (intent,) = setup_intents(plugin_on, subscription.customer_reference)
    assert (intent["usage"], intent["status"], intent["payment_method"]) == (
        "off_session", "succeeded", method)


def test_card_that_cannot_be_saved_off_session_is_refused(customer_api, customer, store,
                                                          plugin_on):
    subscription = past_due_subscription(store, customer, plugin_on)
    before = (subscription.payment_method_reference, subscription.events.count())
    method = new_method(plugin_on, rf.AUTHENTICATION_CARD)
    payload = customer_api.execute(CARD_UPDATE, {"id": gid(subscription), "pm": method})[
        "subscriptionPaymentMethodUpdate"]
    assert payload["subscriptionErrors"][0]["code"] == "PAYMENT_ERROR"
    assert "authentication" in payload["subscriptionErrors"][0]["message"]
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.payment_method_reference, row.events.count()) == before
    (intent,) = setup_intents(plugin_on, subscription.customer_reference)
    assert intent["status"] == "canceled"


def test_unknown_card_is_refused_and_nothing_changes(customer_api, customer, store, plugin_on):
    subscription = past_due_subscription(store, customer, plugin_on)
    before = (subscription.payment_method_reference, subscription.events.count())
    for bad in ("tok_visa", "pm_doesnotexist"):
        payload = customer_api.execute(CARD_UPDATE, {"id": gid(subscription), "pm": bad})[
            "subscriptionPaymentMethodUpdate"]
        assert payload["subscriptionErrors"][0]["field"] == "paymentMethodId"
        assert payload["subscriptionErrors"][0]["code"] in ("INVALID", "PAYMENT_ERROR")
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.payment_method_reference, row.events.count()) == before


def test_shipping_address_for_future_renewals(customer_api, subscription):
    moved = dict(US_ADDRESS, city="SAN JOSE", postalCode="95112", streetAddress1="1 Market St")
    payload = customer_api.execute(ADDRESS_UPDATE, {"id": gid(subscription), "shipping": moved})[
        "subscriptionAddressUpdate"]
    assert payload["subscriptionErrors"] == []
    assert payload["subscription"]["shippingAddress"] == {"city": "SAN JOSE", "postalCode": "95112"}
    assert Subscription.objects.get(pk=subscription.pk).events.get().type == "address_changed"


def test_invalid_address_changes_nothing(customer_api, subscription):
    before = Subscription.objects.get(pk=subscription.pk).shipping_address_id
    broken = dict(US_ADDRESS, postalCode="not-a-zip")
    payload = customer_api.execute(ADDRESS_UPDATE, {"id": gid(subscription), "shipping": broken})[
        "subscriptionAddressUpdate"]
    assert payload["subscriptionErrors"] and payload["subscriptionErrors"][0]["code"] == "INVALID"
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.shipping_address_id == before and row.events.count() == 0
