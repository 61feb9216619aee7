"""Saleor Apps (API tokens for integrations), created through /graphql/ like the dashboard does."""
from typing import Iterable

from .client import ApiClient

APP_CREATE = """
mutation($input: AppInput!) {
  appCreate(input: $input) { authToken app { id } appErrors { field message code } }
}"""


def create_app_token(staff_api: ApiClient, name: str, permissions: Iterable[str]) -> str:
    """An active App with the given PermissionEnum names (e.g. "MANAGE_ORDERS"); its token.

    The staff member needs MANAGE_APPS and every permission given to the App.
    """
    payload = staff_api.mutate(APP_CREATE, {"input": {
        "name": name, "isActive": True, "permissions": list(permissions),
    }})
    return payload["authToken"]


def app_api(staff_api: ApiClient, name: str, permissions: Iterable[str]) -> ApiClient:
    return ApiClient().as_app(create_app_token(staff_api, name, permissions))
