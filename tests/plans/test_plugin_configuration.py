"""The plugin's settings through Saleor's plugins / plugin(id) / pluginUpdate, as the dashboard uses them."""
from datetime import timedelta

import pytest
from saleor.plugins.models import PluginConfiguration

from saleor_subscriptions import GATEWAY_ID, PLUGIN_ID
from saleor_subscriptions.config import load_settings
from saleor_subscriptions.domain.dunning import FinalAction
from saleor_subscriptions.testing.client import ApiClient
from saleor_subscriptions.testing.users import create_user, login

PLUGINS = "{ plugins(first: 100) { edges { node { id name active } } } }"
PLUGIN = """
query($id: ID!) {
  plugin(id: $id) { id name active configuration { name value type label helpText } }
}"""
PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) {
    plugin { id active }
    pluginsErrors { field message code }
  }
}"""
SECRET = "sk_test_51Hplansecret9876"


def update(api, active=None, **values):
    plugin_input = {"configuration": [{"name": k, "value": v} for k, v in values.items()]}
    if active is not None:
        plugin_input["active"] = active
    return api.raw(PLUGIN_UPDATE, {"id": PLUGIN_ID, "input": plugin_input})


def read(api):
    plugin = api.execute(PLUGIN, {"id": PLUGIN_ID})["plugin"]
    plugin["configuration"] = {item["name"]: item for item in plugin["configuration"]}
    return plugin


def stored():
    row = PluginConfiguration.objects.filter(identifier=PLUGIN_ID).first()
    return None if row is None else (row.active, row.configuration)


@pytest.fixture
def configured(staff_api):
    """A saved, valid, switched-on configuration: the state bad updates must not touch."""
    body = update(staff_api, active=True, **{
        "Stripe secret key": SECRET, "Stripe publishable key": "pk_test_51Hplanpublic1234",
        "Payment retry schedule": "12h,2,5",
        "Action after the last failed retry": "pause", "Renewal batch size": "50",
        "Stripe API base URL": "http://127.0.0.1:8420",
    })
    assert body["data"]["pluginUpdate"]["pluginsErrors"] == []
    return stored()


def test_both_plugins_are_listed_for_staff(staff_api):
    nodes = [edge["node"] for edge in staff_api.execute(PLUGINS)["plugins"]["edges"]]
    by_id = {node["id"]: node for node in nodes}
    assert by_id[PLUGIN_ID]["name"] == "Subscriptions"
    assert by_id[PLUGIN_ID]["active"] is False  # off until the owner switches it on
    assert GATEWAY_ID in by_id


def test_defaults_are_readable_with_types_and_help(staff_api):
    plugin = read(staff_api)
    config = plugin["configuration"]
    assert plugin["id"] == PLUGIN_ID and plugin["active"] is False
    assert config["Stripe secret key"]["type"] == "SECRET"
    assert config["Stripe secret key"]["value"] is None
    assert config["Payment retry schedule"]["value"] == "1,3,7"
    assert config["Action after the last failed retry"]["value"] == "cancel"
    assert config["Allow pausing"]["type"] == "BOOLEAN"
    assert config["Renewal batch size"]["helpText"].startswith("How many due subscriptions")


def test_update_is_stored_and_secret_shows_only_last_four(staff_api, configured):
    plugin = read(staff_api)
    config = plugin["configuration"]
    assert plugin["active"] is True
    assert config["Stripe secret key"]["value"] == SECRET[-4:]
    assert config["Payment retry schedule"]["value"] == "12h,2,5"
    assert config["Action after the last failed retry"]["value"] == "pause"
    assert config["Renewal batch size"]["value"] == "50"
    # What the renewals read: the whole key and the parsed values.
    settings = load_settings()
    assert settings.active and settings.stripe_secret_key == SECRET
    assert settings.retry_schedule == (timedelta(hours=12), timedelta(days=2), timedelta(days=5))
    assert settings.final_action == FinalAction.PAUSE
    assert settings.renewal_batch_size == 50
    assert settings.stripe_api_base == "http://127.0.0.1:8420"


def test_boolean_fields_round_trip(staff_api, configured):
    body = update(staff_api, **{"Allow pausing": "false",
                                "Refund unused time on immediate cancellation": "true"})
    assert body["data"]["pluginUpdate"]["pluginsErrors"] == []
    config = read(staff_api)["configuration"]
    assert config["Allow pausing"]["value"] == "false"
    assert config["Refund unused time on immediate cancellation"]["value"] == "true"
    assert load_settings().allow_pause is False
    assert load_settings().refund_unused_on_cancel is True


def test_every_notice_has_a_switch_on_by_default(staff_api, configured):
    from saleor_subscriptions.config import NOTICE_FIELDS
    from saleor_subscriptions.domain.notices import NoticeKind

    config = read(staff_api)["configuration"]
    assert set(NOTICE_FIELDS) == set(NoticeKind.ALL)
    for field in NOTICE_FIELDS.values():
        assert config[field]["type"] == "BOOLEAN" and config[field]["value"] == "true"
        assert ".email" in config[field]["helpText"]
    assert config["Trial ending notice days"]["value"] == "3"
    assert all(load_settings().notice_on(kind) for kind in NoticeKind.ALL)
    body = update(staff_api, **{"E-mail: card expiring": "false", "Staff e-mail: dispute": False,
                                "Trial ending notice days": "7"})
    assert body["data"]["pluginUpdate"]["pluginsErrors"] == []
    settings = load_settings()
    assert settings.notices_off == {NoticeKind.CARD_EXPIRING, NoticeKind.STAFF_DISPUTE}
    assert settings.trial_notice_days == 7
    assert read(staff_api)["configuration"]["E-mail: card expiring"]["value"] == "false"


@pytest.mark.parametrize("active, values, field, code", [
    (None, {"Payment retry schedule": "3,1"}, "Payment retry schedule", "INVALID"),
    (None, {"Payment retry schedule": "soon"}, "Payment retry schedule", "INVALID"),
    (None, {"Action after the last failed retry": "explode"},
     "Action after the last failed retry", "INVALID"),
    (None, {"Renewal batch size": "0"}, "Renewal batch size", "INVALID"),
    (None, {"Renewal batch size": "1001"}, "Renewal batch size", "INVALID"),
    (None, {"Maximum pause length in cycles": "many"}, "Maximum pause length in cycles",
     "INVALID"),
    (None, {"Upgrade billing": "later"}, "Upgrade billing", "INVALID"),
    (None, {"Missed renewals": "bill_twice"}, "Missed renewals", "INVALID"),
    (None, {"Free trials per customer": "two"}, "Free trials per customer", "INVALID"),
    (None, {"Trial ending notice days": "0"}, "Trial ending notice days", "INVALID"),
    (None, {"Trial ending notice days": "31"}, "Trial ending notice days", "INVALID"),
    (None, {"Months between accepted retention offers": "-1"},
     "Months between accepted retention offers", "INVALID"),
    (None, {"Win-back offer after days": "soon"}, "Win-back offer after days", "INVALID"),
    (None, {"Win-back offer valid for days": "0"}, "Win-back offer valid for days", "INVALID"),
    (None, {"Win-back discount percent": "101"}, "Win-back discount percent", "INVALID"),
    (None, {"Win-back discounted renewals": "121"}, "Win-back discounted renewals", "INVALID"),
    (None, {"Stripe API base URL": "ftp://x"}, "Stripe API base URL", "INVALID"),
    (None, {"Stripe secret key": "nonsense"}, "Stripe secret key", "INVALID"),
    (None, {"Stripe webhook signing secret": "sk_test_x"}, "Stripe webhook signing secret",
     "INVALID"),
    (True, {"Stripe secret key": ""}, "Stripe secret key", "REQUIRED"),
])
def test_invalid_values_answer_errors_and_change_nothing(
        staff_api, configured, active, values, field, code):
    before = read(staff_api)
    body = update(staff_api, active=active, **values)
    payload = body["data"]["pluginUpdate"]
    assert [(e["field"], e["code"]) for e in payload["pluginsErrors"]] == [(field, code)]
    assert payload["pluginsErrors"][0]["message"]
    assert payload["plugin"] is None
    assert read(staff_api) == before
    assert stored() == configured


def test_switching_on_without_a_secret_key_is_refused_on_a_fresh_store(staff_api):
    body = update(staff_api, active=True)
    errors = body["data"]["pluginUpdate"]["pluginsErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("Stripe secret key", "REQUIRED")]
    assert read(staff_api)["active"] is False
    assert stored() is None  # Saleor created the row before validating; it is gone again


def test_first_invalid_update_does_not_switch_the_plugin_on(staff_api):
    # Regression: Saleor creates the row with active=True before validation.
    body = update(staff_api, **{"Payment retry schedule": "3,1"})
    assert body["data"]["pluginUpdate"]["pluginsErrors"][0]["field"] == "Payment retry schedule"
    assert stored() is None
    assert load_settings().active is False
    # Regression: Saleor edited the shared default list in place, so the defaults showed "3,1".
    assert read(staff_api)["configuration"]["Payment retry schedule"]["value"] == "1,3,7"


def test_first_update_without_active_keeps_the_plugin_off(staff_api):
    body = update(staff_api, **{"Stripe secret key": SECRET})
    assert body["data"]["pluginUpdate"]["pluginsErrors"] == []
    assert read(staff_api)["active"] is False
    assert load_settings().stripe_secret_key == SECRET and not load_settings().active


def _staff_without_plugins():
    user = create_user("catalog@example.com", staff=True,
                       permissions=["product.manage_products", "order.manage_orders"])
    client = ApiClient()
    return client.as_user(login(client, user.email))


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff_without_manage_plugins"])
def test_refused_without_manage_plugins(request, staff_api, configured, who):
    api = {
        "anonymous": lambda: ApiClient(),
        "customer": lambda: request.getfixturevalue("customer_api"),
        "staff_without_manage_plugins": _staff_without_plugins,
    }[who]()
    for query, variables in [(PLUGINS, None), (PLUGIN, {"id": PLUGIN_ID})]:
        body = api.raw(query, variables)
        assert body["errors"][0]["message"].startswith("You do not have permission")
        assert body["data"] == {"plugins" if query == PLUGINS else "plugin": None}
    body = update(api, active=False, **{"Renewal batch size": "7"})
    assert body["errors"][0]["message"].startswith("You do not have permission")
    assert body["data"]["pluginUpdate"] is None
    assert stored() == configured
