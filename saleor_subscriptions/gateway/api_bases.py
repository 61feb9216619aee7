"""Which Stripe API base URLs this server sends the Stripe secret key to.

The plugin setting "Stripe API base URL" can be changed by any staff member who manages plugins;
the secret key must not follow it to a server of theirs nor to an internal address. The host
decides: the Django setting SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES lists the allowed URL prefixes
(host/settings.py reads it, comma-separated, from the environment variable of the same name).
Stripe's own https://api.stripe.com is always allowed; nothing else is by default.

A prefix matches a URL with the same scheme and host, the same port (any port when the prefix
names none) and a path at or below the prefix's path. URLs with a user, password, query or
fragment never match.
"""
import logging
from typing import List, NamedTuple, Optional
from urllib.parse import urlsplit

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

STRIPE_API_BASE = "https://api.stripe.com"
SETTING = "SUBSCRIPTIONS_ALLOWED_STRIPE_API_BASES"


class _Url(NamedTuple):
    scheme: str
    host: str
    port: Optional[int]
    path: str


class DisallowedApiBase(stripe.error.AuthenticationError):
    """The configured base URL is not allowed on this server: nothing was sent.

    An AuthenticationError, so callers treat it as our own misconfiguration (renewals are tried
    again later; the customer is never blamed).
    """

    def __init__(self, api_base: str):
        super().__init__(
            "The Stripe API base URL %r is not allowed on this server (%s): nothing was sent."
            % (api_base, SETTING))

    @property
    def user_message(self) -> str:
        """What a customer may read (the message itself is for staff and logs)."""
        return "Card payments are not set up correctly in this store. Please try again later."


def allowed_prefixes() -> List[str]:
    return [STRIPE_API_BASE] + [str(prefix).strip() for prefix in
                                getattr(settings, SETTING, None) or [] if str(prefix).strip()]


def _parse(url: str) -> Optional[_Url]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username
            or parts.password or parts.query or parts.fragment):
        return None
    return _Url(parts.scheme, parts.hostname.lower(), port, parts.path.rstrip("/"))


def _matches(url: _Url, prefix: _Url) -> bool:
    return (url.scheme == prefix.scheme and url.host == prefix.host
            and (prefix.port is None or url.port == prefix.port)
            and (url.path == prefix.path or url.path.startswith(prefix.path + "/")))


def is_allowed(api_base: str) -> bool:
    """Empty means Stripe itself."""
    if not (api_base or "").strip():
        return True
    url = _parse(api_base)
    if url is None:
        return False
    prefixes = (_parse(prefix) for prefix in allowed_prefixes())
    return any(prefix is not None and _matches(url, prefix) for prefix in prefixes)


def ensure_allowed(api_base: str) -> None:
    if not is_allowed(api_base):
        error = DisallowedApiBase(api_base)
        logger.error("%s", error)
        raise error
