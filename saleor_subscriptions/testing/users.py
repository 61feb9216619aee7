"""Users for tests and the demo: the first staff account always comes from outside the API."""
from typing import Iterable, Optional

from django.contrib.auth.models import Permission

PASSWORD = "password-for-tests"


def _permissions(codenames: Iterable[str]):
    wanted = []
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return wanted


def create_user(email: str, *, staff: bool = False, permissions: Optional[Iterable[str]] = None,
                superuser: bool = False):
    from saleor.account.models import User

    user = User.objects.create_user(email=email, password=PASSWORD, is_staff=staff or superuser,
                                    is_active=True)
    if superuser:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    if permissions:
        user.user_permissions.add(*_permissions(permissions))
    return user


TOKEN_CREATE = """
mutation($email: String!, $password: String!) {
  tokenCreate(email: $email, password: $password) { token accountErrors { field message code } }
}
"""


def login(api, email: str, password: str = PASSWORD) -> str:
    payload = api.mutate(TOKEN_CREATE, {"email": email, "password": password})
    return payload["token"]
