"""Reads for the dashboard, the unit table and their exports, all from `UnitStatus`.

Each figure is one aggregate over the status rows of the units in the person's scope (optionally
narrowed to a committee's subtree and to the table's filters), so a page costs the same handful of
statements for 50 units or 100,000.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from math import ceil

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Least
from django.http import QueryDict
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from dongda.text import fold
from units.models import Unit, UnitKind, User
from units.selectors import user_scope

from ..engine.status import FLAG_COLUMNS, ROLLUP_SUMS, SUMMED_COLUMNS
from ..models import Campaign, CompletionRollup, ReviewStatus, StatusRollup, UnitStatus
from ..periods import effective_deadline

STUDY = UnitStatus.StudyState


def statuses_in_scope(*, user: User, campaign: Campaign, root: Unit | None = None) -> QuerySet:
    """Status rows of the units the person may see, within `root`'s subtree when given (the
    caller got `root` through the same scope)."""
    # The status row carries the unit's path, so scope is a prefix match on this table alone.
    rows = UnitStatus.objects.filter(campaign=campaign).filter(user_scope(user).filter_q())
    if root is not None:
        rows = rows.filter(path__startswith=root.path)
    return rows


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


REPORTING = Q(reporting=True)
HAS_TASK = Q(tasks_economy__gt=0) | Q(tasks_culture__gt=0) | Q(tasks_society__gt=0)


SUMMED = list(SUMMED_COLUMNS)
# The figures of the overview, which are the rollups' columns: each is a count or a sum, so any
# set of them adds up.
FIGURES = list(ROLLUP_SUMS)


def _status_aggregates() -> dict:
    """The FIGURES as aggregates over status rows. (Named with a prefix: an alias may not
    repeat a column's name.)"""
    return {
        "n_units": Count("pk"),
        "n_reporting_units": _count(REPORTING),
        "n_on_time": _count(Q(study_state=STUDY.ON_TIME)),
        "n_late": _count(Q(study_state=STUDY.LATE)),
        "n_awaiting": _count(Q(study_state=STUDY.AWAITING)),
        "n_in_progress": _count(Q(study_state=STUDY.IN_PROGRESS)),
        "n_not_started": _count(Q(study_state=STUDY.NOT_STARTED)),
        "n_members": Coalesce(Sum("members", filter=REPORTING), 0),
        # A unit that studied twice covers its own members once.
        "n_members_covered": Coalesce(
            Sum(Least("attended_total", "members", output_field=IntegerField()), filter=REPORTING),
            0,
        ),
        "n_plans_accepted": _count(REPORTING & Q(plan_status=ReviewStatus.ACCEPTED)),
        "n_plans_waiting": _count(REPORTING & Q(plan_status=ReviewStatus.SUBMITTED)),
        "n_units_with_task": _count(REPORTING & HAS_TASK),
        "n_units_with_initiative": _count(Q(initiatives__gt=0)),
        "n_units_flagged": _count(REPORTING & Q(flags_open__gt=0)),
        **{f"n_{column}": Coalesce(Sum(column), 0) for column in SUMMED},
        **{f"n_{column}": _count(Q(**{column: True})) for column in FLAG_COLUMNS.values()},
    }


def _rollup_aggregates() -> dict:
    """The same FIGURES, summed from the rollups."""
    return {f"n_{name}": Coalesce(Sum(name), 0) for name in FIGURES}


@dataclass
class Overview:
    figures: dict
    by_kind: list[dict]
    by_branch: list[dict]
    per_day: dict  # completion day -> units
    from_rollups: bool


def _prefix_q(units: list[Unit]) -> Q:
    within = Q()
    for unit in units:
        within |= Q(path__startswith=unit.path)
    return within


def _branch_anchors(user: User, root: Unit | None) -> list[Unit] | None:
    """The units whose whole branches make up the view (the root of the tree or units directly
    under it), or None when the view is a smaller subtree."""
    anchors = [root] if root is not None else list(user_scope(user).roots)
    if not anchors or len({unit.depth for unit in anchors}) > 1 or anchors[0].depth > 2:
        return None  # a smaller subtree, or a mix of levels: read the status rows
    return anchors


def overview(
    *, user: User, campaign: Campaign, root: Unit | None = None, use_rollups: bool = True
) -> Overview:
    """Everything the overview shows. A view made of whole branches (the district, a ward: what
    district staff and ward secretaries look at) is summed from the rollups, a few thousand
    rows at most; a smaller subtree from its own status rows. Four statements either way."""
    anchors = _branch_anchors(user, root)
    from_rollups = use_rollups and anchors is not None
    if not from_rollups:
        rows = statuses_in_scope(user=user, campaign=campaign, root=root)
        per_kind = list(
            rows.order_by().values("kind").annotate(**_status_aggregates()).order_by("kind")
        )
        grouped = (
            rows.filter(REPORTING, branch__isnull=False)
            .order_by()
            .values(key=F("branch_id"))
            .annotate(
                total=Count("pk"),
                on_time=_count(Q(study_state=STUDY.ON_TIME)),
                late=_count(Q(study_state=STUDY.LATE)),
                plans=_count(Q(plan_status=ReviewStatus.ACCEPTED)),
                flagged=_count(Q(flags_open__gt=0)),
            )
        )
        per_day = dict(
            rows.filter(REPORTING, study_completed_on__isnull=False)
            .order_by()
            .values_list("study_completed_on")
            .annotate(n=Count("pk"))
        )
    else:
        trees = [unit.pk for unit in anchors if unit.depth == 1]
        rollups = StatusRollup.objects.filter(campaign=campaign)
        if trees:
            # The district (or several): the tree rows, one per kind of unit.
            mine = rollups.filter(level=StatusRollup.TREE, anchor__in=trees)
            branches = Unit.objects.filter(_prefix_q(anchors), depth=2)
            branch_rows = rollups.filter(
                level=StatusRollup.BRANCH, kind="", anchor__in=branches.values("pk")
            )
            per_day = dict(
                CompletionRollup.objects.filter(campaign=campaign, anchor__in=trees)
                .order_by()
                .values_list("completed_on")
                .annotate(n=Sum("units"))
            )
        else:
            # One ward or several: their branch rows.
            ids = [unit.pk for unit in anchors]
            mine = rollups.filter(level=StatusRollup.BRANCH, anchor__in=ids).exclude(kind="")
            branch_rows = rollups.filter(level=StatusRollup.BRANCH, kind="", anchor__in=ids)
            per_day = dict(
                statuses_in_scope(user=user, campaign=campaign, root=root)
                .filter(REPORTING, study_completed_on__isnull=False)
                .order_by()
                .values_list("study_completed_on")
                .annotate(n=Count("pk"))
            )
        per_kind = list(mine.order_by().values("kind").annotate(**_rollup_aggregates()))
        per_kind.sort(key=lambda row: row["kind"])
        grouped = branch_rows.filter(reporting_units__gt=0).values(
            "on_time",
            "late",
            key=F("anchor"),
            total=F("reporting_units"),
            plans=F("plans_accepted"),
            flagged=F("units_flagged"),
        )
    figures = {name: sum(row[f"n_{name}"] for row in per_kind) for name in FIGURES}
    figures["done"] = figures["on_time"] + figures["late"]
    figures["tasks"] = sum(figures[f"tasks_{field}"] for field in ("economy", "culture", "society"))
    labels = dict(UnitKind.choices)
    by_kind = [
        {
            "kind": row["kind"],
            "label": labels.get(row["kind"], row["kind"]),
            "total": row["n_reporting_units"],
            "on_time": row["n_on_time"],
            "late": row["n_late"],
            "awaiting": row["n_awaiting"],
            "in_progress": row["n_in_progress"],
            "not_started": row["n_not_started"],
            "plans": row["n_plans_accepted"],
            "with_task": row["n_units_with_task"],
        }
        for row in per_kind
        if row["n_reporting_units"]
    ]
    # Branch rows link to each branch's overview: only for views made of whole branches, so
    # a cell secretary is not shown (and sent to) the ward above them.
    show_branches = anchors is not None and (root is None or root.depth == 1)
    return Overview(
        figures=figures,
        by_kind=by_kind,
        by_branch=_name_branches(grouped) if show_branches else [],
        per_day=per_day,
        from_rollups=from_rollups,
    )


def _name_branches(grouped: QuerySet, *, limit: int = 40) -> list[dict]:
    """The largest branches with their names (one more statement), in alphabetical order with
    the wards first."""
    top = list(grouped.order_by("-total", "key")[:limit])
    branches = Unit.objects.in_bulk([row["key"] for row in top])
    result = []
    for row in top:
        branch = branches.get(row["key"])
        if branch is None:
            continue
        done = row["on_time"] + row["late"]
        result.append(
            {
                **row,
                "done": done,
                "unit": branch,
                "done_percent": percent(done, row["total"]),
            }
        )
    result.sort(
        key=lambda row: (row["unit"].kind != UnitKind.WARD_COMMITTEE, row["unit"].search_name)
    )
    return result


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def completion_curve(per_day: dict, *, campaign: Campaign, today: date) -> dict:
    """Cumulative number of units study-complete, week by week from the campaign's start, with
    the (effective) study deadline marked (summed here over at most a year of days)."""
    due = effective_deadline(campaign, campaign.study_deadline)
    end = min(max(today, due), campaign.ends_on)
    points = []
    day = campaign.starts_on
    while day <= end:
        points.append(day)
        day += timedelta(days=7)
    points = sorted({*points, due, end})
    pending = sorted(per_day.items())
    labels: list[str] = []
    values: list[int] = []
    total = cursor = 0
    deadline_index = None
    for point in points:
        while cursor < len(pending) and pending[cursor][0] <= point:
            total += pending[cursor][1]
            cursor += 1
        if point == due:
            deadline_index = len(labels)
        labels.append(point.strftime("%d/%m"))
        values.append(total)
    return {"labels": labels, "values": values, "deadline_index": deadline_index}


# The unit table ---------------------------------------------------------------------------


# Tree order and the name sorts follow the unit's own columns, whose B-tree indexes (the unique
# path, the folded name) a page can walk and stop after its rows: the status row's copy of the
# path has only a pattern-ops index, which serves a prefix LIKE but not ORDER BY, so ordering by
# it sorted every row in scope for each page. (The copy and the unit's path are the same but
# for a unit moved since its row was last refreshed, and then the unit's is the right one.)
SORTS = {
    "name": ("unit__search_name", "unit__path"),
    "-name": ("-unit__search_name", "unit__path"),
    "members": ("-members", "path"),
    "coverage": ("attended_total", "path"),
    "-flags": ("-flags_open", "path"),
    "tree": ("unit__path",),
}
PLAN_FILTERS = {
    "accepted": Q(plan_status=ReviewStatus.ACCEPTED),
    "submitted": Q(plan_status=ReviewStatus.SUBMITTED),
    "returned": Q(plan_status=ReviewStatus.RETURNED),
    "missing": Q(plan_status__in=("", ReviewStatus.DRAFT)),
}
TASK_FILTERS = {"with": HAS_TASK, "without": ~HAS_TASK}
FLAG_FILTERS = {kind.value: Q(**{column: True}) for kind, column in FLAG_COLUMNS.items()} | {
    "any": Q(flags_open__gt=0),
    "none": Q(flags_open=0),
}


def units_matching(q: str) -> QuerySet:
    """The units the table's search finds: the Vietnamese name with diacritics and case ignored
    ("dong da", "ĐỐNG ĐA" and "Đống Đa" all find "Đống Đa"), the English name with case ignored,
    or the exact code. `%` and `_` are literal (the lookups escape them).

    Each of the three is served by an index of its own on PostgreSQL, so the whole search is a
    bitmap of index hits and never reads every unit: the code by its unique index, the names by
    the trigram indexes of migration units 0005, which match these lookups' SQL exactly
    (`search_name LIKE '%…%'` and `UPPER(name_en::text) LIKE UPPER('%…%')`). A needle shorter
    than three characters has no trigram and reads the table, as every search did before."""
    return Unit.objects.filter(
        Q(search_name__contains=fold(q)) | Q(name_en__icontains=q) | Q(code=q)
    )


@dataclass
class TableFilters:
    """The unit table's filters, read from the query string; anything unknown is dropped, so a
    hand-edited URL can narrow the table but never break the page."""

    q: str = ""
    kind: str = ""
    study: str = ""
    plan: str = ""
    task: str = ""
    flag: str = ""
    sort: str = "tree"
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: QueryDict) -> "TableFilters":
        def pick(name: str, allowed) -> str:
            value = query.get(name, "").strip()
            return value if value in allowed else ""

        return cls(
            q=" ".join(query.get("q", "").split())[:100],
            kind=pick("kind", UnitKind.values),
            study=pick("study", STUDY.values),
            plan=pick("plan", PLAN_FILTERS),
            task=pick("task", TASK_FILTERS),
            flag=pick("flag", FLAG_FILTERS),
            sort=pick("sort", SORTS) or "tree",
        )

    @property
    def active(self) -> bool:
        return any((self.q, self.kind, self.study, self.plan, self.task, self.flag))

    def apply(self, rows: QuerySet) -> QuerySet:
        if self.q:
            rows = rows.filter(unit_id__in=units_matching(self.q).values("pk"))
        if self.kind:
            rows = rows.filter(kind=self.kind)
        if self.study:
            rows = rows.filter(study_state=self.study)
        if self.plan:
            rows = rows.filter(REPORTING & PLAN_FILTERS[self.plan])
        if self.task:
            rows = rows.filter(REPORTING & TASK_FILTERS[self.task])
        if self.flag:
            rows = rows.filter(FLAG_FILTERS[self.flag])
        return rows.order_by(*SORTS[self.sort])


