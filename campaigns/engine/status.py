"""Keeps `UnitStatus` current: one statement rebuilds the rows of a campaign, for every unit or
for the few a report service just touched.

The statement aggregates each report table once (GROUP BY unit), joins the results to the units
and upserts (INSERT … ON CONFLICT DO UPDATE), so its cost grows with the size of the tables, not
with a query per unit. The same SQL runs on SQLite and PostgreSQL; values that differ between the
two (dates, timestamps, booleans) go through the backend's own adapters.

The statement is assembled here, but each rule supplies its own part (`StatusPart`, registered
with the rule in `campaigns.registry`): a CTE of one row per unit and the status columns it
fills. What belongs to no rule is built here: the unit's place in the tree, the items awaiting
review (from every report kind) and the open flags.

It also keeps the rollups (`StatusRollup`, `CompletionRollup`) that the overview reads: a full
refresh rebuilds them; a refresh of a few units reads those units' share of the rollups before
and after and adds the difference.
"""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from units.models import REPORTING_KINDS, Unit

from ..models import (
    UNIT_FLAG_KINDS,
    Campaign,
    CampaignMembers,
    CompletionRollup,
    Flag,
    FlagKind,
    ReviewStatus,
    StatusRollup,
    UnitStatus,
)
from ..registry import report_kinds, rules
from .asof import is_live, items_as_of, kind_items_as_of

FLAG_COLUMNS = {
    FlagKind.STUDY_OVERDUE: "flag_study_overdue",
    FlagKind.PLAN_MISSING: "flag_plan_missing",
    FlagKind.NO_BREAKTHROUGH: "flag_no_breakthrough",
    FlagKind.REPORT_OVERDUE: "flag_report_overdue",
    FlagKind.STALE_INCIDENT: "flag_stale_incident",
    FlagKind.PROPAGANDA_SHORT: "flag_propaganda_short",
}
# Filled here for every unit, whatever the rules; the SELECT lists them first, in this order.
OWN_COLUMNS = ["campaign_id", "unit_id", "branch_id", "path", "kind", "reporting", "members"]
COLUMNS = OWN_COLUMNS + [
    field.column
    for field in UnitStatus._meta.concrete_fields
    if not field.primary_key and field.column not in OWN_COLUMNS
]


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values: list) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def sql_date(day: date):
    return connection.ops.adapt_datefield_value(day)


