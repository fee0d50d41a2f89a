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
from django.db.models.functions import Coalesce, Least

from breakthroughs.models import BreakthroughTask, Initiative
from units.models import REPORTING_KINDS, Unit

from .models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    ImplementationPlan,
    Incident,
    OutgoingMail,
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
        by_deadline_x100=ExpressionWrapper(
            F("attended_by_deadline") * 100, output_field=IntegerField()
        ),
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
    # Same rule as study_state_q: zero attendance is never "complete", even for 0 members.
    if unit.attended_by_deadline > 0 and unit.attended_by_deadline * 100 >= unit.required_x100:
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
    units = units_with_study_progress(
        within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign
    )
    figures = units.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=study_state_q(StudyState.ON_TIME)),
        late=Count("pk", filter=study_state_q(StudyState.LATE)),
        in_progress=Count("pk", filter=study_state_q(StudyState.IN_PROGRESS)),
        not_started=Count("pk", filter=study_state_q(StudyState.NOT_STARTED)),
        members=Coalesce(Sum("member_count"), 0),
        # A unit that studied twice covers its own members once: its surplus must not hide
        # another unit's shortfall.
        members_covered=Coalesce(
            Sum(Least("attended_total", "member_count", output_field=IntegerField())), 0
        ),
    )
    return StudySummary(**figures)


def study_summary_by_kind(*, campaign: Campaign, within: QuerySet[Unit]) -> list[dict]:
    units = units_with_study_progress(
        within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign
    )
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


def failed_mail(*, limit: int) -> list[OutgoingMail]:
    """E-mails the app gave up on, newest first, for the staff to follow up by phone."""
    return list(
        OutgoingMail.objects.filter(state=OutgoingMail.State.FAILED)
        .select_related("recipient", "unit")
        .order_by("-created_at")[:limit]
    )


def last_engine_failure() -> DeadlineEngineRun | None:
    """The newest run if it failed (an older failure already fixed by a later run is not news)."""
    newest = (
        DeadlineEngineRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    )
    return newest if newest is not None and newest.error else None


def last_engine_run() -> DeadlineEngineRun | None:
    return (
        DeadlineEngineRun.objects.filter(finished_at__isnull=False, error="")
        .order_by("-finished_at")
        .first()
    )


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
    initiatives = list(
        Initiative.objects.filter(campaign=campaign, unit=unit).order_by("-started_on")[:50]
    )
    incidents = list(
        Incident.objects.filter(campaign=campaign, unit=unit).order_by("-opened_on")[:50]
    )
    flags = list(
        Flag.objects.filter(campaign=campaign, unit=unit, closed_at__isnull=True).order_by("kind")
    )
    return {
        "study_state": study_state_of(annotated),
        "attended_total": annotated.attended_total,
        "attended_by_deadline": annotated.attended_by_deadline,
        "required_attendance": -(-annotated.required_x100 // 100),
        "coverage_percent": (
            min(100, round(100 * annotated.attended_total / unit.member_count))
            if unit.member_count
            else 0
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
    """The units directly below, each with its standing on R1-R3 and its open flags, in one
    statement (correlated subqueries, not a query per child)."""
    plans = ImplementationPlan.objects.filter(campaign=campaign, unit=OuterRef("pk"))
    tasks = (
        BreakthroughTask.objects.filter(
            campaign=campaign,
            unit=OuterRef("pk"),
            status__in=(ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED),
        )
        .order_by()
        .values("unit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    flags = (
        Flag.objects.filter(campaign=campaign, unit=OuterRef("pk"), closed_at__isnull=True)
        .order_by()
        .values("unit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    children = (
        units_with_study_progress(
            Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1), campaign
        )
        .annotate(
            plan_status=Subquery(plans.values("status")[:1]),
            chosen_tasks=Coalesce(Subquery(tasks, output_field=IntegerField()), Value(0)),
            open_flags=Coalesce(Subquery(flags, output_field=IntegerField()), Value(0)),
        )
        .order_by("path")
    )
    result = list(children)
    for child in result:
        child.study_state = study_state_of(child) if child.kind in REPORTING_KINDS else None
    return result


def unit_checklist(
    *, unit: Unit, campaign: Campaign, overview: dict, today: date
) -> list[ChecklistItem]:
    """The unit's standing against R1-R5, next deadline first. Texts are translated at call time,
    so the caller decides the language."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    reporting = unit.kind in REPORTING_KINDS
    items: list[ChecklistItem] = []

    def deadline_state(done: bool, due: date, returned: bool = False) -> str:
        if done:
            return "done"
        if returned:
            return "returned"
        return "overdue" if today > due else "pending"

    if reporting:
        state = overview["study_state"]
        detail = _("%(attended)s attended in accepted sessions; %(required)s required") % {
            "attended": overview["attended_total"],
            "required": overview["required_attendance"],
        }
        returned = any(s.status == ReviewStatus.RETURNED for s in overview["sessions"])
        items.append(
            ChecklistItem(
                "R1",
                _("Study and dissemination sessions"),
                deadline_state(
                    state in (StudyState.ON_TIME, StudyState.LATE),
                    campaign.study_deadline,
                    returned,
                ),
                detail,
                campaign.study_deadline,
            )
        )
        plan = overview["plan"]
        if plan is None:
            plan_detail = _("No plan recorded yet")
        else:
            plan_detail = _("Plan %(number)s: %(status)s") % {
                "number": plan.number,
                "status": plan.get_status_display(),
            }
        items.append(
            ChecklistItem(
                "R2",
                _("Implementation plan"),
                deadline_state(
                    plan is not None and plan.status == ReviewStatus.ACCEPTED,
                    campaign.plan_deadline,
                    plan is not None and plan.status == ReviewStatus.RETURNED,
                ),
                plan_detail,
                campaign.plan_deadline,
            )
        )
        chosen = [
            t
            for t in overview["tasks"]
            if t.status in (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)
        ]
        items.append(
            ChecklistItem(
                "R3",
                _("Key breakthrough task"),
                deadline_state(
                    bool(chosen),
                    campaign.breakthrough_deadline,
                    any(t.status == ReviewStatus.RETURNED for t in overview["tasks"]),
                ),
                ngettext("%(count)d task chosen", "%(count)d tasks chosen", len(chosen))
                % {"count": len(chosen)},
                campaign.breakthrough_deadline,
            )
        )
    initiatives = overview["initiatives"]
    items.append(
        ChecklistItem(
            "R4",
            _("New models"),
            "done" if initiatives else "pending",
            ngettext("%(count)d new model", "%(count)d new models", len(initiatives))
            % {"count": len(initiatives)},
            None,
        )
    )
    if reporting:
        open_incidents = overview["open_incidents"]
        limit = campaign.incident_age_limit_days
        stale = [i for i in open_incidents if (today - i.opened_on).days > limit]
        items.append(
            ChecklistItem(
                "R5",
                _("Pressing local incidents"),
                "overdue" if stale else "done",
                ngettext("%(count)d incident open", "%(count)d incidents open", len(open_incidents))
                % {"count": len(open_incidents)},
                None,
            )
        )
    # Next deadline first: items with a date (open ones soonest first, then those done), then
    # those without one; an overdue item without a date (stale incidents) stays on top.
    return sorted(
        items,
        key=lambda item: (
            item.due_on is None and item.state != "overdue",
            item.state == "done",
            item.due_on or today,
            item.rule,
        ),
    )
