"""R1's rule in SQL: how many members each unit's accepted sessions covered, by the study deadline
and in all, and the study state that follows (on time, late, in progress, not started).

This is the reference statement of the rule, read straight from the sessions. The status rows
(`campaigns.engine.status`) decide the same state in their own upsert, and a test holds the two
equal on every edge; the deadline engine's study flags and the unit page use these annotations.
"""

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

from units.models import REPORTING_KINDS, Unit

from ..models import Campaign, ReviewStatus, StudySession


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
