"""A Stripe customer deleted in Stripe's dashboard: the next checkout makes a new one."""
import graphene
import stripe

from saleor_subscriptions.models import StripeCustomer, Subscription
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing import storefront

KEY = "sk_test_subscriptions"


def test_customer_deleted_in_stripe_gets_a_new_one_at_checkout(
        customer, customer_api, store, monthly, new_card, plugin_on):
    plan = graphene.Node.to_global_id("SubscriptionPlan", monthly.pk)
    first = storefront.buy(customer_api, store.variants["COFFEE-250G"], plan, new_card(),
                           email=customer.email)
    assert first["checkoutErrors"] == []
    gone = StripeCustomer.objects.get(user=customer).customer_id
    options = rf.stripe_options(plugin_on.url, KEY)
    stripe.Customer.delete(gone, **options)

    second = storefront.buy(customer_api, store.variants["COFFEE-250G"], plan, new_card(),
                            email=customer.email)
    assert second["checkoutErrors"] == []
    assert second["order"]["paymentStatus"] == "FULLY_CHARGED"
    (row,) = StripeCustomer.objects.filter(user=customer)
    assert row.customer_id != gone and row.customer_id.startswith("cus_")
    assert stripe.Customer.retrieve(row.customer_id, **options)["email"] == customer.email
    newest = Subscription.objects.filter(user=customer).latest("pk")
    assert newest.customer_reference == row.customer_id
    method = stripe.PaymentMethod.retrieve(newest.payment_method_reference, **options)
    assert method["customer"] == row.customer_id
