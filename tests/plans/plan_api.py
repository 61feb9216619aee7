"""GraphQL documents and helpers for the plan tests (imported by the test modules)."""
from graphql_relay import from_global_id

from saleor_subscriptions import PLUGIN_ID
from saleor_subscriptions.models import SubscriptionPlan

PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) { plugin { id } pluginsErrors { field message code } }
}"""

PLAN_FIELDS = """
  id name family tierRank intervalUnit intervalCount currency discountPercent trialDays
  billingCycles isActive variantId
  price { amount currency } oneOffPrice { amount currency } saving { amount currency }
  savingPercent signupFee { amount currency } firstCharge { amount currency }
"""
PLAN_CREATE = """
mutation($input: SubscriptionPlanCreateInput!) {
  subscriptionPlanCreate(input: $input) {
    subscriptionPlan { %s }
    subscriptionErrors { field message code }
  }
}""" % PLAN_FIELDS


def switch_plugin(staff_api, active):
    staff_api.mutate(PLUGIN_UPDATE, {"id": PLUGIN_ID, "input": {
        "active": active,
        "configuration": [{"name": "Stripe secret key", "value": "sk_test_plans"},
                          {"name": "Stripe publishable key", "value": "pk_test_plans"}],
    }})


def plan_rows():
    """Everything stored about plans, to prove a refused mutation wrote nothing."""
    return list(SubscriptionPlan.objects.order_by("pk").values())


def pk_of(global_id):
    return int(from_global_id(global_id)[1])


def create_plan_via_api(staff_api, variant_id, **fields):
    plan_input = {"variantId": variant_id, "name": "Monthly", "intervalUnit": "MONTH"}
    plan_input.update(fields)
    return staff_api.mutate(PLAN_CREATE, {"input": plan_input})["subscriptionPlan"]
