"""What a weekly digest asks its reader to do, as of the end of the week it is for: the review
backlog by age, the units to call, the flags raised up the tree, what a unit must still submit
and by when, and what was accepted or returned during the week.

Reads only, each a fixed number of queries (one per report kind at most) whatever the size of
the district. "As of day D" has the one meaning of `campaigns.engine.asof`: the items as they
stood at the end of D, read from their history, so the digest of a past week shows that week.
Flags carry their own days (opened_on, closed_on, escalated_*_on), so a flag is open as of D
when it opened by D and had not closed by then.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import ngettext

from units.models import REPORTING_KINDS, Assignment, Role, Unit
from units.selectors import attach_committee_names

from ..engine.asof import end_of_day, kind_items_as_of
from ..engine.flags import escalating_kinds
from ..engine.study import study_state_of, units_with_study_progress
from ..flagtexts import describe_flags
from ..models import Campaign, Flag, ReviewStatus, awaiting_committee_q
from ..periods import add_working_days
from ..registry import ChecklistItem, UnitFacts, report_kinds, rules

UNITS_TO_CALL = 10
ESCALATED_LISTED = 10


def open_as_of(day: date, prefix: str = "") -> Q:
    """Flags open at the end of `day`: opened by then and not closed by then."""
    return Q(**{f"{prefix}opened_on__lte": day}) & (
        Q(**{f"{prefix}closed_on__isnull": True}) | Q(**{f"{prefix}closed_on__gt": day})
    )


def _within(flags: QuerySet, within: list[int] | None) -> QuerySet:
    return flags if within is None else flags.filter(unit_id__in=within)


# The review backlog


@dataclass(frozen=True)
class AgeBand:
    label: str
    count: int
    #: Past the campaign's review time: the district office's own flag.
    overdue: bool


@dataclass(frozen=True)
class ReviewBacklog:
    bands: list[AgeBand]

    @property
    def total(self) -> int:
        return sum(band.count for band in self.bands)


def sent_on_or_before(day: date, working_days: int) -> date:
    """The last day an item may have been sent on to have waited more than `working_days`
    working days by the end of `day`: the same count as the review flag's
    (`campaigns.periods.review_overdue_from`)."""
    sent = day - timedelta(days=1)
    while add_working_days(sent, working_days) >= day:
        sent -= timedelta(days=1)
    return sent


def review_backlog(
    *, campaign: Campaign, as_of: date, committee: Unit | None = None
) -> ReviewBacklog:
    """What waits for review at the end of `as_of`, by the working days it has waited: within
    the campaign's review time, up to twice it, more. For the district office (no `committee`):
    every item sent, but, with two-level review, those still waiting for their committee; for a
    committee: its units' items still waiting for it. One query per report kind."""
    days = campaign.review_days
    first = end_of_day(sent_on_or_before(as_of, days))
    second = end_of_day(sent_on_or_before(as_of, 2 * days))
    totals = {"fresh": 0, "late": 0, "oldest": 0}
    for kind in report_kinds().values():
        waiting = kind_items_as_of(kind, campaign, as_of).filter(status=ReviewStatus.SUBMITTED)
        if committee is not None:
            waiting = waiting.filter(awaiting_committee_q(), unit__path__startswith=committee.path)
        elif campaign.two_level_review:
            waiting = waiting.exclude(awaiting_committee_q())
        # The district's wait starts when the committee passed the item on (its review time
        # restarts then); without two-level review, or at the committee, when it was sent.
        since = (
            F("submitted_at") if committee is not None else Coalesce("passed_at", "submitted_at")
        )
        waiting = waiting.annotate(waiting_since=since)
        counts = waiting.aggregate(
            fresh=Count("id", filter=Q(waiting_since__gte=first)),
            late=Count("id", filter=Q(waiting_since__lt=first, waiting_since__gte=second)),
            oldest=Count("id", filter=Q(waiting_since__lt=second)),
        )
        for band, count in counts.items():
            totals[band] += count
    return ReviewBacklog(
        [
            AgeBand(
                ngettext("up to %(days)s working day", "up to %(days)s working days", days)
                % {"days": days},
                totals["fresh"],
                overdue=False,
            ),
            AgeBand(
                ngettext(
                    "%(from)s to %(to)s working day", "%(from)s to %(to)s working days", 2 * days
                )
                % {"from": days + 1, "to": 2 * days},
                totals["late"],
                overdue=True,
            ),
            AgeBand(
                ngettext(
                    "more than %(days)s working day", "more than %(days)s working days", 2 * days
                )
                % {"days": 2 * days},
                totals["oldest"],
                overdue=True,
            ),
        ]
    )


# Units to call


@dataclass
class UnitToCall:
    unit: Unit
    since: date
    flags: int
    secretaries: list = field(default_factory=list)


