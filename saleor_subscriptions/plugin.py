"""The Saleor plugin: the store owner's configuration and the hooks Saleor calls.

Hooks delegate to services; every hook returns `previous_value` untouched when the plugin is
inactive, because Saleor's manager calls inactive plugins too.
"""
from copy import deepcopy

from django.core.exceptions import ValidationError
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField

from . import PLUGIN_ID
from .config import DEFAULT_CONFIGURATION, NOTICE_FIELDS, Field, check_items, parse_settings
from .config_stripe import validate_stripe_settings

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
        Field.STRIPE_WEBHOOK_SECRET: {
            "type": ConfigurationTypeField.SECRET,
            "label": Field.STRIPE_WEBHOOK_SECRET,
            "help_text": "Signing secret (whsec_...) of the Stripe webhook endpoint pointed at "
            "/subscriptions/stripe/webhook/; empty: Stripe events are refused.",
        },
        Field.MANAGE_LINK_URL: {
            "type": _STRING,
            "label": Field.MANAGE_LINK_URL,
            "help_text": "The storefront page where customers manage a subscription without "
            "signing in (https://shop.example.com/subscription). Customer e-mails link to it "
            "with ?token=…; empty: e-mails carry no manage link.",
        },
        Field.PAUSE_ON_DISPUTE: {
            "type": _BOOLEAN,
            "label": Field.PAUSE_ON_DISPUTE,
            "help_text": "When the customer's bank disputes a subscription charge (Stripe), "
            "pause the subscription until staff resume it.",
        },
        Field.STRIPE_PUBLISHABLE_KEY: {
            "type": _STRING,
            "label": Field.STRIPE_PUBLISHABLE_KEY,
            "help_text": "Publishable key (pk_...) given to the storefront for Stripe.js. "
            "Needed before switching on.",
        },
        Field.STRIPE_API_BASE: {
            "type": _STRING,
            "label": Field.STRIPE_API_BASE,
            "help_text": "Leave empty for Stripe. A test server such as localstripe only where "
            "the host allows it (SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES).",
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
            "help_text": "immediately: upgrades start now and the prorated difference is "
            "charged at once; next_renewal: upgrades start with the next period.",
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
        Field.MISSED_RENEWALS: {
            "type": _STRING,
            "label": Field.MISSED_RENEWALS,
            "help_text": "When renewals did not run for several periods: bill_once bills the "
            "current period and skips the missed ones; bill_each bills every missed period.",
        },
        Field.TRIALS_PER_CUSTOMER: {
            "type": _STRING,
            "label": Field.TRIALS_PER_CUSTOMER,
            "help_text": "unlimited, or one: a customer (account, e-mail or card) gets one free "
            "trial; a second trial is refused at checkout before anything is charged.",
        },
        Field.TRIAL_NOTICE_DAYS: {
            "type": _STRING,
            "label": Field.TRIAL_NOTICE_DAYS,
            "help_text": "How many days before a free trial ends the customer is told (1-30).",
        },
        **{field: {
            "type": _BOOLEAN,
            "label": field,
            "help_text": "Send this e-mail (templates/templated_email/subscriptions/%s.email)."
            % kind,
        } for kind, field in NOTICE_FIELDS.items()},
        Field.RETENTION_OFFER_MONTHS: {
            "type": _STRING,
            "label": Field.RETENTION_OFFER_MONTHS,
            "help_text": "A subscription accepts at most one retention offer in this many "
            "months (0-120; 0: no limit).",
        },
        Field.WIN_BACK_AFTER_DAYS: {
            "type": _STRING,
            "label": Field.WIN_BACK_AFTER_DAYS,
            "help_text": "Days after a subscription ends until its former subscriber gets a "
            "win-back code (0-3650; 0: no win-back offers).",
        },
        Field.WIN_BACK_VALID_DAYS: {
            "type": _STRING,
            "label": Field.WIN_BACK_VALID_DAYS,
            "help_text": "How long a win-back code can be redeemed (1-365 days).",
        },
        Field.WIN_BACK_PERCENT: {
            "type": _STRING,
            "label": Field.WIN_BACK_PERCENT,
            "help_text": "Percent off the renewals of a subscription brought back by a "
            "win-back code (0-100; 0: the plan's price).",
        },
        Field.WIN_BACK_RENEWALS: {
            "type": _STRING,
            "label": Field.WIN_BACK_RENEWALS,
            "help_text": "How many renewals the win-back discount lasts (0-120).",
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
            check_items(cleaned_data.get("configuration"))
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
        validate_stripe_settings(parsed)

    @property
    def settings(self):
        return parse_settings(self.active, self.configuration)

    # -- checkout hooks: delegate to services/checkout_plans.py and services/subscribe.py ----

    def calculate_checkout_line_total(self, checkout_line, discounts, previous_value):
        """A subscribed line costs its first charge: the sign-up fee during a trial, else the
        first period plus the sign-up fee."""
        if not self.active:
            return previous_value
        from .services.checkout_plans import plan_for_line

        plan = plan_for_line(checkout_line)
        if plan is None:
            return previous_value
        return _taxed_line_total(checkout_line, plan)

    def calculate_checkout_total(self, checkout, lines, discounts, previous_value):
        """Free trials cost nothing today, and a voucher discounts only what is charged now
        (saleor_adapter/checkout_discount.py)."""
        if not self.active:
            return previous_value
        from .saleor_adapter.checkout_discount import charged_now

        return charged_now(checkout, lines, previous_value)

    def preprocess_order_creation(self, checkout, discounts, previous_value):
        """Runs before Saleor charges the customer: a rejection here moves no money.

        Also while switched off: a line chosen as a subscription must not quietly become a
        one-off purchase (validate_before_order refuses it with PLUGIN_INACTIVE).
        """
        from saleor.checkout.error_codes import CheckoutErrorCode

        from .error_codes import SubscriptionErrorCode
        from .services.checkout_plans import plans_by_line, validate_before_order

        if not self.active and not plans_by_line(checkout):
            return previous_value
        payment = checkout.get_last_active_payment()
        try:
            validate_before_order(checkout, list(checkout), self.settings,
                                  payment.gateway if payment else None)
        except ValidationError as error:
            # checkoutComplete answers CheckoutError, whose codes are Saleor's own.
            payment_problem = SubscriptionErrorCode.PAYMENT_METHOD_REQUIRED.value
            code = (CheckoutErrorCode.PAYMENT_ERROR if _codes(error) == {payment_problem}
                    else CheckoutErrorCode.INVALID)
            raise ValidationError({
                field: ValidationError(" ".join(messages), code=(
                    CheckoutErrorCode.VOUCHER_NOT_APPLICABLE if field == "promo_code"
                    else code).value)
                for field, messages in _messages_by_field(error).items()
            })
        return previous_value

    def customer_created(self, customer, previous_value):
        """An account created active (no e-mail confirmation asked, or made by staff) takes the
        guest subscriptions of its e-mail at once; an unconfirmed one on confirmAccount.

        Also while switched off: who owns a subscription does not depend on renewals running.
        """
        from django.utils import timezone

        from .services.guest_linking import link_guest_subscriptions

        link_guest_subscriptions(customer, timezone.now())
        return previous_value

    def order_created(self, order, previous_value):
        if not self.active:
            return previous_value
        from django.utils import timezone

        from .services.subscribe import create_from_order

        create_from_order(order, now=timezone.now())
        return previous_value


def _taxed_line_total(checkout_line, plan):
    from .saleor_adapter.checkout_discount import taxed_plan_line

    return taxed_plan_line(checkout_line, plan)


def _codes(error: ValidationError) -> set:
    return {item.code for item in error.error_list} if not hasattr(error, "error_dict") else {
        item.code for items in error.error_dict.values() for item in items
    }


def _messages_by_field(error: ValidationError) -> dict:
    if hasattr(error, "error_dict"):
        return {field: [item.message for item in items] for field, items in error.error_dict.items()}
    return {"payment": [item.message for item in error.error_list]}
