"""Flags in line with the rules: opens the flags that should be open on a day and closes the rest.

Each rule registers, per flag kind, querysets of the (unit, subject) pairs that should have an
open flag as of a given day (`campaigns.registry.FlagRule`). A fixed number of statements per
kind then bring the table in line, whatever the number of units: an UPDATE closing the open flags
that are no longer wanted and an INSERT … SELECT of the wanted pairs that have no open flag yet
(on PostgreSQL both in one statement, see `_sync_kind_postgresql`). So a run is
idempotent (a second run finds nothing to do), catches up after days without a run (it compares
with the wanted state, not with yesterday), and two runs at once cannot duplicate a flag: the
partial unique index `flag_one_open_per_subject` (and `flag_study_late_once`) turns the loser's
insert into ON CONFLICT DO NOTHING.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection
from django.db.models import CharField, DateField, F, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.utils import timezone

from units.models import REPORTING_KINDS, Unit

from ..models import COMMITTEE_DEPTH, UNIT_FLAG_KINDS, Campaign, Flag, FlagKind
from ..registry import flag_rules

NOTHING = ""


def reporting_units() -> QuerySet[Unit]:
    """The units the deadlines apply to: active party cells and committees."""
    return Unit.objects.filter(kind__in=REPORTING_KINDS, is_active=True)


def day_after(day: date) -> Value:
    """A flag's start day that is the same for every row: the day after a deadline."""
    return Value(day + timedelta(days=1), output_field=DateField())


def pairs(queryset: QuerySet, *, since, unit: str = "pk", subject=None) -> QuerySet:
    """Shapes any queryset into the three columns the engine's SQL expects: the unit's id (from
    the field `unit`), the flag's subject (empty when the flag is about the unit as a whole) and
    the day its condition began (`since`: a date expression, e.g. `day_after(deadline)`). The
    start day is worked out from the data, never from the day of the run, so a replay and a
    live run date a flag alike."""
    subject = subject if subject is not None else Value(NOTHING, output_field=CharField())
    since = F(since) if isinstance(since, str) else since
    return (
        queryset.order_by()
        .annotate(w_unit=F(unit), w_subject=subject, w_since=since)
        .values("w_unit", "w_subject", "w_since")
    )


def wanted_flags(
    campaign: Campaign,
    today: date,
    unit_ids: list[int] | None = None,
    kinds: Iterable[str] | None = None,
) -> dict[str, list[QuerySet]]:
    """For each kind, the querysets (unioned) of pairs that should be flagged on `today`.
    An empty list means: nothing of that kind is due, so every open one closes."""
    reporting, every = reporting_units(), Unit.objects.filter(is_active=True)
    if unit_ids is not None:
        reporting, every = reporting.filter(pk__in=unit_ids), every.filter(pk__in=unit_ids)
    chosen = set(FlagKind.values if kinds is None else kinds)
    wanted: dict[str, list[QuerySet]] = {kind: [] for kind in FlagKind.values if kind in chosen}
    for rule in flag_rules():
        if rule.kind not in chosen:
            continue
        wanted[rule.kind] += rule.wanted(campaign, today, every if rule.all_units else reporting)
    return wanted


def _history_only(kind: str) -> bool:
    return any(rule.history_only for rule in flag_rules() if rule.kind == kind)


def _union_sql(querysets: list[QuerySet]) -> tuple[str, list]:
    parts, params = [], []
    for queryset in querysets:
        sql, sql_params = queryset.query.sql_with_params()
        parts.append(sql)
        params.extend(sql_params)
    return " UNION ALL ".join(parts), params


# The engine's SQL is put together from Django-compiled querysets and the models' table names;
# every value in it is a parameter.
FLAG = Flag._meta.db_table
UNIT = Unit._meta.db_table