def units_to_call(
    *, campaign: Campaign, as_of: date, limit: int = UNITS_TO_CALL
) -> tuple[int, list[UnitToCall]]:
    """The units behind at the end of `as_of` (their own flags, not the district's), longest
    behind first, each with its committee's name and its secretaries (their phones); and how
    many units are behind in all. Four queries."""
    behind = (
        Flag.objects.filter(open_as_of(as_of), campaign=campaign, kind__in=escalating_kinds())
        .order_by()
        .values("unit_id")
        .annotate(since=Min("opened_on"), flags=Count("pk"))
    )
    total = behind.count()
    rows = list(behind.order_by("since", "unit_id")[:limit])
    units = Unit.objects.in_bulk([row["unit_id"] for row in rows])
    listed = [UnitToCall(units[row["unit_id"]], row["since"], row["flags"]) for row in rows]
    attach_committee_names(entry.unit for entry in listed)
    by_unit = {entry.unit.pk: entry for entry in listed}
    secretaries = (
        Assignment.objects.filter(unit_id__in=by_unit, role=Role.SECRETARY, user__is_active=True)
        .select_related("user")
        .order_by("unit_id", "user__last_name", "user__first_name", "user_id")
    )
    for assignment in secretaries:
        by_unit[assignment.unit_id].secretaries.append(assignment.user)
    return total, listed


# Escalations


@dataclass
class Escalations:
    count: int
    new_this_week: int
    flags: list[Flag]


def escalated_flags(
    *,
    campaign: Campaign,
    monday: date,
    as_of: date,
    step: str,
    within: list[int] | None = None,
    below: Unit | None = None,
    limit: int = ESCALATED_LISTED,
) -> Escalations:
    """The flags open at the end of `as_of` that had reached `step` ("committee" or "standing")
    by then, oldest first, with how many reached it during the week. `within` narrows to a
    subtree's ids and `below` leaves the committee's own flags out (they are not raised to
    itself). One aggregate, one list and the flags' sentences."""
    column = f"escalated_to_{step}_on"
    flags = _within(
        Flag.objects.filter(open_as_of(as_of), campaign=campaign, **{f"{column}__lte": as_of}),
        within,
    )
    if below is not None:
        flags = flags.exclude(unit_id=below.pk)
    counts = flags.aggregate(
        count=Count("pk"), new=Count("pk", filter=Q(**{f"{column}__gte": monday}))
    )
    if not counts["count"]:
        return Escalations(0, 0, [])
    listed = list(flags.select_related("unit").order_by("opened_on", "unit__path", "pk")[:limit])
    attach_committee_names(flag.unit for flag in listed)
    for flag, text in zip(listed, describe_flags(listed, campaign), strict=True):
        flag.text = text.text
        flag.escalated_on = getattr(flag, column)
        flag.is_new = flag.escalated_on >= monday
    return Escalations(counts["count"], counts["new"], listed)


# What a unit must submit


def unit_todo(*, unit: Unit, campaign: Campaign, as_of: date) -> list[ChecklistItem]:
    """The unit's checklist lines not yet done at the end of `as_of` (the unit page's checklist,
    judged from the items as they stood then), next deadline first: what the unit must still
    submit and by when. One query for its study figures and one per report kind."""
    only = Unit.objects.filter(pk=unit.pk)
    reporting = unit.kind in REPORTING_KINDS
    items = {}
    for kind in report_kinds().values():
        if kind.parent or (kind.reporting_units_only and not reporting):
            continue
        # History rows have the model's fields; their own key is history_id, so order by "id".
        ordering = [o.replace("pk", "id") for o in kind.model._meta.ordering or ["-pk"]]
        # Every item, not the unit page's first fifty: the checklist counts them (an old open
        # incident or an early quarter's propaganda would drop out of a cut list).
        items[kind.slug] = list(kind_items_as_of(kind, campaign, as_of, only).order_by(*ordering))
    annotated = units_with_study_progress(only, campaign, as_of).get()
    study = {
        "study_state": study_state_of(annotated),
        "members": annotated.counted_members,
        "attended_total": annotated.attended_total,
        "attended_by_deadline": annotated.attended_by_deadline,
        "required_attendance": -(-annotated.required_x100 // 100),
    }
    facts = UnitFacts(
        unit=unit, campaign=campaign, today=as_of, reporting=reporting, items=items, study=study
    )
    lines = [line for rule in rules() if rule.checklist and (line := rule.checklist(facts))]
    # A line with no deadline (new models, R4) is asked of no one by a day: only an overdue or
    # returned one is something to submit.
    waiting = [
        line
        for line in lines
        if line.state != "done" and (line.due_on or line.state in ("overdue", "returned"))
    ]
    # Overdue first, then by deadline; lines without a deadline last.
    return sorted(
        waiting,
        key=lambda line: (line.state != "overdue", line.due_on is None, line.due_on or as_of),
    )


# What moved during the week


@dataclass(frozen=True)
class Reviewed:
    accepted: int
    returned: int


def reviewed_during(
    *, campaign: Campaign, monday: date, as_of: date, within: list[int] | None
) -> Reviewed:
    """How many items were accepted and returned from `monday` to the end of `as_of`, read from
    their history (an item reviewed again since still counts for the week it was reviewed in).
    One query per report kind."""
    start, end = end_of_day(monday - timedelta(days=1)), end_of_day(as_of)
    accepted = returned = 0
    for kind in report_kinds().values():
        rows = kind.model.history.filter(
            **{kind.campaign_lookup: campaign}, reviewed_at__gte=start, reviewed_at__lt=end
        )
        if within is not None:
            rows = rows.filter(unit_id__in=within)
        counts = rows.aggregate(
            accepted=Count("id", distinct=True, filter=Q(status=ReviewStatus.ACCEPTED)),
            returned=Count("id", distinct=True, filter=Q(status=ReviewStatus.RETURNED)),
        )
        accepted += counts["accepted"]
        returned += counts["returned"]
    return Reviewed(accepted, returned)
