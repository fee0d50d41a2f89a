"""Exports too large to build while a person waits: written by a Celery task, kept a day."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


def export_path(job: "ExportJob", filename: str) -> str:
    """An opaque name under exports/: the person's file name is given only at download."""
    import uuid

    extension = filename.rpartition(".")[2]
    return f"exports/{uuid.uuid4().hex}.{extension}"


class ExportJob(models.Model):
    """One export of the unit table or the review queue above EXPORT_BACKGROUND_ROWS rows.

    It records what the person asked for (the page's query string, the committee they drilled
    into, the day the figures are for, the page's language), so that the task reads the same
    rows through the owner's scope as the page would, and writes them in the same words. Only
    the owner sees the job or its file; the file is deleted when the job expires."""

    class Kind(models.TextChoices):
        UNITS = "units", _("Unit table")
        REVIEW_QUEUE = "review_queue", _("Review queue")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV"

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Failure(models.TextChoices):
        """Why a job failed, shown to its owner in their language (the technical detail stays
        in `error`, for the logs and the admin)."""

        ERROR = "error", _("The file could not be written.")
        TOO_LONG = "too_long", _("Writing the file took too long.")
        NO_ACCESS = "no_access", _("You no longer have access to these units.")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign")
    )
    # The page's query string (filters, search, sort), read again by the task.
    query = models.TextField(_("filters"), blank=True)
    # The committee drilled into (`?unit=`), found through the owner's scope when asked.
    root = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("committee"),
    )
    as_of = models.DateField(_("figures as of"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8)
    filename = models.CharField(_("file name"), max_length=200)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=export_path, blank=True, max_length=200)
    failure = models.CharField(_("failure"), max_length=16, choices=Failure.choices, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The cleanup task reads jobs past their expiry; the sweeper, jobs stuck in a state.
            models.Index(fields=["expires_at"], name="exportjob_expires_idx"),
            models.Index(fields=["state", "created_at"], name="exportjob_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.owner} · {self.get_state_display()}"
