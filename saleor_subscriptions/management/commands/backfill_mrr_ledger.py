"""Write the MRR ledger's first movement for subscriptions that predate it (safe to re-run)."""
from django.core.management.base import BaseCommand, CommandError

from ...services import mrr_ledger
from ...tasks import parse_now


class Command(BaseCommand):
    help = "One `new` MRR movement per subscription without any, from its current state."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 date of the movements (default: now).")

    def handle(self, *args, **options):
        try:
            now = parse_now(options.get("now"))
        except ValueError as error:
            raise CommandError(str(error))
        self.stdout.write("MRR movements written: %d" % mrr_ledger.backfill(now))
