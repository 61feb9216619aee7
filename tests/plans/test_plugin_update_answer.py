"""pluginUpdate answers what plugin(id) answers, so the 2.10.1 dashboard's plugin page shows what
was saved (Saleor 2.10.1 itself answers with the bare database row: numeric id, configuration
null)."""
from saleor_subscriptions import GATEWAY_ID, PLUGIN_ID

FIELDS = "id name description active configuration { name value type label helpText }"
PLUGIN = "query($id: ID!) { plugin(id: $id) { %s } }" % FIELDS
PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) { plugin { %s } pluginsErrors { field message code } }
}""" % FIELDS


def update(api, plugin_id, active, **values):
    configuration = [{"name": name, "value": value} for name, value in values.items()]
    return api.execute(PLUGIN_UPDATE, {"id": plugin_id, "input": {
        "active": active, "configuration": configuration}})["pluginUpdate"]


def test_the_answer_is_the_saved_plugin_as_plugin_id_shows_it(staff_api):
    answer = update(staff_api, PLUGIN_ID, True, **{
        "Stripe secret key": "sk_test_51Hanswersecret9876",
        "Stripe publishable key": "pk_test_51Hanswerpublic1234",
        "Payment retry schedule": "12h,2,5"})
    assert answer["pluginsErrors"] == []
    plugin = answer["plugin"]
    assert plugin == staff_api.execute(PLUGIN, {"id": PLUGIN_ID})["plugin"]
    assert plugin["id"] == PLUGIN_ID and plugin["active"] is True
    values = {item["name"]: item["value"] for item in plugin["configuration"]}
    assert values["Payment retry schedule"] == "12h,2,5"
    assert values["Stripe secret key"] == "9876"  # masked, as plugin(id) masks it

    # A second save answers the new state too (the page refreshes from it).
    answer = update(staff_api, PLUGIN_ID, False, **{"Payment retry schedule": "1,3,7"})
    assert answer["plugin"] == staff_api.execute(PLUGIN, {"id": PLUGIN_ID})["plugin"]
    assert answer["plugin"]["active"] is False


def test_other_plugins_answer_the_same_way(staff_api):
    answer = update(staff_api, GATEWAY_ID, False)
    assert answer["plugin"] == staff_api.execute(PLUGIN, {"id": GATEWAY_ID})["plugin"]
    assert answer["plugin"]["id"] == GATEWAY_ID


def test_a_refused_update_still_answers_no_plugin(staff_api):
    answer = update(staff_api, PLUGIN_ID, True, **{"Payment retry schedule": "nonsense"})
    assert answer["plugin"] is None and answer["pluginsErrors"]
    assert staff_api.execute(PLUGIN, {"id": PLUGIN_ID})["plugin"]["active"] is False
