"""A GraphQL client for Saleor's own /graphql/ endpoint, in-process through Django's test client.

Shipped with the package so integrators can test their store against the plugin too.
"""
import json
from typing import Any, Dict, Optional

from django.test import Client


class GraphQLError(AssertionError):
    pass


class ApiClient:
    def __init__(self, token: Optional[str] = None, app_token: Optional[str] = None):
        self.token = token
        self.app_token = app_token
        self._client = Client(HTTP_HOST="localhost")

    def as_user(self, token: Optional[str]) -> "ApiClient":
        return ApiClient(token=token)

    def as_app(self, app_token: str) -> "ApiClient":
        return ApiClient(app_token=app_token)

    def raw(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        headers = {}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"JWT {self.token}"
        elif self.app_token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.app_token}"
        response = self._client.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **headers,
        )
        return json.loads(response.content.decode())

    def execute(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The `data` of a response that must have no top-level GraphQL errors."""
        body = self.raw(query, variables)
        if body.get("errors"):
            raise GraphQLError(json.dumps(body["errors"], indent=2))
        return body["data"]

    def mutate(self, query: str, variables=None, errors_field: Optional[str] = None) -> Dict:
        """The mutation's payload; fails when it answered with typed errors."""
        data = self.execute(query, variables)
        (payload,) = data.values()
        for key, value in payload.items():
            if key.endswith("rrors") and value and (errors_field in (None, key)):
                raise GraphQLError(f"{key}: {json.dumps(value)}")
        return payload


class HttpApiClient(ApiClient):
    """The same calls over real HTTP, against a running server (the demo's smoke check)."""

    def __init__(self, url: str, token: Optional[str] = None, app_token: Optional[str] = None):
        super().__init__(token=token, app_token=app_token)
        self.url = url

    def as_user(self, token: Optional[str]) -> "HttpApiClient":
        return HttpApiClient(self.url, token=token)

    def raw(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        import urllib.request

        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "JWT %s" % self.token
        elif self.app_token:
            headers["Authorization"] = "Bearer %s" % self.app_token
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read().decode())
