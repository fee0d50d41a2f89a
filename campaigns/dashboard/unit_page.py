"""What a unit's page shows (/<lang>/units/<code>/): its checklist against every rule, the items it
recorded for each report kind, its open flags and the units directly below it.

The page knows no rule in particular: each report kind brings its section and each rule its
checklist line (`campaigns.registry`). A fixed number of queries, however many units lie below.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import F, FilteredRelation, Q, Value
from django.db.models.functions import Coalesce

from units.models import REPORTING_KINDS, Unit

from ..engine.study import study_state_of, units_with_study_progress
from ..flagtexts import FlagText, describe_flags
from ..models import COMMITTEE_DEPTH, Campaign, Flag, UnitStatus
from ..registry import ChecklistItem, ReportKind, UnitFacts, report_kinds, rules
from ..selectors import with_campaign_members

ITEMS_PER_SECTION = 50
ESCALATED_LISTED = 20


@dataclass(frozen=True)
class Section:
    kind: ReportKind
    items: list


@dataclass(frozen=True)
class UnitPage:
    study: dict
    sections: list[Section]
    checklist: list[ChecklistItem]
    flags: list[FlagText]
    children: list[Unit]
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


def child_units(*, unit: Unit, campaign: Campaign) -> list[Unit]:
    """The units directly below, each with the member count the campaign judges it on, its
    standing on R1-R3 and its open flags, read from their status rows in one statement."""
    row = FilteredRelation("statuses", condition=Q(statuses__campaign=campaign))
    below = Unit.objects.filter(path__startswith=unit.path, depth=unit.depth + 1)
    children = list(
        with_campaign_members(below, campaign, name="counted_members")
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
    return children


def unit_page(*, unit: Unit, campaign: Campaign, today: date) -> UnitPage:
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
        children=child_units(unit=unit, campaign=campaign),
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
