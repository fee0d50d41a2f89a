"""The review queue: what waits for a reviewer, filtered, counted and read one page at a time.

Two levels of reviewer read it. The district office reads what waits for the district: every
submitted item, or with two-level review (`Campaign.two_level_review`) only what a committee
passed on and what has no committee above it. A committee's secretary or clerk reads what waits
for their committee: their own cells' submitted items not yet passed on.

However many items wait, a page costs the same: one aggregate per report kind for the counts
(the chips and the number of pages), one UNION of the kinds' matching ids ordered and cut to
the page in the database, then the page's rows read by id (one query per kind on the page) and
their committees' names (one query). Search is a LIKE on folded columns (`Unit.search_name`,
`Reviewable.search_title`), never a scan in Python.

However many committees and units the district has, a page costs the same too: the committee
filter is a list of at most `COMMITTEES_LISTED` committees (one query with a LIMIT; beyond that
the page asks for the committee's code), the committee a filter names is read by its code alone,
and the district office's scope, when it is the whole tree, is checked once (one query) instead
of joining every unit in each statement. On PostgreSQL each kind's part of the UNION is cut to
the end of the page, so that an index in the queue's order can end each part early.
"""

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import CharField, Count, F, Model, Q, Value
from django.http import QueryDict
from django.utils import timezone

from dongda.text import fold
from units.models import UNIT_ROLES, Unit, User
from units.selectors import attach_committee_names, user_scope

from ..models import (
    COMMITTEE_DEPTH,
    Campaign,
    ReviewStatus,
    awaiting_committee_q,
    committee_path,
    queue_order,
)
from ..registry import ReportKind, report_kinds

PAGE_SIZE = 50
#: The committee filter offers a list up to this many committees. The real district has about
#: sixty; a district of thousands (the scale tests' synthetic ones) gets a field for the
#: committee's code instead of a list as long as the district.
COMMITTEES_LISTED = 100

DISTRICT, COMMITTEE = "district", "committee"

#: The states a reviewer can narrow the queue to ("" is everything waiting for them).
NEW, RESUBMITTED, OVERDUE, AT_COMMITTEE = "new", "resubmitted", "overdue", "at_committee"
STATES = ("", NEW, RESUBMITTED, OVERDUE, AT_COMMITTEE)
#: Waiting longer than this many days (since the unit submitted it).
AGES = ("3", "7", "30")


@dataclass(frozen=True)
class QueueFilters:
    committee: str = ""  # a committee's code
    kind: str = ""  # a report kind's slug
    state: str = ""
    age: str = ""
    q: str = ""
    page: int = 1
    committee_path: str = ""  # filled from `committee` by `_known_committee`


@dataclass(frozen=True)
class QueueEntry:
    kind: ReportKind
    item: Model

    @property
    def submitted_at(self) -> datetime:
        return self.item.submitted_at


@dataclass
class QueuePage:
    level: str
    filters: QueueFilters
    entries: list[QueueEntry]
    total: int  # items matching every filter
    kind_counts: dict[str, int]  # per kind, under every filter but the kind
    state_counts: dict[str, int]  # per state, under every filter but the state
    page: int
    num_pages: int
    page_size: int
    committees: list[Unit] = field(default_factory=list)
    two_level: bool = False
    #: False when the person may narrow to more committees than `committees` lists
    #: (`COMMITTEES_LISTED`): the page asks for a committee's code instead.
    committees_listed: bool = True
    #: The committee the filter names, if it names one the person may narrow to.
    committee: Unit | None = None

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.entries else 0

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.entries) - 1 if self.entries else 0


def reviewer_committees(user: User) -> list[Unit]:
    """The committees whose cells' items this person reviews first under two-level review: the
    units right under the district on which they are secretary or clerk. (A cell's secretary
    reviews nothing: a cell has no units below it.)"""
    return sorted(
        (
            a.unit
            for a in user_scope(user).assignments
            if a.role in UNIT_ROLES and a.unit.depth == COMMITTEE_DEPTH and a.unit.numchild
        ),
        key=lambda unit: unit.path,
    )


def can_committee_review_unit(user: User, unit: Unit) -> bool:
    """Whether `user` is secretary or clerk of the committee that reviews `unit`'s items first."""
    path = committee_path(unit)
    return path is not None and any(c.path == path for c in reviewer_committees(user))


