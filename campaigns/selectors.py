"""Reads the campaign pages and jobs need, scoped and aggregated in the database."""

from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from breakthroughs.models import BreakthroughTask, Initiative
from units.models import REPORTING_KINDS, Unit

from .models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    ImplementationPlan,
    Incident,
    ReviewStatus,
    StudySession,
)


def current_campaign() -> Campaign | None:
    """The active campaign with the latest year; pages show it unless told otherwise."""
    return Campaign.objects.filter(is_active=True).order_by("-year", "-pk").first()


def _accepted_attendance(campaign: Campaign, *, until: date | None) -> Subquery:
    sessions = StudySession.objects.filter(
        unit=OuterRef("pk"), campaign=campaign, status=ReviewStatus.ACCEPTED
    )
    if until is not None:
        sessions = sessions.filter(held_on__lte=until)
    total = sessions.order_by().values("unit").annotate(total=Sum("attendees")).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


class StudyState:
    ON_TIME = "on_time"
    LATE = "late"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


def units_with_study_progress(units: QuerySet[Unit], campaign: Campaign) -> QuerySet[Unit]:
    """Annotates each unit with the accepted attendance (by the deadline and in all) and the
    attendance its member count requires, so study state is decided in SQL, not in a loop.

    A unit is study-complete when accepted attendance * 100 >= members * required share."""
    return units.annotate(
        attended_by_deadline=_accepted_attendance(campaign, until=campaign.study_deadline),
        attended_total=_accepted_attendance(campaign, until=None),
        required_x100=ExpressionWrapper(
            F("member_count") * campaign.required_study_share, output_field=IntegerField()
        ),
    ).annotate(
        # Compared in hundredths so that integer SQL arithmetic never rounds a unit into "done".
        by_deadline_x100=ExpressionWrapper(F("attended_by_deadline") * 100, output_field=IntegerField()),
        total_x100=ExpressionWrapper(F("attended_total") * 100, output_field=IntegerField()),
    )


def study_state_q(state: str) -> Q:
    on_time = Q(by_deadline_x100__gte=F("required_x100")) & Q(attended_by_deadline__gt=0)
    complete = Q(total_x100__gte=F("required_x100")) & Q(attended_total__gt=0)
    return {
        StudyState.ON_TIME: on_time,
        StudyState.LATE: complete & ~on_time,
        StudyState.IN_PROGRESS: Q(attended_total__gt=0) & ~complete,
        StudyState.NOT_STARTED: Q(attended_total=0),
    }[state]


def study_state_of(unit: Unit) -> str:
    """For a unit annotated by units_with_study_progress."""
    if unit.attended_total == 0:
        return StudyState.NOT_STARTED
    if unit.attended_by_deadline * 100 >= unit.required_x100:
        return StudyState.ON_TIME
    if unit.attended_total * 100 >= unit.required_x100:
        return StudyState.LATE
    return StudyState.IN_PROGRESS


@dataclass(frozen=True)
class StudySummary:
    total: int
    on_time: int
    late: int
    in_progress: int
    not_started: int
    members: int
    members_covered: int

    @property
    def done(self) -> int:
        return self.on_time + self.late

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0


def study_summary(*, campaign: Campaign, within: QuerySet[Unit]) -> StudySummary:
    """Counts of reporting units per study state, in one statement."""
    units = units_with_study_progress(within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign)
    figures = units.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=study_state_q(StudyState.ON_TIME)),
        late=Count("pk", filter=study_state_q(StudyState.LATE)),
        in_progress=Count("pk", filter=study_state_q(StudyState.IN_PROGRESS)),
        not_started=Count("pk", filter=study_state_q(StudyState.NOT_STARTED)),
        members=Coalesce(Sum("member_count"), 0),
    )
    covered = StudySession.objects.filter(
        campaign=campaign, status=ReviewStatus.ACCEPTED, unit__in=units.values("pk")
    ).aggregate(total=Coalesce(Sum("attendees"), 0))["total"]
    return StudySummary(members_covered=min(covered, figures["members"]), **figures)


def study_summary_by_kind(*, campaign: Campaign, within: QuerySet[Unit]) -> list[dict]:
    units = units_with_study_progress(within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign)
    rows = (
        units.order_by()
        .values("kind")
        .annotate(
            total=Count("pk"),
            on_time=Count("pk", filter=study_state_q(StudyState.ON_TIME)),
            late=Count("pk", filter=study_state_q(StudyState.LATE)),
            in_progress=Count("pk", filter=study_state_q(StudyState.IN_PROGRESS)),
            not_started=Count("pk", filter=study_state_q(StudyState.NOT_STARTED)),
        )
        .order_by("kind")
    )
    labels = dict(Unit._meta.get_field("kind").choices)
    return [{**row, "label": labels[row["kind"]]} for row in rows]


def open_flag_counts(*, campaign: Campaign, within: QuerySet[Unit]) -> dict[str, int]:
    rows = (
        Flag.objects.filter(campaign=campaign, closed_at__isnull=True, unit__in=within.values("pk"))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    )
    return {row["kind"]: row["n"] for row in rows}


def last_engine_run() -> DeadlineEngineRun | None:
    return DeadlineEngineRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


@dataclass(frozen=True)
class ChecklistItem:
    rule: str
    title: str
    state: str  # done / pending / overdue / returned / not_applicable
    detail: str
    due_on: date | None


def unit_overview(*, unit: Unit, campaign: Campaign) -> dict:
    """Everything the unit page shows about one unit, in a fixed number of queries."""
    annotated = units_with_study_progress(Unit.objects.filter(pk=unit.pk), campaign).get()
    sessions = list(
        StudySession.objects.filter(campaign=campaign, unit=unit).order_by("-held_on", "-pk")[:50]
    )
    plan = ImplementationPlan.objects.filter(campaign=campaign, unit=unit).first()
    tasks = list(
        BreakthroughTask.objects.filter(campaign=campaign, unit=unit)
        .annotate(report_count=Count("reports"))
        .order_by("due_on", "pk")
    )
    initiatives = list(Initiative.objects.filter(campaign=campaign, unit=unit).order_by("-started_on")[:50])
    incidents = list(Incident.objects.filter(campaign=campaign, unit=unit).order_by("-opened_on")[:50])
    flags = list(Flag.objects.filter(campaign=campaign, unit=unit, closed_at__isnull=True).order_by("kind"))
    return {
        "study_state": study_state_of(annotated),
        "attended_total": annotated.attended_total,
        "attended_by_deadline": annotated.attended_by_deadline,
        "required_attendance": -(-annotated.required_x100 // 100),
        "coverage_percent": (
            min(100, round(100 * annotated.attended_total / unit.member_count)) if unit.member_count else 0
        ),
        "sessions": sessions,
        "plan": plan,
        "tasks": tasks,
        "task_fields": sorted({t.field for t in tasks if t.status != ReviewStatus.RETURNED}),
        "initiatives": initiatives,
        "incidents": incidents,
        "open_incidents": [i for i in incidents if i.resolved_on is None],
        "flags": flags,
    }


def child_units_with_study(*, unit: Unit, campaign: Campaign) -> list[Unit]:
    children = units_with_study_progress(
        Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1), campaign
    ).order_by("path")
    result = list(children)
    for child in result:
        child.study_state = study_state_of(child) if child.kind in REPORTING_KINDS else None
    return result
