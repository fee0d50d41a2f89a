"""Keeps `UnitStatus` current: one statement rebuilds the rows of a campaign, for every unit or
for the few a report service just touched.

The statement aggregates each report table once (GROUP BY unit), joins the results to the units
and upserts (INSERT … ON CONFLICT DO UPDATE), so its cost grows with the size of the tables, not
with a query per unit. The same SQL runs on SQLite and PostgreSQL; values that differ between the
two (dates, timestamps, booleans) go through the backend's own adapters.

It also keeps the rollups (`StatusRollup`, `CompletionRollup`) that the overview reads: a full
refresh rebuilds them; a refresh of a few units reads those units' share of the rollups before
and after and adds the difference.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from breakthroughs.models import BreakthroughTask, Initiative, ProgressReport
from units.models import REPORTING_KINDS, Unit

from ..models import (
    Campaign,
    CompletionRollup,
    Flag,
    FlagKind,
    ImplementationPlan,
    Incident,
    ReviewStatus,
    StatusRollup,
    StudySession,
    UnitStatus,
)
from ..periods import reporting_periods

FLAG_COLUMNS = {
    FlagKind.STUDY_OVERDUE: "flag_study_overdue",
    FlagKind.PLAN_MISSING: "flag_plan_missing",
    FlagKind.NO_BREAKTHROUGH: "flag_no_breakthrough",
    FlagKind.REPORT_OVERDUE: "flag_report_overdue",
    FlagKind.STALE_INCIDENT: "flag_stale_incident",
}
COLUMNS = [
    "campaign_id",
    "unit_id",
    "branch_id",
    "path",
    "kind",
    "reporting",
    "members",
    "attended_total",
    "attended_by_deadline",
    "study_state",
    "study_completed_on",
    "plan_status",
    "tasks_economy",
    "tasks_culture",
    "tasks_society",
    "reports_total",
    "reports_on_time",
    "initiatives",
    "incidents_open",
    "incidents_stale",
    "awaiting_review",
    "flags_open",
    *FLAG_COLUMNS.values(),
    "refreshed_at",
]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values: list) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def _end_of_day(day: date) -> datetime:
    """The first instant after `day` in the deployment's time zone: a report submitted before it
    was submitted on or before that calendar day."""
    aware = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return connection.ops.adapt_datetimefield_value(aware)


class _Sql:
    """SQL text and its parameters, built in the order they appear."""

    def __init__(self, unit_ids: list[int] | None):
        self.unit_ids = unit_ids
        self.text: list[str] = []
        self.params: list = []

    def add(self, text: str, *params) -> None:
        self.text.append(text)
        self.params.extend(params)

    def units(self, column: str) -> None:
        """Narrows the preceding WHERE to the units being refreshed (nothing when all are)."""
        if self.unit_ids is not None:
            self.add(f" AND {column} IN {_in(self.unit_ids)}", *self.unit_ids)


def refresh_unit_status(
    campaign: Campaign, *, unit_ids: Iterable[int] | None = None, today: date | None = None
) -> None:
    """Rebuilds the status rows of `campaign` for `unit_ids` (every unit when None) from the
    reports and the open flags."""
    today = today or timezone.localdate()
    ids = None if unit_ids is None else sorted(set(unit_ids))
    if ids == []:
        return
    d = connection.ops.adapt_datefield_value
    share = campaign.required_study_share
    submitted, accepted = ReviewStatus.SUBMITTED.value, ReviewStatus.ACCEPTED.value
    chosen = [submitted, accepted]
    sql = _Sql(ids)

    sql.add(
        "WITH u AS (SELECT id, path, depth, kind, member_count, is_active "
        f"FROM {_table(Unit)} WHERE 1 = 1"
    )
    sql.units("id")
    sql.add("),")

    sql.add(
        "s AS (SELECT unit_id, SUM(attendees) AS total, "
        "SUM(CASE WHEN held_on <= %s THEN attendees ELSE 0 END) AS by_deadline "
        f"FROM {_table(StudySession)} WHERE campaign_id = %s AND status = %s",
        d(campaign.study_deadline),
        campaign.pk,
        accepted,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id),")

    # The day a unit became study-complete: the first accepted session at which the running
    # total of attendees reached the required share (same rule as the study state below).
    sql.add(
        "sc AS (SELECT x.unit_id, MIN(x.held_on) AS completed_on FROM ("
        "SELECT unit_id, held_on, SUM(attendees) OVER (PARTITION BY unit_id "
        "ORDER BY held_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative "
        f"FROM {_table(StudySession)} WHERE campaign_id = %s AND status = %s",
        campaign.pk,
        accepted,
    )
    sql.units("unit_id")
    sql.add(
        ") x JOIN u ON u.id = x.unit_id "
        "WHERE x.cumulative > 0 AND x.cumulative * 100 >= u.member_count * %s "
        "GROUP BY x.unit_id),",
        share,
    )

    sql.add(
        f"p AS (SELECT unit_id, MAX(status) AS status FROM {_table(ImplementationPlan)} "
        "WHERE campaign_id = %s",
        campaign.pk,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id),")

    sql.add(
        "t AS (SELECT unit_id, "
        "SUM(CASE WHEN field = 'economy' THEN 1 ELSE 0 END) AS economy, "
        "SUM(CASE WHEN field = 'culture' THEN 1 ELSE 0 END) AS culture, "
        "SUM(CASE WHEN field = 'society' THEN 1 ELSE 0 END) AS society "
        f"FROM {_table(BreakthroughTask)} WHERE campaign_id = %s AND status IN {_in(chosen)}",
        campaign.pk,
        *chosen,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id),")

    # A progress report is on time when it was submitted by the end of its period's due day.
    periods = reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    )
    on_time_sql = (
        " OR ".join("(r.period_start = %s AND r.submitted_at < %s)" for _ in periods) or "1 = 0"
    )
    on_time_params = []
    for period in periods:
        on_time_params += [d(period.start), _end_of_day(period.due_on(campaign.report_grace_days))]
    sql.add(
        f"r AS (SELECT r.unit_id, COUNT(*) AS total, "
        f"SUM(CASE WHEN {on_time_sql} THEN 1 ELSE 0 END) AS on_time "
        f"FROM {_table(ProgressReport)} r JOIN {_table(BreakthroughTask)} bt ON bt.id = r.task_id "
        f"WHERE bt.campaign_id = %s AND r.status IN {_in(chosen)}",
        *on_time_params,
        campaign.pk,
        *chosen,
    )
    sql.units("r.unit_id")
    sql.add(" GROUP BY r.unit_id),")

    sql.add(
        f"i AS (SELECT unit_id, COUNT(*) AS n FROM {_table(Initiative)} WHERE campaign_id = %s",
        campaign.pk,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id),")

    stale_before = today - timedelta(days=campaign.incident_age_limit_days)
    sql.add(
        "inc AS (SELECT unit_id, "
        "SUM(CASE WHEN resolved_on IS NULL THEN 1 ELSE 0 END) AS open_n, "
        "SUM(CASE WHEN resolved_on IS NULL AND opened_on < %s THEN 1 ELSE 0 END) AS stale_n "
        f"FROM {_table(Incident)} WHERE campaign_id = %s",
        d(stale_before),
        campaign.pk,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id),")

    sql.add("q AS (SELECT unit_id, COUNT(*) AS n FROM (")
    for index, model in enumerate(
        (StudySession, ImplementationPlan, BreakthroughTask, Initiative, Incident)
    ):
        sql.add(
            ("" if index == 0 else " UNION ALL ")
            + f"SELECT unit_id FROM {_table(model)} WHERE campaign_id = %s AND status = %s",
            campaign.pk,
            submitted,
        )
        sql.units("unit_id")
    sql.add(
        f" UNION ALL SELECT r.unit_id FROM {_table(ProgressReport)} r "
        f"JOIN {_table(BreakthroughTask)} bt ON bt.id = r.task_id "
        "WHERE bt.campaign_id = %s AND r.status = %s",
        campaign.pk,
        submitted,
    )
    sql.units("r.unit_id")
    sql.add(") w GROUP BY unit_id),")

    flag_cases = ", ".join(
        f"SUM(CASE WHEN kind = %s THEN 1 ELSE 0 END) AS {column}"
        for column in FLAG_COLUMNS.values()
    )
    sql.add(
        f"f AS (SELECT unit_id, COUNT(*) AS n, {flag_cases} FROM {_table(Flag)} "
        "WHERE campaign_id = %s AND closed_at IS NULL AND kind <> %s",
        *[kind.value for kind in FLAG_COLUMNS],
        campaign.pk,
        FlagKind.STUDY_LATE.value,
    )
    sql.units("unit_id")
    sql.add(" GROUP BY unit_id)")

    kinds = list(REPORTING_KINDS)
    reporting = f"(u.kind IN {_in(kinds)} AND u.is_active)"
    flag_values = ", ".join(f"COALESCE(f.{column}, 0) > 0" for column in FLAG_COLUMNS.values())
    update = ", ".join(
        f"{c} = excluded.{c}" for c in COLUMNS if c not in ("campaign_id", "unit_id")
    )
    sql.add(
        f" INSERT INTO {_table(UnitStatus)} ({', '.join(COLUMNS)}) "
        f"SELECT %s, u.id, b.id, u.path, u.kind, {reporting}, u.member_count, "
        "COALESCE(s.total, 0), COALESCE(s.by_deadline, 0), "
        f"CASE WHEN NOT {reporting} THEN 'na' "
        "WHEN COALESCE(s.total, 0) = 0 THEN 'not_started' "
        "WHEN COALESCE(s.by_deadline, 0) > 0 AND s.by_deadline * 100 >= u.member_count * %s "
        "THEN 'on_time' "
        "WHEN s.total * 100 >= u.member_count * %s THEN 'late' "
        "ELSE 'in_progress' END, "
        "sc.completed_on, COALESCE(p.status, ''), "
        "COALESCE(t.economy, 0), COALESCE(t.culture, 0), COALESCE(t.society, 0), "
        "COALESCE(r.total, 0), COALESCE(r.on_time, 0), COALESCE(i.n, 0), "
        "COALESCE(inc.open_n, 0), COALESCE(inc.stale_n, 0), COALESCE(q.n, 0), "
        f"COALESCE(f.n, 0), {flag_values}, %s "
        "FROM u "
        f"LEFT JOIN {_table(Unit)} b ON u.depth >= 2 AND b.path = SUBSTR(u.path, 1, %s) "
        "LEFT JOIN s ON s.unit_id = u.id LEFT JOIN sc ON sc.unit_id = u.id "
        "LEFT JOIN p ON p.unit_id = u.id LEFT JOIN t ON t.unit_id = u.id "
        "LEFT JOIN r ON r.unit_id = u.id LEFT JOIN i ON i.unit_id = u.id "
        "LEFT JOIN inc ON inc.unit_id = u.id LEFT JOIN q ON q.unit_id = u.id "
        "LEFT JOIN f ON f.unit_id = u.id "
        # SQLite needs a WHERE before ON CONFLICT after a join; it changes nothing.
        f"WHERE 1 = 1 ON CONFLICT (campaign_id, unit_id) DO UPDATE SET {update}",
        campaign.pk,
        *kinds,
        *kinds,
        share,
        share,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        2 * Unit.steplen,
    )
    if ids is None:
        with connection.cursor() as cursor:
            cursor.execute("".join(sql.text), sql.params)
        rebuild_rollups(campaign)
        return
    with _RollupDelta(campaign, ids), connection.cursor() as cursor:
        cursor.execute("".join(sql.text), sql.params)


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
)
ROLLUP_SUMS = {
    "units": "COUNT(*)",
    "reporting_units": "SUM(CASE WHEN s.reporting THEN 1 ELSE 0 END)",
    "on_time": "SUM(CASE WHEN s.study_state = 'on_time' THEN 1 ELSE 0 END)",
    "late": "SUM(CASE WHEN s.study_state = 'late' THEN 1 ELSE 0 END)",
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
    tree = f"JOIN {_table(Unit)} t ON t.path = SUBSTR(s.path, 1, {Unit.steplen})"
    status = _table(UnitStatus)
    return (
        f"SELECT 'b', {BRANCH_KEY}, s.kind, {sums} FROM {status} s WHERE {where} "
        f"GROUP BY {BRANCH_KEY}, s.kind "
        f"UNION ALL SELECT 'b', {BRANCH_KEY}, '', {sums} FROM {status} s WHERE {where} "
        f"GROUP BY {BRANCH_KEY} "
        f"UNION ALL SELECT 't', t.id, s.kind, {sums} FROM {status} s {tree} WHERE {where} "
        "GROUP BY t.id, s.kind"
    )


def _completions_sql(where: str) -> str:
    return (
        f"SELECT t.id, s.study_completed_on, COUNT(*) FROM {_table(UnitStatus)} s "
        f"JOIN {_table(Unit)} t ON t.path = SUBSTR(s.path, 1, {Unit.steplen}) "
        f"WHERE {where} AND s.reporting AND s.study_completed_on IS NOT NULL "
        "GROUP BY t.id, s.study_completed_on"
    )


ROLLUP_LOCK = 2_024_001


def rebuild_rollups(campaign: Campaign) -> None:
    """Every rollup row of the campaign, from scratch (after a full status refresh)."""
    rollup, completions = _table(StatusRollup), _table(CompletionRollup)
    columns = ", ".join(ROLLUP_SUMS)
    where = "s.campaign_id = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Waits for the refreshes of single units under way, and keeps new ones out.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROLLUP_LOCK, campaign.pk])
        cursor.execute(f"DELETE FROM {rollup} WHERE campaign_id = %s", [campaign.pk])
        cursor.execute(
            f"INSERT INTO {rollup} (level, anchor, kind, {columns}, campaign_id) "
            f"SELECT c.*, %s FROM ({_contributions_sql(where)}) c",
            [campaign.pk, campaign.pk, campaign.pk, campaign.pk],
        )
        cursor.execute(f"DELETE FROM {completions} WHERE campaign_id = %s", [campaign.pk])
        cursor.execute(
            f"INSERT INTO {completions} (anchor, completed_on, units, campaign_id) "
            f"SELECT c.*, %s FROM ({_completions_sql(where)}) c",
            [campaign.pk, campaign.pk],
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
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_advisory_xact_lock_shared(%s, %s)", [ROLLUP_LOCK, self.campaign.pk]
                )
                # Two refreshes of the same unit take turns: the second reads the rows the
                # first committed, so neither difference is counted twice.
                cursor.execute(
                    f"SELECT 1 FROM {_table(UnitStatus)} WHERE campaign_id = %s "
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
        added = ", ".join(f"{c} = {_table(StatusRollup)}.{c} + excluded.{c}" for c in ROLLUP_SUMS)
        values = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_table(StatusRollup)} ({', '.join(columns)}) VALUES {values} "
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
        table = _table(CompletionRollup)
        values = ", ".join("(%s, %s, %s, %s)" for _ in rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, anchor, completed_on, units) VALUES {values} "
                f"ON CONFLICT (campaign_id, anchor, completed_on) "
                f"DO UPDATE SET units = {table}.units + excluded.units",
                [value for row in rows for value in row],
            )