def can_committee_review(user: User, item: Model) -> bool:
    return can_committee_review_unit(user, item.unit)


def queue_level(user: User, campaign: Campaign) -> str | None:
    """Which queue this person reads: the district's (office staff), a committee's (with
    two-level review on, its secretary or clerk), or none."""
    if user_scope(user).is_staff_reviewer:
        return DISTRICT
    if campaign.two_level_review and reviewer_committees(user):
        return COMMITTEE
    return None


def _scope_q(user: User, level: str, *, whole_tree: bool = False) -> Q:
    if level == COMMITTEE:
        query = Q(pk__in=[])
        for unit in reviewer_committees(user):
            query |= Q(unit__path__startswith=unit.path)
        return query
    if whole_tree:
        return Q()
    return user_scope(user).filter_q("unit__")


def scope_is_whole_tree(user: User, level: str) -> bool:
    """Whether this reviewer's scope holds every unit there is: the district office, assigned
    on the district's root, in a tree with no other root. The queue's statements then read the
    items alone instead of joining every unit of the district only to find each one in scope (a
    scan of the units table in each of the page's statements). One statement: two probes of the
    unique index on `path` for a unit outside the root's subtree."""
    if level != DISTRICT:
        return False
    root = next((unit for unit in user_scope(user).roots if unit.depth == 1), None)
    if root is None:
        return False
    longest = Unit._meta.get_field("path").max_length
    after_subtree = root.path + Unit.alphabet[-1] * (longest - len(root.path))
    return not Unit.objects.filter(Q(path__lt=root.path) | Q(path__gt=after_subtree)).exists()


def queue_committees(user: User, level: str) -> list[Unit]:
    """The committees the queue can be narrowed to: every one in the district office's scope,
    or the committees this person reviews for (one query at the district level)."""
    if level == COMMITTEE:
        return reviewer_committees(user)
    return list(
        Unit.objects.filter(user_scope(user).filter_q(), depth=COMMITTEE_DEPTH, numchild__gt=0)
        .only("pk", "code", "name", "path", "depth", "numchild")
        .order_by("search_name")
    )


def committee_choices(user: User, level: str) -> tuple[list[Unit], bool]:
    """The committees the page's filter lists, and whether that is all of them: the district
    office's first `COMMITTEES_LISTED` by name (one query, never more rows than that plus one),
    or the committees this person reviews for (from their assignments, no query)."""
    if level == COMMITTEE:
        return reviewer_committees(user), True
    rows = list(
        Unit.objects.filter(user_scope(user).filter_q(), depth=COMMITTEE_DEPTH, numchild__gt=0)
        .only("pk", "code", "name", "path", "depth", "numchild")
        .order_by("search_name", "pk")[: COMMITTEES_LISTED + 1]
    )
    return rows[:COMMITTEES_LISTED], len(rows) <= COMMITTEES_LISTED


def named_committee(user: User, level: str, code: str) -> Unit | None:
    """The committee `code` names, if the person may narrow the queue to it: one of those they
    review for, or (the district office) a committee in their scope, read by its code alone
    (one query, none without a code)."""
    if not code:
        return None
    if level == COMMITTEE:
        return next((unit for unit in reviewer_committees(user) if unit.code == code), None)
    return (
        Unit.objects.filter(
            user_scope(user).filter_q(), code=code, depth=COMMITTEE_DEPTH, numchild__gt=0
        )
        .only("pk", "code", "name", "path", "depth", "numchild")
        .first()
    )


def _with_committee(filters: QueueFilters, committee: Unit | None) -> QueueFilters:
    """The filters with the committee's path, or without a committee the person may not narrow
    to (an unknown code filters nothing, as before)."""
    if committee is None:
        return replace(filters, committee="", committee_path="")
    return replace(filters, committee=committee.code, committee_path=committee.path)


def _known_committee(filters: QueueFilters, committees: list[Unit]) -> QueueFilters:
    """Drops a committee filter naming no committee the person may narrow to."""
    paths = {unit.code: unit.path for unit in committees}
    if filters.committee and filters.committee not in paths:
        return replace(filters, committee="", committee_path="")
    return replace(filters, committee_path=paths.get(filters.committee, ""))


