"""Every argument of every query and mutation of ours, fuzzed through /graphql/ (hypothesis).

The arguments and their types are read from the schema, so a new mutation is fuzzed without a
line here. Values: ids of every type (other types' global ids, garbage, base64 of garbage,
huge, out-of-range primary keys), numbers at and beyond their limits, NaN/Infinity/1e30 and
many decimals, text with control characters and 100k characters, dates far in the past and
future, naive and aware, wrong currencies and enum values. The answer is a success or a typed
refusal; a GraphQL `errors` entry is allowed only for GraphQL's own input coercion and
permission checks (`extensions.exception.code` GraphQLError/PermissionDenied), never a Python
exception; and a refusal changes nothing. Each example runs in a savepoint that is rolled back.
"""
import base64
from datetime import datetime, timedelta, timezone

import pytest
from django.db import transaction
from graphene import Node
from graphql.type import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matrix_world import PERMISSIONS, fields_of_ours, snapshot

from saleor_subscriptions.graphql.api import schema

GRAPHQL_ERRORS = {"GraphQLError", "PermissionDenied"}
NOW = datetime.now(timezone.utc).replace(microsecond=0)
TYPES = ["CustomerSubscription", "SubscriptionPlan", "ProductVariant", "Product", "Order",
         "Checkout", "CheckoutLine", "User", "App"]
HUGE = "A" * 100_000


def ids(world):
    pool = list(world.ids.values())
    garbage = st.text(max_size=30)
    return st.one_of(
        st.sampled_from(pool),
        st.builds(Node.to_global_id, st.sampled_from(TYPES),
                  st.one_of(st.integers(-(2 ** 63), 2 ** 63), st.sampled_from(
                      [0, -1, 2 ** 31 - 1, 2 ** 31, 10 ** 30]), garbage)),
        garbage,
        garbage.map(lambda text: base64.b64encode(text.encode("utf-8", "replace")).decode()),
        st.sampled_from([HUGE, "\x00", "Q3VzdG9tZXJTdWJzY3JpcHRpb246\x00", "=" * 8,
                         Node.to_global_id("CustomerSubscription", "1" * 5000)]),
    )


INTS = st.one_of(st.sampled_from([0, -1, 1, 2, 3, 24, 366, 367, 10000, 10001, 2 ** 31 - 1,
                                  -(2 ** 31), 2 ** 31, 10 ** 20]),
                 st.integers(-1000, 1000))
DECIMALS = st.one_of(
    st.sampled_from(["NaN", "sNaN", "Infinity", "-Infinity", "1e30", "1E+999999", "1e-30", "0",
                     "-0", "-1", "0.001", "1.005", "12.345678901234567890123456789", "99.99",
                     "999999999.999", "1000000000", "5", "abc", "", float("nan"), 1e30]),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
)
TEXTS = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=20),
    st.sampled_from(["\x00", "a\x00b", "\x1f", "line\nbreak", " ", "", "x" * 2001, HUGE,
                     "usd", "EUR", "ZZZ", "pm_card_visa", "pm_\x00", "sk_test_x", "💳"]),
)
DATES = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+00:00", "0001-01-01T00:30:00+01:00",
                     "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-14:00",
                     "1970-01-01T00:00:00Z", "2030-02-30T00:00:00Z", "not a date", "",
                     (NOW + timedelta(days=10)).replace(tzinfo=None).isoformat(),
                     (NOW + timedelta(days=40)).isoformat(), (NOW + timedelta(days=3653)).isoformat(),
                     (NOW + timedelta(days=3654)).isoformat(), NOW.isoformat()]),
    st.datetimes(timezones=st.one_of(st.none(), st.builds(
        lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-1439, 1439)))).map(
        lambda d: d.isoformat()),
)
SCALARS = {"ID": None, "Int": INTS, "Decimal": DECIMALS, "Float": DECIMALS, "String": TEXTS,
           "DateTime": DATES, "Boolean": st.booleans(), "UUID": TEXTS, "JSONString": TEXTS}


