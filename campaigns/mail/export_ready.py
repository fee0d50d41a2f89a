"""The e-mail that tells a person their background export is ready (campaigns.models.ExportJob),
through the outbox like every other e-mail: one row per job (its key names the job), so a task
that runs twice or is retried queues it once, and the outbox's senders retry delivery."""

from django.urls import reverse
from django.utils import timezone, translation

from ..models import ExportJob, OutgoingMail
from .outbox import outgoing_mail_enqueue

KIND = OutgoingMail.Kind.EXPORT_READY


def export_ready_queue(*, job: ExportJob) -> list[int]:
    """Queues the e-mail for a finished job, once; the ids of rows still to send (sent once the
    caller's transaction commits)."""
    OutgoingMail.objects.bulk_create(
        [
            OutgoingMail(
                kind=KIND,
                dedupe_key=f"export:{job.pk}",
                recipient_id=job.owner_id,
                campaign_id=job.campaign_id,
                params={"job": job.pk},
            )
        ],
        ignore_conflicts=True,
    )
    pending = list(
        OutgoingMail.objects.filter(
            dedupe_key=f"export:{job.pk}", state=OutgoingMail.State.QUEUED
        ).values_list("pk", flat=True)
    )
    outgoing_mail_enqueue(mail_ids=pending)
    return pending


def export_ready_render(mail: OutgoingMail, language: str) -> tuple[str, str, str] | None:
    """Subject, text and HTML in `language`; None when the job is gone, failed or expired by
    the time the e-mail is sent (a link to nothing helps no one)."""
    from .messages import _render, absolute

    job = ExportJob.objects.filter(pk=mail.params.get("job"), owner_id=mail.recipient_id).first()
    if job is None or job.state != ExportJob.State.DONE or job.expires_at <= timezone.now():
        return None
    with translation.override(language):
        context = {
            "job": job,
            "person": mail.recipient,
            "what": job.get_kind_display(),
            "campaign": mail.campaign,
            "job_url": absolute(reverse("campaigns:export_job", args=[job.pk])),
            "expires_at": timezone.localtime(job.expires_at),
            "LANGUAGE_CODE": language,
        }
        return _render("campaigns/email/export_ready", context)
