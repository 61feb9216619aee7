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
from matrix_world import EVERY_PERMISSION, fields_of_ours, snapshot

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
DAYS = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01", "2030-02-30",
                     "not a date", "", NOW.date().isoformat()]),
    st.dates().map(lambda d: d.isoformat()),
)
SCALARS = {"ID": None, "Int": INTS, "Decimal": DECIMALS, "Float": DECIMALS, "String": TEXTS,
           "DateTime": DATES, "Date": DAYS, "Boolean": st.booleans(), "UUID": TEXTS,
           "JSONString": TEXTS}


def _unwrap(graphql_type):
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def value_for(graphql_type, world, key=None):
    """Values for a GraphQL input type: mostly well-formed, sometimes not (a wrong type for the
    slot, an unknown enum value) so GraphQL's own coercion is exercised too. `key`: the world
    id an ID argument should be half of the time."""
    required = isinstance(graphql_type, GraphQLNonNull)
    inner = _unwrap(graphql_type)
    if isinstance(inner, GraphQLList):
        values = st.lists(value_for(inner.of_type, world), max_size=3)
    elif isinstance(inner, GraphQLEnumType):
        values = st.sampled_from(list(inner.values) + ["NOPE", "\x00"]).map(
            lambda v: getattr(v, "name", v))
    elif isinstance(inner, GraphQLInputObjectType):
        values = st.fixed_dictionaries({}, optional={
            name: value_for(field.type, world, ID_KEYS.get(name))
            for name, field in inner.fields.items()})
    elif inner.name == "ID":
        values = ids(world)
        if key and key in world.ids:
            values = st.one_of(st.just(world.ids[key]), values)
    else:
        values = SCALARS.get(inner.name, TEXTS)
    return values if required else st.one_of(st.none(), values)


#: Which of the world's ids an ID argument takes in a well-formed call.
ID_KEYS = {"planId": "cheap", "variantId": "variant", "checkoutId": "checkout",
           "lineId": "line", "orderId": "order"}
ADDRESS = {"firstName": "Ada", "lastName": "L", "streetAddress1": "1 Main St", "city": "AUSTIN",
           "postalCode": "73301", "country": "US", "countryArea": "TX"}
#: Well-formed values of arguments that are optional but matter (the sweep varies their fields).
BASE_ARGS = {("subscriptionAddressUpdate", "shippingAddress"): ADDRESS,
             ("subscriptionPlanCreate", "input"): {"name": "Fuzz", "intervalUnit": "MONTH",
                                                   "price": "5.00"},
             ("subscriptionPlanUpdate", "input"): {"name": "Fuzz"},
             ("subscriptionCancel", "reasonText"): "bye"}
BASE_SCALARS = {"Int": 1, "String": "ok", "Decimal": "1.00", "Boolean": False,
                "DateTime": (NOW + timedelta(days=40)).isoformat(), "Date": NOW.date().isoformat()}


def id_key(field_name, arg):
    if arg == "id":
        return "plan" if field_name.startswith("subscriptionPlan") else "sub"
    return ID_KEYS.get(arg)


def base_value(graphql_type, world, key=None, given=None):
    """A well-formed value: the world's ids, required fields filled in, optional ones left out."""
    inner = _unwrap(graphql_type)
    if isinstance(inner, GraphQLInputObjectType):
        value = {name: base_value(field.type, world, ID_KEYS.get(name))
                 for name, field in inner.fields.items()
                 if isinstance(field.type, GraphQLNonNull)}
        value.update(given or {})
        return value
    if given is not None:
        return given
    if not isinstance(graphql_type, GraphQLNonNull):
        return None
    if isinstance(inner, GraphQLList):
        return []
    if isinstance(inner, GraphQLEnumType):
        return list(inner.values)[0].name
    if inner.name == "ID":
        return world.ids.get(key, "nope")
    return BASE_SCALARS.get(inner.name, "ok")


def base_variables(name, field, world):
    variables = {}
    for arg, argument in field.args.items():
        given = BASE_ARGS.get((name, arg))
        if isinstance(_unwrap(argument.type), GraphQLInputObjectType) and given is None and \
                not isinstance(argument.type, GraphQLNonNull):
            variables[arg] = None
            continue
        variables[arg] = base_value(argument.type, world, id_key(name, arg), given)
    return variables


#: The values every argument of a type meets in the sweep, one argument at a time.
EDGES = {
    "ID": [Node.to_global_id("Order", 1), "nope", "bm9wZQ==", HUGE, "\x00", "",
           Node.to_global_id("CustomerSubscription", 2 ** 31)],
    "Int": [0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 10001],
    "Decimal": ["NaN", "Infinity", "1e30", "-1", "0.001", "12.345678901234567890123456789",
                "abc"],
    "String": ["\x00", "a\x1fb", HUGE, "x" * 2001, "", "ZZZ"],
    "DateTime": ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-14:00",
                 (NOW + timedelta(days=10)).replace(tzinfo=None).isoformat(),
                 "1970-01-01T00:00:00Z", (NOW + timedelta(days=3654)).isoformat(), "not a date"],
    "Date": ["0001-01-01", "9999-12-31", "1999-12-31", "2200-01-01", "2030-02-30", "not a date"],
}


