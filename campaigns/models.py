import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from units.models import Unit


def default_reminder_days() -> list[int]:
    return [7, 1]


class Campaign(models.Model):
    """One year's thematic study. Every deadline and threshold the rules use is data here."""

    class ReportFrequency(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.TextField(_("title"))
    short_title = models.CharField(_("short title"), max_length=120)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    study_deadline = models.DateField(_("study deadline"))
    required_study_share = models.PositiveSmallIntegerField(
        _("required study attendance (%)"),
        default=95,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "A unit is study-complete when its accepted sessions reach this share of its members."
        ),
    )
    plan_deadline = models.DateField(_("implementation plan deadline"))
    linked_programme = models.CharField(_("linked programme"), max_length=255, blank=True)
    breakthrough_deadline = models.DateField(_("breakthrough task selection deadline"))
    report_frequency = models.CharField(
        _("progress report frequency"),
        max_length=16,
        choices=ReportFrequency.choices,
        default=ReportFrequency.QUARTERLY,
    )
    report_grace_days = models.PositiveSmallIntegerField(
        _("progress report grace days"), default=10
    )
    incident_age_limit_days = models.PositiveSmallIntegerField(
        _("incident age limit (days)"), default=30
    )
    reminder_days = models.JSONField(
        _("reminder days before a deadline"),
        default=default_reminder_days,
        help_text=_("Units that have not met a deadline are reminded this many days before it."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(required_study_share__gte=1, required_study_share__lte=100),
                name="campaign_study_share_1_100",
            ),
            models.CheckConstraint(
                condition=Q(study_deadline__gte=F("starts_on"), study_deadline__lte=F("ends_on")),
                name="campaign_study_deadline_in_campaign",
            ),
        ]

    def __str__(self) -> str:
        return self.short_title


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


class FlagKind(models.TextChoices):
    STUDY_OVERDUE = "study_overdue", _("Study overdue")
    STUDY_LATE = "study_late", _("Study completed late")
    PLAN_MISSING = "plan_missing", _("Implementation plan missing")
    NO_BREAKTHROUGH = "no_breakthrough", _("No breakthrough task")
    REPORT_OVERDUE = "report_overdue", _("Progress report overdue")
    STALE_INCIDENT = "stale_incident", _("Stale incident")


class Flag(models.Model):
    """A fact that a unit is behind. Opened and closed by the deadline engine, never duplicated:
    at most one open flag per (campaign, unit, kind, subject); closed ones stay as history."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="flags", verbose_name=_("campaign")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="flags", verbose_name=_("unit")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=FlagKind.choices)
    # What the flag is about beyond the unit, e.g. "task:12/2024-Q2" or "incident:7"; empty when
    # the flag is about the unit as a whole.
    subject = models.CharField(_("subject"), max_length=64, blank=True, default="")
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "unit", "kind", "subject"],
                condition=Q(closed_at__isnull=True),
                name="flag_one_open_per_subject",
            ),
            # "Study late" is history written once per unit; two engine runs at the same moment
            # must not both write it.
            models.UniqueConstraint(
                fields=["campaign", "unit", "kind", "subject"],
                condition=Q(kind="study_late"),
                name="flag_study_late_once",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="flag_closed_after_opened",
            ),
        ]
        indexes = [
            # The dashboard and digests read open flags of a campaign.
            models.Index(
                fields=["campaign", "kind"],
                condition=Q(closed_at__isnull=True),
                name="flag_open_idx",
            ),
            # A unit's page and a unit's digest read the open flags of a few units.
            models.Index(
                fields=["unit", "campaign"],
                condition=Q(closed_at__isnull=True),
                name="flag_open_unit_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}"


class DeadlineEngineRun(models.Model):
    """One pass of the deadline engine; /healthz reports the age of the newest finished one."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("deadline engine run")
        verbose_name_plural = _("deadline engine runs")
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.as_of:%d/%m/%Y}: +{self.opened} / -{self.closed}"


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
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="outgoing_mail", verbose_name=_("campaign")
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


