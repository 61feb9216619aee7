"""The Stripe settings through pluginUpdate: the secret key goes only to allowed API base URLs,
and the plugin switches on only with both keys (the storefront needs the publishable one)."""
import pytest
from saleor.plugins.models import PluginConfiguration

from saleor_subscriptions import GATEWAY_ID, PLUGIN_ID
from saleor_subscriptions.config import load_settings

PLUGIN_UPDATE = """
mutation($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) {
    plugin { id active }
    pluginsErrors { field message code }
  }
}"""
GATEWAYS = "{ shop { availablePaymentGateways { id config { field value } } } }"
SECRET = "sk_test_51Hkeysafety1234"
PUBLISHABLE = "pk_test_51Hkeysafety5678"
# tests run with SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES=http://127.0.0.1 (scripts/pytest.sh)
LOCALSTRIPE = "http://127.0.0.1:8420"


def update(api, active=None, **values):
    plugin_input = {"configuration": [{"name": k, "value": v} for k, v in values.items()]}
    if active is not None:
        plugin_input["active"] = active
    return api.raw(PLUGIN_UPDATE, {"id": PLUGIN_ID, "input": plugin_input})["data"]["pluginUpdate"]


def stored():
    row = PluginConfiguration.objects.filter(identifier=PLUGIN_ID).first()
    return None if row is None else (row.active, row.configuration)


@pytest.fixture
def configured(staff_api):
    payload = update(staff_api, active=True, **{
        "Stripe secret key": SECRET, "Stripe publishable key": PUBLISHABLE,
        "Stripe API base URL": LOCALSTRIPE})
    assert payload["pluginsErrors"] == []
    return stored()


@pytest.mark.parametrize("url", [
    "https://attacker.example.com",
    "https://api.stripe.com.attacker.example",
    "http://127.0.0.1:8420@attacker.example",
    "http://localhost:8420",
    "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5:8420",
])
def test_a_disallowed_api_base_is_refused_and_nothing_is_stored(staff_api, configured, url):
    payload = update(staff_api, **{"Stripe API base URL": url})
    assert [(e["field"], e["code"]) for e in payload["pluginsErrors"]] == [
        ("Stripe API base URL", "INVALID")]
    assert "not allowed" in payload["pluginsErrors"][0]["message"]
    assert payload["plugin"] is None
    assert stored() == configured
    assert load_settings().stripe_api_base == LOCALSTRIPE


def test_a_disallowed_api_base_is_refused_on_a_fresh_store_too(staff_api):
    payload = update(staff_api, **{"Stripe secret key": SECRET,
                                   "Stripe API base URL": "https://attacker.example.com"})
    assert [e["field"] for e in payload["pluginsErrors"]] == ["Stripe API base URL"]
    assert stored() is None


@pytest.mark.parametrize("url", ["", "https://api.stripe.com", "http://127.0.0.1:51234"])
def test_stripe_and_allowed_test_servers_are_accepted(staff_api, configured, url):
    payload = update(staff_api, **{"Stripe API base URL": url})
    assert payload["pluginsErrors"] == []
    assert load_settings().stripe_api_base == url.rstrip("/")


def test_switching_on_needs_the_publishable_key(staff_api):
    payload = update(staff_api, active=True, **{"Stripe secret key": SECRET})
    assert [(e["field"], e["code"]) for e in payload["pluginsErrors"]] == [
        ("Stripe publishable key", "REQUIRED")]
    assert stored() is None and load_settings().active is False


def test_the_publishable_key_cannot_be_cleared_while_on(staff_api, configured):
    payload = update(staff_api, **{"Stripe publishable key": ""})
    assert [(e["field"], e["code"]) for e in payload["pluginsErrors"]] == [
        ("Stripe publishable key", "REQUIRED")]
    assert stored() == configured


def test_a_secret_key_in_the_publishable_field_is_refused(staff_api, configured):
    # Every storefront reads the publishable key (availablePaymentGateways): never a secret.
    payload = update(staff_api, **{"Stripe publishable key": SECRET})
    assert [(e["field"], e["code"]) for e in payload["pluginsErrors"]] == [
        ("Stripe publishable key", "INVALID")]
    assert stored() == configured


def test_the_keys_can_be_saved_before_switching_on(staff_api, api):
    # The order the README gives: secret key, publishable key, then Active.
    assert update(staff_api, **{"Stripe secret key": SECRET})["pluginsErrors"] == []
    assert update(staff_api, **{"Stripe publishable key": PUBLISHABLE})["pluginsErrors"] == []
    assert update(staff_api, active=True)["pluginsErrors"] == []
    gateways = api.execute(GATEWAYS)["shop"]["availablePaymentGateways"]
    config = {g["id"]: {c["field"]: c["value"] for c in g["config"]} for g in gateways}
    assert config[GATEWAY_ID]["api_key"] == PUBLISHABLE


def test_a_store_switched_on_without_a_publishable_key_does_not_offer_the_gateway(api, staff_api):
    # Stores switched on before the publishable key was required: Stripe.js cannot work
    # without it, so the gateway is not offered (renewals, which need only the secret key, go on).
    PluginConfiguration.objects.create(
        identifier=PLUGIN_ID, name="Subscriptions", active=True,
        configuration=[{"name": "Stripe secret key", "value": SECRET}])
    assert load_settings().active
    gateways = api.execute(GATEWAYS)["shop"]["availablePaymentGateways"]
    assert GATEWAY_ID not in [g["id"] for g in gateways]