def unit_table(rows: QuerySet, filters: TableFilters) -> QuerySet:
    return filters.apply(rows).select_related("unit")


#: The most rows the table counts when it has to count them, and so the most it pages through:
#: past that it says "more than 10,000" and lists the first 10,000 (200 pages), for nobody
#: reads further than that by clicking "Next"; a filter, the search or a committee's table
#: narrows it down.
TABLE_COUNT_CAP = 10_000


def table_total(
    *, user: User, campaign: Campaign, root: Unit | None, filters: TableFilters
) -> int | None:
    """How many rows the table has, when the rollups already know: no filter but the kind of
    unit, on a view made of whole branches (the district, a ward: the views that are large).
    One statement over a few rollup rows instead of counting up to 100,000 status rows. None
    when they cannot tell: the rows are counted then, up to the cap."""
    if any((filters.q, filters.study, filters.plan, filters.task, filters.flag)):
        return None
    anchors = _branch_anchors(user, root)
    if anchors is None:
        return None
    trees = [unit.pk for unit in anchors if unit.depth == 1]
    rollups = StatusRollup.objects.filter(campaign=campaign)
    if trees:
        # The tree rows are per kind of unit only.
        rollups = rollups.filter(level=StatusRollup.TREE, anchor__in=trees)
    else:
        rollups = rollups.filter(level=StatusRollup.BRANCH, anchor__in=[u.pk for u in anchors])
        if not filters.kind:
            rollups = rollups.filter(kind="")  # the branch's row of all kinds
    if filters.kind:
        rollups = rollups.filter(kind=filters.kind)
    return rollups.aggregate(n=Coalesce(Sum("units"), 0))["n"]