class UnitStatus(models.Model):
    """One row per campaign and unit: where the unit stands on each rule, kept current by the
    report services (for the unit they touched) and the deadline engine (for everyone).

    The dashboard, the unit table and the exports aggregate these rows in a few statements
    instead of working out every unit's state from the reports on each request; at 100,000
    units that is the difference between one scan of one table and a dozen correlated
    subqueries per unit. The rows are derived data: `refresh_unit_status` rebuilds any of them
    from the reports at any time, so nothing is lost if one is stale or missing."""

    class StudyState(models.TextChoices):
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")
        IN_PROGRESS = "in_progress", _("In progress")
        NOT_STARTED = "not_started", _("Not started")
        NOT_APPLICABLE = "na", _("Not applicable")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="statuses")
    # The unit's ancestor directly under the root (a ward committee, an agency's committee...),
    # for the breakdown by ward; the root itself and its direct children have their own id here.
    branch = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copies of the unit's place in the tree and its kind, so that the dashboard's aggregates
    # read this one table: scope is a prefix of `path`, the breakdown groups by `kind`.
    path = models.CharField(max_length=255)
    kind = models.CharField(max_length=32)
    reporting = models.BooleanField(default=False)
    members = models.PositiveIntegerField(default=0)
    attended_total = models.PositiveIntegerField(default=0)
    attended_by_deadline = models.PositiveIntegerField(default=0)
    study_state = models.CharField(max_length=16, choices=StudyState.choices)
    study_completed_on = models.DateField(null=True, blank=True)
    plan_status = models.CharField(max_length=16, blank=True)
    tasks_economy = models.PositiveIntegerField(default=0)
    tasks_culture = models.PositiveIntegerField(default=0)
    tasks_society = models.PositiveIntegerField(default=0)
    reports_total = models.PositiveIntegerField(default=0)
    reports_on_time = models.PositiveIntegerField(default=0)
    initiatives = models.PositiveIntegerField(default=0)
    incidents_open = models.PositiveIntegerField(default=0)
    incidents_stale = models.PositiveIntegerField(default=0)
    awaiting_review = models.PositiveIntegerField(default=0)
    flags_open = models.PositiveIntegerField(default=0)
    flag_study_overdue = models.BooleanField(default=False)
    flag_plan_missing = models.BooleanField(default=False)
    flag_no_breakthrough = models.BooleanField(default=False)
    flag_report_overdue = models.BooleanField(default=False)
    flag_stale_incident = models.BooleanField(default=False)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("unit status")
        verbose_name_plural = _("unit statuses")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="unitstatus_one_per_unit"),
        ]
        indexes = [
            # A subtree is a path prefix; other databases ignore the operator class.
            models.Index(
                fields=["path"], name="unitstatus_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["campaign", "study_state"], name="unitstatus_study_idx"),
            models.Index(fields=["campaign", "branch"], name="unitstatus_branch_idx"),
            models.Index(fields=["campaign", "study_completed_on"], name="unitstatus_done_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} · {self.campaign_id}"

    @property
    def tasks_chosen(self) -> int:
        return self.tasks_economy + self.tasks_culture + self.tasks_society

    @property
    def coverage_percent(self) -> int:
        if not self.members:
            return 0
        return min(100, round(100 * self.attended_total / self.members))


class StatusRollup(models.Model):
    """The status rows summed, so that the overview of 100,000 units adds up a handful of rows
    instead of scanning 100,000. Two levels:

    - "t" (tree): per campaign, tree root (the district) and kind of unit; the district
      overview reads these few rows;
    - "b" (branch): per campaign, branch (the unit directly under the root, or the root
      itself) and kind, plus one row of all kinds (kind "") per branch; a ward's overview and
      the breakdown by ward read these.

    Kept exact by the status refresh: a full refresh rebuilds them; a refresh of a few units
    adds the difference between those units' rows after and before (additions commute, so two
    refreshes of different units at once cannot lose each other's change)."""

    TREE, BRANCH = "t", "b"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=1)
    anchor = models.IntegerField()  # the tree root's or the branch's unit id
    kind = models.CharField(max_length=32, blank=True)
    # Plain integers: a refresh adds differences, which may be negative.
    units = models.IntegerField(default=0)
    reporting_units = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    late = models.IntegerField(default=0)
    in_progress = models.IntegerField(default=0)
    not_started = models.IntegerField(default=0)
    members = models.BigIntegerField(default=0)
    members_covered = models.BigIntegerField(default=0)
    plans_accepted = models.IntegerField(default=0)
    plans_waiting = models.IntegerField(default=0)
    units_with_task = models.IntegerField(default=0)
    units_with_initiative = models.IntegerField(default=0)
    units_flagged = models.IntegerField(default=0)
    tasks_economy = models.IntegerField(default=0)
    tasks_culture = models.IntegerField(default=0)
    tasks_society = models.IntegerField(default=0)
    reports_total = models.IntegerField(default=0)
    reports_on_time = models.IntegerField(default=0)
    initiatives = models.IntegerField(default=0)
    incidents_open = models.IntegerField(default=0)
    incidents_stale = models.IntegerField(default=0)
    awaiting_review = models.IntegerField(default=0)
    flag_study_overdue = models.IntegerField(default=0)
    flag_plan_missing = models.IntegerField(default=0)
    flag_no_breakthrough = models.IntegerField(default=0)
    flag_report_overdue = models.IntegerField(default=0)
    flag_stale_incident = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "level", "anchor", "kind"], name="statusrollup_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.level}{self.anchor} · {self.kind}"


class CompletionRollup(models.Model):
    """How many reporting units of a tree became study-complete on each day (the curve)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    anchor = models.IntegerField()  # the tree root's unit id
    completed_on = models.DateField()
    units = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "anchor", "completed_on"], name="completionrollup_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.anchor} · {self.completed_on}"
