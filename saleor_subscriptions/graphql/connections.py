"""Saleor's connection fields, with a client's bad pagination answered as a GraphQL error.

Saleor 2.10 (through graphene-django) fails on them with Python's own exceptions — an
AssertionError for `first: 366`, a JSONDecodeError or binascii.Error for a cursor that is not
one — logged as unhandled errors. Checked here before the list is read.
"""
import binascii

from graphql.error import GraphQLError
from saleor.graphql.core.connection import from_global_cursor
from saleor.graphql.core.fields import FilterInputConnectionField, PrefetchingConnectionField

#: Where graphene-django's connection_resolver takes max_limit and info (positional).
MAX_LIMIT_ARG, INFO_ARG = 4, -1


def check_pagination(field_name: str, max_limit, args) -> None:
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and not 0 <= value <= (max_limit or value):
            raise GraphQLError("`%s` on `%s` must be from 0 to %s." % (name, field_name, max_limit))
    for name in ("before", "after"):
        cursor = args.get(name)
        if cursor is None:
            continue
        try:
            values = from_global_cursor(cursor)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            values = None
        if not isinstance(values, list):
            raise GraphQLError("`%s` is not a cursor of `%s`." % (name, field_name))


class CheckedConnectionField(PrefetchingConnectionField):
    @classmethod
    def connection_resolver(cls, *positional, **args):
        check_pagination(positional[INFO_ARG].field_name, positional[MAX_LIMIT_ARG], args)
        return super().connection_resolver(*positional, **args)


class CheckedFilterConnectionField(FilterInputConnectionField):
    @classmethod
    def connection_resolver(cls, *positional, **args):
        check_pagination(positional[INFO_ARG].field_name, positional[MAX_LIMIT_ARG], args)
        return super().connection_resolver(*positional, **args)
