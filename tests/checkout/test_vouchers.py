"""Saleor's vouchers on subscriptions, through /graphql/ with localstripe: the voucher discounts
the first charge as Saleor does, then the store's terms decide how many renewals it discounts;
usage is counted once per subscription; Saleor's voucher rules hold, also for two checkouts at
once; bad vouchers and terms get typed errors and change nothing."""
import threading
from datetime import timedelta
from decimal import Decimal

import graphene
import pytest
from django.db import connection
from saleor.discount.models import Voucher, VoucherCustomer

from saleor_subscriptions.discount_models import SubscriptionDiscount, SubscriptionVoucherTerms
from saleor_subscriptions.models import Subscription
from saleor_subscriptions.services.renewals import renew_due_subscriptions
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.factories import create_plan
from saleor_subscriptions.testing.plugins import configure_plugin

KEY = "sk_test_subscriptions"
VOUCHER_CREATE = """
mutation($input: VoucherInput!) {
  voucherCreate(input: $input) { voucher { id code } discountErrors { field code } }
}"""
TERMS_SET = """
mutation($voucher: ID!, $duration: SubscriptionVoucherDuration!, $renewals: Int,
         $follows: Boolean) {
  subscriptionVoucherTermsSet(voucherId: $voucher, duration: $duration, renewals: $renewals,
                              followsPlanChange: $follows) {
    voucherTerms { voucher { code } duration renewals followsPlanChange }
    subscriptionErrors { field code }
  }
}"""
TERMS = """
query($voucher: ID!) {
  subscriptionVoucherTerms(voucherId: $voucher) { duration renewals followsPlanChange }
}"""
ADD_CODE = """
mutation($checkout: ID!, $code: String!) {
  checkoutAddPromoCode(checkoutId: $checkout, promoCode: $code) {
    checkout { discount { amount } discountName totalPrice { gross { amount } } }
    checkoutErrors { field code }
  }
}"""
SHOWN = """
query($id: ID!) {
  customerSubscription(id: $id) {
    discounts { source name voucherCode percent renewalsLeft renewalsUsed appliesToFirstCharge }
    nextRenewalPrice { amount }
  }
}"""


def create_voucher(staff_api, code, **fields):
    voucher_input = {"type": "ENTIRE_ORDER", "name": "Spring %s" % code, "code": code,
                     "discountValueType": "PERCENTAGE", "discountValue": "20"}
    voucher_input.update(fields)
    payload = staff_api.mutate(VOUCHER_CREATE, {"input": voucher_input})
    return payload["voucher"]["id"]


def set_terms(staff_api, voucher_id, duration, renewals=None, follows=True):
    return staff_api.execute(TERMS_SET, {"voucher": voucher_id, "duration": duration,
                                         "renewals": renewals, "follows": follows}
                             )["subscriptionVoucherTermsSet"]


@pytest.fixture
def plan(variant):
    return create_plan(variant, name="Monthly 20", price_amount=Decimal("20.00"))


def plan_gid(plan):
    return graphene.Node.to_global_id("SubscriptionPlan", plan.pk)


def checkout_with_code(api, store, plan, code, email="guest@example.com"):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"], email=email)
    assert storefront.choose_plan(api, checkout, plan_gid(plan))["subscriptionErrors"] == []
    storefront.choose_shipping(api, checkout)
    added = api.execute(ADD_CODE, {"checkout": checkout["id"], "code": code})
    return checkout, added["checkoutAddPromoCode"]


def all_intents(plugin_on):
    client = rf.stripe_client(plugin_on.url, KEY)
    return {intent["id"]: intent for intent in client.PaymentIntent.auto_paging_iter(limit=100)}


def renew_next(subscription):
    subscription.refresh_from_db()
    result = renew_due_subscriptions(subscription.next_billing_at + timedelta(hours=1))
    assert subscription.pk in [outcome.subscription_id for outcome in result.outcomes
                               if outcome.status == "renewed"], result