class TablePaginator(Paginator):
    """Django's paginator, with a count that never reads more than TABLE_COUNT_CAP + 1 rows:
    the total from the rollups when they know it, else a count over the first rows that match
    (a LIMIT inside the COUNT). When more rows match than the cap, the pages stop at the cap,
    so a page number past the end (kept in a link, typed by hand) costs no more than the last
    page: never a walk through every row to skip them."""

    def __init__(self, rows: QuerySet, per_page: int, *, total: int | None):
        super().__init__(rows, per_page)
        self.known_total = total

    @cached_property
    def count(self) -> int:
        if self.known_total is not None:
            return self.known_total
        return self.object_list.order_by().values("pk")[: TABLE_COUNT_CAP + 1].count()

    @cached_property
    def more_than_cap(self) -> bool:
        return self.count > TABLE_COUNT_CAP

    @cached_property
    def num_pages(self) -> int:
        return ceil(max(1, min(self.count, TABLE_COUNT_CAP)) / self.per_page)

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count, TABLE_COUNT_CAP)
        # The page's ids first, in a subquery of the same statement, then their rows: the
        # ordering with its LIMIT reads only the status rows' sort keys, so PostgreSQL keeps the
        # page's few rows in a bounded (top-N) sort in memory instead of sorting every row in
        # scope, joined to its units, on disk (the sorts no index serves: members, attendance,
        # flags).
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)

    @property
    def cap(self) -> int:
        return TABLE_COUNT_CAP