def edges_for(graphql_type):
    inner = _unwrap(graphql_type)
    if isinstance(inner, GraphQLEnumType):
        return ["NOPE"]
    if isinstance(inner, (GraphQLList, GraphQLInputObjectType)):
        return []
    return EDGES.get(inner.name, EDGES["String"] if inner.name in ("UUID", "Float") else [])


def sweep(name, field, world):
    """(label, variables): the well-formed call with one argument (or one field of an input)
    replaced by each of its type's edge values."""
    base = base_variables(name, field, world)
    for arg, argument in field.args.items():
        inner = _unwrap(argument.type)
        if isinstance(inner, GraphQLInputObjectType):
            for sub, sub_field in inner.fields.items():
                # Inputs have many fields: their first three edges (NUL, a control character,
                # 100k characters for text) keep the sweep short.
                for value in edges_for(sub_field.type)[:3]:
                    nested = dict(base[arg] or {}, **{sub: value})
                    yield "%s.%s=%r" % (arg, sub, value)[:80], dict(base, **{arg: nested})
            continue
        for value in edges_for(argument.type):
            yield "%s=%r" % (arg, value)[:80], dict(base, **{arg: value})


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
    # The typed errors (`subscriptionErrors`), not Saleor's deprecated untyped `errors`.
    errors = [name for name, field in graphql_type.fields.items() if name.endswith("rrors")
              and "code" in _unwrap(_unwrap(field.type).of_type).fields]
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
EXAMPLES = {"subscriptionRenewNow": 6, "subscriptionRetryPayment": 6,
            "subscriptionPaymentMethodUpdate": 8}
DEFAULT_EXAMPLES = 15


def document(kind, name, field):
    declared = ", ".join("$%s: %s" % (arg, _type_name(a.type)) for arg, a in field.args.items())
    passed = ", ".join("%s: $%s" % (arg, arg) for arg in field.args)
    return "%s%s { %s%s %s }" % (kind, "(%s)" % declared if declared else "", name,
                                 "(%s)" % passed if passed else "", _selection(field.type))


def _coercion(error) -> bool:
    """graphql-core refused a variable before any resolver ran (its own message)."""
    return "path" not in error and (error["message"].startswith('Variable "$')
                                    or "cannot represent" in error["message"])


def check(body, name, before):
    for error in body.get("errors") or []:
        code = error.get("extensions", {}).get("exception", {}).get("code")
        assert code in GRAPHQL_ERRORS or _coercion(error), error
    payload = (body.get("data") or {}).get(name)
    refused = bool(body.get("errors")) or any(
        payload.get(key) for key in payload if key.endswith("rrors")) if isinstance(
        payload, dict) else bool(body.get("errors"))
    if refused:
        assert snapshot() == before, "a refused call changed rows"


def test_every_operation_of_ours_is_fuzzed():
    assert {name for _kind, name, _field in OPERATIONS} == fields_of_ours()


def _run(client, text, name, variables):
    with transaction.atomic():
        before = snapshot()
        check(client.raw(text, variables), name, before)
        transaction.set_rollback(True)


@pytest.mark.parametrize("kind, name, field", OPERATIONS, ids=[op[1] for op in OPERATIONS])
def test_edge_values_one_argument_at_a_time(world, db, kind, name, field):
    text = document(kind, name, field)
    well_formed = world.clients[("staff", EVERY_PERMISSION)].raw(text, base_variables(name, field, world))
    assert "errors" not in well_formed, well_formed["errors"]  # the document itself is valid
    # Staff holding every permission reach every rule (the customer paths are in test_fuzz).
    client = world.clients[("staff", EVERY_PERMISSION)]
    for label, variables in sweep(name, field, world):
        try:
            _run(client, text, name, variables)
        except AssertionError as error:
            raise AssertionError("%s, %s: %s" % (name, label, error)) from None


@pytest.mark.parametrize("kind, name, field", OPERATIONS, ids=[op[1] for op in OPERATIONS])
def test_fuzz(world, db, kind, name, field):
    text = document(kind, name, field)
    base = base_variables(name, field, world)
    fuzzed = {arg: value_for(a.type, world, id_key(name, arg)) for arg, a in field.args.items()}
    # A well-formed call with one or two arguments replaced reaches the rules behind the ids.
    changed = st.sets(st.sampled_from(sorted(fuzzed)), min_size=1, max_size=2) if fuzzed else \
        st.just(set())
    # The owner (customer paths) and staff holding every permission (staff-only paths).
    clients = st.sampled_from([world.clients["owner"], world.clients[("staff", EVERY_PERMISSION)]])

    @settings(max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(client=clients, names=changed, data=st.data())
    def run(client, names, data):
        variables = dict(base)
        for arg in sorted(names):
            variables[arg] = data.draw(fuzzed[arg], label=arg)
        _run(client, text, name, variables)

    run()
