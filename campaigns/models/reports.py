"""What a unit reports and the district reviews: the shared review state (`Reviewable`) and the
campaign's own kinds of report (R1 study sessions, R2 the implementation plan, R5 incidents).
Other apps build their reports on `Reviewable` too (breakthroughs: R3 and R4)."""

import uuid
from datetime import date
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import DateField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from dongda.text import fold
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
    # Two-level review (`Campaign.two_level_review`): when the unit's committee (its ancestor
    # right under the district) passed the item on to the district office, and who did. Empty
    # while the item waits for its committee; cleared again on every submission, so a corrected
    # item goes through both levels again.
    passed_at = models.DateTimeField(
        _("passed to the district at"), null=True, blank=True, editable=False
    )
    passed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("passed to the district by"),
    )
    # How many times the item came back to the unit: the queue tells a corrected resubmission
    # from a first one without reading the history.
    return_count = models.PositiveIntegerField(_("times returned"), default=0, editable=False)
    # Accent-free, lower-case copy of the item's title (`search_title_of`), so the queue's search
    # is one indexed-column LIKE in the database instead of folding every row in Python.
    search_title = models.CharField(max_length=255, blank=True, editable=False)
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

    def save(self, *args, **kwargs):
        # Normalisation only, as `Unit.save` does for names; rows written with bulk_create get
        # theirs from `search_title_of` too (campaigns.demo) or from migration 0006.
        self.search_title = search_title_of(self)
        super().save(*args, **kwargs)

    @property
    def is_editable_by_unit(self) -> bool:
        """A unit may change what it has not sent for review, or what came back to it."""
        return self.status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED)


#: The depth of a committee in the unit tree: the units right under the district (depth 1).
#: With two-level review, an item of a unit below one (a cell of a ward) waits for that
#: committee first; an item of a committee itself, or of a unit directly under the district,
#: has no committee above it and goes straight to the district office.
COMMITTEE_DEPTH = 2


def awaiting_committee_q(prefix: str = "") -> Q:
    """Items still waiting for their committee's review (the campaign's `two_level_review` is
    the caller's to check); `prefix` points at the item from another model."""
    return Q(
        **{
            f"{prefix}status": ReviewStatus.SUBMITTED,
            f"{prefix}passed_at__isnull": True,
            f"{prefix}unit__depth__gt": COMMITTEE_DEPTH,
        }
    )


def awaits_committee(item, campaign: Campaign) -> bool:
    """Whether `item` (its unit read) waits for its committee's review now, rather than the
    district office's: the same test as `awaiting_committee_q`, on one item."""
    return (
        campaign.two_level_review
        and item.status == ReviewStatus.SUBMITTED
        and item.passed_at is None
        and item.unit.depth > COMMITTEE_DEPTH
    )


def committee_path(unit: Unit) -> str | None:
    """The path of the committee that reviews `unit`'s items first (None: none, see
    COMMITTEE_DEPTH)."""
    if unit.depth <= COMMITTEE_DEPTH:
        return None
    return unit.path[: COMMITTEE_DEPTH * Unit.steplen]


#: The fields that name an item, in the order they are joined for the queue's search: each kind
#: has one or two of them (an incident's or a task's title, a new model's name, a plan's number
#: and programme, a session's presenter).
SEARCH_TITLE_FIELDS = ("title", "name", "number", "programme", "presenter")


def search_title_of(item) -> str:
    """The folded text the review queue searches an item's title in (besides its unit's name)."""
    parts: list[str] = []
    for name in SEARCH_TITLE_FIELDS:
        # A translated title (an incident's) is found in either language.
        for attr in (f"{name}_vi", f"{name}_en", name):
            value = str(getattr(item, attr, "") or "")
            if value and value not in parts:
                parts.append(value)
    return fold(" ".join(parts))[:255]


def evidence_path(instance, filename: str) -> str:
    # The stored name is opaque (nothing a person typed reaches the file system); the original
    # Vietnamese name is kept in a column and given back on download.
    suffix = PurePosixPath(filename).suffix.lower()[:8]
    model = instance._meta
    return f"{model.app_label}/{model.model_name}/{instance.unit_id}/{uuid.uuid4().hex}{suffix}"


#: The review queue sorts items with no overdue day (submitted before the column existed) after
#: every dated one.
QUEUE_NO_DUE = date(9999, 12, 31)


def queue_order() -> Coalesce:
    """The review queue's first sort key: the day the item's review is overdue."""
    return Coalesce("review_overdue_from", Value(QUEUE_NO_DUE), output_field=DateField())


def queue_index(name: str, *, by_campaign: bool = True) -> models.Index:
    """The index the review queue reads a page of one kind from, in its order, and counts the
    waiting items by: only the items waiting for review, so it stays small. (At 100,000 units
    the queue otherwise sorted every submitted item of every kind: 0.9 s a page.)"""
    campaign = [F("campaign")] if by_campaign else []
    return models.Index(
        *campaign,
        queue_order(),
        F("submitted_at"),
        F("id"),
        condition=Q(status="submitted"),
        name=name,
    )


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
            models.Index(fields=["campaign", "unit", "status"], name="studysession_scope_idx"),
            queue_index("studysession_queue_idx"),
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
        indexes = [queue_index("plan_queue_idx")]
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
        indexes = [queue_index("incident_queue_idx")]
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
        indexes = [
            models.Index(fields=["campaign", "unit", "status"], name="propaganda_scope_idx"),
            queue_index("propaganda_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_channel_display()} · {self.held_on:%d/%m/%Y}"
