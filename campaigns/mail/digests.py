"""What a weekly digest says: reads only, bounded per recipient.

The digest for ISO week W describes W: the state at the end of its Sunday (the flags open then,
the review backlog then) and what changed during it (flags opened and closed, items accepted and
returned), then the deadlines of the 14 days after it. It goes out on the Monday after W (the
Monday job, or the sweeper catching up a lost Monday), and `send_digests --week W` sends it again
later unchanged: a past week is read as it stood, never as it stands now. A week still under way
is described as of today. Weeks are counted in Asia/Ho_Chi_Minh (settings.TIME_ZONE), so Monday
00:30 in Hanoi is already the new week although it is still Sunday in UTC.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from units.models import DISTRICT_ROLES, Assignment, Unit
from units.selectors import attach_committee_names

from ..flagtexts import describe_flags
from ..models import COMMITTEE_DEPTH, Campaign, Flag, FlagKind, OutgoingMail
from ..periods import deadline_text, effective_deadline, period_label, reporting_periods
from ..registry import ChecklistItem
from ..selectors import current_campaign
from .agenda import (
    Escalations,
    ReviewBacklog,
    Reviewed,
    UnitToCall,
    escalated_flags,
    open_as_of,
    review_backlog,
    reviewed_during,
    unit_todo,
    units_to_call,
)

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

    @classmethod
    def last_complete(cls) -> "IsoWeek":
        """The week that ended last Sunday in Hanoi: the one this Monday's digest is for."""
        return cls.containing(timezone.localdate() - timedelta(days=7))

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def previous(self) -> "IsoWeek":
        return IsoWeek.containing(self.monday - timedelta(days=7))

    def label(self) -> str:
        """The week as people say it, in the active language: "tuần 15, 08/04–14/04/2024" /
        "week 15, 8–14 Apr 2024" (the year on both days when the week spans two)."""
        first, last = self.monday, self.sunday
        if (get_language() or "vi").startswith("vi"):
            start = f"{first:%d/%m}" if first.year == last.year else f"{first:%d/%m/%Y}"
            days = f"{start}–{last:%d/%m/%Y}"
        else:
            if first.year != last.year:
                start = formats.date_format(first, "j M Y")
            elif first.month != last.month:
                start = formats.date_format(first, "j M")
            else:
                start = str(first.day)
            days = f"{start}–{formats.date_format(last, 'j M Y')}"
        return _("week %(number)s, %(days)s") % {"number": self.week, "days": days}

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


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
    #: The day the digest describes: the week's Sunday, or today for a week still under way.
    as_of: date
    groups: list[FlagGroup]
    opened_in_week: int
    closed_in_week: int
    reviewed: Reviewed
    deadlines: list[Deadline]
    #: Whether the unit has units below it (a cell has none: its digest says nothing of them).
    has_units_below: bool = False
    #: The district digest's "what the office must do this week".
    backlog: ReviewBacklog | None = None
    units_behind: int = 0
    units_to_call: list[UnitToCall] = field(default_factory=list)
    #: District: flags raised to the Standing Committee; a committee: its units' flags raised
    #: to it.
    escalated: Escalations | None = None
    #: District: how many open flags were raised to the committees (they act first).
    escalated_to_committees: int = 0
    #: A unit digest's opening: its checklist lines not yet done, next deadline first.
    todo: list[ChecklistItem] = field(default_factory=list)

    @property
    def week_label(self) -> str:
        return self.week.label()

    @property
    def open_total(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def all_clear(self) -> bool:
        """Nothing open, nothing waiting for review, nothing raised: the short all-clear (which a
        person may choose not to receive)."""
        return (
            self.open_total == 0
            and (self.backlog is None or self.backlog.total == 0)
            and (self.escalated is None or self.escalated.count == 0)
        )


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


def digest_day(week: IsoWeek, today: date | None = None) -> date:
    """The day a digest for `week` describes: its Sunday, or today while the week is under way."""
    return min(week.sunday, today or timezone.localdate())


def digest_content(
    *, campaign: Campaign, week: IsoWeek, unit: Unit | None, today: date | None = None
) -> DigestContent:
    """The district digest (unit=None) or a unit's digest (its subtree) for `week`, as of its
    end. A fixed number of queries whatever the number of units and flags: one count per kind,
    one short list per kind, the listed units' committees, the week's movement, and the
    reader's agenda (`campaigns.mail.agenda`: about one query per report kind)."""
    as_of = digest_day(week, today)
    # The subtree's ids first (one indexed prefix scan), then flags by unit id: a subquery here
    # lets PostgreSQL guess a large subtree and scan every flag of a 100,000-unit city.
    within = (
        None
        if unit is None
        else list(Unit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
    )
    flags = Flag.objects.filter(campaign=campaign)
    if within is not None:
        flags = flags.filter(unit_id__in=within)
    open_flags = flags.filter(open_as_of(as_of), kind__in=FLAG_SEVERITY)
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

    listed = [flag for group in groups for flag in group.flags]
    attach_committee_names(flag.unit for flag in listed)
    for flag, text in zip(listed, describe_flags(listed, campaign), strict=True):
        flag.text, flag.actor_label = text.text, text.actor_label

    # The week's movement, by the days flags opened and closed on ("study completed late" is
    # history written opened and closed at once, not movement).
    movement = flags.exclude(kind=FlagKind.STUDY_LATE).aggregate(
        opened=Count("pk", filter=Q(opened_on__gte=week.monday, opened_on__lte=as_of)),
        closed=Count("pk", filter=Q(closed_on__gte=week.monday, closed_on__lte=as_of)),
    )
    content = DigestContent(
        campaign=campaign,
        week=week,
        unit=unit,
        as_of=as_of,
        groups=groups,
        opened_in_week=movement["opened"],
        closed_in_week=movement["closed"],
        reviewed=reviewed_during(campaign=campaign, monday=week.monday, as_of=as_of, within=within),
        deadlines=upcoming_deadlines(campaign, start=as_of + timedelta(days=1)),
        has_units_below=within is not None and len(within) > 1,
    )
    if unit is None:
        content.backlog = review_backlog(campaign=campaign, as_of=as_of)
        content.units_behind, content.units_to_call = units_to_call(campaign=campaign, as_of=as_of)
        content.escalated = escalated_flags(
            campaign=campaign, monday=week.monday, as_of=as_of, step="standing"
        )
        content.escalated_to_committees = flags.filter(
            open_as_of(as_of), escalated_to_committee_on__lte=as_of
        ).count()
    else:
        content.todo = unit_todo(unit=unit, campaign=campaign, as_of=as_of)
        if unit.depth == COMMITTEE_DEPTH and content.has_units_below:
            content.escalated = escalated_flags(
                campaign=campaign,
                monday=week.monday,
                as_of=as_of,
                step="committee",
                within=within,
                below=unit,
            )
            if campaign.two_level_review:
                content.backlog = review_backlog(campaign=campaign, as_of=as_of, committee=unit)
    return content


def digest_key(week: IsoWeek, user_id: int) -> str:
    """One digest per person and week, whatever the number of campaigns."""
    return f"digest:{week}:user:{user_id}"


@transaction.atomic
def digests_queue_week(
    *, week: IsoWeek, today: date | None = None, unless_queued: bool = False
) -> list[int]:
    """Write the digest rows for `week` (one per recipient; rows that exist are left alone) and
    return the ids still waiting to be sent. With `unless_queued` (the sweeper catching up a
    lost Monday), write nothing if the week has any digest row already.

    A digest is about the campaign current at the end of the week (`current_campaign`: the one
    under way then, or the one that ended last) once it has begun; the other campaigns' flags
    stay on their own pages. So a person gets one e-mail a
    week however many campaigns are active, and a week whose digest went out about one campaign
    is not sent again about another.

    The campaign's row is locked first (PostgreSQL; SQLite writes one transaction at a time),
    so the Monday job and a catch-up, or two workers, decide one after the other: the second
    sees the first one's rows. The unique dedupe keys hold even without the lock."""
    today = today or timezone.localdate()
    as_of = digest_day(week, today)
    campaign = current_campaign(as_of)
    if campaign is None or campaign.starts_on > as_of:
        return []
    list(Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk"))
    rows_of_week = OutgoingMail.objects.filter(dedupe_key__startswith=f"digest:{week}:")
    if unless_queued and rows_of_week.exists():
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
    return list(rows_of_week.filter(state=OutgoingMail.State.QUEUED).values_list("pk", flat=True))


def digests_catch_up(*, now: datetime | None = None) -> list[int]:
    """A lost Monday caught up (the outbox sweeper, every 10 minutes): from Monday at
    DIGEST_CATCH_UP_HOUR (Hanoi) on, if no digest of last week has been queued (beat could not
    publish the Monday job, or no worker took it), queue them now; returns the ids to send. The
    Monday job and this go through `digests_queue_week`, which decides under a lock, so they
    never both queue a week, and each person still gets one digest."""
    local = timezone.localtime(now or timezone.now())
    current = IsoWeek.containing(local.date())
    due = current.previous()
    starts = timezone.make_aware(
        datetime.combine(current.monday, time(hour=settings.DIGEST_CATCH_UP_HOUR))
    )
    if local < starts:
        return []
    # The cheap answer first: on most sweeps the week was queued on Monday morning.
    if OutgoingMail.objects.filter(dedupe_key__startswith=f"digest:{due}:").exists():
        return []
    # Only a week of a campaign is caught up: between two campaigns a digest repeats the last
    # one's final state, and nothing is lost with it.
    campaign = current_campaign(digest_day(due, local.date()))
    if campaign is None or due.monday > campaign.ends_on:
        return []
    return digests_queue_week(week=due, today=local.date(), unless_queued=True)