def _level_q(level: str, campaign: Campaign) -> Q:
    """What waits for this level of reviewer (every filter but the state's)."""
    if not campaign.two_level_review:
        return Q()
    if level == COMMITTEE:
        return awaiting_committee_q()
    return ~awaiting_committee_q()


def _state_q(state: str, level: str, campaign: Campaign, today: date) -> Q:
    if state == AT_COMMITTEE:
        # The district's view of what still waits for the committees (it may return it).
        return awaiting_committee_q()
    waiting = _level_q(level, campaign)
    if state == NEW:
        return waiting & Q(return_count=0)
    if state == RESUBMITTED:
        return waiting & Q(return_count__gt=0)
    if state == OVERDUE:
        return waiting & Q(review_overdue_from__lte=today)
    return waiting


def states_for(level: str, campaign: Campaign) -> tuple[str, ...]:
    if level == DISTRICT and campaign.two_level_review:
        return STATES
    return tuple(state for state in STATES if state != AT_COMMITTEE)


def _base(
    kind: ReportKind,
    *,
    user: User,
    campaign: Campaign,
    level: str,
    filters,
    now,
    whole_tree: bool = False,
):
    """The kind's submitted items in the reviewer's reach matching the committee, age and search
    filters (not the kind's nor the state's: the chips count across those). `whole_tree`: the
    reach is every unit (`scope_is_whole_tree`), so no unit is read to check it."""
    queryset = kind.of_campaign(campaign).filter(
        _scope_q(user, level, whole_tree=whole_tree), status=ReviewStatus.SUBMITTED
    )
    if filters.committee_path:
        queryset = queryset.filter(
            unit__path__startswith=filters.committee_path, unit__depth__gt=COMMITTEE_DEPTH
        )
    if filters.age in AGES:
        queryset = queryset.filter(submitted_at__lt=now - timedelta(days=int(filters.age)))
    text = fold(filters.q.strip())
    if text:
        queryset = queryset.filter(
            Q(unit__search_name__contains=text)
            | Q(search_title__contains=text)
            | Q(unit__code__icontains=filters.q.strip())
        )
    return queryset


def _kinds(filters: QueueFilters) -> list[ReportKind]:
    kinds = list(report_kinds().values())
    if filters.kind:
        kinds = [kind for kind in kinds if kind.slug == filters.kind]
    return kinds


def _ordered_ids(querysets: list[tuple[ReportKind, object]], *, first_rows: int | None = None):
    """The kinds' matching items as (slug, pk, due, submitted_at) rows in one UNION, most overdue
    (then oldest) first; cut by the caller.

    `first_rows`: the caller reads no row past this many (the end of its page). Where the
    database allows it in a UNION (PostgreSQL), each kind's part is then ordered and cut to that
    many rows itself: the first rows of the whole are among the first rows of each kind, and a
    part cut that way can stop early on an index in the queue's order instead of handing every
    waiting item of its kind to the final sort."""
    cut_each = (
        first_rows is not None
        and len(querysets) > 1  # one kind alone is no UNION: the caller's cut is the part's
        and connection.features.supports_slicing_ordering_in_compound
    )
    parts = []
    for kind, queryset in querysets:
        part = (
            queryset.order_by()
            .annotate(
                q_kind=Value(kind.slug, output_field=CharField()),
                q_id=F("pk"),
                q_due=queue_order(),
                q_sent=F("submitted_at"),
            )
            # Only annotations, so that every part lists its columns in the same order.
            .values_list("q_kind", "q_id", "q_due", "q_sent")
        )
        if cut_each:
            part = part.order_by("q_due", "q_sent", "q_id")[:first_rows]
        parts.append(part)
    if not parts:
        return None
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return union.order_by("q_due", "q_sent", "q_kind", "q_id")


