"""Saleor's own clients (its 2.10.1 dashboard, storefronts) see no breaking change in our schema.

The dashboard is built against the schema.graphql shipped inside the saleor wheel. Every type,
field, argument, input field and enum value there must be in ours with the same type; we may add
fields, optional arguments and optional input fields, never anything a client must now send.
"""
from pathlib import Path

import saleor
from graphql import parse
from graphql.language import ast

ROOT = Path(__file__).parents[2]
SALEOR_SCHEMA = Path(saleor.__file__).parent / "graphql" / "schema.graphql"


def type_text(node) -> str:
    if isinstance(node, ast.NonNullType):
        return type_text(node.type) + "!"
    if isinstance(node, ast.ListType):
        return "[%s]" % type_text(node.type)
    return node.name.value


def definitions(path: Path) -> dict:
    return named(parse(readable(path.read_text())))


def readable(text: str) -> str:
    # Saleor's file is printed by graphql-core 3 (`implements A & B`); ours reads the 2.x form.
    return text.replace(" & ", ", ")


def named(document) -> dict:
    return {definition.name.value: definition for definition in document.definitions
            if getattr(definition, "name", None) is not None}


def members(definition) -> dict:
    if isinstance(definition, ast.EnumTypeDefinition):
        return {value.name.value: None for value in definition.values}
    if isinstance(definition, ast.UnionTypeDefinition):
        return {member.name.value: None for member in definition.types}
    return {field.name.value: field for field in getattr(definition, "fields", [])}


def breaking_changes(theirs: dict, ours: dict) -> list:
    problems = []
    for name, their_definition in theirs.items():
        our_definition = ours.get(name)
        if our_definition is None:
            problems.append("%s: type removed" % name)
            continue
        if type(our_definition) is not type(their_definition):
            problems.append("%s: kind changed" % name)
            continue
        our_members = members(our_definition)
        for member, their_field in members(their_definition).items():
            if member not in our_members:
                problems.append("%s.%s: removed" % (name, member))
                continue
            our_field = our_members[member]
            if their_field is None:
                continue
            if type_text(our_field.type) != type_text(their_field.type):
                problems.append("%s.%s: type %s became %s" % (
                    name, member, type_text(their_field.type), type_text(our_field.type)))
            problems += _argument_changes(name, member, their_field, our_field)
        if isinstance(our_definition, ast.InputObjectTypeDefinition):
            their_members = members(their_definition)
            problems += ["%s.%s: new required input field" % (name, member)
                         for member, field in our_members.items()
                         if member not in their_members and isinstance(field.type, ast.NonNullType)
                         and field.default_value is None]
    return problems


def _argument_changes(name, member, their_field, our_field) -> list:
    their_arguments = {arg.name.value: arg for arg in getattr(their_field, "arguments", []) or []}
    our_arguments = {arg.name.value: arg for arg in getattr(our_field, "arguments", []) or []}
    problems = []
    for argument, their_argument in their_arguments.items():
        ours = our_arguments.get(argument)
        if ours is None:
            problems.append("%s.%s(%s): argument removed" % (name, member, argument))
        elif type_text(ours.type) != type_text(their_argument.type):
            problems.append("%s.%s(%s): type changed" % (name, member, argument))
    problems += ["%s.%s(%s): new required argument" % (name, member, argument)
                 for argument, arg in our_arguments.items()
                 if argument not in their_arguments and isinstance(arg.type, ast.NonNullType)
                 and arg.default_value is None]
    return problems


def test_saleor_2_10_clients_see_no_breaking_change_in_our_schema():
    theirs, ours = definitions(SALEOR_SCHEMA), definitions(ROOT / "schema.graphql")
    assert len(theirs) > 500  # the shipped schema was found and read, not an empty file

    assert breaking_changes(theirs, ours) == []
    assert set(ours) - set(theirs), "our schema adds its own types beside Saleor's"


def test_the_check_finds_a_breaking_change():
    theirs = definitions(SALEOR_SCHEMA)
    ours = named(parse(readable(SALEOR_SCHEMA.read_text()).replace(
        "  plugin(id: ID!): Plugin\n", "  plugin(id: ID!, channel: String!): Plugin\n", 1)))
    del ours["PluginSortingInput"]

    assert breaking_changes(theirs, ours) == [
        "PluginSortingInput: type removed",
        "Query.plugin(channel): new required argument",
    ]
