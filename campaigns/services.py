"""Writes with rules for campaigns: the deadline engine opens and closes flags.

The engine is set-based: for each flag kind it asks the database which (unit, subject) pairs
should have an open flag today, opens the missing ones and closes the ones that no longer hold.
Running it twice, or in two workers at once, changes nothing the second time: opening relies on
the partial unique index `flag_one_open_per_subject` (ON CONFLICT DO NOTHING) and closing is a
conditional update of rows that are still open.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from breakthroughs.models import BreakthroughTask
from units.models import REPORTING_KINDS, Unit

from .models import (
    Campaign,
    DeadlineEngineRun,
    Flag,
    FlagKind,
    ImplementationPlan,
    Incident,
    ReviewStatus,
)
from .selectors import StudyState, study_state_q, units_with_study_progress

Pair = tuple[int, str]


def _reporting_units():
    return Unit.objects.filter(kind__in=REPORTING_KINDS, is_active=True)


def _wanted_flags(campaign: Campaign, today: date) -> dict[str, set[Pair]]:
    wanted: dict[str, set[Pair]] = {kind: set() for kind in FlagKind.values}
    units = _reporting_units()

    if today > campaign.study_deadline:
        progress = units_with_study_progress(units, campaign)
        not_complete = progress.filter(
            study_state_q(StudyState.IN_PROGRESS) | study_state_q(StudyState.NOT_STARTED)
        )
        wanted[FlagKind.STUDY_OVERDUE] = {
            (pk, "") for pk in not_complete.values_list("pk", flat=True)
        }
        late = progress.filter(study_state_q(StudyState.LATE))
        wanted[FlagKind.STUDY_LATE] = {(pk, "") for pk in late.values_list("pk", flat=True)}

    if today > campaign.plan_deadline:
        accepted_plan = ImplementationPlan.objects.filter(
            campaign=campaign, unit=OuterRef("pk"), status=ReviewStatus.ACCEPTED
        )
        missing = units.filter(~Exists(accepted_plan))
        wanted[FlagKind.PLAN_MISSING] = {(pk, "") for pk in missing.values_list("pk", flat=True)}

    if today > campaign.breakthrough_deadline:
        chosen = BreakthroughTask.objects.filter(
            campaign=campaign,
            unit=OuterRef("pk"),
            status__in=[ReviewStatus.SUBMITTED, ReviewStatus.ACCEPTED],
        )
        without = units.filter(~Exists(chosen))
        wanted[FlagKind.NO_BREAKTHROUGH] = {(pk, "") for pk in without.values_list("pk", flat=True)}

    stale_before = today - timedelta(days=campaign.incident_age_limit_days)
    stale = Incident.objects.filter(
        campaign=campaign,
        resolved_on__isnull=True,
        opened_on__lt=stale_before,
        unit__in=units,
    ).values_list("unit_id", "pk")
    wanted[FlagKind.STALE_INCIDENT] = {(unit_id, f"incident:{pk}") for unit_id, pk in stale}
    # Progress-report periods (REPORT_OVERDUE) are computed by the reporting-period engine of the
    # digest work; until then no such flag is opened and none is closed here.
    del wanted[FlagKind.REPORT_OVERDUE]
    return wanted


def _sync_kind(*, campaign: Campaign, kind: str, wanted: set[Pair], today: date) -> tuple[int, int]:
    now = timezone.now()
    open_flags = Flag.objects.filter(campaign=campaign, kind=kind, closed_at__isnull=True)
    existing = set(open_flags.values_list("unit_id", "subject"))

    if kind == FlagKind.STUDY_LATE:
        # "Study late" is history, not a to-do: it is written once, already closed, and never again.
        already = set(
            Flag.objects.filter(campaign=campaign, kind=kind).values_list("unit_id", "subject")
        )
        new = wanted - already
        Flag.objects.bulk_create(
            [
                Flag(
                    campaign=campaign,
                    unit_id=u,
                    kind=kind,
                    subject=s,
                    opened_on=today,
                    closed_on=today,
                    closed_at=now,
                )
                for u, s in sorted(new)
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        return len(new), 0

    to_open = wanted - existing
    to_close = existing - wanted
    Flag.objects.bulk_create(
        [
            Flag(campaign=campaign, unit_id=u, kind=kind, subject=s, opened_on=today)
            for u, s in sorted(to_open)
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    closed = 0
    if to_close:
        close_units = {u for u, _ in to_close}
        candidates = open_flags.filter(unit_id__in=close_units).values_list(
            "pk", "unit_id", "subject"
        )
        close_pks = [pk for pk, u, s in candidates if (u, s) in to_close]
        for start in range(0, len(close_pks), 1000):
            closed += Flag.objects.filter(
                pk__in=close_pks[start : start + 1000], closed_at__isnull=True
            ).update(closed_at=now, closed_on=today)
    return len(to_open), closed


def deadline_engine_run(*, today: date | None = None) -> DeadlineEngineRun:
    """Open and close every flag of every active campaign as of `today` (local date)."""
    today = today or timezone.localdate()
    run = DeadlineEngineRun.objects.create(as_of=today)
    opened = closed = 0
    for campaign in Campaign.objects.filter(is_active=True, starts_on__lte=today):
        with transaction.atomic():
            for kind, wanted in _wanted_flags(campaign, today).items():
                o, c = _sync_kind(campaign=campaign, kind=kind, wanted=wanted, today=today)
                opened += o
                closed += c
    DeadlineEngineRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), opened=opened, closed=closed
    )
    run.refresh_from_db()
    return run