def _read_items(
    rows: Iterable[tuple], kinds: Iterable[ReportKind], *, with_committees: bool = True
) -> list[QueueEntry]:
    """The page's items, read by id: one query per kind of `kinds`, found on the page or not,
    so that the number of statements does not depend on which kinds a page happens to hold."""
    rows = list(rows)
    wanted: dict[str, list[int]] = {kind.slug: [] for kind in kinds}
    for slug, pk, *_rest in rows:
        wanted.setdefault(slug, []).append(pk)
    found: dict[tuple[str, int], Model] = {}
    for slug, ids in wanted.items():
        kind = report_kinds()[slug]
        # (An empty list would be answered without a query: ask for the impossible id 0.)
        items = kind.model.objects.filter(pk__in=ids or [0]).select_related("unit")
        if kind.parent:
            items = items.select_related(kind.parent_field, f"{kind.parent_field}__campaign")
        for item in items:
            found[slug, item.pk] = item
    entries = [
        QueueEntry(report_kinds()[slug], found[slug, pk])
        for slug, pk, *_rest in rows
        if (slug, pk) in found
    ]
    if with_committees:
        attach_committee_names(entry.item.unit for entry in entries)
    return entries


def review_queue(
    *,
    user: User,
    campaign: Campaign,
    filters: QueueFilters | None = None,
    level: str | None = None,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of what waits for this reviewer (see the module's docstring), with the counts
    behind the chips. The page number is clamped to the pages there are."""
    filters = filters or QueueFilters()
    level = level or queue_level(user, campaign) or DISTRICT
    now = timezone.now()
    today = timezone.localdate()
    states = states_for(level, campaign)
    state = filters.state if filters.state in states else ""
    committees, committees_listed = committee_choices(user, level)
    committee = named_committee(user, level, filters.committee)
    filters = _with_committee(replace(filters, state=state), committee)
    whole_tree = scope_is_whole_tree(user, level)
    kind_counts: dict[str, int] = {}
    state_counts: dict[str, int] = dict.fromkeys(states, 0)
    querysets = []
    for kind in report_kinds().values():
        base = _base(
            kind,
            user=user,
            campaign=campaign,
            level=level,
            filters=filters,
            now=now,
            whole_tree=whole_tree,
        )
        counts = base.aggregate(
            **{
                f"n_{name or 'all'}": Count("pk", filter=_state_q(name, level, campaign, today))
                for name in states
            }
        )
        kind_counts[kind.slug] = counts[f"n_{state or 'all'}"]
        if not filters.kind or filters.kind == kind.slug:
            for name in states:
                state_counts[name] += counts[f"n_{name or 'all'}"]
            querysets.append((kind, base.filter(_state_q(state, level, campaign, today))))
    total = state_counts[state]
    num_pages = max(1, -(-total // page_size))
    page = min(max(1, filters.page), num_pages)
    entries: list[QueueEntry] = []
    start = (page - 1) * page_size
    union = _ordered_ids(querysets, first_rows=start + page_size)
    if union is not None:
        entries = _read_items(
            union[start : start + page_size], [kind for kind, _queryset in querysets]
        )
    return QueuePage(
        level=level,
        filters=replace(filters, page=page),
        entries=entries,
        total=total,
        kind_counts=kind_counts,
        state_counts=state_counts,
        page=page,
        num_pages=num_pages,
        page_size=page_size,
        committees=committees,
        two_level=campaign.two_level_review,
        committees_listed=committees_listed,
        committee=committee,
    )


def review_queue_next(
    *, user: User, campaign: Campaign, filters: QueueFilters, level: str, after: Model
) -> QueueEntry | None:
    """The item a reviewer opens after deciding on `after`: the first of the same filter (the
    one decided has usually left it; if not, the one after it). Two rows read, no counts."""
    now = timezone.now()
    today = timezone.localdate()
    state = filters.state if filters.state in states_for(level, campaign) else ""
    filters = _with_committee(filters, named_committee(user, level, filters.committee))
    whole_tree = scope_is_whole_tree(user, level)
    querysets = []
    for kind in _kinds(filters):
        queryset = _base(
            kind,
            user=user,
            campaign=campaign,
            level=level,
            filters=filters,
            now=now,
            whole_tree=whole_tree,
        )
        queryset = queryset.filter(_state_q(state, level, campaign, today))
        if type(after) is kind.model:
            queryset = queryset.exclude(pk=after.pk)
        querysets.append((kind, queryset))
    union = _ordered_ids(querysets, first_rows=1)
    if union is None:
        return None
    rows = list(union[:1])
    entries = _read_items(rows, [report_kinds()[rows[0][0]]] if rows else [])
    return entries[0] if entries else None


def review_queue_rows(
    *, user: User, campaign: Campaign, filters: QueueFilters, level: str
) -> Iterator[QueueEntry]:
    """Every item of the filter (no page), for the exports: one query per kind, each in the
    queue's order and read in chunks, merged in memory, and one for the committees' names."""
    now = timezone.now()
    today = timezone.localdate()
    state = filters.state if filters.state in states_for(level, campaign) else ""
    filters = _known_committee(filters, queue_committees(user, level))

    def stream(kind: ReportKind) -> Iterator[tuple]:
        queryset = (
            _base(kind, user=user, campaign=campaign, level=level, filters=filters, now=now)
            .filter(_state_q(state, level, campaign, today))
            .select_related("unit")
            .annotate(q_due=queue_order())
            .order_by("q_due", "submitted_at", "pk")
        )
        if kind.parent:
            queryset = queryset.select_related(kind.parent_field, f"{kind.parent_field}__campaign")
        for item in queryset.iterator(chunk_size=1000):
            yield (item.q_due, item.submitted_at, kind.slug, item.pk, kind, item)

    # Every committee's name at once (a few dozen rows), so that the statements do not grow
    # with the rows exported.
    names = dict(Unit.objects.filter(depth=COMMITTEE_DEPTH).values_list("path", "name"))
    merged = heapq.merge(*(stream(kind) for kind in _kinds(filters)))
    for *_key, kind, item in merged:
        path = committee_path(item.unit)
        item.unit.committee_name = names.get(path, "") if path else ""
        yield QueueEntry(kind, item)


def committee_review_backlog(*, unit: Unit, campaign: Campaign) -> list[QueueEntry]:
    """What waits for `unit`'s review as a committee (its cells' submitted items not yet passed
    on), most overdue first; empty when two-level review is off or `unit` is no committee. For
    the committee's digest and page: one UNION query and one per kind of item found."""
    if not campaign.two_level_review or unit.depth != COMMITTEE_DEPTH:
        return []
    querysets = [
        (
            kind,
            kind.of_campaign(campaign).filter(
                awaiting_committee_q(), unit__path__startswith=unit.path
            ),
        )
        for kind in report_kinds().values()
    ]
    union = _ordered_ids(querysets)
    if union is None:
        return []
    entries = _read_items(union, report_kinds().values(), with_committees=False)
    for entry in entries:
        entry.item.unit.committee_name = unit.name
    return entries


def parse_filters(data) -> QueueFilters:
    """The queue's filters from a query string, anything unknown dropped (the page's form
    validates nothing else: every value here only narrows a scoped read)."""
    kind = data.get("kind", "")
    page = data.get("page", "1")
    return QueueFilters(
        committee=data.get("committee", "").strip()[:64],
        kind=kind if kind in report_kinds() else "",
        state=data.get("state", "") if data.get("state", "") in STATES else "",
        age=data.get("age", "") if data.get("age", "") in AGES else "",
        q=data.get("q", "").strip()[:100],
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        page=int(page) if page.isdecimal() and len(page) < 7 else 1,
    )


def filters_query(filters: QueueFilters, **changes) -> str:
    """The filters as a query string (empty values left out), with `changes` applied."""
    values = replace(filters, **changes)
    query = QueryDict(mutable=True)
    for name in ("committee", "kind", "state", "age", "q"):
        if getattr(values, name):
            query[name] = getattr(values, name)
    if values.page > 1:
        query["page"] = str(values.page)
    return query.urlencode()


__all__ = [
    "AGES",
    "COMMITTEE",
    "COMMITTEES_LISTED",
    "DISTRICT",
    "PAGE_SIZE",
    "STATES",
    "QueueEntry",
    "QueueFilters",
    "QueuePage",
    "can_committee_review",
    "can_committee_review_unit",
    "committee_choices",
    "committee_review_backlog",
    "filters_query",
    "named_committee",
    "parse_filters",
    "queue_committees",
    "queue_level",
    "review_queue",
    "review_queue_next",
    "review_queue_rows",
    "reviewer_committees",
    "scope_is_whole_tree",
]