class StatusQuery:
    """The upsert being assembled; what a rule's `StatusPart.build` receives.

    A part adds a CTE named `alias` with one row per unit (column `unit_id`, LEFT JOINed to the
    units) and sets the status columns it fills, as SQL over that alias and over `u` (the units:
    id, path, depth, kind, member_count, is_active, reporting; member_count is the one the
    campaign judges the unit on, `campaigns.models.CampaignMembers`)."""

    def __init__(self, campaign: Campaign, unit_ids: list[int] | None, today: date):
        self.campaign = campaign
        self.unit_ids = unit_ids
        #: The day the reports are read as of (`campaigns.engine.asof`: today reads the live rows).
        self.today = today
        self._ctes: list[tuple[str, str, list]] = []
        self._columns: dict[str, tuple[str, list]] = {}

    def units(self, column: str) -> tuple[str, list]:
        """ " AND <column> IN (…)" for the units being refreshed; nothing when all are."""
        if self.unit_ids is None:
            return "", []
        return f" AND {column} IN {_in(self.unit_ids)}", list(self.unit_ids)

    def only_refreshed(self, queryset: QuerySet, field: str = "unit_id") -> QuerySet:
        """The same narrowing for a queryset."""
        if self.unit_ids is None:
            return queryset
        return queryset.filter(**{f"{field}__in": self.unit_ids})

    def items(self, model) -> QuerySet:
        """The model's rows as of the query's day (a queryset; say `id`, not `pk`)."""
        return items_as_of(model, self.today)

    def source(self, model) -> tuple[str, list]:
        """The same rows for raw SQL: "(SELECT … ) alias-less" to put after FROM, and its
        parameters (which come before the WHERE's)."""
        if is_live(self.today):
            return table(model), []
        kept = {field.attname for field in model.history.model._meta.concrete_fields}
        names = [f.attname for f in model._meta.concrete_fields if f.attname in kept]
        sql, params = self.items(model).values(*names).query.sql_with_params()
        return f"({sql})", list(params)

    def cte(self, alias: str, sql: "str | QuerySet", *params) -> None:
        """Adds `alias AS (sql)`; a queryset is compiled by Django (with its own parameters)."""
        if isinstance(sql, QuerySet):
            sql, params = sql.query.sql_with_params()
        self._ctes.append((alias, sql, list(params)))

    def column(self, name: str, sql: str, *params) -> None:
        if name not in COLUMNS or name in OWN_COLUMNS:
            raise ImproperlyConfigured(f"no rule may fill the status column {name!r}")
        if name in self._columns:
            raise ImproperlyConfigured(f"two rules fill the status column {name!r}")
        self._columns[name] = (sql, list(params))

    def statement(self) -> tuple[str, list]:
        """The whole upsert and its parameters, in the order their placeholders appear."""
        kinds = list(REPORTING_KINDS)
        units_sql, units_params = self.units("x.id")
        # A unit is judged on the member count its campaign took (CampaignMembers), or on its
        # live count if it came after the counts were taken.
        text = [
            "WITH u AS (SELECT x.id, x.path, x.depth, x.kind, "
            "COALESCE(cm.member_count, x.member_count) AS member_count, x.is_active, "
            f"(x.kind IN {_in(kinds)} AND x.is_active) AS reporting "
            f"FROM {table(Unit)} x LEFT JOIN {table(CampaignMembers)} cm "
            f"ON cm.unit_id = x.id AND cm.campaign_id = %s WHERE 1 = 1{units_sql})"
        ]
        params: list = [*kinds, self.campaign.pk, *units_params]
        for alias, sql, cte_params in self._ctes:
            text.append(f", {alias} AS ({sql})")
            params += cte_params

        values: list[str] = []
        params.append(self.campaign.pk)  # the SELECT's first value
        for column in COLUMNS:
            if column in OWN_COLUMNS:
                continue
            sql, column_params = self._value_of(column)
            values.append(sql)
            params += column_params
        params.append(2 * Unit.steplen)  # the branch: the unit's ancestor at depth 2
        joins = " ".join(
            f"LEFT JOIN {alias} ON {alias}.unit_id = u.id" for alias, _sql, _params in self._ctes
        )
        update = ", ".join(
            f"{c} = excluded.{c}" for c in COLUMNS if c not in ("campaign_id", "unit_id")
        )
        # Only the rows that differ are written (the time of the refresh aside): a run that
        # finds nothing new writes nothing, and leaves no dead row for the vacuum.
        differs = _differs(
            table(UnitStatus),
            [c for c in COLUMNS if c not in ("campaign_id", "unit_id", "refreshed_at")],
        )
        text.append(
            f" INSERT INTO {table(UnitStatus)} ({', '.join(COLUMNS)}) "
            "SELECT %s, u.id, b.id, u.path, u.kind, u.reporting, u.member_count, "
            f"{', '.join(values)} FROM u "
            f"LEFT JOIN {table(Unit)} b ON u.depth >= 2 AND b.path = SUBSTR(u.path, 1, %s) "
            f"{joins} "
            # SQLite needs a WHERE before ON CONFLICT after a join; it changes nothing.
            f"WHERE 1 = 1 ON CONFLICT (campaign_id, unit_id) DO UPDATE SET {update} WHERE {differs}"
        )
        return "".join(text), params

    def _value_of(self, column: str) -> tuple[str, list]:
        if column in self._columns:
            return self._columns[column]
        if column == "refreshed_at":
            return "%s", [connection.ops.adapt_datetimefield_value(timezone.now())]
        field = UnitStatus._meta.get_field(column.removesuffix("_id"))
        if field.null:
            return "NULL", []
        if not field.has_default():
            raise ImproperlyConfigured(f"no rule fills the status column {column!r}")
        return "%s", [field.get_default()]


def _awaiting_review(query: StatusQuery) -> None:
    """Items of every report kind waiting for the district's review, per unit."""
    parts, params = [], []
    for kind in report_kinds().values():
        waiting = (
            query.only_refreshed(
                kind_items_as_of(kind, query.campaign, query.today).filter(
                    status=ReviewStatus.SUBMITTED
                )
            )
            .order_by()
            .values("unit_id")
        )
        sql, sql_params = waiting.query.sql_with_params()
        parts.append(sql)
        params += sql_params
    if not parts:
        return
    query.cte(
        "q",
        f"SELECT w.unit_id, COUNT(*) AS n FROM ({' UNION ALL '.join(parts)}) w GROUP BY w.unit_id",
        *params,
    )
    query.column("awaiting_review", "COALESCE(q.n, 0)")


