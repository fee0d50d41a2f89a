from datetime import date

from django.core.management.base import BaseCommand, CommandError

from campaigns.engine.run import deadline_engine_run


class Command(BaseCommand):
    help = (
        "Run the deadline engine once, synchronously, and print how many flags opened and closed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the date to judge deadlines against, YYYY-MM-DD")
        parser.add_argument(
            "--full",
            action="store_true",
            help="re-judge every unit, not only those whose inputs changed since the last run",
        )

    def handle(self, *args, today=None, full=False, **options):
        as_of = None
        if today:
            try:
                as_of = date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today must be YYYY-MM-DD, got {today!r}") from None
        run = deadline_engine_run(today=as_of, full=full)
        judged = "every unit" if run.full else f"{run.units_judged} units that changed"
        self.stdout.write(
            f"as of {run.as_of.isoformat()}: {run.opened} flags opened, {run.closed} closed "
            f"({judged})"
        )
