"""Global ids in and out: one place that turns a client's id into a primary key or an error."""
from typing import Any, Callable, Optional
from uuid import UUID

from django.core.exceptions import ValidationError
from graphql_relay import from_global_id

from ..error_codes import SubscriptionErrorCode


def invalid(field: str, message: str, code=SubscriptionErrorCode.INVALID) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code.value)})


#: Saleor types whose primary key is not an integer.
PK_PARSERS = {"Checkout": UUID}


def type_of(global_id: str) -> Optional[str]:
    """The type name inside a global id, or None when it is not one."""
    try:
        found_type, _ = from_global_id(global_id)
    except (ValueError, TypeError, UnicodeDecodeError, AttributeError):
        return None
    return found_type or None


def decode_pk(global_id: str, type_name: str) -> Optional[Any]:
    """The primary key behind a global id of `type_name`, or None for anything else."""
    parse: Callable[[str], Any] = PK_PARSERS.get(type_name, int)
    try:
        found_type, pk = from_global_id(global_id)
        return parse(pk) if found_type == type_name else None
    except (ValueError, TypeError, UnicodeDecodeError, AttributeError):
        return None


def pk_or_error(global_id: str, type_name: str, field: str):
    pk = decode_pk(global_id, type_name)
    if pk is None:
        raise invalid(field, "Must receive a %s id, got %r." % (type_name, global_id))
    return pk
