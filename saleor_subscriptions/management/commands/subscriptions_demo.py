"""Build the demo store through Saleor's GraphQL API (idempotent): staff, products, plans, and a
customer who bought a subscription through the storefront's checkout."""
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from graphene import Node

from ...models import Subscription, SubscriptionPlan
from ...testing.client import ApiClient
from ...testing.plugins import configure_plugin
from ...testing.store import add_product, build_store
from ...testing.users import create_user, login

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin"
CUSTOMER_EMAIL = "customer@example.com"
CUSTOMER_PASSWORD = "customer"
CUSTOMER_PLAN = "Club medium"
#: plenty, so a simulated year of renewals never runs out of stock
DEMO_STOCK = 10 ** 6

PLAN_CREATE = """
mutation($input: SubscriptionPlanCreateInput!) {
  subscriptionPlanCreate(input: $input) {
    subscriptionPlan { id name } subscriptionErrors { field message code }
  }
}"""

# (product, base price, {sku: price}, [plan inputs for the first variant / by sku])
CATALOGUE = [
    ("Coffee beans", "20.00", {"COFFEE-250G": "20.00", "COFFEE-1KG": "60.00"}),
    ("Tea", "10.00", {"TEA-100G": "10.00"}),
    ("Coffee club", "30.00", {"CLUB-BASIC": "15.00", "CLUB-MEDIUM": "25.00", "CLUB-PLATINUM": "45.00"}),
]
PLANS = [
    ("COFFEE-250G", {"name": "Monthly, save 10%", "intervalUnit": "MONTH", "intervalCount": 1,
                     "discountPercent": "10"}),
    ("COFFEE-250G", {"name": "Every 2 weeks", "intervalUnit": "WEEK", "intervalCount": 2,
                     "price": "9.50"}),
    ("COFFEE-1KG", {"name": "Monthly with a 14-day trial", "intervalUnit": "MONTH",
                    "intervalCount": 1, "discountPercent": "15", "trialDays": 14,
                    "signupFee": "5.00"}),
    ("TEA-100G", {"name": "Tea every 3 months, 4 cycles", "intervalUnit": "MONTH", "intervalCount": 3,
                  "discountPercent": "20", "billingCycles": 4}),
    ("CLUB-BASIC", {"name": "Club basic", "intervalUnit": "MONTH", "intervalCount": 1,
                    "price": "15.00", "family": "coffee-club", "tierRank": 1}),
    ("CLUB-MEDIUM", {"name": "Club medium", "intervalUnit": "MONTH", "intervalCount": 1,
                     "price": "25.00", "family": "coffee-club", "tierRank": 2}),
    ("CLUB-PLATINUM", {"name": "Club platinum", "intervalUnit": "MONTH", "intervalCount": 1,
                       "price": "45.00", "family": "coffee-club", "tierRank": 3}),
]


class Command(BaseCommand):
    help = "Create the demo store: staff admin@example.com/admin, products, plans, plugin on."

    def add_arguments(self, parser):
        parser.add_argument("--stripe-secret-key", default="sk_test_demo")
        parser.add_argument("--stripe-publishable-key", default="pk_test_demo")
        parser.add_argument("--stripe-api-base", default="")

    def handle(self, *args, **options):
        from saleor.account.models import User
        from saleor.product.models import ProductVariant

        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            admin = create_user(ADMIN_EMAIL, superuser=True)
            admin.set_password(ADMIN_PASSWORD)
            admin.save(update_fields=["password"])
        api = ApiClient()
        staff = api.as_user(login(api, ADMIN_EMAIL, ADMIN_PASSWORD))
        configure_plugin(staff, **{
            "Stripe secret key": options["stripe_secret_key"],
            "Stripe publishable key": options["stripe_publishable_key"],
            "Stripe API base URL": options["stripe_api_base"]})
        if ProductVariant.objects.filter(sku="COFFEE-250G").exists():
            self.stdout.write("Demo store already exists; plugin configuration refreshed.")
        else:
            store = build_store(staff)
            for name, price, variants in CATALOGUE:
                add_product(staff, store, name, Decimal(price),
                            {sku: Decimal(value) for sku, value in variants.items()},
                            stock=DEMO_STOCK)
            for sku, plan in PLANS:
                staff.mutate(PLAN_CREATE, {"input": dict(plan, variantId=store.variants[sku])})
            self.stdout.write("Demo store created: %d variants, %d plans." % (
                len(store.variants), len(PLANS)))
        self._customer(api)

    def _customer(self, api):
        """customer@example.com / customer, subscribed to Club medium through the checkout
        (a card made at the embedded Stripe), once."""
        from saleor.account.models import User

        from ...config import load_settings
        from ...gateway import stripe_client
        from ...testing import storefront

        user = User.objects.filter(email=CUSTOMER_EMAIL).first()
        if user is None:
            user = User.objects.create_user(email=CUSTOMER_EMAIL, password=CUSTOMER_PASSWORD,
                                            is_active=True)
        if Subscription.objects.filter(user=user).exists():
            return
        customer = api.as_user(login(api, CUSTOMER_EMAIL, CUSTOMER_PASSWORD))
        plan = SubscriptionPlan.objects.get(name=CUSTOMER_PLAN)
        card = stripe_client.from_settings(load_settings()).PaymentMethod.create(
            type="card", card={"number": "4242424242424242", "exp_month": 12,
                               "exp_year": 2034, "cvc": "123"})
        result = storefront.buy(
            customer, Node.to_global_id("ProductVariant", plan.variant_id),
            Node.to_global_id("SubscriptionPlan", plan.pk), card["id"], email=CUSTOMER_EMAIL)
        if result["checkoutErrors"] or not result["order"]:
            raise CommandError("The demo customer's checkout failed: %s"
                               % result["checkoutErrors"])
        self.stdout.write("Demo customer %s subscribed to %s (order %s)." % (
            CUSTOMER_EMAIL, CUSTOMER_PLAN, result["order"]["number"]))
