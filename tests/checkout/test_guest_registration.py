"""A guest's subscriptions follow them once they own an account with the same e-mail, as Saleor
links a guest's orders: on account confirmation, on creation of an active account, and on
sign-in. Another e-mail's account never gets them."""
import html
import re
from urllib.parse import parse_qs, urlparse

import graphene
import pytest

from saleor_subscriptions.models import StripeCustomer, Subscription, SubscriptionEvent
from saleor_subscriptions.testing import storefront
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.users import create_user, login

GUEST_EMAIL = "newbie@example.com"
PASSWORD = "a-long-password-4-tests"
REGISTER = """
mutation($input: AccountRegisterInput!) {
  accountRegister(input: $input) { requiresConfirmation accountErrors { field code } }
}"""
CONFIRM = """
mutation($email: String!, $token: String!) {
  confirmAccount(email: $email, token: $token) { user { email isActive } accountErrors { code } }
}"""
MINE = "{ mySubscriptions(first: 5) { edges { node { id email status events { type } } } } }"
ONE = "query($id: ID!) { customerSubscription(id: $id) { id } }"
SKIP = """
mutation($id: ID!) { subscriptionSkipNextRenewal(id: $id) { subscriptionErrors { code } } }"""


def gid(type_name, pk):
    return graphene.Node.to_global_id(type_name, pk)


@pytest.fixture
def guest_subscription(api, store, monthly, new_card, plugin_on):
    """Bought through a guest checkout (no sign-in)."""
    result = storefront.buy(api, store.variants["COFFEE-250G"], gid("SubscriptionPlan", monthly.pk),
                            new_card(), email=GUEST_EMAIL)
    assert result["checkoutErrors"] == []
    subscription = Subscription.objects.get()
    assert subscription.is_guest and subscription.user is None
    return subscription


def register(email):
    return ApiClient().mutate(REGISTER, {"input": {
        "email": email, "password": PASSWORD, "redirectUrl": "http://localhost:3000/confirm"}})


def confirmation_token(mailoutbox, email):
    """The token from the link of the confirmation e-mail Saleor sent."""
    (message,) = [m for m in mailoutbox if m.to == [email]]
    url = html.unescape(re.search(r"https?://\S+", message.body).group(0))
    return parse_qs(urlparse(url).query)["token"][0]


def my_subscriptions(email):
    api = ApiClient().as_user(login(ApiClient(), email, PASSWORD))
    return api, [edge["node"] for edge in api.execute(MINE)["mySubscriptions"]["edges"]]


def test_a_guest_who_registers_and_confirms_gets_their_subscription(
        guest_subscription, mailoutbox, settings):
    settings.ENABLE_ACCOUNT_CONFIRMATION_BY_EMAIL = True
    assert register(GUEST_EMAIL)["requiresConfirmation"] is True
    # Not confirmed yet: nobody has proved the address is theirs.
    assert Subscription.objects.get().user is None

    token = confirmation_token(mailoutbox, GUEST_EMAIL)
    confirmed = ApiClient().mutate(CONFIRM, {"email": GUEST_EMAIL, "token": token})
    assert confirmed["user"] == {"email": GUEST_EMAIL, "isActive": True}

    api, mine = my_subscriptions(GUEST_EMAIL)
    assert [node["id"] for node in mine] == [gid("CustomerSubscription", guest_subscription.pk)]
    assert [event["type"] for event in mine[0]["events"]] == ["CREATED", "ACCOUNT_LINKED"]
    result = api.execute(SKIP, {"id": mine[0]["id"]})["subscriptionSkipNextRenewal"]
    assert result["subscriptionErrors"] == []

    row = Subscription.objects.get()
    assert row.user.email == GUEST_EMAIL and row.is_guest is False
    linked = SubscriptionEvent.objects.get(subscription=row, type="account_linked")
    assert linked.user == row.user and linked.actor_type == "customer"
    # The subscription keeps its Stripe customer; the account adopts it for later checkouts.
    assert StripeCustomer.objects.get(user=row.user).customer_id == row.customer_reference


def test_without_e_mail_confirmation_registering_links_at_once(guest_subscription, settings):
    settings.ENABLE_ACCOUNT_CONFIRMATION_BY_EMAIL = False
    assert register(GUEST_EMAIL)["requiresConfirmation"] is False
    assert Subscription.objects.get().user.email == GUEST_EMAIL
    _api, mine = my_subscriptions(GUEST_EMAIL)
    assert len(mine) == 1


def test_an_existing_customer_who_bought_as_a_guest_gets_it_on_sign_in(guest_subscription):
    customer = create_user("Newbie@Example.com")  # e-mails match case-insensitively
    assert Subscription.objects.get().user is None  # a row made behind the API's back
    api = ApiClient().as_user(login(ApiClient(), customer.email))
    assert len(api.execute(MINE)["mySubscriptions"]["edges"]) == 1


def test_another_e_mail_gets_nothing(guest_subscription, settings):
    settings.ENABLE_ACCOUNT_CONFIRMATION_BY_EMAIL = False
    register("someone-else@example.com")
    api, mine = my_subscriptions("someone-else@example.com")
    assert mine == []
    seen = api.execute(ONE, {"id": gid("CustomerSubscription", guest_subscription.pk)})
    assert seen["customerSubscription"] is None
    assert Subscription.objects.get().user is None and Subscription.objects.get().is_guest