def value_for(graphql_type, world, depth=0):
    """Values for a GraphQL input type: mostly well-formed, sometimes not (a wrong type for the
    slot, an unknown enum value) so GraphQL's own coercion is exercised too."""
    required = isinstance(graphql_type, GraphQLNonNull)
    inner = graphql_type.of_type if required else graphql_type
    if isinstance(inner, GraphQLList):
        values = st.lists(value_for(inner.of_type, world, depth + 1), max_size=3)
    elif isinstance(inner, GraphQLEnumType):
        values = st.sampled_from(list(inner.values) + ["NOPE", "\x00"]).map(
            lambda v: getattr(v, "name", v))
    elif isinstance(inner, GraphQLInputObjectType):
        fields = {name: value_for(field.type, world, depth + 1)
                  for name, field in inner.fields.items()}
        values = st.fixed_dictionaries(
            {name: s for name, s in fields.items() if isinstance(inner.fields[name].type,
                                                                   GraphQLNonNull)},
            optional={name: s for name, s in fields.items()
                      if not isinstance(inner.fields[name].type, GraphQLNonNull)})
    elif inner.name == "ID":
        values = ids(world)
    else:
        values = SCALARS.get(inner.name, TEXTS)
    return values if required else st.one_of(st.none(), values)


def _type_name(graphql_type) -> str:
    if isinstance(graphql_type, GraphQLNonNull):
        return _type_name(graphql_type.of_type) + "!"
    if isinstance(graphql_type, GraphQLList):
        return "[%s]" % _type_name(graphql_type.of_type)
    return graphql_type.name


def _selection(graphql_type) -> str:
    while isinstance(graphql_type, (GraphQLNonNull, GraphQLList)):
        graphql_type = graphql_type.of_type
    if not isinstance(graphql_type, GraphQLObjectType):
        return ""
    errors = [name for name in graphql_type.fields if name.endswith("rrors")]
    return "{ __typename %s }" % " ".join("%s { field code message }" % e for e in errors)


def operations():
    ours = fields_of_ours()
    found = []
    for kind, root in (("query", schema.get_query_type()),
                       ("mutation", schema.get_mutation_type())):
        found += [(kind, name, root.fields[name]) for name in sorted(ours & set(root.fields))]
    return found


OPERATIONS = operations()
#: Operations that reach Stripe on success get fewer examples (each success is a charge).
EXAMPLES = {"subscriptionRenewNow": 10, "subscriptionRetryPayment": 10,
            "subscriptionPaymentMethodUpdate": 12}
DEFAULT_EXAMPLES = 30


def document(kind, name, field):
    declared = ", ".join("$%s: %s" % (arg, _type_name(a.type)) for arg, a in field.args.items())
    passed = ", ".join("%s: $%s" % (arg, arg) for arg in field.args)
    return "%s%s { %s%s %s }" % (kind, "(%s)" % declared if declared else "", name,
                                 "(%s)" % passed if passed else "", _selection(field.type))


def check(body, name, before):
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("exception", {}).get("code")
        # Without a path the request was refused before any resolver ran (graphql-core's own
        # variable coercion, e.g. "Int cannot represent non 32-bit signed integer value").
        assert code in GRAPHQL_ERRORS or "path" not in error, error
    payload = (body.get("data") or {}).get(name)
    refused = bool(body.get("errors")) or any(
        payload.get(key) for key in payload if key.endswith("rrors")) if isinstance(
        payload, dict) else bool(body.get("errors"))
    if refused:
        assert snapshot() == before, "a refused call changed rows"


def test_every_operation_of_ours_is_fuzzed():
    assert {name for _kind, name, _field in OPERATIONS} == fields_of_ours()


@pytest.mark.parametrize("kind, name, field", OPERATIONS, ids=[op[1] for op in OPERATIONS])
def test_fuzz(world, db, kind, name, field):
    # The owner (customer paths) and staff holding every permission (staff-only paths).
    clients = st.sampled_from([world.clients["owner"], world.clients[("staff", PERMISSIONS)]])
    text = document(kind, name, field)
    arguments = st.fixed_dictionaries({arg: value_for(a.type, world)
                                       for arg, a in field.args.items()})

    @settings(max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(client=clients, variables=arguments)
    def run(client, variables):
        with transaction.atomic():
            before = snapshot()
            check(client.raw(text, variables), name, before)
            transaction.set_rollback(True)

    run()
