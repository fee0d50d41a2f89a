"""What a weekly digest or a reminder says: reads only, bounded per recipient.

A digest for ISO week W goes out on W's Monday and reports what is open now, what opened and
closed during the week before, and the deadlines of the next 14 days. Weeks are counted in
Asia/Ho_Chi_Minh (settings.TIME_ZONE), so Monday 00:30 in Hanoi is already the new week although
it is still Sunday in UTC.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from units.models import DISTRICT_ROLES, Assignment, Unit

from ..flagtexts import describe_flags
from ..models import Campaign, Flag, FlagKind, OutgoingMail
from ..periods import deadline_text, effective_deadline, period_label, reporting_periods
from ..selectors import current_campaign

# Worst first: what the Standing Committee asks about before anything else.
FLAG_SEVERITY = [
    FlagKind.STUDY_OVERDUE,
    FlagKind.PLAN_MISSING,
    FlagKind.NO_BREAKTHROUGH,
    FlagKind.REPORT_OVERDUE,
    FlagKind.STALE_INCIDENT,
    FlagKind.PROPAGANDA_SHORT,
    # The district office's own: items waiting too long for its review.
    FlagKind.REVIEW_OVERDUE,
]
UNITS_LISTED_PER_KIND = 10
UPCOMING_DAYS = 14


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> "IsoWeek":
        """'2024-W15' (the form `date +%G-W%V` prints)."""
        try:
            year_text, week_text = text.upper().split("-W")
            week = cls(int(year_text), int(week_text))
            if not 2000 <= week.year <= 2999:
                raise ValueError
            week.monday  # noqa: B018 - raises ValueError for a week the year does not have
        except ValueError:
            raise ValueError(f"not an ISO week like 2024-W15: {text!r}") from None
        return week

    @classmethod
    def containing(cls, day: date) -> "IsoWeek":
        year, week, _weekday = day.isocalendar()
        return cls(year, week)

    @classmethod
    def current(cls) -> "IsoWeek":
        return cls.containing(timezone.localdate())

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class FlagGroup:
    kind: str
    label: str
    count: int
    flags: list[Flag] = field(default_factory=list)


@dataclass
class Deadline:
    due_on: date  # the effective day (`campaigns.periods.effective_deadline`)
    label: str
    set_on: date | None = None  # the day set, when the deadline moved off a day off

    @property
    def text(self) -> str:
        return deadline_text(self.set_on or self.due_on, self.due_on)


@dataclass
class DigestContent:
    campaign: Campaign
    week: IsoWeek
    unit: Unit | None  # None for the district digest
    groups: list[FlagGroup]
    opened_last_week: int
    closed_last_week: int
    deadlines: list[Deadline]

    @property
    def open_total(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def all_clear(self) -> bool:
        return self.open_total == 0


def upcoming_deadlines(
    campaign: Campaign, *, start: date, days: int = UPCOMING_DAYS
) -> list[Deadline]:
    """Deadlines (effective days) in [start, start + days), labelled in the active language."""
    end = start + timedelta(days=days)

    def moved(set_on: date, label: str) -> Deadline:
        return Deadline(effective_deadline(campaign, set_on), label, set_on)

    candidates = [
        moved(campaign.study_deadline, _("Study and dissemination sessions")),
        moved(campaign.plan_deadline, _("Implementation plan")),
        moved(campaign.breakthrough_deadline, _("Key breakthrough task")),
    ]
    for period in reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    ):
        candidates.append(
            moved(
                period.due_on(campaign.report_grace_days),
                _("Progress reports for %(period)s")
                % {"period": period_label(period.start, campaign.report_frequency)},
            )
        )
    return sorted((d for d in candidates if start <= d.due_on < end), key=lambda d: d.due_on)


def _open_flags(campaign: Campaign, within: list[int] | None) -> QuerySet[Flag]:
    flags = Flag.objects.filter(campaign=campaign, closed_at__isnull=True)
    if within is not None:
        flags = flags.filter(unit_id__in=within)
    return flags


def _name_parents(units: list[Unit]) -> None:
    """Cells are called the same in every ward ("Chi bộ Tổ dân phố số 1"): give each listed
    unit its parent's name too, in one query for the whole digest."""
    steplen = Unit.steplen
    parent_paths = {u.path[:-steplen] for u in units if u.depth > 1}
    # Objects, not values_list: the name descriptor falls back to Vietnamese where English is empty.
    parents = {p.path: p.name for p in Unit.objects.filter(path__in=parent_paths)}
    for unit in units:
        unit.parent_name = parents.get(unit.path[:-steplen], "") if unit.depth > 1 else ""