def test_a_voucher_for_three_renewals(api, staff_api, store, plan, new_card, plugin_on):
    voucher_id = create_voucher(staff_api, "SPRING20")
    terms = set_terms(staff_api, voucher_id, "RENEWALS", 3)
    assert terms == {"voucherTerms": {"voucher": {"code": "SPRING20"}, "duration": "RENEWALS",
                                      "renewals": 3, "followsPlanChange": True},
                     "subscriptionErrors": []}
    assert staff_api.execute(TERMS, {"voucher": voucher_id})["subscriptionVoucherTerms"] == {
        "duration": "RENEWALS", "renewals": 3, "followsPlanChange": True}

    checkout, added = checkout_with_code(api, store, plan, "SPRING20")
    assert added["checkoutErrors"] == []
    assert added["checkout"]["discount"] == {"amount": 4.0}  # 20 % of the first charge, 20.00
    assert added["checkout"]["totalPrice"]["gross"]["amount"] == 21.0  # 16.00 + 5.00 shipping
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    for _cycle in range(5):
        renew_next(subscription)

    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    amounts = [intent["amount"] for intent in sorted(intents, key=lambda i: i["created"])]
    assert amounts == [2100, 2100, 2100, 2100, 2500, 2500]
    orders = {cycle.cycle_index: cycle.order for cycle in subscription.cycles.all()}
    for index in (0, 1, 2, 3):
        assert orders[index].discount_name == "Spring SPRING20"
        assert orders[index].discount_amount == Decimal("4.000")
        assert orders[index].total_gross_amount == Decimal("21.00")
    for index in (4, 5):
        assert orders[index].discount_amount == 0
        assert orders[index].total_gross_amount == Decimal("25.00")
    assert Voucher.objects.get(code="SPRING20").used == 1  # once per subscription

    sid = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    discount = SubscriptionDiscount.objects.get()
    assert (discount.renewals_used, discount.renewals_left, discount.end_reason) == (
        3, 0, "used_up")
    shown = staff_api.execute(SHOWN, {"id": sid})["customerSubscription"]
    assert shown == {"discounts": [], "nextRenewalPrice": {"amount": 20.0}}


def test_a_voucher_forever_and_one_for_the_first_charge_only(
        api, customer_api, customer, staff_api, store, plan, new_card, plugin_on):
    create_voucher(staff_api, "ONCE")  # no terms: the first charge only, as any order
    forever = create_voucher(staff_api, "ALWAYS", discountValueType="FIXED", discountValue="2.50")
    assert set_terms(staff_api, forever, "FOREVER")["subscriptionErrors"] == []

    checkout, added = checkout_with_code(api, store, plan, "ONCE")
    storefront.pay(api, checkout, new_card())
    assert storefront.complete(api, checkout)["checkoutErrors"] == []
    assert not SubscriptionDiscount.objects.exists()

    checkout, added = checkout_with_code(customer_api, store, plan, "ALWAYS", customer.email)
    assert added["checkout"]["discount"] == {"amount": 2.5}
    storefront.pay(customer_api, checkout, new_card())
    assert storefront.complete(customer_api, checkout)["checkoutErrors"] == []
    subscription = Subscription.objects.get(user=customer)
    sid = graphene.Node.to_global_id("CustomerSubscription", subscription.pk)
    shown = customer_api.execute(SHOWN, {"id": sid})["customerSubscription"]
    assert shown["discounts"] == [{
        "source": "VOUCHER", "name": "Spring ALWAYS", "voucherCode": "ALWAYS", "percent": None,
        "renewalsLeft": None, "renewalsUsed": 0, "appliesToFirstCharge": True}]
    assert shown["nextRenewalPrice"] == {"amount": 17.5}
    for _cycle in range(2):
        renew_next(subscription)
    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    assert sorted(intent["amount"] for intent in intents) == [2250, 2250, 2250]