def unit_table_page(
    rows: QuerySet,
    filters: TableFilters,
    *,
    user: User,
    campaign: Campaign,
    root: Unit | None,
    number,
    per_page: int,
) -> Page:
    """One page of the unit table (`rows` from `unit_table`): two statements, the total and
    the page's rows, each reading at most TABLE_COUNT_CAP rows whatever the district's size.
    `number` is the page asked for, as typed: anything unreadable is the first page, a page
    past the end the last one."""
    total = table_total(user=user, campaign=campaign, root=root, filters=filters)
    return TablePaginator(rows, per_page, total=total).get_page(number)


def table_choices() -> dict:
    """The options of the filter form, labelled in the active language."""
    return {
        "kinds": UnitKind.choices,
        "study": [c for c in STUDY.choices if c[0] != STUDY.NOT_APPLICABLE],
        "plan": [
            ("accepted", _("Accepted")),
            ("submitted", _("Awaiting review")),
            ("returned", _("Returned")),
            ("missing", _("Not submitted")),
        ],
        "task": [("with", _("At least one")), ("without", _("None yet"))],
        "flag": [("any", _("Any open flag")), ("none", _("No open flag"))]
        + [(k.value, k.label) for k in FLAG_COLUMNS],
        "sort": [
            ("tree", _("Tree order")),
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("members", _("Most members")),
            ("coverage", _("Least attendance")),
            ("-flags", _("Most open flags")),
        ],
    }


def flag_labels(status: UnitStatus) -> list[str]:
    return [
        str(kind.label) for kind, column in FLAG_COLUMNS.items() if getattr(status, column, False)
    ]


assert list(ROLLUP_SUMS) == FIGURES, "the overview's figures must be the rollups' columns"
