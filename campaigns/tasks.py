"""Celery tasks: thin wrappers that load by id and call a service.

Acknowledged late (settings), so a worker that dies mid-task leaves the message to be delivered
again; every task is safe to run twice. Time limits stay far below Redis' visibility timeout
(one hour), so a slow task is never handed to a second worker while the first still runs it.
"""

from celery import shared_task
from django.db import transaction

from .dashboard.background_exports import export_job_run, export_jobs_sweep
from .engine.run import deadline_engine_run
from .mail.digests import IsoWeek, digests_catch_up, digests_queue_week
from .mail.outbox import (
    TemporaryMailError,
    outgoing_mail_enqueue,
    outgoing_mail_send,
    outgoing_mail_sweep,
)
from .mail.reminders import reminders_queue

LIMITS = {"soft_time_limit": 600, "time_limit": 660}


@shared_task(
    name="campaigns.tasks.run_deadline_engine",
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=60,
    **LIMITS,
)
def run_deadline_engine(full: bool = False) -> dict:
    run = deadline_engine_run(full=full)
    return {
        "run": run.pk,
        "opened": run.opened,
        "closed": run.closed,
        "full": run.full,
        "units": run.units_judged,
    }


RETRY = {"autoretry_for": (Exception,), "max_retries": 5, "retry_backoff": 60}


@shared_task(name="campaigns.tasks.queue_weekly_digests", **RETRY, **LIMITS)
def queue_weekly_digests(week: str | None = None) -> int:
    """Monday's job: the digests of the week that ended on Sunday (or of `week`)."""
    iso_week = IsoWeek.parse(week) if week else IsoWeek.last_complete()
    with transaction.atomic():
        pending = digests_queue_week(week=iso_week)
        outgoing_mail_enqueue(mail_ids=pending)
    return len(pending)


@shared_task(name="campaigns.tasks.queue_reminders", **RETRY, **LIMITS)
def queue_reminders() -> int:
    with transaction.atomic():
        pending = reminders_queue()
        outgoing_mail_enqueue(mail_ids=pending)
    return len(pending)


@shared_task(
    name="campaigns.tasks.send_outgoing_mail",
    autoretry_for=(TemporaryMailError,),
    max_retries=8,
    retry_backoff=30,
    retry_backoff_max=900,
    retry_jitter=True,
    soft_time_limit=120,
    time_limit=150,
)
def send_outgoing_mail(mail_id: int) -> str:
    return outgoing_mail_send(mail_id=mail_id)


@shared_task(name="campaigns.tasks.enqueue_outgoing_mail", **RETRY, **LIMITS)
def enqueue_outgoing_mail(mail_ids: list[int]) -> int:
    """Hands a large batch of rows to the send task from a worker, so that the web request
    that wrote them (a spreadsheet import creating thousands of accounts) publishes one
    message instead of thousands."""
    for pk in mail_ids:
        send_outgoing_mail.delay(pk)
    return len(mail_ids)


@shared_task(name="campaigns.tasks.sweep_outgoing_mail", **LIMITS)
def sweep_outgoing_mail() -> int:
    stuck = outgoing_mail_sweep()
    for pk in stuck:
        send_outgoing_mail.delay(pk)
    # A lost Monday: last week's digests queued now if nothing queued them.
    with transaction.atomic():
        caught_up = digests_catch_up()
        outgoing_mail_enqueue(mail_ids=caught_up)
    return len(stuck) + len(caught_up)


@shared_task(name="campaigns.tasks.run_export_job", **LIMITS)
def run_export_job(job_id: int) -> str:
    """Writes a background export; a failure is the job's state (shown to its owner), never a
    retry: the person exports again."""
    return export_job_run(job_id=job_id)


@shared_task(name="campaigns.tasks.sweep_export_jobs", **LIMITS)
def sweep_export_jobs() -> int:
    """Hourly: deletes expired exports' files and hands out again the jobs a lost message or a
    dead worker left behind."""
    stuck = export_jobs_sweep()
    for pk in stuck:
        run_export_job.delay(pk)
    return len(stuck)
