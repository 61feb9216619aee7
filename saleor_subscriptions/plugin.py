"""The Saleor plugin: the store owner's configuration and the hooks Saleor calls.

Hooks delegate to services; every hook returns `previous_value` untouched when the plugin is
inactive, because Saleor's manager calls inactive plugins too.
"""
from copy import deepcopy

from django.core.exceptions import ValidationError
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField

from . import PLUGIN_ID
from .config import DEFAULT_CONFIGURATION, Field, parse_settings

_STRING = ConfigurationTypeField.STRING
_BOOLEAN = ConfigurationTypeField.BOOLEAN


class _FreshCopy:
    """A class attribute that hands out a deep copy on every read.

    Saleor's manager passes DEFAULT_CONFIGURATION itself to a plugin without a stored row, and
    pluginUpdate then edits that list in place: the process-wide defaults would take on the
    values of the first update (even an invalid one).
    """

    def __init__(self, value):
        self.value = value

    def __get__(self, _instance, _owner):
        return deepcopy(self.value)


class SubscriptionsPlugin(BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "Subscriptions"
    PLUGIN_DESCRIPTION = (
        "Sell product variants on subscription plans, renew them with the stored card and run "
        "dunning on failed payments."
    )
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION = _FreshCopy(DEFAULT_CONFIGURATION)
    CONFIG_STRUCTURE = {
        Field.STRIPE_SECRET_KEY: {
            "type": ConfigurationTypeField.SECRET,
            "label": Field.STRIPE_SECRET_KEY,
            "help_text": "Secret key (sk_...) used for off-session renewal charges.",
        },
        Field.STRIPE_PUBLISHABLE_KEY: {
            "type": _STRING,
            "label": Field.STRIPE_PUBLISHABLE_KEY,
            "help_text": "Publishable key (pk_...) given to the storefront for Stripe.js.",
        },
        Field.STRIPE_API_BASE: {
            "type": _STRING,
            "label": Field.STRIPE_API_BASE,
            "help_text": "Leave empty for Stripe. Set it for a test server such as localstripe.",
        },
        Field.RETRY_SCHEDULE: {
            "type": _STRING,
            "label": Field.RETRY_SCHEDULE,
            "help_text": "When to retry a failed renewal, after the first failure: days, or "
            "12h / 30m (e.g. 1,3,7).",
        },
        Field.FINAL_ACTION: {
            "type": _STRING,
            "label": Field.FINAL_ACTION,
            "help_text": "cancel or pause the subscription when the last retry fails.",
        },
        Field.RENEWAL_BATCH_SIZE: {
            "type": _STRING,
            "label": Field.RENEWAL_BATCH_SIZE,
            "help_text": "How many due subscriptions a renewal task claims at a time (1-1000).",
        },
        Field.CHARGES_PER_SECOND: {
            "type": _STRING,
            "label": Field.CHARGES_PER_SECOND,
            "help_text": "Request budget for charges (Stripe allows ~100/s live, 25/s in test).",
        },
        Field.UPGRADE_BILLING: {
            "type": _STRING,
            "label": Field.UPGRADE_BILLING,
            "help_text": "immediately: charge the prorated difference now; next_renewal: bill "
            "it with the next renewal.",
        },
        Field.ALLOW_PAUSE: {
            "type": _BOOLEAN,
            "label": Field.ALLOW_PAUSE,
            "help_text": "Whether customers may pause their subscriptions.",
        },
        Field.MAX_PAUSE_CYCLES: {
            "type": _STRING,
            "label": Field.MAX_PAUSE_CYCLES,
            "help_text": "The longest pause a customer may choose, in billing cycles (1-24).",
        },
        Field.REFUND_UNUSED_ON_CANCEL: {
            "type": _BOOLEAN,
            "label": Field.REFUND_UNUSED_ON_CANCEL,
            "help_text": "Refund the unused part of the period when cancelling immediately.",
        },
    }

    @classmethod
    def save_plugin_configuration(cls, plugin_configuration, cleaned_data):
        # Saleor 2.10's manager get_or_creates the row *before* validating, with the model's
        # default active=True: the first pluginUpdate of a store would switch subscriptions on,
        # even one that fails validation. A row we never saved has no name (nothing in Saleor
        # sets it): start it from DEFAULT_ACTIVE and drop it again if the update is invalid.
        first_save = not plugin_configuration.name
        if first_save:
            plugin_configuration.active = cls.DEFAULT_ACTIVE
        plugin_configuration.name = cls.PLUGIN_NAME
        try:
            return super().save_plugin_configuration(plugin_configuration, cleaned_data)
        except ValidationError:
            if first_save:
                plugin_configuration.delete()
            raise

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration):
        parsed = parse_settings(plugin_configuration.active, plugin_configuration.configuration)
        if parsed.active and not parsed.stripe_secret_key:
            raise ValidationError(
                {Field.STRIPE_SECRET_KEY: ValidationError(
                    "Set the Stripe secret key before switching subscriptions on.",
                    code="required",
                )}
            )

    @property
    def settings(self):
        return parse_settings(self.active, self.configuration)
