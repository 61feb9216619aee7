"""Print the GraphQL schema of Saleor plus this plugin, or check a committed snapshot."""
import sys

from django.core.management.base import BaseCommand, CommandError
from graphql import print_schema


class Command(BaseCommand):
    help = "Print the GraphQL schema of Saleor + saleor-subscriptions (SDL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", metavar="FILE", help="Fail when FILE differs from the current schema."
        )

    def handle(self, *args, **options):
        from ...graphql.api import schema

        printed = print_schema(schema) + "\n"
        if not options["check"]:
            sys.stdout.write(printed)
            return
        with open(options["check"]) as snapshot:
            if snapshot.read() != printed:
                raise CommandError(
                    "{} is out of date: run `make schema` and commit it.".format(options["check"])
                )