def _open_flags(query: StatusQuery) -> None:
    """The unit's own open flags (what it is behind on), and apart from them the items of the
    unit that wait too long for the district's review (the district's delay)."""
    cases = ", ".join(
        f"SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS {column}"
        for column in FLAG_COLUMNS.values()
    )
    units_sql, units_params = query.units("unit_id")
    own = [kind for kind in UNIT_FLAG_KINDS if kind != FlagKind.STUDY_LATE]
    query.cte(
        "f",
        f"SELECT unit_id, SUM(CASE WHEN kind IN {_in(own)} THEN 1 ELSE 0 END) AS n, "
        f"SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS reviews, {cases} FROM {table(Flag)} "
        f"WHERE campaign_id = %s AND closed_at IS NULL{units_sql} GROUP BY unit_id",
        *own,
        FlagKind.REVIEW_OVERDUE.value,
        *[kind.value for kind in FLAG_COLUMNS],
        query.campaign.pk,
        *units_params,
    )
    query.column("flags_open", "COALESCE(f.n, 0)")
    query.column("reviews_overdue", "COALESCE(f.reviews, 0)")
    for column in FLAG_COLUMNS.values():
        query.column(column, f"COALESCE(f.{column}, 0) > 0")


def refresh_unit_status(
    campaign: Campaign, *, unit_ids: Iterable[int] | None = None, today: date | None = None
) -> None:
    """Rebuilds the status rows of `campaign` for `unit_ids` (every unit when None) from the
    reports and the open flags."""
    today = today or timezone.localdate()
    ids = None if unit_ids is None else sorted(set(unit_ids))
    if ids == []:
        return
    query = StatusQuery(campaign, ids, today)
    for rule in rules():
        if rule.status is not None:
            rule.status.build(query)
    _awaiting_review(query)
    _open_flags(query)
    sql, params = query.statement()
    if ids is None:
        # The rollups' lock before any status row: a report's save takes it (shared) before its
        # own row, so taking it after the rows would deadlock with a save in between.
        lock_rollups(campaign)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        rebuild_rollups(campaign)
        return
    with _RollupDelta(campaign, ids), connection.cursor() as cursor:
        cursor.execute(sql, params)


# What each rollup column adds up, as SQL over campaigns_unitstatus (alias s).
_HAS_TASK = "(s.tasks_economy + s.tasks_culture + s.tasks_society) > 0"
# Status columns that the overview adds up as they are.
SUMMED_COLUMNS = (
    "tasks_economy",
    "tasks_culture",
    "tasks_society",
    "reports_total",
    "reports_on_time",
    "initiatives",
    "incidents_open",
    "incidents_stale",
    "awaiting_review",
    "reviews_overdue",
    "propaganda",
)
ROLLUP_SUMS = {
    "units": "COUNT(*)",
    "reporting_units": "SUM(CASE WHEN s.reporting THEN 1 ELSE 0 END)",
    "on_time": "SUM(CASE WHEN s.study_state = 'on_time' THEN 1 ELSE 0 END)",
    "late": "SUM(CASE WHEN s.study_state = 'late' THEN 1 ELSE 0 END)",
    "awaiting": "SUM(CASE WHEN s.study_state = 'awaiting' THEN 1 ELSE 0 END)",
    "in_progress": "SUM(CASE WHEN s.study_state = 'in_progress' THEN 1 ELSE 0 END)",
    "not_started": "SUM(CASE WHEN s.study_state = 'not_started' THEN 1 ELSE 0 END)",
    "members": "SUM(CASE WHEN s.reporting THEN s.members ELSE 0 END)",
    # A unit that studied twice covers its own members once.
    "members_covered": (
        "SUM(CASE WHEN s.reporting THEN "
        "CASE WHEN s.attended_total < s.members THEN s.attended_total ELSE s.members END "
        "ELSE 0 END)"
    ),
    "plans_accepted": "SUM(CASE WHEN s.reporting AND s.plan_status = 'accepted' THEN 1 ELSE 0 END)",
    "plans_waiting": "SUM(CASE WHEN s.reporting AND s.plan_status = 'submitted' THEN 1 ELSE 0 END)",
    "units_with_task": f"SUM(CASE WHEN s.reporting AND {_HAS_TASK} THEN 1 ELSE 0 END)",
    "units_with_initiative": "SUM(CASE WHEN s.initiatives > 0 THEN 1 ELSE 0 END)",
    "units_flagged": "SUM(CASE WHEN s.reporting AND s.flags_open > 0 THEN 1 ELSE 0 END)",
    **{column: f"SUM(s.{column})" for column in SUMMED_COLUMNS},
    **{column: f"SUM(CASE WHEN s.{column} THEN 1 ELSE 0 END)" for column in FLAG_COLUMNS.values()},
}
BRANCH_KEY = "COALESCE(s.branch_id, s.unit_id)"


