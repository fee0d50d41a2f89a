from datetime import date

from django.core.management.base import BaseCommand, CommandError

from campaigns.engine.run import deadline_engine_run


class Command(BaseCommand):
    help = (
        "Run the deadline engine once, synchronously, and print how many flags opened and closed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the date to judge deadlines against, YYYY-MM-DD")

    def handle(self, *args, today=None, **options):
        as_of = None
        if today:
            try:
                as_of = date.fromisoformat(today)
            except ValueError:
                raise CommandError(f"--today must be YYYY-MM-DD, got {today!r}") from None
        run = deadline_engine_run(today=as_of)
        self.stdout.write(
            f"as of {run.as_of.isoformat()}: {run.opened} flags opened, {run.closed} closed"
        )