def _escalated_on(campaign: Campaign, kind: str, today: date) -> tuple[str, list]:
    """The two escalation columns of a flag opened now, as `flags_escalate` would set them on
    the same day: a flag opened on a day long past (a first run, a catch-up) is born escalated,
    instead of being written once and rewritten twice (at 100,000 units, most of a first run)."""
    if kind not in escalating_kinds():
        return "NULL, NULL", []
    # A date plus days: PostgreSQL adds an integer to a date; SQLite keeps dates as text.
    if connection.vendor == "postgresql":
        plus, shift = "(w.w_since + %s)", int
    else:
        plus, shift = "date(w.w_since, %s)", "+{} days".format
    reached = f"CASE WHEN {plus} <= %s {{below}} THEN {plus} END"
    committee = reached.format(below=f"AND u.depth > {COMMITTEE_DEPTH}")
    standing = reached.format(below="")
    day = connection.ops.adapt_datefield_value(today)
    committee_days = shift(campaign.escalate_to_committee_days)
    standing_days = shift(campaign.escalate_to_standing_days)
    return (
        f"{committee}, {standing}",
        [committee_days, day, committee_days, standing_days, day, standing_days],
    )


def _wanted_pairs(wanted_sql: str) -> str:
    """One row per (unit, subject) wanted, with the earliest day its condition began."""
    return (
        f"SELECT w_unit, w_subject, MIN(w_since) AS w_since FROM ({wanted_sql}) x "
        "GROUP BY w_unit, w_subject"
    )


def _insert_missing(*, campaign: Campaign, kind: str, source: str, today: date, now):
    """The INSERT of the pairs in `source` (a table or a parenthesised query, aliased w) that have
    no flag yet. History ("study completed late") is written once, already closed on the day the
    run saw it, and never again for that unit; an open flag keeps the start day it opened with."""
    history_only = _history_only(kind)
    already = "" if history_only else "AND f.closed_at IS NULL"
    escalated, escalated_params = _escalated_on(campaign, kind, today)
    sql = f"""
        INSERT INTO {FLAG} (campaign_id, unit_id, kind, subject, opened_on, closed_on,
                            opened_at, closed_at, escalated_to_committee_on,
                            escalated_to_standing_on)
        SELECT %s, w.w_unit, %s, w.w_subject, w.w_since, %s, %s, %s, {escalated}
        FROM {source} w
        JOIN {UNIT} u ON u.id = w.w_unit
        WHERE NOT EXISTS (
            SELECT 1 FROM {FLAG} f
            WHERE f.campaign_id = %s AND f.kind = %s AND f.unit_id = w.w_unit
              AND f.subject = w.w_subject {already}
        )
        ON CONFLICT DO NOTHING
    """
    params = [
        campaign.pk, kind,
        connection.ops.adapt_datefield_value(today) if history_only else None,
        now, now if history_only else None,
        *escalated_params,
    ]  # fmt: skip
    return sql, params, [campaign.pk, kind]


def _close_unwanted(*, campaign: Campaign, kind: str, keep: str, today: date, now, units):
    """The UPDATE closing the open flags of `kind` (of `units`) that `keep` does not keep. A
    replayed earlier --today must not close a flag before the day it opened."""
    sql = f"""
        UPDATE {FLAG}
        SET closed_at = %s,
            closed_on = CASE WHEN opened_on > %s THEN opened_on ELSE %s END
        WHERE campaign_id = %s AND kind = %s AND closed_at IS NULL{units[0]} {keep}
    """
    return sql, [now, today, today, campaign.pk, kind, *units[1]]


def _sync_kind_postgresql(cursor, *, campaign, kind, wanted_sql, params, today, now, units):
    """One statement: the wanted pairs worked out once (a materialised CTE), the open flags not
    among them closed by a hashed anti-join, the missing ones inserted. Both parts read the
    flags as they were before the statement and touch different rows. (Two statements worked
    the pairs out twice, and a NOT IN the planner would not hash, its estimates for these
    unions being far too high, compared them row by row: minutes at 100,000 units.)"""
    keep = (
        f"AND NOT EXISTS (SELECT 1 FROM w WHERE w.w_unit = {FLAG}.unit_id "
        f"AND w.w_subject = {FLAG}.subject)"
    )
    close, close_params = _close_unwanted(
        campaign=campaign, kind=kind, keep=keep, today=today, now=now, units=units
    )
    insert, insert_params, check_params = _insert_missing(
        campaign=campaign, kind=kind, source="w", today=today, now=now
    )
    cursor.execute(
        f"WITH w AS MATERIALIZED ({_wanted_pairs(wanted_sql)}), "
        f"closed AS ({close} RETURNING 1), opened AS ({insert} RETURNING 1) "
        "SELECT (SELECT COUNT(*) FROM opened), (SELECT COUNT(*) FROM closed)",
        [*params, *close_params, *insert_params, *check_params],
    )
    opened, closed = cursor.fetchone()
    return opened, closed