def test_bad_vouchers_and_terms_are_typed_errors_and_change_nothing(
        api, staff_api, store, plan, new_card, plugin_on):
    past = "2020-01-01T00:00:00+00:00"
    create_voucher(staff_api, "OLD", startDate="2019-01-01T00:00:00+00:00", endDate=past)
    checkout, added = checkout_with_code(api, store, plan, "OLD")
    assert added["checkoutErrors"] == [{"field": "promoCode", "code": "INVALID"}]  # Saleor's

    # A fixed amount in another currency than the checkout's: refused before money moves.
    euro = Voucher.objects.create(code="EURO5", name="Five euros", discount_value_type="fixed",
                                  discount_value=Decimal("5"), currency="EUR")
    checkout, added = checkout_with_code(api, store, plan, "EURO5")
    storefront.pay(api, checkout, new_card())
    before = all_intents(plugin_on)
    result = storefront.complete(api, checkout)
    assert result["order"] is None
    assert [(e["field"], e["code"]) for e in result["checkoutErrors"]] == [
        ("promoCode", "VOUCHER_NOT_APPLICABLE")]
    assert Voucher.objects.get(pk=euro.pk).used == 0
    assert all_intents(plugin_on).keys() == before.keys()
    assert not Subscription.objects.exists()

    voucher_id = create_voucher(staff_api, "TERMS")
    shipping_id = create_voucher(staff_api, "SHIP", type="SHIPPING")
    cases = [("RENEWALS", -1, voucher_id, "renewals", "INVALID"),
             ("RENEWALS", 0, voucher_id, "renewals", "INVALID"),
             ("RENEWALS", None, voucher_id, "renewals", "INVALID"),
             ("FOREVER", 3, voucher_id, "renewals", "INVALID"),
             ("FOREVER", None, shipping_id, "voucherId", "INVALID"),
             ("FOREVER", None, graphene.Node.to_global_id("Voucher", 10 ** 6), "voucherId",
              "NOT_FOUND")]
    for duration, renewals, target, field, code in cases:
        payload = set_terms(staff_api, target, duration, renewals)
        assert payload["subscriptionErrors"] == [{"field": field, "code": code}], (duration,
                                                                                  renewals)
    assert staff_api.execute(TERMS, {"voucher": voucher_id})["subscriptionVoucherTerms"][
        "duration"] == "FIRST_CHARGE"


