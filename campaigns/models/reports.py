"""What a unit reports and the district reviews: the shared review state (`Reviewable`) and the
campaign's own kinds of report (R1 study sessions, R2 the implementation plan, R5 incidents).
Other apps build their reports on `Reviewable` too (breakthroughs: R3 and R4)."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")


class Reviewable(models.Model):
    """What every report a unit submits has: its review state and an edit counter.

    `version` grows on every save through a service; a form carries the version it was opened with,
    and a save against an older one is refused instead of overwriting someone else's change.
    """

    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.DRAFT,
        db_index=True,
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The first day the item is overdue for the district's review if it still waits then: set on
    # each submission from the campaign's review time in working days (so a resubmission starts
    # the count again), and kept in the item's history like everything else.
    review_overdue_from = models.DateField(
        _("review overdue from"), null=True, blank=True, editable=False
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    # The key of the form that created the row: a double-clicked or re-sent "Save" finds the row
    # the first click made instead of making a second one.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_editable_by_unit(self) -> bool:
        """A unit may change what it has not sent for review, or what came back to it."""
        return self.status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED)


def evidence_path(instance, filename: str) -> str:
    # The stored name is opaque (nothing a person typed reaches the file system); the original
    # Vietnamese name is kept in a column and given back on download.
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    model = instance._meta
    return f"{model.app_label}/{model.model_name}/{instance.unit_id}/{uuid.uuid4().hex}{suffix}"


class StudySession(Reviewable):
    """R1: a study and dissemination session (hội nghị học tập, quán triệt) or a make-up one."""

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular session")
        MAKEUP = "makeup", _("Make-up session")

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="study_sessions",
        verbose_name=_("campaign"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="study_sessions", verbose_name=_("unit")
    )
    held_on = models.DateField(_("held on"))
    format = models.CharField(
        _("format"), max_length=16, choices=Format.choices, default=Format.IN_PERSON
    )
    kind = models.CharField(
        _("session kind"), max_length=16, choices=Kind.choices, default=Kind.REGULAR
    )
    presenter = models.CharField(_("presenter"), max_length=255)
    members_expected = models.PositiveIntegerField(_("members expected"))
    attendees = models.PositiveIntegerField(_("attendees"))
    notes = models.TextField(_("notes"), blank=True)
    minutes = models.FileField(_("minutes"), upload_to=evidence_path, blank=True, max_length=255)
    minutes_name = models.CharField(_("minutes file name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("study session")
        verbose_name_plural = _("study sessions")
        ordering = ["-held_on", "-pk"]
        indexes = [
            models.Index(fields=["campaign", "unit", "status"], name="studysession_scope_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(attendees__lte=F("members_expected")),
                name="session_attendees_le_expected",
            ),
            models.CheckConstraint(
                condition=Q(members_expected__gt=0), name="session_expected_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.held_on:%d/%m/%Y}"


class ImplementationPlan(Reviewable):
    """R2: the unit's implementation plan (kế hoạch triển khai thực hiện); one per unit and
    campaign."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="plans", verbose_name=_("campaign")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="plans", verbose_name=_("unit")
    )
    number = models.CharField(_("document number"), max_length=64)
    issued_on = models.DateField(_("issued on"))
    programme = models.CharField(_("linked programme"), max_length=255)
    summary = models.TextField(_("summary"), blank=True)
    document = models.FileField(_("document"), upload_to=evidence_path, blank=True, max_length=255)
    document_name = models.CharField(_("document file name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("implementation plan")
        verbose_name_plural = _("implementation plans")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="plan_one_per_unit_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.number}"


class Incident(Reviewable):
    """R5: a pressing local incident (vụ việc nổi cộm, bức xúc) and how it was resolved."""

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("campaign")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("unit")
    )
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    opened_on = models.DateField(_("opened on"))
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM
    )
    owner = models.CharField(_("person in charge"), max_length=255)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=F("opened_on")),
                name="incident_resolved_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_on is None


class PropagandaActivity(Reviewable):
    """R6: an activity spreading the whole-term study (học tập và làm theo tư tưởng, đạo đức,
    phong cách Hồ Chí Minh) to the people: a loudspeaker broadcast, a newsletter board, a post."""

    class Channel(models.TextChoices):
        LOUDSPEAKER = "loudspeaker", _("Loudspeaker")
        NEWSLETTER_BOARD = "newsletter_board", _("Newsletter board")
        WEBSITE = "website", _("Website or social page")
        MEETING = "meeting", _("Meeting")
        OTHER = "other", _("Other")

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="propaganda_activities",
        verbose_name=_("campaign"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="propaganda_activities",
        verbose_name=_("unit"),
    )
    held_on = models.DateField(_("date"))
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices)
    audience = models.PositiveIntegerField(_("people reached"))
    note = models.TextField(_("note"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to=evidence_path, blank=True, max_length=255)
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("propaganda activity")
        verbose_name_plural = _("propaganda activities")
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["campaign", "unit", "status"], name="propaganda_scope_idx")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_channel_display()} · {self.held_on:%d/%m/%Y}"
