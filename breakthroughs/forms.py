from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.periods import period_label, report_deadline, reporting_periods
from campaigns.reporting.evidence import EvidenceField
from campaigns.reporting.forms import (
    EvidenceFormMixin,
    GroupedIntegerField,
    LocalDateField,
    ReportForm,
)

from .models import BreakthroughTask, Initiative, ProgressReport


class BreakthroughTaskForm(ReportForm):
    due_on = LocalDateField(label=_("Due on"))
    dates_in_year = ("due_on",)

    class Meta:
        model = BreakthroughTask
        fields = [
            "field",
            "title_vi",
            "title_en",
            "description_vi",
            "description_en",
            "goal_vi",
            "goal_en",
            "indicator_vi",
            "indicator_en",
            "target",
            "owner",
            "due_on",
        ]
        widgets = {
            "field": forms.RadioSelect,
            "description_vi": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 2}),
            "goal_vi": forms.Textarea(attrs={"rows": 2}),
            "goal_en": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "title_vi": _("Title"),
            "title_en": _("Title (English)"),
            "description_vi": _("Description"),
            "description_en": _("Description (English)"),
            "goal_vi": _("Goal"),
            "goal_en": _("Goal (English)"),
            "indicator_vi": _("Measurable indicator"),
            "indicator_en": _("Measurable indicator (English)"),
        }
        help_texts = {"target": _("The value the indicator should reach, e.g. 100% or 12.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title_vi"].required = True
        self.fields["indicator_vi"].required = True
        self.fields["target"].required = True


class ProgressReportForm(EvidenceFormMixin, ReportForm):
    """One report per task and reporting period (a month or a quarter, by the campaign)."""

    period_start = forms.TypedChoiceField(label=_("Reporting period"), coerce=str)
    percent = GroupedIntegerField(
        label=_("Progress (%)"),
        min_value=0,
        max_value=100,
        error_messages={
            "min_value": _("Progress is a percentage from 0 to 100."),
            "max_value": _("Progress is a percentage from 0 to 100."),
        },
    )
    evidence = EvidenceField(label=_("Evidence"), required=False)
    evidence_fields = {"evidence": "evidence_name"}

    class Meta:
        model = ProgressReport
        fields = ["period_start", "percent", "narrative_vi", "narrative_en", "evidence"]
        widgets = {
            "narrative_vi": forms.Textarea(attrs={"rows": 4}),
            "narrative_en": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"narrative_vi": _("What was done"), "narrative_en": _("What was done (English)")}

    def __init__(self, *args, task: BreakthroughTask, **kwargs):
        self.task = task
        super().__init__(*args, **kwargs)
        self.fields["narrative_vi"].required = True
        periods = [
            p
            for p in reporting_periods(
                starts_on=self.campaign.starts_on,
                ends_on=self.campaign.ends_on,
                frequency=self.campaign.report_frequency,
            )
            if p.start <= self.today
        ]
        self.periods = {p.start.isoformat(): p for p in periods}
        frequency = self.campaign.report_frequency
        # Each period names its due day (moved off a day off like every deadline).
        self.fields["period_start"].choices = [
            (
                key,
                f"{period_label(p.start, frequency)} ({p.start:%d/%m/%Y} – {p.end:%d/%m/%Y}) · "
                + _("due %(date)s") % {"date": report_deadline(self.campaign, p)},
            )
            for key, p in reversed(self.periods.items())
        ]
        if self.instance.pk and not self.is_bound:
            self.initial["period_start"] = self.instance.period_start.isoformat()

    def clean_period_start(self):
        key = self.cleaned_data["period_start"]
        period = self.periods.get(key)
        if period is None:
            raise forms.ValidationError(_("Choose one of the campaign's reporting periods."))
        taken = ProgressReport.objects.filter(task=self.task, period_start=period.start)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("This task already has a report for %(period)s; open it to change it.")
                % {"period": period_label(period.start, self.campaign.report_frequency)}
            )
        return period.start


class InitiativeForm(ReportForm):
    started_on = LocalDateField(label=_("Started on"))
    past_dates_in_year = ("started_on",)

    class Meta:
        model = Initiative
        fields = [
            "name_vi",
            "name_en",
            "description_vi",
            "description_en",
            "started_on",
            "stage",
            "results_vi",
            "results_en",
        ]
        widgets = {
            "stage": forms.RadioSelect,
            "description_vi": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 2}),
            "results_vi": forms.Textarea(attrs={"rows": 3}),
            "results_en": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "name_vi": _("Name"),
            "name_en": _("Name (English)"),
            "description_vi": _("Description"),
            "description_en": _("Description (English)"),
            "results_vi": _("Results"),
            "results_en": _("Results (English)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name_vi"].required = True