def digest_content(*, campaign: Campaign, week: IsoWeek, unit: Unit | None) -> DigestContent:
    """The district digest (unit=None) or a unit's digest (its subtree). A fixed number of
    queries: one count per kind, one short list per kind, one for last week's movement."""
    # The subtree's ids first (one indexed prefix scan), then flags by unit id: a subquery here
    # lets PostgreSQL guess a large subtree and scan every flag of a 100,000-unit city.
    within = (
        None
        if unit is None
        else list(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
    )
    open_flags = _open_flags(campaign, within)
    counts = dict(open_flags.order_by().values_list("kind").annotate(n=Count("pk")))
    labels = dict(FlagKind.choices)
    groups = []
    for kind in FLAG_SEVERITY:
        if counts.get(kind):
            listed = list(
                open_flags.filter(kind=kind)
                .select_related("unit")
                .order_by("opened_on", "unit__path")[:UNITS_LISTED_PER_KIND]
            )
            groups.append(
                FlagGroup(kind=kind, label=labels[kind], count=counts[kind], flags=listed)
            )

    _name_parents([flag.unit for group in groups for flag in group.flags])
    listed = [flag for group in groups for flag in group.flags]
    for flag, text in zip(listed, describe_flags(listed, campaign), strict=True):
        flag.text, flag.actor_label = text.text, text.actor_label

    this_monday = _local_midnight(week.monday)
    last_monday = this_monday - timedelta(days=7)
    moved = Flag.objects.filter(campaign=campaign).exclude(kind=FlagKind.STUDY_LATE)
    if within is not None:
        moved = moved.filter(unit_id__in=within)
    movement = moved.aggregate(
        opened=Count("pk", filter=Q(opened_at__gte=last_monday, opened_at__lt=this_monday)),
        closed=Count("pk", filter=Q(closed_at__gte=last_monday, closed_at__lt=this_monday)),
    )
    return DigestContent(
        campaign=campaign,
        week=week,
        unit=unit,
        groups=groups,
        opened_last_week=movement["opened"],
        closed_last_week=movement["closed"],
        deadlines=upcoming_deadlines(campaign, start=week.monday),
    )


def digest_key(week: IsoWeek, user_id: int) -> str:
    """One digest per person and week, whatever the number of campaigns."""
    return f"digest:{week}:user:{user_id}"


@transaction.atomic
def digests_queue_week(*, week: IsoWeek, today: date | None = None) -> list[int]:
    """Write this week's digest rows (one per recipient; rows that exist are left alone) and
    return the ids still waiting to be sent.

    A digest is about the current campaign (`current_campaign`: the one under way on `today`, or
    the one that ended last) once it has begun; the other campaigns' flags stay on their own
    pages. So a person gets one e-mail a week however many campaigns are active, and a week
    whose digest went out about one campaign is not sent again about another."""
    today = today or timezone.localdate()
    campaign = current_campaign(today)
    if campaign is None or campaign.starts_on > today:
        return []
    assignments = (
        Assignment.objects.filter(user__is_active=True, user__receives_digests=True)
        .exclude(user__email="")
        .select_related("unit")
        .order_by("user_id", "unit__depth", "unit__path")
    )
    # One digest per person: the district digest if they hold any district role, otherwise the
    # digest of the highest unit they are assigned to.
    chosen: dict[int, Assignment] = {}
    for assignment in assignments:
        current = chosen.get(assignment.user_id)
        if current is None or (
            assignment.role in DISTRICT_ROLES and current.role not in DISTRICT_ROLES
        ):
            chosen[assignment.user_id] = assignment
    rows = [
        OutgoingMail(
            kind=(
                OutgoingMail.Kind.DISTRICT_DIGEST
                if a.role in DISTRICT_ROLES
                else OutgoingMail.Kind.UNIT_DIGEST
            ),
            dedupe_key=digest_key(week, user_id),
            recipient_id=user_id,
            campaign=campaign,
            unit=None if a.role in DISTRICT_ROLES else a.unit,
            params={"week": str(week)},
        )
        for user_id, a in chosen.items()
    ]
    OutgoingMail.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return list(
        OutgoingMail.objects.filter(
            dedupe_key__startswith=f"digest:{week}:", state=OutgoingMail.State.QUEUED
        ).values_list("pk", flat=True)
    )
