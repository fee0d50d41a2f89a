"""Derived data for the dashboard: one status row per campaign and unit, and their rollups."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


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
        AWAITING = "awaiting", _("Submitted, awaiting the district")
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
    flag_propaganda_short = models.BooleanField(default=False)
    #: Items of the unit waiting for review past the campaign's review time: the district
    #: office's delay, not counted in `flags_open`.
    reviews_overdue = models.PositiveIntegerField(default=0)
    propaganda = models.PositiveIntegerField(default=0)
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
    awaiting = models.IntegerField(default=0)
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
    flag_propaganda_short = models.IntegerField(default=0)
    reviews_overdue = models.IntegerField(default=0)
    propaganda = models.IntegerField(default=0)

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
