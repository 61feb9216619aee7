"""Checks of the Stripe settings that pluginUpdate runs before anything is stored.

- The secret key goes only to an allowed API base URL (gateway/api_bases.py): staff who manage
  plugins must not be able to send it to a server of their own or to an internal address.
- Switching on needs the publishable key too: Saleor offers the subscriptions gateway to every
  storefront with it, and Stripe.js cannot make a card without it.
- The publishable key is public (every storefront reads it): never a secret key.
"""
from django.core.exceptions import ValidationError

from .config import Field, SubscriptionSettings
from .error_codes import SubscriptionErrorCode
from .gateway import api_bases


def validate_stripe_settings(settings: SubscriptionSettings) -> None:
    errors = {}
    if not api_bases.is_allowed(settings.stripe_api_base):
        errors[Field.STRIPE_API_BASE] = ValidationError(
            "The Stripe API base URL %s is not allowed on this server: the secret key is sent "
            "only to Stripe (leave the field empty) or to a test server the host allows (Django "
            "setting %s)." % (settings.stripe_api_base, api_bases.SETTING),
            code=SubscriptionErrorCode.INVALID.value,
        )
    publishable = settings.stripe_publishable_key
    if publishable and not publishable.startswith("pk_"):
        errors[Field.STRIPE_PUBLISHABLE_KEY] = ValidationError(
            "A Stripe publishable key starts with pk_. Storefronts can read it: never put a "
            "secret key here.",
            code=SubscriptionErrorCode.INVALID.value,
        )
    elif settings.active and not publishable:
        errors[Field.STRIPE_PUBLISHABLE_KEY] = ValidationError(
            "Set the Stripe publishable key before switching subscriptions on: storefronts need "
            "it for Stripe.js.",
            code="required",
        )
    if errors:
        raise ValidationError(errors)
