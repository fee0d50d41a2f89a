"""The campaign: one year's thematic study, with every deadline and threshold its rules use."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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
    review_days = models.PositiveSmallIntegerField(
        _("review time (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_(
            "An item submitted for review and not accepted or returned within this many working "
            "days is flagged to the district office."
        ),
    )
    two_level_review = models.BooleanField(
        _("two-level review"),
        default=False,
        help_text=_(
            "The committee of each ward or grassroots party organisation reviews its own party "
            "cells' reports first and passes them on to the district office, which sees only "
            "what a committee passed (and the reports of units directly under the district)."
        ),
    )
    propaganda_per_quarter = models.PositiveSmallIntegerField(
        _("propaganda activities per quarter"),
        default=1,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "How many propaganda activities each unit is expected to record per quarter; "
            "0 makes them optional."
        ),
    )
    # Escalation (`campaigns.engine.flags.flags_escalate`): a unit's flag open this many days is
    # raised to the unit's committee, then to the Standing Committee.
    escalate_to_committee_days = models.PositiveSmallIntegerField(
        _("escalate to the committee after (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "A unit's flag still open after this many days is raised to the committee the unit "
            "belongs to (its ward or grassroots party committee): in the committee secretary's "
            "digest and on the committee's page."
        ),
    )
    escalate_to_standing_days = models.PositiveSmallIntegerField(
        _("escalate to the Standing Committee after (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_(
            "A unit's flag still open after this many days is raised to the Standing Committee, "
            "in the district digest. Must be more than the days before the committee is told."
        ),
    )
    reminder_days = models.JSONField(
        _("reminder days before a deadline"),
        default=default_reminder_days,
        help_text=_("Units that have not met a deadline are reminded this many days before it."),
    )
    deadlines_on_working_days = models.BooleanField(
        _("deadlines on working days"),
        default=True,
        help_text=_(
            "A deadline that falls on a weekend, a public holiday or a day off added by the "
            "district office moves to the next working day."
        ),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "Two active campaigns cannot overlap in dates; the pages show the one under way."
        ),
    )
    # When the member counts the campaign is judged on were taken (CampaignMembers), and by whom
    # (empty for the demo's): set by the services in campaigns.setup, never typed.
    members_taken_at = models.DateTimeField(
        _("member counts taken at"), null=True, blank=True, editable=False
    )
    members_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member counts taken by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

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
            # The Standing Committee hears of a flag after the unit's committee, never before.
            models.CheckConstraint(
                condition=Q(escalate_to_standing_days__gt=F("escalate_to_committee_days")),
                name="campaign_escalation_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.short_title

    def deadline_fields(self) -> list[str]:
        """Every date of the campaign other than its first and last day: the deadlines."""
        return [
            field.name
            for field in self._meta.concrete_fields
            if isinstance(field, models.DateField)
            and not isinstance(field, models.DateTimeField)
            and field.name not in ("starts_on", "ends_on")
        ]

    def clean(self) -> None:
        """Dates in order, deadlines inside the campaign, and no other active campaign on the
        same days: pages and digests pick the campaign under way by date, so two active ones
        over the same days would make "the current campaign" a guess."""
        super().clean()
        start, end = self.starts_on, self.ends_on
        if start is None or end is None:
            return
        errors: dict[str, str] = {}
        if end < start:
            errors["ends_on"] = gettext("The campaign cannot end before it starts (%(start)s).") % {
                "start": _day(start)
            }
        elif self.year and start.year != self.year:
            errors["starts_on"] = gettext("The campaign must start in its own year, %(year)s.") % {
                "year": self.year
            }
        else:
            for name in self.deadline_fields():
                day = getattr(self, name)
                if day is not None and not start <= day <= end:
                    errors[name] = gettext(
                        "The deadline must fall within the campaign, from %(start)s to %(end)s."
                    ) % {"start": _day(start), "end": _day(end)}
        committee, standing = self.escalate_to_committee_days, self.escalate_to_standing_days
        if committee is not None and standing is not None and standing <= committee:
            errors["escalate_to_standing_days"] = gettext(
                "The Standing Committee is told after the unit's committee: give more than "
                "%(days)s days."
            ) % {"days": committee}
        if not errors and self.is_active:
            other = (
                Campaign.objects.filter(is_active=True, starts_on__lte=end, ends_on__gte=start)
                .exclude(pk=self.pk)
                .order_by("starts_on")
                .first()
            )
            if other is not None:
                errors["starts_on"] = gettext(
                    "These dates overlap those of “%(other)s” (%(start)s to %(end)s), which is "
                    "active too; only one campaign can be active at a time. Change the dates or "
                    "make one of them inactive."
                ) % {
                    "other": other.short_title,
                    "start": _day(other.starts_on),
                    "end": _day(other.ends_on),
                }
        if errors:
            raise ValidationError(errors)


def _day(day) -> str:
    return formats.date_format(day, "d/m/Y")