def flags_sync(
    *,
    campaign: Campaign,
    today: date,
    unit_ids: Iterable[int] | None = None,
    kinds: Iterable[str] | None = None,
) -> tuple[int, int]:
    """Opens and closes the campaign's flags as of `today`, for every unit or only `unit_ids`
    (a report service re-judging the unit it just wrote for), of every flag kind or only
    `kinds`; returns (opened, closed)."""
    now = timezone.now()
    opened = closed = 0
    ids = None if unit_ids is None else sorted(set(unit_ids))
    if ids == []:
        return 0, 0
    units = ("", []) if ids is None else (f" AND unit_id IN ({', '.join(['%s'] * len(ids))})", ids)
    with connection.cursor() as cursor:
        for kind, querysets in wanted_flags(campaign, today, ids, kinds).items():
            history_only = _history_only(kind)
            if not querysets:
                # Nothing of the kind is due: every open flag of it closes.
                if not history_only:
                    sql, sql_params = _close_unwanted(
                        campaign=campaign, kind=kind, keep="", today=today, now=now, units=units
                    )
                    cursor.execute(sql, sql_params)
                    closed += max(cursor.rowcount, 0)
                continue
            wanted_sql, params = _union_sql(querysets)
            if connection.vendor == "postgresql" and not history_only:
                kind_opened, kind_closed = _sync_kind_postgresql(
                    cursor,
                    campaign=campaign,
                    kind=kind,
                    wanted_sql=wanted_sql,
                    params=params,
                    today=today,
                    now=now,
                    units=units,
                )
                opened, closed = opened + kind_opened, closed + kind_closed
                continue
            # SQLite (whose driver counts no rows for a statement that starts with WITH), and
            # history: closing first, then the pairs still missing.
            if not history_only:
                keep = (
                    "AND (unit_id, subject) NOT IN "
                    f"(SELECT w.w_unit, w.w_subject FROM ({wanted_sql}) w)"
                )
                sql, sql_params = _close_unwanted(
                    campaign=campaign, kind=kind, keep=keep, today=today, now=now, units=units
                )
                cursor.execute(sql, [*sql_params, *params])
                closed += max(cursor.rowcount, 0)
            insert, insert_params, check_params = _insert_missing(
                campaign=campaign,
                kind=kind,
                source=f"({_wanted_pairs(wanted_sql)})",
                today=today,
                now=now,
            )
            cursor.execute(insert, [*insert_params, *params, *check_params])
            opened += max(cursor.rowcount, 0)
    return opened, closed


def escalating_kinds() -> list[str]:
    """The flags that escalate: the unit's own (not the district office's review flags) that
    stay open while the unit is behind (not history such as "study completed late")."""
    history = {rule.kind for rule in flag_rules() if rule.history_only}
    return [kind for kind in UNIT_FLAG_KINDS if kind not in history]


def flags_escalate(*, campaign: Campaign, today: date) -> tuple[int, int]:
    """Raises the unit flags open too long: to the unit's committee (its ancestor right under the
    district) once open `escalate_to_committee_days`, to the Standing Committee once open
    `escalate_to_standing_days`. One UPDATE per step, whatever the number of flags; returns how
    many flags reached each step.

    A step is dated the day the flag reached its age (opened_on + days), not the day of the run,
    so a replay, a catch-up after days without a run and a live run write the same history; a
    flag that was open on that day escalates even if it closed since (the engine was down). A
    step already written is never written again: a digest announces it once. A unit directly
    under the district (or the committee itself) has no committee between it and the district:
    its flags skip the first step."""
    steps = (
        ("escalated_to_committee_on", campaign.escalate_to_committee_days, True),
        ("escalated_to_standing_on", campaign.escalate_to_standing_days, False),
    )
    counts = []
    for column, days, below_committee in steps:
        reached = Cast(F("opened_on") + timedelta(days=days), DateField())
        flags = Flag.objects.filter(
            Q(closed_on__isnull=True) | Q(closed_on__gt=reached),
            campaign=campaign,
            kind__in=escalating_kinds(),
            opened_on__lte=today - timedelta(days=days),
            **{f"{column}__isnull": True},
        )
        if below_committee:
            flags = flags.filter(unit__depth__gt=COMMITTEE_DEPTH)
        counts.append(flags.update(**{column: reached}))
    return counts[0], counts[1]
