"""Exports above EXPORT_BACKGROUND_ROWS rows, written by a Celery task instead of a web worker.

The request that asks for one records what was asked (`ExportJob`: the page's query string, the
committee drilled into, the day the figures are for, the page's language) and queues the task
once its transaction commits; the person waits on the job's page, which polls its progress. The
task reads the rows again through the owner's scope as it is then (never wider than the page
would show them), writes the file in the page's language with the very functions of the direct
export (so the two files are the same), counts its rows as it goes, and queues one e-mail
through the outbox. Only the owner sees the job and its file, for a day; then the file is
deleted (`export_jobs_sweep`, every hour).

Running the task twice is harmless: it claims the job with a conditional update, so a second
run (a retry, a redelivered message) finds it taken or done; the e-mail's outbox key names the
job.
"""

import logging
import pickle
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dongda.celery import app
from units.models import User
from units.selectors import get_visible_unit

from ..engine.run import figures_as_of
from ..mail.export_ready import export_ready_queue
from ..models import ExportJob
from ..reporting import queue
from . import exports
from .selectors import TableFilters, statuses_in_scope, unit_table

logger = logging.getLogger(__name__)

State = ExportJob.State
# The task that writes a job (campaigns/tasks.py), named rather than imported: tasks sit on the
# floor above.
RUN_TASK = "campaigns.tasks.run_export_job"
KEPT_FOR = timedelta(days=1)
# A job asked for again while the same one is still being written opens that one: a reload or
# a second click queues no second file.
SAME_JOB_WITHIN = timedelta(minutes=10)
# A job queued this long ago and never started (the broker was down) or running this long (its
# worker died; the task's hard limit is shorter) is handed out again by the sweeper.
NEVER_STARTED = timedelta(minutes=5)
STALE_RUN = timedelta(minutes=15)
MAX_ATTEMPTS = 3
# Finished jobs' rows stay this long after their file is gone, so an old link still says
# "expired" rather than "not found".
ROWS_KEPT_FOR = timedelta(days=30)


class NoAccess(Exception):
    """The owner can no longer see what the job exports."""


def threshold() -> int:
    return settings.EXPORT_BACKGROUND_ROWS


def more_rows_than(rows: QuerySet, limit: int) -> bool:
    """Whether `rows` holds more than `limit` rows, counting no further than one past it:
    `SELECT COUNT(*) FROM (… LIMIT limit + 1)`, one statement however large the table."""
    return rows.order_by()[: limit + 1].count() > limit


@dataclass(frozen=True)
class ExportRequest:
    """What a page asked for, as the job records it."""

    kind: str
    extension: str
    campaign_id: int
    query: str
    root_id: int | None
    as_of: date | None
    language: str
    filename: str


def export_job_start(*, owner: User, asked: ExportRequest) -> ExportJob:
    """The job for this request: the same one still being written if there is one, otherwise
    a new one, whose task is queued once this transaction commits. A broker that is down does
    not fail the request: the sweeper hands the job out later."""
    with transaction.atomic():
        wanted = {
            "owner": owner,
            "kind": asked.kind,
            "format": asked.extension,
            "campaign_id": asked.campaign_id,
            "query": asked.query,
            "root_id": asked.root_id,
            "as_of": asked.as_of,
            "language": asked.language,
        }
        now = timezone.now()
        same = (
            ExportJob.objects.filter(
                **wanted,
                state__in=[State.QUEUED, State.RUNNING],
                created_at__gte=now - SAME_JOB_WITHIN,
            )
            .order_by("-created_at")
            .first()
        )
        if same is not None:
            return same
        job = ExportJob.objects.create(**wanted, filename=asked.filename, expires_at=now + KEPT_FOR)
        _enqueue([job.pk])
    return job


def _enqueue(job_ids: list[int]) -> None:
    def send() -> None:
        for pk in job_ids:
            try:
                app.tasks[RUN_TASK].delay(pk)
            except Exception:
                logger.warning("could not queue export %s; the sweeper will", pk, exc_info=True)

    if job_ids:
        transaction.on_commit(send)


