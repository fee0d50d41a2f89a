"""One run of the deadline engine (daily, from Celery beat, or `flag_overdue`), and the reads that
say how the last run went (the dashboard and /healthz)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from ..models import Campaign, DeadlineEngineRun
from .asof import is_live
from .flags import flags_escalate, flags_sync
from .status import lock_rollups, refresh_unit_status


def _without_jit() -> None:
    """Turns PostgreSQL's JIT compilation off for the rest of the transaction. The engine's
    statements are planned with row estimates far above the truth (a cost of 10^20 at 100,000
    units), which sets off JIT compilation that costs more than the statement: at 10,000 units
    the status upsert took 11.6 s with it and 1.6 s without (bench/report.py's replay)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def deadline_engine_run(*, today: date | None = None) -> DeadlineEngineRun:
    """Bring every flag of every active campaign up to date as of `today` (the local date by
    default) and record the run; a failure is recorded on the run and raised again."""
    today = today or timezone.localdate()
    run = DeadlineEngineRun.objects.create(as_of=today)
    opened = closed = 0
    try:
        for campaign in Campaign.objects.filter(is_active=True, starts_on__lte=today):
            with transaction.atomic():
                _without_jit()
                # First, before the flags and the status rows it will lock: see lock_rollups.
                lock_rollups(campaign)
                campaign_opened, campaign_closed = flags_sync(campaign=campaign, today=today)
                # The flags open too long are raised up the tree, once per step.
                flags_escalate(campaign=campaign, today=today)
                # The flags just changed, and "stale" incidents age by the day: every unit's
                # status row is rebuilt in the same transaction.
                refresh_unit_status(campaign, today=today)
            opened += campaign_opened
            closed += campaign_closed
    except Exception as exc:
        DeadlineEngineRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), opened=opened, closed=closed, error=repr(exc)[:2000]
        )
        raise
    DeadlineEngineRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), opened=opened, closed=closed
    )
    run.refresh_from_db()
    return run


def last_engine_failure() -> DeadlineEngineRun | None:
    """The newest run if it failed (an older failure already fixed by a later run is not news)."""
    newest = (
        DeadlineEngineRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    )
    return newest if newest is not None and newest.error else None


def last_engine_run() -> DeadlineEngineRun | None:
    return (
        DeadlineEngineRun.objects.filter(finished_at__isnull=False, error="")
        .order_by("-finished_at")
        .first()
    )


@contextmanager
def figures_as_of(campaign, day: date | None) -> Iterator[None]:
    """Inside the block, the campaign's status rows, rollups and open flags are those of the end
    of `day`: the engine works them out exactly as its daily run on that day would (the same
    rules, as of the same moment), and the block's transaction is rolled back on the way out,
    so nothing of it is kept. So the dashboard, the unit table and the exports show a past day
    through the very code that shows today. As of today (or no day) the block reads the live
    rows and changes nothing.

    A fixed number of statements however large the district; while it runs, a report saved for
    the campaign waits for it (the status rows are locked): a second or so for a district."""
    if is_live(day):
        yield
        return
    with transaction.atomic():
        _without_jit()
        lock_rollups(campaign)  # first, as in deadline_engine_run
        flags_sync(campaign=campaign, today=day)
        flags_escalate(campaign=campaign, today=day)
        refresh_unit_status(campaign, today=day)
        yield
        transaction.set_rollback(True)
