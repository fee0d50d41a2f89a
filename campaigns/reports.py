"""The kinds of report a unit submits, in one table, so that the pages, the review workflow and
the URL-walking tests treat all six alike. The slug is the URL segment: /units/<code>/<slug>/…"""

from dataclasses import dataclass

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from breakthroughs.forms import BreakthroughTaskForm, InitiativeForm, ProgressReportForm
from breakthroughs.models import BreakthroughTask, Initiative, ProgressReport

from .forms import (
    ImplementationPlanForm,
    IncidentForm,
    ReportForm,
    StudySessionForm,
)
from .models import ImplementationPlan, Incident, StudySession


@dataclass(frozen=True)
class ReportKind:
    slug: str
    rule: str
    model: type[Model]
    form_class: type[ReportForm]
    label: Promise
    add_label: Promise
    file_field: str | None = None
    file_name_field: str | None = None
    #: Only party cells and committees report it (R1-R3, R5); R4 is for every unit.
    reporting_units_only: bool = True
    #: Created from a task's page, not from the unit page.
    belongs_to_task: bool = False
    #: At most one per unit and campaign.
    one_per_unit: bool = False

    @property
    def model_label(self) -> str:
        return self.model._meta.label_lower


REPORT_KINDS: dict[str, ReportKind] = {
    kind.slug: kind
    for kind in (
        ReportKind(
            "sessions",
            "R1",
            StudySession,
            StudySessionForm,
            _("Study session"),
            _("Record a study session"),
            file_field="minutes",
            file_name_field="minutes_name",
        ),
        ReportKind(
            "plans",
            "R2",
            ImplementationPlan,
            ImplementationPlanForm,
            _("Implementation plan"),
            _("Record the implementation plan"),
            file_field="document",
            file_name_field="document_name",
            one_per_unit=True,
        ),
        ReportKind(
            "tasks",
            "R3",
            BreakthroughTask,
            BreakthroughTaskForm,
            _("Key breakthrough task"),
            _("Choose a breakthrough task"),
        ),
        ReportKind(
            "reports",
            "R3",
            ProgressReport,
            ProgressReportForm,
            _("Progress report"),
            _("Report progress"),
            file_field="evidence",
            file_name_field="evidence_name",
            belongs_to_task=True,
        ),
        ReportKind(
            "initiatives",
            "R4",
            Initiative,
            InitiativeForm,
            _("New model"),
            _("Record a new model"),
            reporting_units_only=False,
        ),
        ReportKind(
            "incidents",
            "R5",
            Incident,
            IncidentForm,
            _("Incident"),
            _("Record an incident"),
        ),
    )
}

KIND_BY_MODEL: dict[str, ReportKind] = {kind.model_label: kind for kind in REPORT_KINDS.values()}


def kind_of(item: Model) -> ReportKind:
    return KIND_BY_MODEL[item._meta.label_lower]


class ReportKindConverter:
    regex = "|".join(REPORT_KINDS)

    def to_python(self, value: str) -> ReportKind:
        return REPORT_KINDS[value]

    def to_url(self, value) -> str:
        return value.slug if isinstance(value, ReportKind) else str(value)
