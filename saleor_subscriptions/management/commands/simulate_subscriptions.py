"""Replay months of a subscription business on this store with the product's own code and a
controlled clock, then print what happened (saleor_subscriptions/simulation)."""
from datetime import date, datetime, timezone

from django.core.management.base import BaseCommand, CommandError

from ...simulation import Parameters, SimulationError, run


def _day(value: str) -> datetime:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError("--end: give a date as YYYY-MM-DD, not %r." % value)
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


class Command(BaseCommand):
    help = ("Simulate subscribers signing up, renewing, declining, recovering, pausing, "
            "upgrading and cancelling over past months (deterministic under --seed); print a "
            "report. Writes real rows: run it on a copy of a store, or on the demo.")

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=12)
        parser.add_argument("--subscribers", type=int, default=3000,
                            help="New subscribers over the period (default 3000).")
        parser.add_argument("--cancel-rate", type=float, default=4.0,
                            help="Monthly cancellations, percent of subscribers (default 4).")
        parser.add_argument("--cancel-rate-extra", type=float, default=0.0,
                            help="Percentage points added to the cancel rate (what if 5%% more "
                                 "cancel?).")
        parser.add_argument("--pause-rate", type=float, default=1.5)
        parser.add_argument("--upgrade-rate", type=float, default=3.0)
        parser.add_argument("--flaky-cards", type=float, default=10.0,
                            help="Percent of cards declining one renewal, then recovering.")
        parser.add_argument("--lost-cards", type=float, default=3.0,
                            help="Percent of cards that stop paying for good.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--end", help="First day after the period, YYYY-MM-DD (default: "
                                          "today, UTC).")
        parser.add_argument("--workers", type=int, default=1,
                            help="Processes sharing the work (1-8; the same outcome).")
        parser.add_argument("--once", action="store_true",
                            help="Do nothing if a simulation ran on this store before (the "
                                 "demo's restarts).")

    def handle(self, *args, **options):
        if not 1 <= options["months"] <= 60:
            raise CommandError("--months: from 1 to 60.")
        if not 1 <= options["workers"] <= 8:
            raise CommandError("--workers: from 1 to 8.")
        if not 0 <= options["subscribers"] <= 1_000_000:
            raise CommandError("--subscribers: from 0 to 1000000.")
        parameters = Parameters(
            months=options["months"], subscribers=options["subscribers"], seed=options["seed"],
            end=_day(options["end"]) if options.get("end") else None,
            cancel_rate=options["cancel_rate"], cancel_rate_extra=options["cancel_rate_extra"],
            pause_rate=options["pause_rate"], upgrade_rate=options["upgrade_rate"],
            flaky_card_share=options["flaky_cards"], lost_card_share=options["lost_cards"],
        )
        if options["once"]:
            from ...saleor_adapter.signup_orders import simulated_before

            if simulated_before():
                self.stdout.write("This store was simulated before: nothing to do.")
                return
        try:
            report = run(parameters, progress=lambda line: self.stderr.write(line),
                         workers=options["workers"])
        except SimulationError as error:
            raise CommandError(str(error))
        for line in report.lines():
            self.stdout.write(line)