def export_job_of(*, user: User, pk: int) -> ExportJob:
    """The job if `user` owns it; 404 for anyone else, staff included: an export holds what
    its owner's scope shows, which may be more or less than another person's."""
    job = ExportJob.objects.filter(pk=pk, owner_id=user.pk).first()
    if job is None:
        raise Http404
    return job


def is_expired(job: ExportJob) -> bool:
    return job.expires_at <= timezone.now()


def progress(job: ExportJob) -> dict:
    """What the job's page shows and polls, in the active language."""
    percent = None
    if job.state == State.DONE:
        percent = 100
    elif job.rows_total:
        percent = min(99, int(100 * job.rows_done / job.rows_total))
    return {
        "state": job.state,
        "expired": is_expired(job),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": percent,
        "message": failure_message(job) if job.state == State.FAILED else "",
    }


def failure_message(job: ExportJob) -> str:
    reason = ExportJob.Failure(job.failure or ExportJob.Failure.ERROR)
    return _("%(reason)s Please export again; with fewer rows it is quicker.") % {
        "reason": reason.label
    }


# --- the task's side -----------------------------------------------------------------------


def _claim(job_id: int) -> ExportJob | None:
    """Takes the job for writing, or None when another run has it (or it is done). Conditional,
    so of two runs at most one wins; a run that died long ago may be taken over."""
    now = timezone.now()
    claimable = Q(state=State.QUEUED) | Q(state=State.RUNNING, started_at__lt=now - STALE_RUN)
    won = ExportJob.objects.filter(claimable, pk=job_id, expires_at__gt=now).update(
        state=State.RUNNING, started_at=now, rows_done=0, attempts=F("attempts") + 1
    )
    if not won:
        return None
    return ExportJob.objects.select_related("owner", "campaign", "root").get(pk=job_id)


def _report(job: ExportJob, **fields) -> None:
    # Only the run that holds the claim writes to the job.
    ExportJob.objects.filter(pk=job.pk, state=State.RUNNING, started_at=job.started_at).update(
        **fields
    )


def _fail(job: ExportJob, failure: str, error: str) -> None:
    _report(
        job, state=State.FAILED, failure=failure, error=error[:2000], finished_at=timezone.now()
    )


def export_job_run(*, job_id: int) -> str:
    """Writes the job's file; returns the job's new state, or "" when it was not this run's to
    write. Never raises for the export itself: a failure is the job's state, shown to its
    owner, who may export again."""
    job = _claim(job_id)
    if job is None:
        return ""
    try:
        with translation.override(job.language):
            name, written = _write(job)
    except NoAccess as exc:
        _fail(job, ExportJob.Failure.NO_ACCESS, str(exc))
        return State.FAILED
    except SoftTimeLimitExceeded:
        _fail(job, ExportJob.Failure.TOO_LONG, "soft time limit")
        return State.FAILED
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        _fail(job, ExportJob.Failure.ERROR, f"{exc.__class__.__name__}: {exc}")
        return State.FAILED
    now = timezone.now()
    with transaction.atomic():
        _report(
            job,
            state=State.DONE,
            file=name,
            rows_done=written,
            rows_total=written,
            finished_at=now,
            expires_at=now + KEPT_FOR,
        )
        job.refresh_from_db()
        if job.state == State.DONE and job.file.name == name:
            export_ready_queue(job=job)
        else:  # another run took the job over meanwhile: this file is nobody's
            job.file.storage.delete(name)
    return job.state


def _write(job: ExportJob) -> tuple[str, int]:
    """Writes the file to a temporary file, then into storage; (stored name, rows)."""

    def on_rows(count: int) -> None:
        _report(job, rows_done=count)

    with tempfile.TemporaryFile() as target:
        if job.kind == ExportJob.Kind.UNITS:
            written = _write_units(job, target, on_rows)
        else:
            written = _write_review_queue(job, target, on_rows)
        target.seek(0)
        name = job.file.storage.save(
            job.file.field.generate_filename(job, job.filename), File(target)
        )
    return name, written


