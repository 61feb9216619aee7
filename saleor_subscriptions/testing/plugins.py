"""Plugin configuration the way the dashboard's Plugins page does it: pluginUpdate."""
from .. import PLUGIN_ID
from .client import ApiClient

PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) {
    plugin { id active }
    pluginsErrors { field message code }
  }
}"""


#: switching Subscriptions on needs a publishable key: tests that do not care get this one
TEST_PUBLISHABLE_KEY = "pk_test_subscriptions"


def configure_plugin(staff_api: ApiClient, active=True, plugin_id: str = PLUGIN_ID, **values):
    """Switch a plugin on/off and set configuration items by their names; fails on errors."""
    if plugin_id == PLUGIN_ID and active:
        values.setdefault("Stripe publishable key", TEST_PUBLISHABLE_KEY)
    configuration = [{"name": name, "value": value} for name, value in values.items()]
    return staff_api.mutate(PLUGIN_UPDATE, {"id": plugin_id, "input": {
        "active": active, "configuration": configuration}})