def _complete_all(checkouts, clients):
    start = threading.Barrier(len(checkouts))
    results = [None] * len(checkouts)

    def complete(index):
        try:
            start.wait()
            results[index] = storefront.complete(clients[index], checkouts[index])
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(index,))
               for index in range(len(checkouts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("rule", ["usage_limit", "once_per_customer"])
def test_voucher_rules_hold_for_two_checkouts_at_once(
        rule, keep_committed_data, transactional_db, store, staff_api, new_card, plugin_on):
    from saleor_subscriptions.testing.factories import create_plan as make_plan

    plan = make_plan(rf.variant_from_global_id(store.variants["COFFEE-250G"]),
                     name="Monthly 20", price_amount=Decimal("20.00"))
    fields = {"usageLimit": 1} if rule == "usage_limit" else {"applyOncePerCustomer": True}
    voucher_id = create_voucher(staff_api, "ONLY1", **fields)
    set_terms(staff_api, voucher_id, "RENEWALS", 2)
    emails = (["a@example.com", "b@example.com"] if rule == "usage_limit"
              else ["same@example.com", "same@example.com"])
    clients = [ApiClient(), ApiClient()]
    checkouts = []
    for client, email in zip(clients, emails):
        checkout, added = checkout_with_code(client, store, plan, "ONLY1", email)
        assert added["checkoutErrors"] == []
        storefront.pay(client, checkout, new_card())
        checkouts.append(checkout)

    before = all_intents(plugin_on)
    results = _complete_all(checkouts, clients)

    placed = [result for result in results if result["order"] is not None]
    refused = [result for result in results if result["order"] is None]
    assert len(placed) == 1 and len(refused) == 1, results
    assert refused[0]["checkoutErrors"][0]["code"] == "VOUCHER_NOT_APPLICABLE"
    assert placed[0]["order"]["total"]["gross"]["amount"] == 21.0
    voucher = Voucher.objects.get(code="ONLY1")
    assert voucher.used == 1
    if rule == "once_per_customer":
        assert VoucherCustomer.objects.filter(voucher=voucher).count() == 1
    assert Subscription.objects.count() == 1
    assert SubscriptionDiscount.objects.get().renewals_left == 2
    new = [intent for key, intent in all_intents(plugin_on).items() if key not in before]
    assert [(intent["amount"], intent["status"]) for intent in new] == [(2100, "succeeded")]


CHECKOUT_TOTALS = """
query($token: UUID!) {
  checkout(token: $token) {
    subtotalPrice { gross { amount } } shippingPrice { gross { amount } }
    discount { amount } discountName totalPrice { gross { amount } }
  }
}"""
LINES_ADD = """
mutation($checkout: ID!, $variant: ID!) {
  checkoutLinesAdd(checkoutId: $checkout, lines: [{variantId: $variant, quantity: 1}]) {
    checkout { id } checkoutErrors { field code }
  }
}"""


def totals(api, checkout):
    shown = api.execute(CHECKOUT_TOTALS, {"token": checkout["token"]})["checkout"]
    return {"subtotal": shown["subtotalPrice"]["gross"]["amount"],
            "shipping": shown["shippingPrice"]["gross"]["amount"],
            "discount": shown["discount"]["amount"], "name": shown["discountName"],
            "total": shown["totalPrice"]["gross"]["amount"]}


@pytest.fixture
def trial_plan(variant):
    return create_plan(variant, name="Trial 9", price_amount=Decimal("9.00"), trial_days=14)


def test_the_checkout_shows_the_free_trial_as_its_order_will(
        api, staff_api, store, trial_plan, new_card, plugin_on):
    checkout = storefront.create_checkout(api, store.variants["COFFEE-250G"])
    assert storefront.choose_plan(api, checkout, plan_gid(trial_plan))["subscriptionErrors"] == []
    storefront.choose_shipping(api, checkout)
    assert totals(api, checkout) == {"subtotal": 9.0, "shipping": 5.0, "discount": 9.0,
                                     "name": "Free trial", "total": 5.0}
    storefront.pay(api, checkout, new_card())
    result = storefront.complete(api, checkout)
    assert result["checkoutErrors"] == [] and result["order"]["total"]["gross"]["amount"] == 5.0
    order = Subscription.objects.get().origin_order
    assert (order.discount_amount, order.discount_name) == (Decimal("9.000"), "Free trial")


def test_a_voucher_on_a_free_trial_discounts_only_what_is_charged_now(
        api, staff_api, store, trial_plan, new_card, plugin_on):
    voucher_id = create_voucher(staff_api, "TRIAL20")
    set_terms(staff_api, voucher_id, "RENEWALS", 2)
    checkout, added = checkout_with_code(api, store, trial_plan, "TRIAL20")
    assert added["checkoutErrors"] == []
    # 20 % of nothing charged now: the shipping stays whole.
    assert totals(api, checkout) == {"subtotal": 9.0, "shipping": 5.0, "discount": 9.0,
                                     "name": "Free trial, Spring TRIAL20", "total": 5.0}
    # A one-off line charged now: the voucher takes 20 % of it (2.00), not of the trial.
    assert api.execute(LINES_ADD, {"checkout": checkout["id"], "variant": store.variants[
        "TEA-100G"]})["checkoutLinesAdd"]["checkoutErrors"] == []
    assert totals(api, checkout) == {"subtotal": 19.0, "shipping": 5.0, "discount": 11.0,
                                     "name": "Free trial, Spring TRIAL20", "total": 13.0}
    before = all_intents(plugin_on)
    storefront.pay(api, checkout, new_card())
    result = storefront.complete(api, checkout)
    assert result["checkoutErrors"] == [] and result["order"]["total"]["gross"]["amount"] == 13.0
    new = [intent["amount"] for key, intent in all_intents(plugin_on).items() if key not in before]
    assert new == [1300]
    subscription = Subscription.objects.get()
    order = subscription.origin_order
    assert (order.discount_amount, order.discount_name) == (Decimal("11.000"),
                                                            "Free trial, Spring TRIAL20")
    # The trial ends: the voucher's two renewals at 9.00 less 20 %, then 9.00.
    for _cycle in range(3):
        renew_next(subscription)
    intents = rf.payment_intents(plugin_on.url, KEY, subscription.customer_reference)
    renewals = sorted(intents, key=lambda intent: intent["created"])[-3:]
    assert [intent["amount"] for intent in renewals] == [1220, 1220, 1400]


def test_terms_are_refused_while_subscriptions_are_switched_off(staff_api, store):
    """As every other staff mutation of ours: PLUGIN_INACTIVE, nothing stored."""
    voucher_id = create_voucher(staff_api, "OFF")
    configure_plugin(staff_api, active=False, **{"Stripe secret key": KEY})

    payload = set_terms(staff_api, voucher_id, "FOREVER")

    assert payload["subscriptionErrors"] == [{"field": None, "code": "PLUGIN_INACTIVE"}]
    assert payload["voucherTerms"] is None
    assert not SubscriptionVoucherTerms.objects.exists()
    configure_plugin(staff_api, active=True, **{"Stripe secret key": KEY})
    assert set_terms(staff_api, voucher_id, "FOREVER")["subscriptionErrors"] == []
