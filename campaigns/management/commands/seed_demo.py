import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from campaigns import demo


class Command(BaseCommand):
    help = (
        "Load the Đống Đa demo district: the real 21 wards and district bodies, the 2024 "
        "campaign and a realistic spread of done, late and missing reports. --units N makes "
        "exactly N units: below the real district's size (about 270) it keeps the first N of its "
        "units, above it adds synthetic committees and cells. The same seed gives the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--units", type=int, help="exactly this many units (default: the real district)"
        )
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help="random seed (default 2024)"
        )
        parser.add_argument(
            "--password",
            default=demo.DEFAULT_PASSWORD,
            help="password of every demo login (default dongda2024)",
        )
        parser.add_argument(
            "--no-replay",
            dest="replay",
            action="store_false",
            help=(
                "build the flags with one engine run as of today instead of replaying the "
                "campaign day by day (the open flags are the same; the closed ones, the flags' "
                "history, are left out): for tests that need a district quickly"
            ),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete every campaign, report, flag, unit and non-superuser account",
        )

    def handle(self, *args, units=None, seed, password, reset, replay=True, **options):
        if units is not None and units < 1:
            raise CommandError("--units must be at least 1 (the district itself).")
        started = time.monotonic()
        try:
            summary = demo.seed_demo(
                units=units, seed=seed, password=password, reset=reset, replay=replay
            )
        except demo.DemoDataExists as exc:
            raise CommandError(str(exc)) from None
        # Fresh statistics: without them PostgreSQL plans the engine's anti-joins for the empty
        # tables it last saw, and a 10,000-unit run takes minutes instead of a second.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s (seed {seed}):"))
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label:<20} {count:>8,}")
        self.stdout.write(f"Logins, all with the password {password!r}:")
        logins = [
            ("vanphong", "district office staff, and the demo's one administrator (/admin/)"),
            ("staff-en", "district office staff, English, no /admin/"),
            ("thuongtruc", "Standing Committee, read-only"),
        ]
        if summary.sample_logins:  # none when --units 1 makes the root alone
            examples = ", ".join(summary.sample_logins)
            logins.append(("bt-<unit code>", f"the unit's secretary, e.g. {examples}"))
        for username, role in logins:
            self.stdout.write(f"  {username:<16} {role}")
