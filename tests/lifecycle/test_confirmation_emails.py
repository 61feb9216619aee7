"""Confirmations of cancellation (now and at the period's end), pause, resume and plan change:
sent once after the change commits, through /graphql/, each with its switch."""
from decimal import Decimal

import graphene
import pytest
from django.contrib.sites.models import Site
from django.db import connection
from freezegun import freeze_time

from saleor_subscriptions.notice_models import CustomerNotice
from saleor_subscriptions.testing import renewal_factories as rf
from saleor_subscriptions.testing.factories import create_plan, create_subscription

MUTATION = """
mutation($id: ID!%(args)s) {
  %(name)s(id: $id%(pass)s) { subscriptionErrors { field message code } }
}"""
CHANGE = """
mutation($id: ID!, $plan: ID!) {
  subscriptionChangePlan(id: $id, planId: $plan, quantity: 2, immediately: true) {
    subscriptionErrors { field code message }
  }
}"""


def call(api, name, subscription_id, **arguments):
    declared = "".join(", $%s: %s" % (key, kind) for key, (kind, _) in arguments.items())
    passed = "".join(", %s: $%s" % (key, key) for key in arguments)
    query = MUTATION % {"name": name, "args": declared, "pass": passed}
    variables = {"id": subscription_id}
    variables.update({key: value for key, (_, value) in arguments.items()})
    assert api.execute(query, variables)[name]["subscriptionErrors"] == []
    run_on_commit_callbacks()


def run_on_commit_callbacks():
    callbacks = [callback for _, callback in connection.run_on_commit]
    connection.run_on_commit = []
    for callback in callbacks:
        callback()


def manage_url():
    return "https://%s/" % Site.objects.get_current().domain


@pytest.fixture
def mine(mailoutbox, customer):
    return lambda: [message for message in mailoutbox if message.to == [customer.email]]


@freeze_time("2030-02-10 12:00:00")
def test_cancel_at_period_end_then_now_each_confirmed_once(customer_api, subscription, gid, mine):
    call(customer_api, "subscriptionCancel", gid(subscription))
    (scheduled,) = mine()
    assert scheduled.subject == "Your Coffee beans subscription ends on February 28, 2030"
    assert "Undo the cancellation" in scheduled.body and manage_url() in scheduled.body
    call(customer_api, "subscriptionCancelUndo", gid(subscription))  # no e-mail for an undo
    assert len(mine()) == 1
    call(customer_api, "subscriptionCancel", gid(subscription), immediately=("Boolean", True))
    cancelled = mine()[-1]
    assert cancelled.subject == "Your Coffee beans subscription is cancelled"
    assert "cancelled on February 10, 2030" in cancelled.body
    assert "Nothing more will be charged" in cancelled.body
    assert len(mine()) == 2
    assert CustomerNotice.objects.filter(subscription=subscription).count() == 2


def test_pause_and_resume_confirmed(customer_api, subscription, gid, mine):
    with freeze_time("2030-02-10 12:00:00"):
        call(customer_api, "subscriptionPause", gid(subscription), cycles=("Int", 2))
    (paused,) = mine()
    assert paused.subject == "Your Coffee beans subscription is paused"
    assert "resumes by itself on April 28, 2030" in paused.body
    with freeze_time("2030-03-05 12:00:00"):
        call(customer_api, "subscriptionResume", gid(subscription))
    resumed = mine()[-1]
    assert resumed.subject == "Your Coffee beans subscription is running again"
    assert "resumed on March 5, 2030" in resumed.body
    assert "next renewal is on March 23, 2030" in resumed.body
    assert len(mine()) == 2


@freeze_time("2030-02-10 12:00:00")
def test_plan_change_confirmed(customer_api, customer, store, gid, mine, subscriptions_on):
    variant = rf.variant_from_global_id(store.variants["COFFEE-250G"])
    large = create_plan(variant, name="Large box", family="beans", tier_rank=2,
                        price_amount=Decimal("30.00"))
    small = create_plan(variant, name="Small box", family="beans", tier_rank=1,
                        price_amount=Decimal("10.00"))
    subscription = create_subscription(customer, large, start=rf.utc(2030, 1, 31, 10))
    plan_id = graphene.Node.to_global_id("SubscriptionPlan", small.pk)
    result = customer_api.execute(CHANGE, {"id": gid(subscription), "plan": plan_id})
    assert result["subscriptionChangePlan"]["subscriptionErrors"] == []
    run_on_commit_callbacks()
    (message,) = mine()
    assert message.subject == "Your subscription is now Small box"
    assert 'from "Large box" to "Small box" (2 × Coffee beans)' in message.body


@freeze_time("2030-02-10 12:00:00")
def test_switched_off_confirmations_are_not_sent(customer_api, subscription, gid, mine,
                                                 subscriptions_on):
    subscriptions_on(**{"E-mail: paused": False, "E-mail: cancellation scheduled": False})
    call(customer_api, "subscriptionCancel", gid(subscription))
    call(customer_api, "subscriptionCancelUndo", gid(subscription))
    call(customer_api, "subscriptionPause", gid(subscription))
    assert mine() == []
    call(customer_api, "subscriptionResume", gid(subscription))
    assert [message.subject for message in mine()] == [
        "Your Coffee beans subscription is running again"]


@freeze_time("2030-02-10 12:00:00")
def test_staff_actions_are_confirmed_to_the_customer_only(staff_api, superuser, subscription,
                                                          gid, mailoutbox, mine):
    call(staff_api, "subscriptionPause", gid(subscription))
    (paused,) = mine()
    assert [message.to for message in mailoutbox] == [paused.to]
    assert superuser.email not in paused.body
