"""The subscriptions gateway against localstripe: offered, customers, stored cards, odd cards."""
import threading
from decimal import Decimal

import graphene
import pytest
import stripe
from django.db import connection
from saleor.account.models import User
from saleor.order.models import Order
from saleor.payment.interface import PaymentData
from saleor.payment.models import Payment

from saleor_subscriptions import GATEWAY_ID
from saleor_subscriptions.config import load_settings
from saleor_subscriptions.gateway import stripe_client
from saleor_subscriptions.gateway.checkout_charge import intent_params
from saleor_subscriptions.gateway.customers import get_or_create_customer
from saleor_subscriptions.models import StripeCustomer, Subscription
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.users import create_user

KEY = "sk_test_subscriptions"
GATEWAYS = "{ shop { availablePaymentGateways { id config { field value } } } }"
PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) { pluginsErrors { field message code } }
}"""


def gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def offered(api):
    return {g["id"]: g["config"] for g in api.execute(GATEWAYS)["shop"]["availablePaymentGateways"]}


def test_offered_with_the_publishable_key_only_while_subscriptions_are_on(
        api, staff_api, localstripe):
    assert GATEWAY_ID not in offered(api)  # subscriptions are off until the owner switches on
    staff_api.mutate(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {
        "active": True, "configuration": [
            {"name": "Stripe secret key", "value": KEY},
            {"name": "Stripe publishable key", "value": "pk_test_storefront"},
            {"name": "Stripe API base URL", "value": localstripe.url}]}})
    config = {item["field"]: item["value"] for item in offered(api)[GATEWAY_ID]}
    assert config == {"api_key": "pk_test_storefront", "store_customer_card": "true"}
    staff_api.mutate(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {"active": False}})
    assert GATEWAY_ID not in offered(api)


def test_customer_sees_the_stored_card(customer, customer_api, store, new_card, plugin_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    plan = create_plan(variant, name="Monthly")
    card = new_card()
    result = storefront.buy(customer_api, store.variants["COFFEE-250G"], gid(plan), card,
                            email=customer.email)
    assert result["checkoutErrors"] == []
    sources = customer_api.execute("""{ me { storedPaymentSources {
        gateway creditCardInfo { lastDigits expMonth expYear } } } }""")["me"]
    assert sources["storedPaymentSources"] == [{"gateway": GATEWAY_ID, "creditCardInfo": {
        "lastDigits": "4242", "expMonth": 12, "expYear": 2034}}]
    payment = Payment.objects.get(order__isnull=False)
    assert payment.token == card and payment.cc_last_digits == "4242"
    transaction_ = payment.transactions.get(is_success=True)
    assert transaction_.token.startswith("pi_")
    assert transaction_.customer_id == StripeCustomer.objects.get(user=customer).customer_id


def test_dashboard_refund_of_a_checkout_order_goes_to_stripe(
        api, staff_api, store, monthly, new_card, plugin_on):
    result = storefront.buy(api, store.variants["COFFEE-250G"], gid(monthly), new_card())
    order_id = result["order"]["id"]
    refunded = staff_api.mutate("""mutation($id: ID!) {
      orderRefund(id: $id, amount: 5) { order { paymentStatus } orderErrors { field message code } }
    }""", {"id": order_id})
    assert refunded["order"]["paymentStatus"] == "PARTIALLY_REFUNDED"
    payment = Payment.objects.get(order__isnull=False)
    assert payment.captured_amount == Decimal("18.00")
    refund = payment.transactions.get(kind="refund")
    assert refund.is_success and refund.token.startswith("re_")
    options = rf.stripe_options(plugin_on.url, KEY)
    intent = stripe.PaymentIntent.retrieve(
        payment.transactions.get(kind="capture").token, **options)
    assert intent["charges"]["data"][0]["amount_refunded"] == 500


def no_shipping_variant(staff_api, store) -> str:
    """A product that does not ship (a digital service): nothing but the plan to pay for."""
    def mutate(query, variables):
        return staff_api.mutate(query, variables)
    product_type = mutate("""mutation($input: ProductTypeInput!) {
      productTypeCreate(input: $input) { productType { id } productErrors { field code } } }""",
                          {"input": {"name": "Service", "hasVariants": True,
                                     "isShippingRequired": False}})["productType"]["id"]
    product = mutate("""mutation($input: ProductCreateInput!) {
      productCreate(input: $input) { product { id } productErrors { field code } } }""",
                     {"input": {"productType": product_type, "category": store.category_id,
                                "name": "Coffee club", "basePrice": "12.00",
                                "isPublished": True}})["product"]["id"]
    variant = mutate("""mutation($input: ProductVariantCreateInput!) {
      productVariantCreate(input: $input) { productVariant { id } productErrors { field code } } }""",
                     {"input": {"product": product, "sku": "CLUB", "attributes": [],
                                "trackInventory": True,
                                "stocks": [{"warehouse": store.warehouse_id, "quantity": 100}]}})
    return variant["productVariant"]["id"]


def test_nothing_to_pay_stores_the_card_with_a_setup_intent(
        api, staff_api, store, new_card, plugin_on, intents):
    variant_id = no_shipping_variant(staff_api, store)
    plan = create_plan(rf.variant_from_global_id(variant_id), name="Club, 30 days free",
                       trial_days=30)
    checkout = storefront.create_checkout(api, variant_id)
    assert storefront.choose_plan(api, checkout, gid(plan))["subscriptionErrors"] == []
    assert storefront.total(api, checkout) == Decimal("0")
    before = len(intents())
    card = new_card()
    storefront.pay(api, checkout, card)
    result = storefront.complete(api, checkout)

    assert result["checkoutErrors"] == []
    assert Decimal(str(result["order"]["total"]["gross"]["amount"])) == Decimal("0")
    assert len(intents()) == before  # nothing charged
    subscription = Subscription.objects.get()
    assert subscription.status == "trialing" and subscription.payment_method_reference == card
    assert subscription.shipping_address is None and subscription.shipping_method is None
    options = rf.stripe_options(plugin_on.url, KEY)
    assert stripe.PaymentMethod.retrieve(card, **options)["customer"] == \
        subscription.customer_reference
    setup_id = Payment.objects.get().transactions.get(is_success=True).token
    setup = stripe.SetupIntent.retrieve(setup_id, **options)
    assert setup["status"] == "succeeded" and setup["payment_method"] == card
    assert setup["usage"] == "off_session"


@pytest.mark.parametrize("number, message", [
    (rf.DECLINED_CARD, "declined"),
    ("4000002500003155", "needs authentication"),
])
def test_card_refused_at_charge_leaves_no_order(
        api, store, monthly, new_card, plugin_on, number, message):
    card = new_card(number)
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(monthly))
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, card)
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["PAYMENT_ERROR"]
    assert message in result["checkoutErrors"][0]["message"]
    assert Order.objects.count() == 0 and Subscription.objects.count() == 0
    options = rf.stripe_options(plugin_on.url, KEY)
    customer_id = stripe.PaymentMethod.retrieve(card, **options)["customer"]
    states = [i["status"] for i in rf.payment_intents(plugin_on.url, KEY, customer_id)]
    assert "succeeded" not in states  # nothing was charged


def test_switched_off_before_complete_refuses_the_subscription(
        api, staff_api, store, variant, new_card, plugin_on, intents):
    # Dearer than one-off, so the payment still covers the total once plan pricing is gone.
    plan = create_plan(variant, name="Premium", price_amount=Decimal("25.00"))
    staff_api.mutate(PLUGIN_UPDATE, {"id": "mirumee.payments.dummy", "input": {"active": True}})
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    storefront.choose_plan(api, checkout, gid(plan))
    storefront.choose_shipping(api, checkout)
    storefront.pay(api, checkout, "charged", gateway="mirumee.payments.dummy")
    staff_api.mutate(PLUGIN_UPDATE, {"id": "saleor.subscriptions", "input": {"active": False}})
    before = len(intents())
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert [e["code"] for e in result["checkoutErrors"]] == ["INVALID"]
    assert "switched off" in result["checkoutErrors"][0]["message"]
    assert Order.objects.count() == 0 and Subscription.objects.count() == 0
    assert len(intents()) == before
    assert not Payment.objects.filter(captured_amount__gt=0).exists()
    # Choosing is refused while off, removing is not: the line can still be bought once.
    assert [e["code"] for e in storefront.choose_plan(api, checkout, gid(plan))[
        "subscriptionErrors"]] == ["PLUGIN_INACTIVE"]
    assert storefront.choose_plan(api, checkout, None)["subscriptionErrors"] == []
    storefront.pay(api, checkout, "charged", gateway="mirumee.payments.dummy")
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    assert Order.objects.count() == 1 and Subscription.objects.count() == 0


def test_live_stripe_also_asks_for_off_session_use():
    data = PaymentData(amount=Decimal("12.50"), currency="USD", billing=None, shipping=None,
                       order_id=None, customer_ip_address=None, customer_email="a@example.com",
                       token="pm_1")
    on_stripe = intent_params(stripe_client.StripeClient(KEY), data, "cus_1")
    assert on_stripe["setup_future_usage"] == "off_session" and on_stripe["amount"] == 1250
    local = stripe_client.StripeClient(KEY, "http://127.0.0.1:1")
    assert "setup_future_usage" not in intent_params(local, data, "cus_1")


# -- one Stripe customer per user, even for checkouts at the same moment ---------------------





def test_concurrent_checkouts_of_one_user_make_one_customer(
        keep_committed_data, transactional_db, plugin_on):
    user = create_user("twice@example.com")
    client = stripe_client.from_settings(load_settings())
    known = {c["id"] for c in client.Customer.auto_paging_iter(limit=100)}
    start = threading.Barrier(3)
    found, errors = [], []

    def checkout():
        try:
            start.wait()
            found.append(get_or_create_customer(client, User.objects.get(pk=user.pk), user.email))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=checkout) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(found) == 3 and len(set(found)) == 1
    assert StripeCustomer.objects.get(user=user).customer_id == found[0]
    new = {c["id"] for c in client.Customer.auto_paging_iter(limit=100)} - known
    assert new == {found[0]}
