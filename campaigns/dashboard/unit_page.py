"""What a unit's page shows (/<lang>/units/<code>/): its checklist against every rule, the items it
recorded for each report kind, its open flags and the units directly below it, a page at a time.

The page knows no rule in particular: each report kind brings its section and each rule its
checklist line (`campaigns.registry`). A fixed number of queries, however many units lie below,
and each reads a bounded number of rows: the district's root has thousands of units directly
below it at the district's scale, so they are listed a page at a time (`?children=<page>`), and
the unit table (`?unit=<code>`) holds the whole subtree.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, FilteredRelation, Q, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict

from units.models import REPORTING_KINDS, Unit

from ..engine.study import study_state_of, units_with_study_progress
from ..flagtexts import FlagText, describe_flags
from ..models import COMMITTEE_DEPTH, Campaign, Flag, UnitStatus
from ..registry import ChecklistItem, ReportKind, UnitFacts, report_kinds, rules
from ..selectors import with_campaign_members

ITEMS_PER_SECTION = 50
ESCALATED_LISTED = 20
CHILDREN_PER_PAGE = 50


@dataclass(frozen=True)
class Section:
    kind: ReportKind
    items: list


@dataclass(frozen=True)
class ChildrenPage:
    """One page of the units directly below a unit, in tree order."""

    units: list[Unit]
    total: int  # every unit directly below, on every page
    number: int
    num_pages: int
    page_size: int

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.units else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.units) - 1 if self.units else 0

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


@dataclass(frozen=True)
class UnitPage:
    study: dict
    sections: list[Section]
    checklist: list[ChecklistItem]
    flags: list[FlagText]
    children: ChildrenPage
    #: A committee's page: its units' open flags raised to it (oldest first, at most
    #: ESCALATED_LISTED).
    escalated: list[FlagText]


def unit_study(*, unit: Unit, campaign: Campaign) -> dict:
    """R1's figures for one unit, read from its sessions, against the member count the campaign
    judges it on (one query)."""
    annotated = units_with_study_progress(Unit.objects.filter(pk=unit.pk), campaign).get()
    members = annotated.counted_members
    return {
        "study_state": study_state_of(annotated),
        "members": members,
        "attended_total": annotated.attended_total,
        "attended_by_deadline": annotated.attended_by_deadline,
        "required_attendance": -(-annotated.required_x100 // 100),
        "coverage_percent": (
            min(100, round(100 * annotated.attended_total / members)) if members else 0
        ),
    }


def unit_sections(*, unit: Unit, campaign: Campaign) -> list[Section]:
    """One section per report kind that the unit records (a query each), newest first."""
    reporting = unit.kind in REPORTING_KINDS
    sections = []
    for kind in report_kinds().values():
        if kind.section_template is None or kind.parent:
            continue
        if kind.reporting_units_only and not reporting:
            continue
        items = kind.of_campaign(campaign).filter(unit=unit)
        if kind.section_items is not None:
            items = kind.section_items(items)
        else:
            items = items.order_by(*(kind.model._meta.ordering or ["-pk"]))
        sections.append(Section(kind, list(items[:ITEMS_PER_SECTION])))
    return sections


def unit_checklist(*, facts: UnitFacts) -> list[ChecklistItem]:
    """The unit's standing against each rule, next deadline first. Texts are translated at call
    time, so the caller decides the language."""
    items = [line for rule in rules() if rule.checklist and (line := rule.checklist(facts))]
    today = facts.today
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


def children_page_number(text: str | int | None, num_pages: int) -> int:
    """The page of units below asked for by `?children=`: anything that is not a page number is
    the first page, a number past the last page is the last one (as Django's `get_page`)."""
    text = str(text or "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses; a short number only.
    number = int(text) if text.isdecimal() and len(text) < 7 else 1
    return min(max(1, number), num_pages)


def children_page_query(query: QueryDict, number: int) -> str:
    """The page's query string with `children=` set to `number` (left out for the first page),
    every other parameter kept, for the pager's links."""
    query = query.copy()
    query.pop("children", None)
    if number > 1:
        query["children"] = str(number)
    return query.urlencode()


def child_units(
    *,
    unit: Unit,
    campaign: Campaign,
    page: str | int | None = 1,
    page_size: int | None = None,
) -> ChildrenPage:
    """One page of the units directly below, in tree order, each with the member count the
    campaign judges it on, its standing on R1-R3 and its open flags, in one statement (none for
    a unit with nothing below).

    The count is treebeard's `numchild`, kept on the unit's own row, so no statement counts the
    children. The page is read as treebeard reads children: the next depth within the path
    interval of the unit's children, ordered by path; a range on `path`, unlike a
    `LIKE 'prefix%'`, is walked in path order on the unique index on `path` whatever the
    database's collation, and the walk stops at the page's last row. The status row and the
    campaign's member count are then joined on the page's rows only (LEFT JOINs on unique keys,
    no subquery per row). The walk passes the subtrees of the units before the page, so a page
    far down a list of thousands costs more than the first; an index on (depth, path) would
    make it skip them."""
    page_size = page_size or CHILDREN_PER_PAGE
    total = unit.numchild
    num_pages = max(1, -(-total // page_size))
    number = children_page_number(page, num_pages)
    if not total:
        return ChildrenPage(units=[], total=0, number=1, num_pages=1, page_size=page_size)
    row = FilteredRelation("statuses", condition=Q(statuses__campaign=campaign))
    start = (number - 1) * page_size
    # The page's ids first (a subquery on the units alone), then the joins on those rows only:
    # with the joins in the same SELECT the planner would hash every status row and member
    # count of the campaign to serve a page far down the list.
    page_ids = (
        Unit.objects.get_children(unit).order_by("path").values("pk")[start : start + page_size]
    )
    on_page = Unit.objects.filter(pk__in=page_ids)
    children = list(
        with_campaign_members(on_page, campaign, name="counted_members")
        .annotate(
            row=row,
            row_study_state=F("row__study_state"),
            plan_status=Coalesce(F("row__plan_status"), Value("")),
            chosen_tasks=Coalesce(
                F("row__tasks_economy") + F("row__tasks_culture") + F("row__tasks_society"),
                Value(0),
            ),
            open_flags=Coalesce(F("row__flags_open"), Value(0)),
        )
        .order_by("path")
    )
    for child in children:
        state = child.row_study_state
        child.study_state = None if state in (None, UnitStatus.StudyState.NOT_APPLICABLE) else state
    return ChildrenPage(
        units=children, total=total, number=number, num_pages=num_pages, page_size=page_size
    )


def unit_page(
    *, unit: Unit, campaign: Campaign, today: date, children_page: str | int | None = 1
) -> UnitPage:
    study = unit_study(unit=unit, campaign=campaign)
    sections = unit_sections(unit=unit, campaign=campaign)
    facts = UnitFacts(
        unit=unit,
        campaign=campaign,
        today=today,
        reporting=unit.kind in REPORTING_KINDS,
        items={section.kind.slug: section.items for section in sections},
        study=study,
    )
    flags = describe_flags(
        Flag.objects.filter(campaign=campaign, unit=unit, closed_at__isnull=True).order_by(
            "opened_on", "kind", "subject"
        ),
        campaign,
    )
    return UnitPage(
        study=study,
        sections=sections,
        checklist=unit_checklist(facts=facts),
        flags=flags,
        children=child_units(unit=unit, campaign=campaign, page=children_page),
        escalated=escalated_to_committee(unit=unit, campaign=campaign),
    )


def escalated_to_committee(*, unit: Unit, campaign: Campaign) -> list[FlagText]:
    """On a committee's page (a unit right under the district), the open flags of the units
    below it that were raised to it (`campaigns.engine.flags.flags_escalate`). One query, and
    one per kind of item the flags name; other units ask nothing."""
    if unit.depth != COMMITTEE_DEPTH:
        return []
    raised = (
        Flag.objects.filter(
            campaign=campaign,
            closed_at__isnull=True,
            escalated_to_committee_on__isnull=False,
            unit__path__startswith=unit.path,
            unit__depth__gt=unit.depth,
        )
        .select_related("unit")
        .order_by("opened_on", "unit__path", "pk")[:ESCALATED_LISTED]
    )
    return describe_flags(raised, campaign)
