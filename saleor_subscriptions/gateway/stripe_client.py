"""Every Stripe request of the plugin goes through a StripeClient: the secret key, the API base
URL and the API version travel with each request.

stripe-python 2.x takes the key per call but the base URL only from the `stripe` module's global
`api_base`, which Saleor's own Stripe plugin in the same process uses too; so requests are made
with an APIRequestor of our own. The module's globals (api_key, api_base, api_version,
default_http_client) are never changed. The base URL must be allowed by the host
(gateway/api_bases.py): a disallowed one raises DisallowedApiBase before anything is sent.

    client = stripe_client.from_settings(settings)
    client.PaymentIntent.create(amount=1250, currency="usd", idempotency_key="...")
    client.PaymentMethod.retrieve("pm_...")
    client.PaymentMethod.attach("pm_...", customer="cus_...")   # also confirm, cancel, ...
    for intent in client.PaymentIntent.auto_paging_iter(limit=100): ...
"""
import threading
from typing import Iterator, Optional
from urllib.parse import quote_plus

import stripe
from stripe import api_requestor, util
from stripe.api_resources.abstract import APIResource

from .api_bases import STRIPE_API_BASE, ensure_allowed

#: Saleor 2.10's Stripe plugin reads PaymentIntent.charges: pin a version contemporary with it.
API_VERSION = "2020-03-02"
DEFAULT_API_BASE = STRIPE_API_BASE
#: seconds; an off-session charge that takes longer is treated as an unknown outcome
REQUEST_TIMEOUT = 30
#: POST /v1/<resources>/<id>/<action>
ACTIONS = ("attach", "detach", "confirm", "cancel", "capture")

_http_client = None
_http_client_lock = threading.Lock()


def _http():
    """Our own HTTP client (with our timeout); it keeps a session per thread."""
    global _http_client
    with _http_client_lock:
        if _http_client is None:
            _http_client = stripe.http_client.new_default_http_client(timeout=REQUEST_TIMEOUT)
        return _http_client


class StripeClient:
    def __init__(self, api_key: str, api_base: str = ""):
        self.api_key = api_key or ""
        self.api_base = (api_base or "").strip().rstrip("/") or DEFAULT_API_BASE

    @property
    def is_stripe(self) -> bool:
        """Stripe itself (not a test server such as localstripe)."""
        return self.api_base == DEFAULT_API_BASE

    def request(self, method: str, url: str, params: Optional[dict] = None,
                idempotency_key: Optional[str] = None):
        ensure_allowed(self.api_base)
        if not self.api_key:
            # APIRequestor would fall back to the global stripe.api_key.
            raise stripe.error.AuthenticationError("No Stripe secret key is set.")
        requestor = api_requestor.APIRequestor(
            key=self.api_key, client=_http(), api_base=self.api_base, api_version=API_VERSION)
        response, api_key = requestor.request(method, url, params or {},
                                              util.populate_headers(idempotency_key))
        return util.convert_to_stripe_object(response, api_key, API_VERSION, None)

    def __getattr__(self, name: str) -> "_Resource":
        resource = getattr(stripe, name, None)
        if not (isinstance(resource, type) and issubclass(resource, APIResource)):
            raise AttributeError(name)
        return _Resource(self, resource)


class _Resource:
    """stripe.<Resource>'s class methods, bound to one client (same names and arguments).

    Use these rather than methods of the objects they return: those would use the globals.
    """

    def __init__(self, client: StripeClient, resource):
        self._client, self._resource = client, resource

    def _url(self, object_id: Optional[str] = None, action: Optional[str] = None) -> str:
        url = self._resource.class_url()
        if object_id is not None:
            url += "/" + quote_plus(util.utf8(object_id))
        return url + ("/" + action if action else "")

    def create(self, idempotency_key: Optional[str] = None, **params):
        return self._client.request("post", self._url(), params, idempotency_key)

    def retrieve(self, object_id: str, **params):
        return self._client.request("get", self._url(object_id), params)

    def modify(self, object_id: str, idempotency_key: Optional[str] = None, **params):
        return self._client.request("post", self._url(object_id), params, idempotency_key)

    def delete(self, object_id: str, **params):
        return self._client.request("delete", self._url(object_id), params)

    def list(self, **params):
        return self._client.request("get", self._url(), params)

    def auto_paging_iter(self, **params) -> Iterator:
        """Every object of every page (the list objects' own auto_paging_iter uses globals)."""
        return self.pages_from(self.list(**params), **params)

    def pages_from(self, page, **params) -> Iterator:
        """The objects of a list page already fetched with `params`, then of the pages after it."""
        while True:
            items = list(page.get("data") or [])
            yield from items
            if not page.get("has_more") or not items:
                return
            params = dict(params, starting_after=items[-1]["id"])
            page = self.list(**params)

    def __getattr__(self, action: str):
        if action not in ACTIONS:
            raise AttributeError(action)

        def call(object_id: str, idempotency_key: Optional[str] = None, **params):
            return self._client.request("post", self._url(object_id, action), params,
                                        idempotency_key)
        return call


def from_settings(settings) -> StripeClient:
    """The client for the plugin's configured key and base URL (SubscriptionSettings)."""
    return StripeClient(settings.stripe_secret_key, settings.stripe_api_base)
