"""Renew every due subscription now, batch after batch: back-fills, or running without beat."""
import sys

from django.core.management.base import BaseCommand, CommandError

from ...services import claiming, gateway_health, renewals
from ...tasks import parse_now

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Renew all due subscriptions (and due payment retries) with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 datetime to renew as of (default: now).")
        parser.add_argument("--batch-size", type=int, help="Rows per claim (default: plugin's).")

    def handle(self, *args, **options):
        try:
            now = parse_now(options.get("now"))
        except ValueError as error:
            raise CommandError(str(error))
        context = renewals.make_context()
        if not context.settings.active:
            raise CommandError("The subscriptions plugin is switched off.")
        total = claiming.due_for_retry(now).count() + claiming.due_for_renewal(now).count()
        done = {"renewed": 0, "failed": 0, "skipped": 0}
        processed = 0
        while True:
            result = renewals.renew_due_subscriptions(
                now, limit=options.get("batch_size"), context=context
            )
            if result.halted:  # the gateway refused the key (services/gateway_health.py)
                self.stderr.write("Renewals halted: %s" % gateway_health.REASON)
                break
            if not result.claimed:
                break
            processed += result.claimed
            done["renewed"] += result.renewed
            done["failed"] += result.failed
            done["skipped"] += result.skipped
            self._progress(processed, max(total, processed))
        if total:
            sys.stderr.write("\n")
        self.stdout.write("renewed={renewed} failed={failed} skipped={skipped}".format(**done))

    @staticmethod
    def _progress(processed: int, total: int) -> None:
        filled = int(BAR_WIDTH * processed / total) if total else BAR_WIDTH
        sys.stderr.write("\r[%s%s] %d/%d" % ("#" * filled, "." * (BAR_WIDTH - filled),
                                               processed, total))
        sys.stderr.flush()
