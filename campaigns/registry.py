"""The rules of a campaign (R1-R6 in docs/PRODUCT.md) and what each plugs into the machinery.

The machinery (the report pages and review, the deadline engine, the status rows behind the
dashboard, the unit page, the demo) is written once, here in `campaigns`, and knows no rule in
particular: it iterates over the rules registered below. Each rule is declared by the app that
owns its data, in that app's `AppConfig.ready()`: `campaigns.rules` declares R1, R2 and R5,
`breakthroughs.rules` declares R3 and R4. That is what lets `breakthroughs` build on `campaigns`
without `campaigns` ever importing `breakthroughs`.

A rule declares:
- its report kinds (`ReportKind`): what a unit records for it, with which form, under which URL;
- its flags (`FlagRule`): for one flag kind, which (unit, subject) pairs should be open on a day;
- its part of the status row (`StatusPart`): one CTE of the status upsert and the columns it fills;
- its line on a unit's checklist;
- what the passing of days changes for it (`day_changes`), so the engine re-judges only those units;
- where its demo data comes from (a dotted path, imported by `seed_demo` only).

This module is on the campaign's lowest floor: it imports models only, and holds plain data.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.utils.functional import Promise

if TYPE_CHECKING:
    from units.models import Unit

    from .models import Campaign
    from .periods import Deadline


@dataclass(frozen=True)
class ReportKind:
    """One kind of report a unit records and the district reviews. Its slug is the URL segment:
    /<lang>/units/<code>/<slug>/…"""

    slug: str
    rule: str
    model: type[Model]
    form_class: type
    label: Promise
    add_label: Promise
    #: Position in lists of kinds (review queue counts, the unit page's sections).
    order: int
    file_field: str | None = None
    file_name_field: str | None = None
    #: Only party cells and committees record it; otherwise every unit does (R4).
    reporting_units_only: bool = True
    #: At most one per unit and campaign (the implementation plan).
    one_per_unit: bool = False
    #: Filed under an item of another kind (a progress report under its task): that kind's
    #: slug and this model's foreign key to it. Such an item reaches its campaign through it.
    parent: str | None = None
    parent_field: str | None = None
    #: The unit page's section listing the unit's items of this kind (None: not listed there).
    section_template: str | None = None
    #: The section spans the page's width rather than half of it.
    section_wide: bool = False
    #: What the item's own page adds below its details (a task lists its progress reports).
    detail_template: str | None = None
    #: Narrows, orders and annotates the unit's items for its section; the default keeps the
    #: model's ordering and the newest 50.
    section_items: Callable[[QuerySet], QuerySet] | None = None

    @property
    def model_label(self) -> str:
        return self.model._meta.label_lower

    @property
    def campaign_lookup(self) -> str:
        """The ORM path from an item to its campaign."""
        return f"{self.parent_field}__campaign" if self.parent else "campaign"

    def campaign_id_of(self, item: Model) -> int:
        if self.parent:
            return getattr(item, self.parent_field).campaign_id
        return item.campaign_id

    def of_campaign(self, campaign: "Campaign | int") -> QuerySet:
        return self.model.objects.filter(**{self.campaign_lookup: campaign})


@dataclass(frozen=True)
class FlagRule:
    """Which (unit, subject) pairs should carry an open flag of `kind` on a day.

    `wanted(campaign, today, units)` returns querysets (unioned by the engine) with three
    columns, the unit's id, the subject and the day the condition began, shaped by
    `campaigns.engine.flags.pairs`; `units` are the active units that report (R1-R3, R5, R6).
    Everything is read as of `today` (`campaigns.engine.asof`). An empty list means: nothing of
    this kind is due, so every open flag of it closes."""

    kind: str
    wanted: Callable[["Campaign", date, QuerySet], list[QuerySet]]
    #: Written once, already closed, and never again for that unit ("study completed late").
    history_only: bool = False
    #: `units` are every active unit, not only those that report (a review is owed to all).
    all_units: bool = False
    #: The report kinds (slugs) whose items decide it; None: every kind. A replay re-judges a
    #: flag kind on a day only if one of these changed (`campaigns.demo.seed.replay_flags`).
    reads: tuple[str, ...] | None = None
    #: The sentence saying what is missing, naming the item: `describe(flag, item, campaign)`,
    #: in the active language. `item` is what the subject names ("task:12/…" → task 12), found
    #: in `subject_kind` (a report kind's slug; None: the subject's prefix is the slug).
    describe: Callable[[Any, Model | None, "Campaign"], str] | None = None
    subject_kind: str | None = None


@dataclass(frozen=True)
class StatusPart:
    """A rule's share of the status upsert (`campaigns.engine.status`): `build(query)` adds one
    CTE of one row per unit (`unit_id`, …) and says which status columns it fills, with SQL
    over that CTE. Columns that no part fills keep their defaults."""

    build: Callable[[Any], None]


@dataclass(frozen=True)
class ChecklistItem:
    rule: str
    title: str
    state: str  # done / pending / overdue / returned
    detail: str
    #: The day the line is judged against (the effective deadline, see `campaigns.periods`).
    due_on: date | None
    #: The same deadline as people read it, with the day it was set on if that was a day off.
    deadline: "Deadline | None" = None


@dataclass(frozen=True)
class UnitFacts:
    """What the unit page knows when it asks each rule for its checklist line."""

    unit: "Unit"
    campaign: "Campaign"
    today: date
    reporting: bool
    #: The unit's items per report kind slug (as listed on the page).
    items: dict[str, list]
    #: R1's figures: attended_total, attended_by_deadline, required_attendance, study_state.
    study: dict


#: `day_changes`' answer when a deadline of the whole campaign passed: every unit is re-judged.
EVERY_UNIT = "every unit"


def deadline_passed(since: date, today: date, *deadlines: date) -> bool:
    """Whether one of the (effective) deadlines lies in [since, today): a rule that judges "after
    the deadline" (`today > due`) judges differently at the end of `today` than at the end of
    `since`."""
    return any(since <= due < today for due in deadlines)


def no_day_changes(campaign: "Campaign", since: date, today: date) -> None:
    """For a rule that days alone never change (only what units write does)."""
    return None


@dataclass(frozen=True)
class Rule:
    code: str
    kinds: tuple[ReportKind, ...] = ()
    flags: tuple[FlagRule, ...] = ()
    status: StatusPart | None = None
    checklist: Callable[[UnitFacts], ChecklistItem | None] | None = None
    #: What the days between the end of `since` and the end of `today` change when nothing is
    #: written: `day_changes(campaign, since, today)` returns EVERY_UNIT (a deadline of the whole
    #: campaign passed), querysets of rows with a `unit_id` (items whose own time ran out: their
    #: units' flags or status may differ), or None (nothing). A superset is harmless, a unit
    #: left out is a bug (`tests/campaigns/engine/test_incremental.py` holds the two equal). The
    #: incremental engine (`campaigns.engine.changes`) re-judges only those; a rule with flags or
    #: a status part that does not say is taken to change every unit every day.
    day_changes: Callable[["Campaign", date, date], "list[QuerySet] | str | None"] | None = None
    #: Dotted path of `build(demo) -> dict[str, int]`, which adds the rule's demo rows.
    demo: str | None = None


_RULES: dict[str, Rule] = {}


def register_rule(rule: Rule) -> None:
    """Called from an app's ready(); registering the same rule again (a test runner's second
    setup) replaces it rather than doubling it."""
    _RULES[rule.code] = rule
    report_kinds.cache_clear()


def unregister_rule(code: str) -> None:
    """Takes a rule out again (a test that plugs in a rule of its own)."""
    _RULES.pop(code, None)
    report_kinds.cache_clear()


def rules() -> list[Rule]:
    return [_RULES[code] for code in sorted(_RULES)]


def flag_rules() -> list[FlagRule]:
    return [flag for rule in rules() for flag in rule.flags]


@functools.cache
def report_kinds() -> dict[str, ReportKind]:
    """The report kinds of every rule by slug, in their order (rebuilt when a rule registers)."""
    kinds = sorted((kind for rule in _RULES.values() for kind in rule.kinds), key=lambda k: k.order)
    return {kind.slug: kind for kind in kinds}


def report_kind(slug: str) -> ReportKind:
    return report_kinds()[slug]


def kind_of(item: Model) -> ReportKind:
    kind = kind_for_model(item._meta.label_lower)
    if kind is None:
        raise LookupError(f"no report kind is registered for {item._meta.label}")
    return kind


def kind_for_model(label: str) -> ReportKind | None:
    return next((k for k in report_kinds().values() if k.model_label == label), None)


def child_kinds(kind: ReportKind) -> list[ReportKind]:
    return [k for k in report_kinds().values() if k.parent == kind.slug]


def flag_kinds_reading(slugs: set[str]) -> set[str]:
    """The flag kinds that an item of these report kinds can open or close (`FlagRule.reads`;
    a rule that reads every kind counts). An item's children count with it: deleting a task
    takes its progress reports along."""
    slugs = set(slugs)
    for slug in list(slugs):
        slugs |= {child.slug for child in child_kinds(report_kind(slug))}
    return {rule.kind for rule in flag_rules() if rule.reads is None or set(rule.reads) & slugs}


def deadline_state(*, done: bool, due: date, today: date, returned: bool = False) -> str:
    """A checklist line's state for something due on `due`: done, returned, overdue or pending."""
    if done:
        return "done"
    if returned:
        return "returned"
    return "overdue" if today > due else "pending"
