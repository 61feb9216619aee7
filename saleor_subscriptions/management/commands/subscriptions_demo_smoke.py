"""A storefront buys a subscription from the running demo over HTTP; staff then see it."""
from django.core.management.base import BaseCommand, CommandError

from ...config import load_settings
from ...gateway import stripe_client
from ...testing import storefront
from ...testing.client import HttpApiClient
from ...testing.users import login
from .subscriptions_demo import ADMIN_EMAIL, ADMIN_PASSWORD

PLANS = """
query { subscriptionPlans(first: 20) { edges { node {
  id name variantId price { amount } oneOffPrice { amount } firstCharge { amount }
} } } }"""
STAFF_LIST = """
query { customerSubscriptions(first: 20) { totalCount edges { node {
  status email plan { name } nextBillingAt events { type }
} } } }"""


class Command(BaseCommand):
    help = "Buy a subscription from the running demo over HTTP and list it as staff."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/graphql/")

    def handle(self, *args, **options):
        api = HttpApiClient(options["url"])
        plans = [edge["node"] for edge in api.execute(PLANS)["subscriptionPlans"]["edges"]]
        if not plans:
            raise CommandError("The demo store has no plans.")
        for plan in plans:
            self.stdout.write("plan %-30s %8s (one-off %s)" % (
                plan["name"], plan["price"]["amount"], plan["oneOffPrice"]["amount"]))
        plan = plans[0]
        settings = load_settings()
        method = stripe_client.from_settings(settings).PaymentMethod.create(
            type="card", card={"number": "4242424242424242", "exp_month": 12, "exp_year": 2034,
                               "cvc": "123"})
        result = storefront.buy(api, plan["variantId"], plan["id"], method["id"],
                                email="smoke@example.com")
        if result["checkoutErrors"] or not result["order"]:
            raise CommandError("Checkout failed: %s" % result["checkoutErrors"])
        self.stdout.write("order %s paid %s" % (result["order"]["number"],
                                                result["order"]["total"]["gross"]["amount"]))
        staff = api.as_user(login(api, ADMIN_EMAIL, ADMIN_PASSWORD))
        listed = staff.execute(STAFF_LIST)["customerSubscriptions"]
        mine = [edge["node"] for edge in listed["edges"] if edge["node"]["email"] == "smoke@example.com"]
        if not mine:
            raise CommandError("The new subscription is not listed for staff.")
        self.stdout.write("subscription %s on %r, next billing %s, events %s" % (
            mine[0]["status"], mine[0]["plan"]["name"], mine[0]["nextBillingAt"],
            [event["type"] for event in mine[0]["events"]]))
        self.stdout.write("smoke: ok (%d subscriptions in the store)" % listed["totalCount"])
