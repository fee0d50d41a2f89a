"""R1's rule in SQL: how many members each unit's accepted sessions covered, by the study deadline
and in all, and the study state that follows (on time, late, awaiting the district, in progress,
not started), as of any day (`campaigns.engine.asof`).

On time means the unit did its part by the deadline (the effective one, moved off a day off by
`campaigns.periods.effective_deadline`): the sessions were held by it and submitted by it (a
returned session counts from its resubmission), and the district has accepted them since.
Sessions that are submitted and wait for review are the district's to act on: a unit whose
accepted and waiting sessions together reach the required share is "awaiting the district", not
overdue.

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
from ..periods import effective_deadline
from ..selectors import with_campaign_members
from .asof import end_of_day, items_as_of


def _attendance(campaign: Campaign, as_of: date | None, *, status: str, on_time=False):
    sessions = items_as_of(StudySession, as_of).filter(
        unit=OuterRef("pk"), campaign=campaign, status=status
    )
    if on_time:
        due = effective_deadline(campaign, campaign.study_deadline)
        sessions = sessions.filter(held_on__lte=due, submitted_at__lt=end_of_day(due))
    total = sessions.order_by().values("unit").annotate(total=Sum("attendees")).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


class StudyState:
    ON_TIME = "on_time"
    LATE = "late"
    AWAITING = "awaiting"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"


def units_with_study_progress(
    units: QuerySet[Unit], campaign: Campaign, as_of: date | None = None
) -> QuerySet[Unit]:
    """Annotates each unit with the member count the campaign judges it on (`counted_members`), the
    accepted attendance (on time and in all), the attendance of sessions awaiting review and the
    attendance its members require, as of `as_of` (the live rows when None), so study state is
    decided in SQL, not in a loop.

    A unit is study-complete when accepted attendance * 100 >= members * required share."""
    accepted = ReviewStatus.ACCEPTED
    return (
        with_campaign_members(units, campaign, name="counted_members")
        .annotate(
            attended_by_deadline=_attendance(campaign, as_of, status=accepted, on_time=True),
            attended_total=_attendance(campaign, as_of, status=accepted),
            attended_waiting=_attendance(campaign, as_of, status=ReviewStatus.SUBMITTED),
            required_x100=ExpressionWrapper(
                F("counted_members") * campaign.required_study_share, output_field=IntegerField()
            ),
        )
        .annotate(
            # Compared in hundredths so that integer SQL arithmetic never rounds a unit into "done".
            by_deadline_x100=ExpressionWrapper(
                F("attended_by_deadline") * 100, output_field=IntegerField()
            ),
            total_x100=ExpressionWrapper(F("attended_total") * 100, output_field=IntegerField()),
            sent_x100=ExpressionWrapper(
                (F("attended_total") + F("attended_waiting")) * 100, output_field=IntegerField()
            ),
        )
    )


def units_reaching_share(
    campaign: Campaign,
    as_of: date | None,
    *,
    statuses: tuple[str, ...],
    units: QuerySet[Unit],
    on_time: bool = False,
) -> QuerySet:
    """The ids of the units whose sessions in `statuses` (as of `as_of`), held and submitted by
    the deadline if `on_time`, reach the required share of their members: the same test as
    `study_state_q`, but one grouped, uncorrelated statement for the engine to use as a set
    (a subquery per unit would read the sessions' history once per unit)."""
    sessions = items_as_of(StudySession, as_of, units).filter(
        campaign=campaign, status__in=statuses
    )
    if on_time:
        due = effective_deadline(campaign, campaign.study_deadline)
        sessions = sessions.filter(held_on__lte=due, submitted_at__lt=end_of_day(due))
    return (
        with_campaign_members(sessions.order_by(), campaign, unit="unit", name="unit_members")
        .values("unit_id", "unit_members")
        .annotate(total=Sum("attendees"))
        .annotate(
            surplus_x100=ExpressionWrapper(
                F("total") * 100 - F("unit_members") * campaign.required_study_share,
                output_field=IntegerField(),
            )
        )
        .filter(total__gt=0, surplus_x100__gte=0)
        .values("unit_id")
    )


def study_state_q(state: str) -> Q:
    on_time = Q(by_deadline_x100__gte=F("required_x100")) & Q(attended_by_deadline__gt=0)
    complete = Q(total_x100__gte=F("required_x100")) & Q(attended_total__gt=0)
    sent = Q(sent_x100__gte=F("required_x100")) & Q(sent_x100__gt=0)
    started = Q(attended_total__gt=0) | Q(attended_waiting__gt=0)
    return {
        StudyState.ON_TIME: on_time,
        StudyState.LATE: complete & ~on_time,
        StudyState.AWAITING: sent & ~complete,
        StudyState.IN_PROGRESS: started & ~sent,
        StudyState.NOT_STARTED: ~started,
    }[state]


def study_state_of(unit: Unit) -> str:
    """For a unit annotated by units_with_study_progress; the same rule as study_state_q (zero
    attendance is never "complete", even for 0 members)."""
    if unit.attended_by_deadline > 0 and unit.attended_by_deadline * 100 >= unit.required_x100:
        return StudyState.ON_TIME
    if unit.attended_total > 0 and unit.attended_total * 100 >= unit.required_x100:
        return StudyState.LATE
    sent = unit.attended_total + unit.attended_waiting
    if sent > 0 and sent * 100 >= unit.required_x100:
        return StudyState.AWAITING
    return StudyState.IN_PROGRESS if sent > 0 else StudyState.NOT_STARTED


@dataclass(frozen=True)
class StudySummary:
    total: int
    on_time: int
    late: int
    awaiting: int
    in_progress: int
    not_started: int
    members: int
    members_covered: int

    @property
    def done(self) -> int:
        return self.on_time + self.late

    def percent(self, count: int) -> int:
        return round(100 * count / self.total) if self.total else 0


def study_summary(
    *, campaign: Campaign, within: QuerySet[Unit], as_of: date | None = None
) -> StudySummary:
    """Counts of reporting units per study state, in one statement."""
    units = units_with_study_progress(
        within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign, as_of
    )
    figures = units.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=study_state_q(StudyState.ON_TIME)),
        late=Count("pk", filter=study_state_q(StudyState.LATE)),
        awaiting=Count("pk", filter=study_state_q(StudyState.AWAITING)),
        in_progress=Count("pk", filter=study_state_q(StudyState.IN_PROGRESS)),
        not_started=Count("pk", filter=study_state_q(StudyState.NOT_STARTED)),
        members=Coalesce(Sum("counted_members"), 0),
        # A unit that studied twice covers its own members once: its surplus must not hide
        # another unit's shortfall.
        members_covered=Coalesce(
            Sum(Least("attended_total", "counted_members", output_field=IntegerField())), 0
        ),
    )
    return StudySummary(**figures)


def study_summary_by_kind(
    *, campaign: Campaign, within: QuerySet[Unit], as_of: date | None = None
) -> list[dict]:
    units = units_with_study_progress(
        within.filter(kind__in=REPORTING_KINDS, is_active=True), campaign, as_of
    )
    rows = (
        units.order_by()
        .values("kind")
        .annotate(
            total=Count("pk"),
            on_time=Count("pk", filter=study_state_q(StudyState.ON_TIME)),
            late=Count("pk", filter=study_state_q(StudyState.LATE)),
            awaiting=Count("pk", filter=study_state_q(StudyState.AWAITING)),
            in_progress=Count("pk", filter=study_state_q(StudyState.IN_PROGRESS)),
            not_started=Count("pk", filter=study_state_q(StudyState.NOT_STARTED)),
        )
        .order_by("kind")
    )
    labels = dict(Unit._meta.get_field("kind").choices)
    return [{**row, "label": labels[row["kind"]]} for row in rows]