def _contributions_sql(where: str) -> str:
    """What the status rows matching `where` add to each rollup row: (level, anchor, kind,
    *sums) for the branch rows per kind, the branch rows of all kinds, and the tree rows."""
    sums = ", ".join(ROLLUP_SUMS.values())
    tree = f"JOIN {table(Unit)} t ON t.path = SUBSTR(s.path, 1, {Unit.steplen})"
    status = table(UnitStatus)
    return (
        f"SELECT 'b' AS level, {BRANCH_KEY} AS anchor, s.kind AS kind, {sums} "
        f"FROM {status} s WHERE {where} "
        f"GROUP BY {BRANCH_KEY}, s.kind "
        f"UNION ALL SELECT 'b', {BRANCH_KEY}, '', {sums} FROM {status} s WHERE {where} "
        f"GROUP BY {BRANCH_KEY} "
        f"UNION ALL SELECT 't', t.id, s.kind, {sums} FROM {status} s {tree} WHERE {where} "
        "GROUP BY t.id, s.kind"
    )


def _completions_sql(where: str) -> str:
    return (
        f"SELECT t.id AS anchor, s.study_completed_on AS completed_on, COUNT(*) "
        f"FROM {table(UnitStatus)} s "
        f"JOIN {table(Unit)} t ON t.path = SUBSTR(s.path, 1, {Unit.steplen}) "
        f"WHERE {where} AND s.reporting AND s.study_completed_on IS NOT NULL "
        "GROUP BY t.id, s.study_completed_on"
    )


ROLLUP_LOCK = 2_024_001


def lock_rollups(campaign: Campaign) -> None:
    """The campaign's rollup lock, exclusively, until the transaction ends: waits for the
    refreshes of single units under way (a report's save holds it shared) and keeps new ones
    out. Every transaction that takes it must take it before any status row, flag or report row
    it locks: the one order that cannot deadlock with a save (which takes its report's row, then
    this lock shared, then its unit's flags and status row). Taken twice, it is still held
    once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUP_LOCK, campaign.pk])


def lock_rollups_shared(campaign: Campaign) -> None:
    """The same lock, shared, as a refresh of a few units takes it: before the flags and the
    status rows it will write, so it waits for a whole-campaign run instead of holding a row
    that run needs."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s)", [ROLLUP_LOCK, campaign.pk]
            )


def _differs(target: str, columns) -> str:
    """SQL true when an upsert's new values differ from the row's (NULL-safe)."""
    distinct = " IS DISTINCT FROM " if connection.vendor == "postgresql" else " IS NOT "
    return " OR ".join(f"{target}.{c}{distinct}excluded.{c}" for c in columns)


