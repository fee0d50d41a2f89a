"""One run of the deadline engine (daily, from Celery beat, or `flag_overdue`), and the reads that
say how the last run went (the dashboard and /healthz)."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from ..models import Campaign, DeadlineEngineRun
from .flags import flags_sync
from .status import refresh_unit_status


def deadline_engine_run(*, today: date | None = None) -> DeadlineEngineRun:
    """Bring every flag of every active campaign up to date as of `today` (the local date by
    default) and record the run; a failure is recorded on the run and raised again."""
    today = today or timezone.localdate()
    run = DeadlineEngineRun.objects.create(as_of=today)
    opened = closed = 0
    try:
        for campaign in Campaign.objects.filter(is_active=True, starts_on__lte=today):
            with transaction.atomic():
                campaign_opened, campaign_closed = flags_sync(campaign=campaign, today=today)
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
