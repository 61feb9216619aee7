"""Subscriptions ready to renew, built with the ORM, and real Stripe cards in localstripe.

Shipped with the package so integrators can test renewals against their own store.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Optional

import stripe

from ..domain import periods
from ..gateway import stripe_client as _stripe_client
from ..models import BillingCycle, CycleStatus, Subscription, SubscriptionPlan
from ..services import mrr_ledger
from .store import US_ADDRESS

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # attaches, then every charge is declined
AUTHENTICATION_CARD = "4000002760003184"  # every off-session charge needs 3-D Secure


@dataclass
class StripeCard:
    customer_id: str
    payment_method_id: str


def stripe_options(api_base: str, api_key: str):
    """Options for a test's own `stripe.<Resource>.<call>(..., **options)`.

    Test code only: it points the stripe module's global api_base at `api_base` (the plugin
    itself never touches the globals; prefer `stripe_client()`).
    """
    stripe.api_base = api_base
    return {"api_key": api_key, "stripe_version": _stripe_client.API_VERSION}


def stripe_client(api_base: str, api_key: str) -> "_stripe_client.StripeClient":
    """A client like the plugin's: `stripe_client(url, key).PaymentMethod.retrieve("pm_...")`."""
    return _stripe_client.StripeClient(api_key, api_base)


def create_card(api_base: str, api_key: str, email: str, number: str = GOOD_CARD,
                customer_id: Optional[str] = None) -> StripeCard:
    """A Stripe customer (new unless given) with `number` attached as a PaymentMethod."""
    client = stripe_client(api_base, api_key)
    if customer_id is None:
        customer_id = client.Customer.create(email=email)["id"]
    method = client.PaymentMethod.create(
        type="card", card={"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"})
    client.PaymentMethod.attach(method["id"], customer=customer_id)
    return StripeCard(customer_id, method["id"])


def payment_intents(api_base: str, api_key: str, customer_id: str):
    """All PaymentIntents of a customer (localstripe cannot filter: list all, filter here)."""
    intents = stripe_client(api_base, api_key).PaymentIntent.auto_paging_iter(limit=100)
    return [intent for intent in intents if intent.get("customer") == customer_id]


def variant_from_global_id(global_id: str):
    from graphql_relay import from_global_id
    from saleor.product.models import ProductVariant

    return ProductVariant.objects.get(pk=int(from_global_id(global_id)[1]))


def shipping_method_from_global_id(global_id: str):
    from graphql_relay import from_global_id
    from saleor.shipping.models import ShippingMethod

    return ShippingMethod.objects.get(pk=int(from_global_id(global_id)[1]))


def us_address():
    from saleor.account.models import Address

    return Address.objects.create(
        first_name=US_ADDRESS["firstName"], last_name=US_ADDRESS["lastName"],
        street_address_1=US_ADDRESS["streetAddress1"], city=US_ADDRESS["city"],
        postal_code=US_ADDRESS["postalCode"], country=US_ADDRESS["country"],
        country_area=US_ADDRESS["countryArea"], phone=US_ADDRESS["phone"],
    )


def make_plan(variant, *, name="Monthly", interval_unit="month", interval_count=1,
              price=Decimal("20.00"), trial_days=0, billing_cycles=None, currency="USD"):
    return SubscriptionPlan.objects.create(
        variant=variant, name=name, interval_unit=interval_unit, interval_count=interval_count,
        currency=currency, price_amount=price, trial_days=trial_days,
        billing_cycles=billing_cycles,
    )


def make_subscription(plan, user, card: StripeCard, *, start: datetime, quantity: int = 1,
                      trial_end: Optional[datetime] = None, shipping_method=None,
                      unit_price: Optional[Decimal] = None) -> Subscription:
    """A subscription as checkout leaves it: period 0 paid at `start` (or a trial until
    `trial_end`, which is then the anchor and the first charge)."""
    anchor = trial_end or start
    interval = plan.interval
    if trial_end is not None:
        status, paid, period_end, next_billing = "trialing", 0, trial_end, trial_end
    else:
        period_end = periods.billing_date(anchor, interval, 1)
        status, paid, next_billing = "active", 1, period_end
    address = us_address()
    subscription = Subscription.objects.create(
        user=user, email=user.email if user else "guest@example.com", plan=plan,
        variant=plan.variant, quantity=quantity, status=status, currency=plan.currency,
        unit_price_amount=unit_price if unit_price is not None else plan.price_amount,
        anchor_at=anchor, cycle_index=0, current_period_start=start,
        current_period_end=period_end, next_billing_at=next_billing, trial_end_at=trial_end,
        paid_cycles=paid, shipping_address=address, billing_address=us_address(),
        shipping_method=shipping_method, gateway="saleor.subscriptions.stripe",
        customer_reference=card.customer_id, payment_method_reference=card.payment_method_id,
        card_brand="visa", card_last4="4242", created_at=start,
    )
    BillingCycle.objects.create(
        subscription=subscription, cycle_index=0, period_start=start, period_end=period_end,
        status=CycleStatus.PAID, currency=plan.currency,
        amount=Decimal(0) if trial_end else subscription.unit_price_amount * quantity,
    )
    # Checkout's created event writes the first MRR movement; this factory writes no event.
    mrr_ledger.record_movement(subscription, None, start)
    return subscription


def fake_card_subscriptions(plan, user, count: int, customer_prefix: str, *, start: datetime,
                            shipping_method=None) -> list:
    """`count` subscriptions as checkout leaves them, each its own Stripe customer
    (`<customer_prefix>_<n>`) with a card the fake gateway always charges."""
    return [make_subscription(plan, user, StripeCard("%s_%d" % (customer_prefix, number),
                                                     "pm_fake_ok"),
                              start=start, shipping_method=shipping_method)
            for number in range(count)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def days(count: int) -> timedelta:
    return timedelta(days=count)


def complete_authentication(api_base: str, client_secret: str, success: bool = True,
                            publishable_key: str = "pk_test_storefront") -> dict:
    """What Stripe.js `confirmCardPayment(clientSecret)` does against localstripe once the
    customer passes (or fails) 3-D Secure: only the publishable key and the client secret."""
    import json
    import urllib.error
    import urllib.request

    intent_id = client_secret.split("_secret_")[0]
    url = "%s/v1/payment_intents/%s/_authenticate?success=%s" % (
        api_base.rstrip("/"), intent_id, "true" if success else "false")
    body = json.dumps({"key": publishable_key, "client_secret": client_secret}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode())
