"""Which units a run of the deadline engine must re-judge: the incremental engine.

A campaign's flags and status rows change only when an input changes: a report written,
reviewed or deleted (each leaves a history row, `campaigns.engine.asof`), a unit moved, closed
or given another member count, a campaign setting or the calendar of days off, or a day passing
that a deadline or an item's own time falls on. The engine keeps a checkpoint per campaign
(`EngineCheckpoint`: judged as of which day, by a run that began when, reading which settings)
and asks here what changed since; it re-judges those units in the same set-based statements as
a full run, narrowed to their ids. A full re-judgement stays for what cannot be narrowed (a
deadline of the whole campaign passing, a setting changed, a replay of an earlier day, no
checkpoint yet), for the weekly safety run and for `flag_overdue --full`.

Nothing is recorded on the write path: the history rows, the units table and the status rows
already say what changed, so a report's save costs nothing more, and a write made by any path
(the admin, a shell, an import) is seen alike.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, QuerySet

from units.models import REPORTING_KINDS, Unit

from ..models import (
    Campaign,
    CampaignMembers,
    DayOff,
    EngineCheckpoint,
    Flag,
    StatusRollup,
    UnitStatus,
)
from ..registry import EVERY_UNIT, report_kinds, rules
from .asof import is_live
from .status import table

#: Reports written this long before a run began are judged again by the next one too: a write
#: stamped (and numbered) just before the run read the history but committed after it was not
#: seen. (A report service's own save then re-judges its unit anyway, after the run.)
OVERLAP = timedelta(minutes=1)
#: Above this share of the campaign's units, one full statement costs less than a long IN list.
FULL_ABOVE_SHARE = 0.2


@dataclass(frozen=True)
class Changes:
    """What a run re-judges: every unit (`unit_ids` None, with the reason) or these units."""

    unit_ids: list[int] | None
    reason: str = ""

    @property
    def full(self) -> bool:
        return self.unit_ids is None


def campaign_inputs(campaign: Campaign) -> str:
    """A digest of what judges every unit of the campaign at once: its settings (deadlines,
    shares, limits, review and escalation days…), the days off that move deadlines and the
    rules registered (a rule plugged in or taken out)."""
    fields = {
        field.attname: getattr(campaign, field.attname)
        for field in Campaign._meta.concrete_fields
        if field.attname not in ("members_taken_by_id",)
    }
    days_off = list(DayOff.objects.order_by("date").values_list("date", flat=True))
    registered = [rule.code for rule in rules()]
    text = json.dumps([fields, days_off, registered], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _union(querysets: list[QuerySet]) -> tuple[str, list]:
    parts, params = [], []
    for queryset in querysets:
        sql, sql_params = queryset.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) x")
        params += sql_params
    return " UNION ".join(parts), params


def _report_histories() -> list[tuple[str, type]]:
    return [
        (kind.model._meta.label_lower, kind.model.history.model) for kind in report_kinds().values()
    ]


def history_seen() -> dict[str, int]:
    """The newest history row of each report model: one statement, an index read per model."""
    parts = [
        f"SELECT %s, (SELECT MAX(history_id) FROM {table(history)})"
        for _label, history in _report_histories()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(parts), [label for label, _history in _report_histories()]
        )
        return {label: newest or 0 for label, newest in cursor.fetchall()}


def _written_since(checkpoint: EngineCheckpoint) -> list[QuerySet]:
    """The units with a report item written, reviewed or deleted since the checkpoint's run
    began: history rows newer than those it saw, or dated after it began (less OVERLAP), read
    on each history table's indexes, whatever the campaign."""
    moment = checkpoint.started_at - OVERLAP
    return [
        history.objects.filter(
            Q(history_id__gt=checkpoint.history_seen.get(label, 0)) | Q(history_date__gte=moment)
        )
        .order_by()
        .values("unit_id")
        for label, history in _report_histories()
    ]


