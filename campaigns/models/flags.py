"""Flags (facts that a unit is behind) and the record of each deadline-engine run."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from units.models import Unit

from .campaign import Campaign


class FlagKind(models.TextChoices):
    STUDY_OVERDUE = "study_overdue", _("Study overdue")
    STUDY_LATE = "study_late", _("Study completed late")
    PLAN_MISSING = "plan_missing", _("Implementation plan missing")
    NO_BREAKTHROUGH = "no_breakthrough", _("No breakthrough task")
    REPORT_OVERDUE = "report_overdue", _("Progress report overdue")
    STALE_INCIDENT = "stale_incident", _("Stale incident")
    PROPAGANDA_SHORT = "propaganda_short", _("Propaganda short")
    REVIEW_OVERDUE = "review_overdue", _("Review overdue")


class Actor(models.TextChoices):
    """Who must act next on a flag."""

    UNIT = "unit", _("the unit")
    COMMITTEE = "committee", _("its committee")
    DISTRICT = "district", _("the district office")


#: Who acts next on each kind of flag. A unit is behind on everything but a review: an item that
#: waits too long for review is the district office's delay, not the unit's, and is not counted
#: among the unit's flags on the dashboard.
FLAG_ACTOR = {kind: Actor.UNIT for kind in FlagKind.values} | {
    FlagKind.REVIEW_OVERDUE: Actor.DISTRICT
}
UNIT_FLAG_KINDS = [kind for kind, actor in FLAG_ACTOR.items() if actor == Actor.UNIT]


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
    # Escalation, part of the flag's history: the day the flag had been open for the campaign's
    # `escalate_to_committee_days` (raised to the unit's committee, the unit right under the
    # district) and `escalate_to_standing_days` (raised to the Standing Committee). Set once by
    # the deadline engine (`campaigns.engine.flags.flags_escalate`) and never again, so a digest
    # announces each step once. Only the unit's own flags escalate; a unit with no committee
    # between it and the district skips the first step.
    escalated_to_committee_on = models.DateField(
        _("escalated to the committee on"), null=True, blank=True
    )
    escalated_to_standing_on = models.DateField(
        _("escalated to the Standing Committee on"), null=True, blank=True
    )

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
    #: Every unit of every campaign re-judged (the weekly safety run, `flag_overdue --full`, a
    #: deadline of a whole campaign passing), rather than only the units whose inputs changed.
    full = models.BooleanField(default=False)
    #: How many units the run re-judged, over its campaigns.
    units_judged = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("deadline engine run")
        verbose_name_plural = _("deadline engine runs")
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.as_of:%d/%m/%Y}: +{self.opened} / -{self.closed}"


class EngineCheckpoint(models.Model):
    """How far the deadline engine has judged a campaign, so that its next run re-judges only
    what changed since (`campaigns.engine.changes`): the units written since `started_at`, the
    units whose own items' time ran out after `judged_on`, and everyone if a setting the whole
    campaign is judged by (`inputs`) is no longer what it was."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    #: The day the flags and status rows are judged as of.
    judged_on = models.DateField()
    #: When the run that judged them began, and the newest history row of each report model
    #: ({"app.model": history_id}) it saw: what was written after either is judged again next
    #: time (by the id too, for rows written with an earlier date: the demo's, the tests').
    started_at = models.DateTimeField()
    history_seen = models.JSONField(default=dict)
    #: A digest of the campaign's settings and the days off, as that run read them.
    inputs = models.CharField(max_length=64)
    #: The day of the last run that re-judged every unit.
    full_on = models.DateField()

    class Meta:
        verbose_name = _("deadline engine checkpoint")
        verbose_name_plural = _("deadline engine checkpoints")

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.judged_on:%d/%m/%Y}"
