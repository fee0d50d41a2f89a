"""The campaign: one year's thematic study, with every deadline and threshold its rules use."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
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
    propaganda_per_quarter = models.PositiveSmallIntegerField(
        _("propaganda activities per quarter"),
        default=1,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "How many propaganda activities each unit is expected to record per quarter; "
            "0 makes them optional."
        ),
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
