"""The deadline engine: opens and closes flags (PRODUCT.md, "Flags").

For each flag kind a queryset describes the (unit, subject) pairs that should have an open flag
as of a given day. Two statements per kind then bring the table in line, whatever the number of
units: an INSERT … SELECT of the wanted pairs that have no open flag yet, and an UPDATE closing the
open flags that are no longer wanted. So a run is idempotent (a second run finds nothing to do),
catches up after days without a run (it compares with the wanted state, not with yesterday), and
two runs at once cannot duplicate a flag: the partial unique index `flag_one_open_per_subject`
(and `flag_study_late_once`) turns the loser's insert into ON CONFLICT DO NOTHING.
"""

from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from breakthroughs.models import BreakthroughTask, ProgressReport
from units.models import REPORTING_KINDS, Unit

from ..models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    FlagKind,
    ImplementationPlan,
    Incident,
    ReviewStatus,
)
from ..periods import reporting_periods
from ..selectors import StudyState, study_state_q, units_with_study_progress
from .status import refresh_unit_status

CHOSEN = (ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED)
NOTHING = ""


def _reporting_units() -> QuerySet[Unit]:
    return Unit.objects.filter(kind__in=REPORTING_KINDS, is_active=True)


def _pairs(queryset: QuerySet, *, unit: str = "pk", subject=None) -> QuerySet:
    """Shape any queryset into the two columns the engine's SQL expects."""
    subject = subject if subject is not None else Value(NOTHING, output_field=CharField())
    return (
        queryset.order_by()
        .annotate(w_unit=F(unit), w_subject=subject)
        .values("w_unit", "w_subject")
    )


def wanted_flags(campaign: Campaign, today: date) -> dict[str, list[QuerySet]]:
    """For each kind, the querysets (unioned) of pairs that should be flagged on `today`.
    An empty list means: nothing of that kind is due, so every open one closes."""
    units = _reporting_units()
    wanted: dict[str, list[QuerySet]] = {kind: [] for kind in FlagKind.values}

    if today > campaign.study_deadline:
        progress = units_with_study_progress(units, campaign)
        behind = study_state_q(StudyState.IN_PROGRESS) | study_state_q(StudyState.NOT_STARTED)
        wanted[FlagKind.STUDY_OVERDUE] = [_pairs(progress.filter(behind))]
        wanted[FlagKind.STUDY_LATE] = [_pairs(progress.filter(study_state_q(StudyState.LATE)))]

    if today > campaign.plan_deadline:
        accepted = ImplementationPlan.objects.filter(
            campaign=campaign, unit=OuterRef("pk"), status=ReviewStatus.ACCEPTED
        )
        wanted[FlagKind.PLAN_MISSING] = [_pairs(units.filter(~Exists(accepted)))]

    if today > campaign.breakthrough_deadline:
        chosen = BreakthroughTask.objects.filter(
            campaign=campaign, unit=OuterRef("pk"), status__in=CHOSEN
        )
        wanted[FlagKind.NO_BREAKTHROUGH] = [_pairs(units.filter(~Exists(chosen)))]

    # One statement per past reporting period (a handful per campaign, never per unit).
    for period in reporting_periods(
        starts_on=campaign.starts_on, ends_on=campaign.ends_on, frequency=campaign.report_frequency
    ):
        if today <= period.due_on(campaign.report_grace_days):
            break
        reported = ProgressReport.objects.filter(
            task=OuterRef("pk"), period_start=period.start, status__in=CHOSEN
        )
        owing = BreakthroughTask.objects.filter(
            campaign=campaign,
            status__in=CHOSEN,
            unit__in=units,
            # A task owes the periods from the one it was chosen in up to the one it is due in.
            created_at__date__lte=period.end,
            due_on__gte=period.start,
        ).filter(~Exists(reported))
        subject = Concat(
            Value("task:"),
            Cast("pk", CharField()),
            Value(f"/{period.start.isoformat()}"),
            output_field=CharField(),
        )
        wanted[FlagKind.REPORT_OVERDUE].append(_pairs(owing, unit="unit_id", subject=subject))

    stale = Incident.objects.filter(
        campaign=campaign,
        resolved_on__isnull=True,
        opened_on__lt=today - timedelta(days=campaign.incident_age_limit_days),
        unit__in=units,
    )
    subject = Concat(Value("incident:"), Cast("pk", CharField()), output_field=CharField())
    wanted[FlagKind.STALE_INCIDENT] = [_pairs(stale, unit="unit_id", subject=subject)]
    return wanted