def _units_rows(job: ExportJob) -> QuerySet:
    """The unit table's rows for the owner, as the page reads them (`_table_rows`), through the
    owner's scope as it is now."""
    owner = job.owner
    if not owner.is_active:
        raise NoAccess("the owner is no longer active")
    root = None
    if job.root is not None:
        try:
            root = get_visible_unit(owner, job.root.code)
        except Http404:
            raise NoAccess(f"{job.root.code} is outside the owner's scope") from None
    filters = TableFilters.from_query(QueryDict(job.query))
    return unit_table(
        statuses_in_scope(user=owner, campaign=job.campaign, root=root).select_related("branch"),
        filters,
    )


def _write_units(job: ExportJob, target, on_rows) -> int:
    rows = _units_rows(job)
    title = pgettext("sheet name", "Units")
    campaign = job.campaign
    if job.as_of is None or job.as_of >= timezone.localdate():
        ExportJob.objects.filter(pk=job.pk).update(rows_total=rows.count())
        header, data = exports.unit_table_sheet(rows, campaign)
        return exports.write_rows(
            target, extension=job.format, title=title, header=header, rows=data, on_rows=on_rows
        )
    # A past day's rows exist only inside figures_as_of, whose transaction is rolled back (and
    # holds the campaign's rollup lock): they are read into a spool file there, a row at a time,
    # and the file is written from it afterwards, with its progress.
    with tempfile.TemporaryFile() as spool:
        with figures_as_of(campaign, job.as_of):
            header, data = exports.unit_table_sheet(rows, campaign)
            total = 0
            for row in data:
                pickle.dump(row, spool, protocol=pickle.HIGHEST_PROTOCOL)
                total += 1
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
        spool.seek(0)
        return exports.write_rows(
            target,
            extension=job.format,
            title=title,
            header=header,
            rows=_unspool(spool, total),
            on_rows=on_rows,
        )


def _unspool(spool, count: int):
    for _index in range(count):
        yield pickle.load(spool)  # noqa: S301 - our own temporary file, written just above


def _write_review_queue(job: ExportJob, target, on_rows) -> int:
    owner = job.owner
    campaign = job.campaign
    level = queue.queue_level(owner, campaign) if owner.is_active else None
    if level is None:
        raise NoAccess("the owner reviews nothing now")
    rows = queue.review_queue_rows(
        user=owner, campaign=campaign, filters=queue_filters(QueryDict(job.query)), level=level
    )
    header, data = exports.review_queue_sheet(rows)
    return exports.write_rows(
        target,
        extension=job.format,
        title=_("Review queue"),
        header=header,
        rows=data,
        on_rows=on_rows,
    )


def queue_filters(data: QueryDict) -> queue.QueueFilters:
    """The queue's filters from a query string, `?unit=` read as the committee (the page's
    older drill-down link), as the queue page reads them."""
    filters = queue.parse_filters(data)
    if not filters.committee and data.get("unit"):
        data = data.copy()
        data["committee"] = data["unit"]
        filters = queue.parse_filters(data)
    return filters


# --- the sweeper ---------------------------------------------------------------------------


def export_jobs_sweep() -> list[int]:
    """Deletes the files of expired jobs (their rows stay a while, so that an old link says
    "expired"), deletes rows long expired, and returns the jobs to hand out again: queued but
    never started (a lost message), or running in a worker that died."""
    now = timezone.now()
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(file="")
    for pk, name in expired.values_list("pk", "file"):
        ExportJob.file.field.storage.delete(name)
        ExportJob.objects.filter(pk=pk).update(file="")
    ExportJob.objects.filter(expires_at__lte=now - ROWS_KEPT_FOR).delete()
    stuck = ExportJob.objects.filter(
        Q(state=State.QUEUED, created_at__lt=now - NEVER_STARTED)
        | Q(state=State.RUNNING, started_at__lt=now - STALE_RUN),
        expires_at__gt=now,
    )
    gave_up = stuck.filter(attempts__gte=MAX_ATTEMPTS)
    gave_up.update(
        state=State.FAILED,
        failure=ExportJob.Failure.ERROR,
        error="gave up after repeated attempts",
        finished_at=now,
    )
    return list(stuck.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:500])