def _out_of_step(campaign: Campaign) -> tuple[str, list]:
    """The units whose status row does not match the unit any more (moved, of another kind,
    closed or reopened, another member count) or that have none yet: one join of the units with
    their status rows."""
    kinds = list(REPORTING_KINDS)
    placeholders = ", ".join(["%s"] * len(kinds))
    sql = (
        f"SELECT u.id AS unit_id FROM {table(Unit)} u "
        f"LEFT JOIN {table(UnitStatus)} s ON s.unit_id = u.id AND s.campaign_id = %s "
        f"LEFT JOIN {table(CampaignMembers)} cm ON cm.unit_id = u.id AND cm.campaign_id = %s "
        "WHERE s.id IS NULL OR s.path <> u.path OR s.kind <> u.kind "
        f"OR s.reporting <> (u.kind IN ({placeholders}) AND u.is_active) "
        "OR s.members <> COALESCE(cm.member_count, u.member_count)"
    )
    return sql, [campaign.pk, campaign.pk, *kinds]


def status_rows(campaign: Campaign) -> tuple[int, bool]:
    """How many status rows the campaign has, and whether the rows, the rollups and the open
    flags agree: a unit deleted takes its status row and flags with it (a cascade), and flags
    removed by hand are not the engine's doing; only a full run accounts for either. One
    statement."""
    status, rollups, flags = table(UnitStatus), table(StatusRollup), table(Flag)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {status} WHERE campaign_id = %s), "
            f"(SELECT SUM(units) FROM {rollups} WHERE campaign_id = %s AND level = %s), "
            f"(SELECT SUM(flags_open + reviews_overdue) FROM {status} WHERE campaign_id = %s), "
            f"(SELECT COUNT(*) FROM {flags} WHERE campaign_id = %s AND closed_at IS NULL)",
            [campaign.pk, campaign.pk, StatusRollup.TREE, campaign.pk, campaign.pk],
        )
        rows, counted, flagged, open_flags = cursor.fetchone()
    return rows, rows == (counted or 0) and (flagged or 0) == open_flags


def _days_change(campaign: Campaign, since: date, today: date) -> list[QuerySet] | None:
    """The items whose own time, in the days after `since` up to `today`, changes their units'
    judgement; None when a rule says every unit (a deadline of the whole campaign passed)."""
    rows: list[QuerySet] = []
    for rule in rules():
        if rule.day_changes is None:
            if rule.flags or rule.status is not None:
                return None
            continue
        answer = rule.day_changes(campaign, since, today)
        if answer == EVERY_UNIT:
            return None
        rows += [queryset.order_by().values("unit_id") for queryset in answer or ()]
    return rows


def changes_since(
    campaign: Campaign, checkpoint: EngineCheckpoint | None, today: date, *, inputs: str
) -> Changes:
    """What a run as of `today` re-judges, given the campaign's checkpoint: a fixed number of
    statements (the units come in one UNION of what was written, what is out of step and what
    the days changed)."""
    if checkpoint is None:
        return Changes(None, "first run")
    if today < checkpoint.judged_on:
        return Changes(None, "an earlier day")
    if not is_live(today):
        # A replay of a past day reads the reports as they stood then, while what the days
        # changed (`Rule.day_changes`) reads today's rows: an incident resolved or moved since
        # would be missed. Replays are rare; they re-judge everyone, as before.
        return Changes(None, "a past day")
    if checkpoint.inputs != inputs:
        return Changes(None, "settings changed")
    rows, in_step = status_rows(campaign)
    if not in_step:
        return Changes(None, "out of step")
    sources = _written_since(checkpoint)
    if today > checkpoint.judged_on:
        by_days = _days_change(campaign, checkpoint.judged_on, today)
        if by_days is None:
            return Changes(None, "a deadline passed")
        sources += by_days
    sql, params = _union(sources)
    step_sql, step_params = _out_of_step(campaign)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} UNION {step_sql}", [*params, *step_params])
        units = sorted(row[0] for row in cursor.fetchall() if row[0] is not None)
    if len(units) > FULL_ABOVE_SHARE * max(rows, 1):
        return Changes(None, "many units changed")
    return Changes(units)