def rebuild_rollups(campaign: Campaign) -> None:
    """Every rollup row of the campaign, from the status rows (after a full status refresh,
    whose transaction holds lock_rollups). Only the rows that differ are written: a full run
    that finds nothing new writes nothing."""
    rollup, completions = table(StatusRollup), table(CompletionRollup)
    columns = ", ".join(ROLLUP_SUMS)
    where = "s.campaign_id = %s"
    contributions = _contributions_sql(where)
    set_sums = ", ".join(f"{c} = excluded.{c}" for c in ROLLUP_SUMS)
    pk = campaign.pk
    upsert = (
        f"INSERT INTO {rollup} (level, anchor, kind, {columns}, campaign_id) "
        f"SELECT c.*, %s FROM {{source}} c WHERE 1 = 1 "
        f"ON CONFLICT (campaign_id, level, anchor, kind) DO UPDATE SET {set_sums} "
        f"WHERE {_differs(rollup, ROLLUP_SUMS)}"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the sums worked out once, upserted, and the rows nothing adds to
            # any more (a branch emptied, a kind gone) removed by a hashed anti-join. (A second
            # statement with NOT IN worked the sums out again and, at 100,000 units, compared
            # them row by row: 9 s of a 28 s full run.) The two parts touch different rows.
            cursor.execute(
                f"WITH c AS MATERIALIZED ({contributions}), "
                f"upserted AS ({upsert.format(source='c')} RETURNING 1) "
                f"DELETE FROM {rollup} r WHERE r.campaign_id = %s AND NOT EXISTS "
                "(SELECT 1 FROM c WHERE c.level = r.level AND c.anchor = r.anchor "
                "AND c.kind = r.kind)",
                [pk] * 5,
            )
        else:
            cursor.execute(upsert.format(source=f"({contributions})"), [pk, pk, pk, pk])
            cursor.execute(
                f"DELETE FROM {rollup} WHERE campaign_id = %s AND (level, anchor, kind) NOT IN "
                f"(SELECT c.level, c.anchor, c.kind FROM ({contributions}) c)",
                [pk, pk, pk, pk],
            )
        days = _completions_sql(where)
        cursor.execute(
            f"INSERT INTO {completions} (anchor, completed_on, units, campaign_id) "
            f"SELECT c.*, %s FROM ({days}) c WHERE 1 = 1 "
            "ON CONFLICT (campaign_id, anchor, completed_on) DO UPDATE SET units = excluded.units "
            f"WHERE {_differs(completions, ['units'])}",
            [pk, pk],
        )
        cursor.execute(
            f"DELETE FROM {completions} WHERE campaign_id = %s AND (anchor, completed_on) NOT IN "
            f"(SELECT c.anchor, c.completed_on FROM ({days}) c)",
            [pk, pk],
        )


class _RollupDelta:
    """The rollup rows' share of a few units, read before and after their status rows change;
    the difference is then added to the rollups."""

    def __init__(self, campaign: Campaign, unit_ids: list[int]):
        self.campaign = campaign
        self.unit_ids = unit_ids
        self.where = f"s.campaign_id = %s AND s.unit_id IN {_in(unit_ids)}"
        self.params = [campaign.pk, *unit_ids]

    def _read(self) -> tuple[dict, dict]:
        with connection.cursor() as cursor:
            cursor.execute(_contributions_sql(self.where), self.params * 3)
            shares = {tuple(row[:3]): row[3:] for row in cursor.fetchall()}
            cursor.execute(_completions_sql(self.where), self.params)
            days = {tuple(row[:2]): row[2] for row in cursor.fetchall()}
        return shares, days

    def __enter__(self):
        lock_rollups_shared(self.campaign)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Two refreshes of the same unit take turns: the second reads the rows the
                # first committed, so neither difference is counted twice.
                cursor.execute(
                    f"SELECT 1 FROM {table(UnitStatus)} WHERE campaign_id = %s "
                    f"AND unit_id IN {_in(self.unit_ids)} ORDER BY unit_id FOR UPDATE",
                    self.params,
                )
        self.before = self._read()
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            return False
        after = self._read()
        self._apply(self.before[0], after[0])
        self._apply_days(self.before[1], after[1])
        return False

    def _apply(self, before: dict, after: dict) -> None:
        width = len(ROLLUP_SUMS)
        rows = []
        for key in before.keys() | after.keys():
            old = before.get(key, (0,) * width)
            new = after.get(key, (0,) * width)
            delta = [(n or 0) - (o or 0) for o, n in zip(old, new, strict=True)]
            if any(delta):
                rows.append([self.campaign.pk, *key, *delta])
        if not rows:
            return
        columns = ["campaign_id", "level", "anchor", "kind", *ROLLUP_SUMS]
        added = ", ".join(f"{c} = {table(StatusRollup)}.{c} + excluded.{c}" for c in ROLLUP_SUMS)
        values = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table(StatusRollup)} ({', '.join(columns)}) VALUES {values} "
                f"ON CONFLICT (campaign_id, level, anchor, kind) DO UPDATE SET {added}",
                [value for row in rows for value in row],
            )

    def _apply_days(self, before: dict, after: dict) -> None:
        rows = []
        for key in before.keys() | after.keys():
            delta = after.get(key, 0) - before.get(key, 0)
            if delta:
                rows.append([self.campaign.pk, *key, delta])
        if not rows:
            return
        days = table(CompletionRollup)
        values = ", ".join("(%s, %s, %s, %s)" for _ in rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {days} (campaign_id, anchor, completed_on, units) VALUES {values} "
                f"ON CONFLICT (campaign_id, anchor, completed_on) "
                f"DO UPDATE SET units = {days}.units + excluded.units",
                [value for row in rows for value in row],
            )
