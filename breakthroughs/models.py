from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Reviewable, evidence_path, queue_index
from campaigns.periods import period_label
from units.models import Unit


class Field(models.TextChoices):
    ECONOMY = "economy", _("Economy")
    CULTURE = "culture", _("Culture")
    SOCIETY = "society", _("Society")


class BreakthroughTask(Reviewable):
    """R3: a key breakthrough task (nhiệm vụ trọng tâm, đột phá) a unit chose for the year."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        related_name="breakthrough_tasks",
        verbose_name=_("campaign"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="breakthrough_tasks", verbose_name=_("unit")
    )
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    title = models.CharField(_("title"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    goal = models.TextField(_("goal"), blank=True)
    indicator = models.CharField(_("indicator"), max_length=255, blank=True)
    target = models.CharField(_("target"), max_length=120, blank=True)
    owner = models.CharField(_("person in charge"), max_length=255, blank=True)
    due_on = models.DateField(_("due on"))

    class Meta:
        verbose_name = _("breakthrough task")
        verbose_name_plural = _("breakthrough tasks")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["campaign", "unit", "field"], name="task_scope_idx"),
            queue_index("task_queue_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProgressReport(Reviewable):
    """A periodic progress report on a breakthrough task; one per task and reporting period."""

    task = models.ForeignKey(
        BreakthroughTask, on_delete=models.PROTECT, related_name="reports", verbose_name=_("task")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="progress_reports", verbose_name=_("unit")
    )
    # First day of the reporting period (a month or a quarter, by the campaign's frequency).
    period_start = models.DateField(_("period start"))
    percent = models.PositiveSmallIntegerField(_("progress (%)"))
    narrative = models.TextField(_("narrative"))
    evidence = models.FileField(_("evidence"), upload_to=evidence_path, blank=True, max_length=255)
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-period_start", "-pk"]
        # Reached through their task's campaign: by the queue's order alone.
        indexes = [queue_index("report_queue_idx", by_campaign=False)]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "period_start"], name="report_one_per_task_period"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="report_percent_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.period_label} · {self.percent}%"

    @property
    def period_label(self) -> str:
        """The period as people say it, in the active language: "Quý II/2024", "Q2 2024"."""
        return period_label(self.period_start, self.task.campaign.report_frequency)


class Initiative(Reviewable):
    """R4: a new model (mô hình mới) built by a grassroots organisation, the Front or a mass
    organisation."""

    class Stage(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="initiatives", verbose_name=_("campaign")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="initiatives", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    started_on = models.DateField(_("started on"))
    stage = models.CharField(
        _("stage"), max_length=16, choices=Stage.choices, default=Stage.PLANNED
    )
    results = models.TextField(_("results"), blank=True)

    class Meta:
        verbose_name = _("new model")
        verbose_name_plural = _("new models")
        ordering = ["-started_on", "-pk"]
        indexes = [queue_index("initiative_queue_idx")]

    def __str__(self) -> str:
        return self.name