def _union_sql(querysets: list[QuerySet]) -> tuple[str, list]:
    parts, params = [], []
    for queryset in querysets:
        sql, sql_params = queryset.query.sql_with_params()
        parts.append(sql)
        params.extend(sql_params)
    return " UNION ALL ".join(parts), params


FLAG = Flag._meta.db_table


def _open_missing(
    cursor, *, campaign: Campaign, kind: str, wanted_sql: str, params: list, today: date, now
) -> int:
    # "Study late" is history: written once, already closed, and never again for that unit.
    history_only = kind == FlagKind.STUDY_LATE
    already = "" if history_only else "AND f.closed_at IS NULL"
    cursor.execute(
        f"""
        INSERT INTO {FLAG} (campaign_id, unit_id, kind, subject, opened_on, closed_on,
                            opened_at, closed_at)
        SELECT %s, w.w_unit, %s, w.w_subject, %s, %s, %s, %s
        FROM (SELECT DISTINCT w_unit, w_subject FROM ({wanted_sql}) x) w
        WHERE NOT EXISTS (
            SELECT 1 FROM {FLAG} f
            WHERE f.campaign_id = %s AND f.kind = %s AND f.unit_id = w.w_unit
              AND f.subject = w.w_subject {already}
        )
        ON CONFLICT DO NOTHING
        """,  # noqa: S608 - table names come from the models; values are parameters
        [
            campaign.pk, kind, today,
            today if history_only else None, now, now if history_only else None,
            *params,
            campaign.pk, kind,
        ],
    )  # fmt: skip
    return max(cursor.rowcount, 0)


def _close_unwanted(
    cursor, *, campaign: Campaign, kind: str, wanted_sql: str | None, params: list, today: date, now
) -> int:
    # The SQL pieces are Django-compiled querysets and model table names; values are parameters.
    # NOT IN over an uncorrelated subquery: PostgreSQL evaluates it once into a hash table. (A
    # NOT EXISTS against the same derived table was re-run for every open flag: quadratic.)
    keep = (
        f"AND (unit_id, subject) NOT IN (SELECT w.w_unit, w.w_subject FROM ({wanted_sql}) w)"  # noqa: S608
        if wanted_sql
        else ""
    )
    # A replayed earlier --today must not close a flag before the day it opened.
    cursor.execute(
        f"""
        UPDATE {FLAG}
        SET closed_at = %s,
            closed_on = CASE WHEN opened_on > %s THEN opened_on ELSE %s END
        WHERE campaign_id = %s AND kind = %s AND closed_at IS NULL {keep}
        """,  # noqa: S608 - table names come from the models; values are parameters
        [now, today, today, campaign.pk, kind, *params],
    )
    return max(cursor.rowcount, 0)


def _sync_campaign(campaign: Campaign, today: date) -> tuple[int, int]:
    now = timezone.now()
    opened = closed = 0
    with connection.cursor() as cursor:
        for kind, querysets in wanted_flags(campaign, today).items():
            if querysets:
                wanted_sql, params = _union_sql(querysets)
                opened += _open_missing(
                    cursor,
                    campaign=campaign,
                    kind=kind,
                    wanted_sql=wanted_sql,
                    params=params,
                    today=today,
                    now=now,
                )
            else:
                wanted_sql, params = None, []
            if kind != FlagKind.STUDY_LATE:
                closed += _close_unwanted(
                    cursor,
                    campaign=campaign,
                    kind=kind,
                    wanted_sql=wanted_sql,
                    params=params,
                    today=today,
                    now=now,
                )
    return opened, closed


def deadline_engine_run(*, today: date | None = None) -> DeadlineEngineRun:
    """Bring every flag of every active campaign up to date as of `today` (the local date by
    default) and record the run; a failure is recorded on the run and raised again."""
    today = today or timezone.localdate()
    run = DeadlineEngineRun.objects.create(as_of=today)
    opened = closed = 0
    try:
        for campaign in Campaign.objects.filter(is_active=True, starts_on__lte=today):
            with transaction.atomic():
                campaign_opened, campaign_closed = _sync_campaign(campaign, today)
                # The flags just changed, and "stale" incidents age by the day: every unit's
                # status row is rebuilt in the same transaction.
                refresh_unit_status(campaign, today=today)
            opened += campaign_opened
            closed += campaign_closed
    except Exception as exc:
        DeadlineEngineRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), opened=opened, closed=closed, error=repr(exc)[:2000]
        )
        raise
    DeadlineEngineRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), opened=opened, closed=closed
    )
    run.refresh_from_db()
    return run
