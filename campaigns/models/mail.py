"""The outbox: every e-mail the app owes someone, written before it is sent."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


class OutgoingMail(models.Model):
    """One e-mail the app owes someone: a weekly digest or a reminder.

    The row is written before anything is sent, under a unique `dedupe_key` (for a digest, the
    recipient and the ISO week), so a second beat tick, a retry or a second worker finds it and
    does not send again. A sender claims a row with a conditional update (queued -> sending) that
    only one worker can win; a sweeper re-queues rows whose sender died before marking them.
    """

    class Kind(models.TextChoices):
        DISTRICT_DIGEST = "district_digest", _("District digest")
        UNIT_DIGEST = "unit_digest", _("Unit digest")
        REMINDER = "reminder", _("Deadline reminder")
        RETURNED = "returned", _("Report returned for correction")
        INVITATION = "invitation", _("Invitation to choose a password")
        EXPORT_READY = "export_ready", _("Export ready to download")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent: nothing to report")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="outgoing_mail",
        verbose_name=_("recipient"),
    )
    # Empty for an invitation, which belongs to no campaign.
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outgoing_mail",
        verbose_name=_("campaign"),
    )
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("unit"),
    )
    # Digest: {"week": "2024-W15"}; reminder: {"deadline": "study", "due_on": "2024-03-31"}.
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper and the staff's failure list read rows by state.
            models.Index(fields=["state", "created_at"], name="outgoingmail_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.recipient} · {self.get_state_display()}"
