"""One run of the deadline engine (daily, from Celery beat, or `flag_overdue`), and the reads that
say how the last run went (the dashboard and /healthz).

A run re-judges, per campaign, only the units whose inputs changed since the campaign's
checkpoint (`campaigns.engine.changes`); `full=True` (the weekly safety run, `flag_overdue
--full`) re-judges every unit. Both leave the same flags, status rows and rollups."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from ..models import Campaign, DeadlineEngineRun, EngineCheckpoint, UnitStatus
from .asof import is_live
from .changes import Changes, campaign_inputs, changes_since, history_seen
from .flags import flags_escalate, flags_sync
from .status import lock_rollups, refresh_unit_status


def _engine_settings() -> None:
    """PostgreSQL settings for the rest of the engine's transaction.

    JIT compilation off: the engine's statements are planned with row estimates far above the
    truth (a cost of 10^20 at 100,000 units), which sets off JIT compilation that costs more than
    the statement: at 10,000 units the status upsert took 11.6 s with it and 1.6 s without
    (bench/report.py's replay).

    Commit without waiting for the disk: a first run writes hundreds of thousands of rows, and
    waiting for their WAL to reach the disk was a tenth of its time. Everything the engine
    writes is worked out again from the reports by its next run, and PostgreSQL keeps the order
    of commits: a crash can lose the engine's last run, never a report saved after it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('jit', 'off', true), "
                "set_config('synchronous_commit', 'off', true)"
            )


def deadline_engine_run(*, today: date | None = None, full: bool = False) -> DeadlineEngineRun:
    """Bring every flag and status row of every active campaign up to date as of `today` (the
    local date by default), re-judging only what changed unless `full`, and record the run; a
    failure is recorded on the run and raised again."""
    today = today or timezone.localdate()
    run = DeadlineEngineRun.objects.create(as_of=today)
    opened = closed = judged = 0
    every_unit = True
    try:
        for campaign in Campaign.objects.filter(is_active=True, starts_on__lte=today):
            with transaction.atomic():
                changes = _judge_campaign(campaign, today=today, full=full)
            opened += changes.opened
            closed += changes.closed
            judged += changes.units
            every_unit = every_unit and changes.full
    except Exception as exc:
        DeadlineEngineRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), opened=opened, closed=closed, error=repr(exc)[:2000]
        )
        raise
    DeadlineEngineRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        opened=opened,
        closed=closed,
        full=every_unit,
        units_judged=judged,
    )
    run.refresh_from_db()
    return run


class _Judged:
    def __init__(self, *, opened: int, closed: int, units: int, full: bool):
        self.opened, self.closed, self.units, self.full = opened, closed, units, full


def _judge_campaign(campaign: Campaign, *, today: date, full: bool) -> _Judged:
    """One campaign, in the caller's transaction: the flags and status rows of the units that
    changed (all of them if `full` or if what changed cannot be narrowed), the escalations of
    the day, and the checkpoint moved on."""
    started_at = timezone.now()
    _engine_settings()
    # First, before the flags and the status rows it will lock: see lock_rollups. It also keeps
    # report saves of the campaign waiting, so nothing is written between reading what changed
    # and re-judging it.
    lock_rollups(campaign)
    checkpoint = EngineCheckpoint.objects.filter(campaign=campaign).first()
    inputs = campaign_inputs(campaign)
    seen = history_seen()
    if full:
        changes = Changes(None, "asked")
    else:
        changes = changes_since(campaign, checkpoint, today, inputs=inputs)
    opened = closed = 0
    if changes.full or changes.unit_ids:
        opened, closed = flags_sync(campaign=campaign, today=today, unit_ids=changes.unit_ids)
    # The flags open too long are raised up the tree, once per step (a flag's age is its own:
    # one UPDATE per step over the open flags, whatever changed).
    flags_escalate(campaign=campaign, today=today)
    if changes.full or changes.unit_ids:
        # The flags just changed, and "stale" incidents age by the day: the status rows of the
        # same units are rebuilt in the same transaction (only the rows that differ are written).
        refresh_unit_status(campaign, unit_ids=changes.unit_ids, today=today)
    mark = {"judged_on": today, "started_at": started_at, "history_seen": seen, "inputs": inputs}
    if checkpoint is None:
        EngineCheckpoint.objects.create(campaign=campaign, full_on=today, **mark)
    else:
        EngineCheckpoint.objects.filter(pk=checkpoint.pk).update(
            **mark, **({"full_on": today} if changes.full else {})
        )
    if changes.full:
        units = UnitStatus.objects.filter(campaign=campaign).count()
    else:
        units = len(changes.unit_ids)
    return _Judged(opened=opened, closed=closed, units=units, full=changes.full)


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
        _engine_settings()
        lock_rollups(campaign)  # first, as in deadline_engine_run
        flags_sync(campaign=campaign, today=day)
        flags_escalate(campaign=campaign, today=day)
        refresh_unit_status(campaign, today=day)
        yield
        transaction.set_rollback(True)
