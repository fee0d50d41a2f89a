"""The deadline engine: which flags it opens and closes, and that running it again (or after a
crash) changes nothing. Also the database rules it leans on, its command and its Celery task."""

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from campaigns.engine.run import deadline_engine_run
from campaigns.models import (
    DeadlineEngineRun,
    Flag,
    FlagKind,
    ImplementationPlan,
    Incident,
    ReviewStatus,
    StudySession,
)
from campaigns.tasks import run_deadline_engine
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    IncidentFactory,
    StudySessionFactory,
    UnitFactory,
    change,
)
from units.models import UnitKind

ON_STUDY_DEADLINE = date(2024, 3, 31)
AFTER_STUDY_DEADLINE = date(2024, 4, 1)
ON_PLAN_DEADLINE = date(2024, 4, 30)  # the plan and the breakthrough-task deadline
AFTER_PLAN_DEADLINE = date(2024, 5, 1)


def open_flags(kind: str | None = None) -> set[tuple[str, str, str]]:
    flags = Flag.objects.filter(closed_at__isnull=True)
    if kind:
        flags = flags.filter(kind=kind)
    return set(flags.values_list("unit__code", "kind", "subject"))


def flags_of(kind: str) -> list[tuple[str, str, date, date | None]]:
    """Every row of one kind, open or closed, oldest first."""
    return list(
        Flag.objects.filter(kind=kind)
        .order_by("unit__code", "pk")
        .values_list("unit__code", "subject", "opened_on", "closed_on")
    )


def flag_table() -> list[dict]:
    return list(Flag.objects.order_by("pk").values())


def study_session(campaign, unit, attendees, *, held_on=date(2024, 3, 15), **kwargs):
    return StudySessionFactory(
        campaign=campaign,
        unit=unit,
        attendees=attendees,
        members_expected=max(unit.member_count, attendees),
        held_on=held_on,
        **kwargs,
    )


def plan(campaign, unit, status=ReviewStatus.ACCEPTED, **kwargs) -> ImplementationPlan:
    return ImplementationPlanFactory(campaign=campaign, unit=unit, status=status, **kwargs)


def cell_makes_up_on_5_april(campaign, district) -> StudySession:
    """30 + 8 of the cell's 40 members: 95%, reached after the deadline."""
    return study_session(
        campaign, district.cell, 8, held_on=date(2024, 4, 5), kind=StudySession.Kind.MAKEUP
    )


@pytest.fixture
def study_by_deadline(district, campaign):
    """As of 31/03: ward complete; cell 30 of 40; sibling ward 5 of 10; sibling cell only a
    submitted (not accepted) session."""
    study_session(campaign, district.ward, 12)
    study_session(campaign, district.cell, 30)
    study_session(campaign, district.sibling_ward, 5)
    study_session(campaign, district.sibling_cell, 30, status=ReviewStatus.SUBMITTED)
    return district


@pytest.fixture
def study_states(study_by_deadline, campaign):
    """One unit per state: ward on time, cell late, sibling ward in progress, sibling cell not
    started."""
    cell_makes_up_on_5_april(campaign, study_by_deadline)
    return study_by_deadline


@pytest.fixture
def everything_due(study_states, campaign):
    """A district with something for every flag kind the engine handles, as of 01/06/2024."""
    district = study_states
    plan(campaign, district.ward)
    plan(campaign, district.cell, status=ReviewStatus.SUBMITTED)
    BreakthroughTaskFactory(campaign=campaign, unit=district.ward)
    BreakthroughTaskFactory(campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED)
    IncidentFactory(campaign=campaign, unit=district.sibling_ward, opened_on=date(2024, 4, 1))
    return district


# Database rules the engine relies on


def test_second_open_flag_for_the_same_subject_is_refused(district, campaign):
    Flag.objects.create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.PLAN_MISSING,
        opened_on=date(2024, 5, 1),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            campaign=campaign,
            unit=district.cell,
            kind=FlagKind.PLAN_MISSING,
            opened_on=date(2024, 5, 2),
        )
    assert Flag.objects.count() == 1


def test_closed_flag_and_open_flag_for_the_same_subject_may_coexist(district, campaign):
    Flag.objects.create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.PLAN_MISSING,
        opened_on=date(2024, 5, 1),
        closed_on=date(2024, 5, 3),
        closed_at=datetime(2024, 5, 3, 1, 0, tzinfo=UTC),
    )
    Flag.objects.create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.PLAN_MISSING,
        opened_on=date(2024, 5, 9),
    )
    assert Flag.objects.filter(unit=district.cell, kind=FlagKind.PLAN_MISSING).count() == 2


def test_open_flags_on_different_subjects_may_coexist(district, campaign):
    for subject in ("incident:1", "incident:2"):
        Flag.objects.create(
            campaign=campaign,
            unit=district.cell,
            kind=FlagKind.STALE_INCIDENT,
            subject=subject,
            opened_on=date(2024, 5, 1),
        )
    assert len(open_flags(FlagKind.STALE_INCIDENT)) == 2


def test_flag_closed_before_it_opened_is_refused(district, campaign):
    with pytest.raises(IntegrityError, match="flag_closed_after_opened"), transaction.atomic():
        Flag.objects.create(
            campaign=campaign,
            unit=district.cell,
            kind=FlagKind.PLAN_MISSING,
            opened_on=date(2024, 5, 2),
            closed_on=date(2024, 5, 1),
        )


def test_second_plan_for_the_same_unit_and_campaign_is_refused(district, campaign):
    plan(campaign, district.cell)
    with pytest.raises(IntegrityError), transaction.atomic():
        plan(campaign, district.cell, status=ReviewStatus.DRAFT)
    assert ImplementationPlan.objects.filter(unit=district.cell).count() == 1


def test_same_unit_may_have_a_plan_in_each_campaign(district, campaign):
    plan(campaign, district.cell)
    plan(CampaignFactory(code="cd2025", year=2025), district.cell)
    assert ImplementationPlan.objects.filter(unit=district.cell).count() == 2


def test_incident_resolved_before_it_opened_is_refused(district, campaign):
    with (
        pytest.raises(IntegrityError, match="incident_resolved_after_opened"),
        transaction.atomic(),
    ):
        IncidentFactory(
            campaign=campaign,
            unit=district.cell,
            opened_on=date(2024, 5, 10),
            resolved_on=date(2024, 5, 9),
        )
    assert not Incident.objects.exists()


def test_incident_resolved_the_day_it_opened_is_allowed(district, campaign):
    IncidentFactory(
        campaign=campaign,
        unit=district.cell,
        opened_on=date(2024, 5, 10),
        resolved_on=date(2024, 5, 10),
    )
    assert Incident.objects.get().resolved_on == date(2024, 5, 10)


# Before the deadlines


def test_nothing_opens_on_the_study_deadline_itself(district, campaign):
    run = deadline_engine_run(today=ON_STUDY_DEADLINE)
    assert (run.opened, run.closed) == (0, 0)
    assert not Flag.objects.exists()


def test_nothing_opens_before_the_campaign_starts(district, campaign):
    run = deadline_engine_run(today=date(2024, 1, 15))
    assert run.opened == 0
    assert not Flag.objects.exists()


def test_inactive_campaign_opens_nothing(district):
    CampaignFactory(is_active=False)
    deadline_engine_run(today=date(2024, 6, 1))
    assert not Flag.objects.exists()


# Study flags


def test_units_not_study_complete_are_overdue_the_day_after_the_deadline(study_by_deadline):
    district = study_by_deadline
    deadline_engine_run(today=AFTER_STUDY_DEADLINE)
    # The sibling cell sent its whole session for review by the deadline: it waits for the
    # district, which is not its delay.
    assert open_flags(FlagKind.STUDY_OVERDUE) == {
        (district.cell.code, FlagKind.STUDY_OVERDUE, ""),
        (district.sibling_ward.code, FlagKind.STUDY_OVERDUE, ""),
    }
    overdue = Flag.objects.filter(kind=FlagKind.STUDY_OVERDUE)
    assert set(overdue.values_list("opened_on", flat=True)) == {AFTER_STUDY_DEADLINE}
    # Sent on 15/03 (a Friday), five working days for review: overdue from Saturday 23/03.
    review = Flag.objects.get(kind=FlagKind.REVIEW_OVERDUE)
    assert (review.unit, review.opened_on) == (district.sibling_cell, date(2024, 3, 23))
    assert not Flag.objects.filter(unit=district.ward).exists()
    assert not Flag.objects.filter(unit=district.root).exists()


def test_plan_and_task_flags_wait_for_their_own_deadline(study_states):
    deadline_engine_run(today=ON_PLAN_DEADLINE)
    assert not Flag.objects.filter(
        kind__in=[FlagKind.PLAN_MISSING, FlagKind.NO_BREAKTHROUGH]
    ).exists()


def test_unit_complete_on_time_gets_no_flag(study_states):
    deadline_engine_run(today=date(2024, 4, 15))
    assert not Flag.objects.filter(unit=study_states.ward).exists()


def test_unit_complete_late_gets_one_closed_study_late_flag(study_states):
    district = study_states
    deadline_engine_run(today=date(2024, 4, 15))
    late = Flag.objects.get(unit=district.cell, kind=FlagKind.STUDY_LATE)
    # Late from the day after the deadline; written (closed) by the run that saw it.
    assert late.opened_on == AFTER_STUDY_DEADLINE
    assert late.closed_on == date(2024, 4, 15)
    assert late.closed_at is not None
    assert not Flag.objects.filter(unit=district.cell, kind=FlagKind.STUDY_OVERDUE).exists()


def test_study_late_flag_is_written_once_however_often_the_engine_runs(study_states):
    for day in (15, 15, 16, 30):
        deadline_engine_run(today=date(2024, 4, day))
    assert flags_of(FlagKind.STUDY_LATE) == [
        (study_states.cell.code, "", AFTER_STUDY_DEADLINE, date(2024, 4, 15))
    ]


def test_overdue_unit_completing_late_closes_overdue_and_records_late(study_by_deadline, campaign):
    district = study_by_deadline
    first = deadline_engine_run(today=AFTER_STUDY_DEADLINE)
    assert (district.cell.code, FlagKind.STUDY_OVERDUE, "") in open_flags()
    assert first.opened == 3

    cell_makes_up_on_5_april(campaign, district)
    waiting = StudySession.objects.get(unit=district.sibling_cell)
    second = deadline_engine_run(today=date(2024, 4, 6))
    assert (second.opened, second.closed) == (1, 1)
    assert flags_of(FlagKind.STUDY_OVERDUE)[0] == (
        district.cell.code,
        "",
        AFTER_STUDY_DEADLINE,
        date(2024, 4, 6),
    )
    assert flags_of(FlagKind.STUDY_LATE) == [
        (district.cell.code, "", AFTER_STUDY_DEADLINE, date(2024, 4, 6))
    ]
    # The sibling cell's session has waited for review since 15/03: the district's delay.
    assert open_flags() == {
        (district.sibling_ward.code, FlagKind.STUDY_OVERDUE, ""),
        (district.sibling_cell.code, FlagKind.REVIEW_OVERDUE, f"sessions:{waiting.pk}"),
    }


def test_accepting_a_session_sent_in_time_late_closes_the_districts_flag(study_states, campaign):
    district = study_states
    deadline_engine_run(today=date(2024, 4, 10))
    waiting = (
        district.sibling_cell.code,
        FlagKind.REVIEW_OVERDUE,
        f"sessions:{StudySession.objects.get(unit=district.sibling_cell).pk}",
    )
    assert waiting in open_flags()
    assert (district.sibling_cell.code, FlagKind.STUDY_OVERDUE, "") not in open_flags()
    change(
        StudySession.objects.get(unit=district.sibling_cell),
        date(2024, 4, 11),
        status=ReviewStatus.ACCEPTED,
    )
    run = deadline_engine_run(today=date(2024, 4, 11))
    assert waiting not in open_flags()
    # Held and sent by the deadline, accepted only now: on time, nothing late to record.
    assert not Flag.objects.filter(unit=district.sibling_cell, kind=FlagKind.STUDY_LATE).exists()
    assert run.closed == 1


# Plan missing


def test_plan_missing_opens_after_the_plan_deadline_without_an_accepted_plan(
    study_states, campaign
):
    district = study_states
    plan(campaign, district.ward)
    plan(campaign, district.cell, status=ReviewStatus.SUBMITTED)
    plan(campaign, district.sibling_ward, status=ReviewStatus.RETURNED)
    deadline_engine_run(today=AFTER_PLAN_DEADLINE)
    # The cell's plan waits for review: not the cell's delay.
    assert open_flags(FlagKind.PLAN_MISSING) == {
        (district.sibling_ward.code, FlagKind.PLAN_MISSING, ""),
        (district.sibling_cell.code, FlagKind.PLAN_MISSING, ""),
    }


def test_plan_missing_closes_on_the_next_run_once_the_plan_is_sent(study_states, campaign):
    district = study_states
    draft = plan(campaign, district.cell, status=ReviewStatus.DRAFT)
    deadline_engine_run(today=AFTER_PLAN_DEADLINE)
    assert (district.cell.code, FlagKind.PLAN_MISSING, "") in open_flags()

    change(draft, date(2024, 5, 2), status=ReviewStatus.SUBMITTED)
    run = deadline_engine_run(today=date(2024, 5, 2))
    assert (district.cell.code, FlagKind.PLAN_MISSING, "") not in open_flags()
    assert run.closed == 1
    assert [row for row in flags_of(FlagKind.PLAN_MISSING) if row[0] == district.cell.code] == [
        (district.cell.code, "", AFTER_PLAN_DEADLINE, date(2024, 5, 2))
    ]


def test_plan_of_another_campaign_does_not_clear_plan_missing(study_states, campaign):
    plan(CampaignFactory(code="cd2023", year=2023), study_states.cell)
    deadline_engine_run(today=AFTER_PLAN_DEADLINE)
    assert (study_states.cell.code, FlagKind.PLAN_MISSING, "") in open_flags()


def test_flag_closed_then_reopened_keeps_both_rows(study_states, campaign):
    district = study_states
    cell_plan = plan(campaign, district.cell, status=ReviewStatus.DRAFT)
    deadline_engine_run(today=date(2024, 5, 1))
    change(cell_plan, date(2024, 5, 2), status=ReviewStatus.SUBMITTED)
    change(cell_plan, date(2024, 5, 2), status=ReviewStatus.ACCEPTED)
    deadline_engine_run(today=date(2024, 5, 2))
    # the district took its acceptance back
    change(cell_plan, date(2024, 5, 3), status=ReviewStatus.RETURNED)
    deadline_engine_run(today=date(2024, 5, 3))
    deadline_engine_run(today=date(2024, 5, 4))

    cell_rows = [row for row in flags_of(FlagKind.PLAN_MISSING) if row[0] == district.cell.code]
    # Both rows date the condition from the day after the deadline; the second opened on 03/05.
    assert cell_rows == [
        (district.cell.code, "", date(2024, 5, 1), date(2024, 5, 2)),
        (district.cell.code, "", date(2024, 5, 1), None),
    ]


# No breakthrough task


def test_no_breakthrough_opens_after_the_deadline_without_a_chosen_task(study_states, campaign):
    district = study_states
    BreakthroughTaskFactory(campaign=campaign, unit=district.ward, status=ReviewStatus.ACCEPTED)
    BreakthroughTaskFactory(campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED)
    BreakthroughTaskFactory(
        campaign=campaign, unit=district.sibling_ward, status=ReviewStatus.RETURNED
    )
    BreakthroughTaskFactory(
        campaign=campaign, unit=district.sibling_cell, status=ReviewStatus.DRAFT
    )
    deadline_engine_run(today=AFTER_PLAN_DEADLINE)
    assert open_flags(FlagKind.NO_BREAKTHROUGH) == {
        (district.sibling_ward.code, FlagKind.NO_BREAKTHROUGH, ""),
        (district.sibling_cell.code, FlagKind.NO_BREAKTHROUGH, ""),
    }


def test_no_breakthrough_closes_once_a_task_is_submitted(study_states, campaign):
    district = study_states
    draft = BreakthroughTaskFactory(
        campaign=campaign, unit=district.sibling_cell, status=ReviewStatus.DRAFT
    )
    deadline_engine_run(today=AFTER_PLAN_DEADLINE)
    assert (district.sibling_cell.code, FlagKind.NO_BREAKTHROUGH, "") in open_flags()

    change(draft, date(2024, 5, 2), status=ReviewStatus.SUBMITTED)
    run = deadline_engine_run(today=date(2024, 5, 2))
    assert (district.sibling_cell.code, FlagKind.NO_BREAKTHROUGH, "") not in open_flags()
    assert run.closed == 1


# Stale incidents


def test_incident_open_exactly_the_limit_is_not_yet_stale(district, campaign):
    IncidentFactory(campaign=campaign, unit=district.cell, opened_on=date(2024, 5, 1))
    deadline_engine_run(today=date(2024, 5, 31))  # 30 days, the campaign's limit
    assert not open_flags(FlagKind.STALE_INCIDENT)


def test_incident_open_longer_than_the_limit_is_flagged_by_incident(district, campaign):
    incident = IncidentFactory(campaign=campaign, unit=district.cell, opened_on=date(2024, 5, 1))
    deadline_engine_run(today=date(2024, 6, 1))  # 31 days
    assert open_flags(FlagKind.STALE_INCIDENT) == {
        (district.cell.code, FlagKind.STALE_INCIDENT, f"incident:{incident.pk}")
    }


def test_two_stale_incidents_of_one_unit_get_a_flag_each(district, campaign):
    first = IncidentFactory(campaign=campaign, unit=district.cell, opened_on=date(2024, 4, 1))
    second = IncidentFactory(campaign=campaign, unit=district.cell, opened_on=date(2024, 4, 2))
    deadline_engine_run(today=date(2024, 6, 1))
    assert {subject for _, _, subject in open_flags(FlagKind.STALE_INCIDENT)} == {
        f"incident:{first.pk}",
        f"incident:{second.pk}",
    }


def test_incident_age_limit_is_read_from_the_campaign(district):
    strict = CampaignFactory(code="cd-strict", incident_age_limit_days=7)
    IncidentFactory(campaign=strict, unit=district.cell, opened_on=date(2024, 5, 1))
    deadline_engine_run(today=date(2024, 5, 9))
    assert open_flags(FlagKind.STALE_INCIDENT)


def test_stale_incident_flag_closes_when_the_incident_is_resolved(district, campaign):
    incident = IncidentFactory(campaign=campaign, unit=district.cell, opened_on=date(2024, 5, 1))
    deadline_engine_run(today=date(2024, 6, 1))
    change(incident, date(2024, 6, 3), resolved_on=date(2024, 6, 3), resolution_vi="Đã xử lý")
    run = deadline_engine_run(today=date(2024, 6, 4))
    assert not open_flags(FlagKind.STALE_INCIDENT)
    assert flags_of(FlagKind.STALE_INCIDENT) == [
        (district.cell.code, f"incident:{incident.pk}", date(2024, 6, 1), date(2024, 6, 4))
    ]
    assert run.closed == 1


# Units that do not report


@pytest.mark.parametrize(
    "kind", [UnitKind.DISTRICT, UnitKind.FATHERLAND_FRONT, UnitKind.SOCIO_POLITICAL]
)
def test_non_reporting_units_never_get_deadline_flags(district, campaign, kind):
    outside = UnitFactory(parent=district.root, kind=kind, member_count=25)
    deadline_engine_run(today=date(2024, 6, 1))
    assert not Flag.objects.filter(unit=outside).exists()
    assert not Flag.objects.filter(unit=district.root).exists()
    # The party units of the same district are chased, so the run did happen.
    assert (district.cell.code, FlagKind.PLAN_MISSING, "") in open_flags()


@pytest.mark.parametrize(
    "kind", [UnitKind.DISTRICT, UnitKind.FATHERLAND_FRONT, UnitKind.SOCIO_POLITICAL]
)
def test_non_reporting_units_never_get_stale_incident_flags(district, campaign, kind):
    outside = UnitFactory(parent=district.root, kind=kind, member_count=25)
    IncidentFactory(campaign=campaign, unit=outside, opened_on=date(2024, 4, 1))
    deadline_engine_run(today=date(2024, 6, 1))
    assert not Flag.objects.filter(unit=outside).exists()


def test_inactive_units_get_no_flags(district, campaign):
    closed = UnitFactory(parent=district.ward, is_active=False)
    IncidentFactory(campaign=campaign, unit=closed, opened_on=date(2024, 4, 1))
    deadline_engine_run(today=date(2024, 6, 1))
    assert not Flag.objects.filter(unit=closed).exists()


# Running twice, crashing half-way


def test_second_run_on_the_same_day_changes_nothing(everything_due):
    first = deadline_engine_run(today=date(2024, 6, 1))
    assert first.opened > 0
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert kinds == {
        FlagKind.STUDY_OVERDUE,
        FlagKind.STUDY_LATE,
        FlagKind.PLAN_MISSING,
        FlagKind.NO_BREAKTHROUGH,
        FlagKind.STALE_INCIDENT,
        FlagKind.REVIEW_OVERDUE,
    }
    before = flag_table()

    second = deadline_engine_run(today=date(2024, 6, 1))
    assert (second.opened, second.closed) == (0, 0)
    assert flag_table() == before


def test_second_run_on_a_later_day_changes_nothing_when_nothing_changed(everything_due):
    deadline_engine_run(today=date(2024, 6, 1))
    before = flag_table()
    run = deadline_engine_run(today=date(2024, 6, 2))
    assert (run.opened, run.closed) == (0, 0)
    assert flag_table() == before


def test_first_run_opens_the_expected_number_of_flags(everything_due):
    district = everything_due
    run = deadline_engine_run(today=date(2024, 6, 1))
    # study: 1 overdue + 1 late; plan: 2 missing; tasks: 2 missing; 1 stale incident; and the
    # district's: 3 items waiting for review (the sibling cell's session, the cell's plan and
    # task), which make the sibling cell and the cell "awaiting the district", not overdue.
    assert (run.opened, run.closed) == (10, 0)
    assert Flag.objects.count() == 10
    assert Flag.objects.filter(kind=FlagKind.REVIEW_OVERDUE).count() == 3
    assert open_flags(FlagKind.STALE_INCIDENT) == {
        (
            district.sibling_ward.code,
            FlagKind.STALE_INCIDENT,
            f"incident:{Incident.objects.get().pk}",
        )
    }


def test_run_after_a_crash_half_way_finishes_without_duplicates(everything_due, campaign):
    district = everything_due
    today = date(2024, 6, 1)
    # What a run that died after the study kinds would have left behind.
    for unit in (district.sibling_ward,):
        Flag.objects.create(
            campaign=campaign, unit=unit, kind=FlagKind.STUDY_OVERDUE, opened_on=today
        )
    Flag.objects.create(
        campaign=campaign,
        unit=district.cell,
        kind=FlagKind.STUDY_LATE,
        opened_on=today,
        closed_on=today,
        closed_at=datetime(2024, 6, 1, 1, 0, tzinfo=UTC),
    )

    run = deadline_engine_run(today=today)
    assert (run.opened, run.closed) == (8, 0)  # only what the crashed run had not written
    keys = list(Flag.objects.values_list("unit_id", "kind", "subject"))
    assert len(keys) == len(set(keys)) == 10


def test_run_after_a_crash_with_one_flag_of_a_kind_opens_the_rest(everything_due, campaign):
    district = everything_due
    today = date(2024, 6, 1)
    Flag.objects.create(
        campaign=campaign, unit=district.sibling_cell, kind=FlagKind.PLAN_MISSING, opened_on=today
    )
    run = deadline_engine_run(today=today)
    assert run.opened == 9
    assert Flag.objects.filter(kind=FlagKind.PLAN_MISSING).count() == 2


def test_every_run_is_recorded_with_its_counts(everything_due):
    deadline_engine_run(today=date(2024, 6, 1))
    deadline_engine_run(today=date(2024, 6, 1))
    runs = list(DeadlineEngineRun.objects.order_by("pk").values_list("as_of", "opened", "closed"))
    assert runs == [(date(2024, 6, 1), 10, 0), (date(2024, 6, 1), 0, 0)]
    assert not DeadlineEngineRun.objects.filter(finished_at__isnull=True).exists()


def test_engine_query_count_does_not_grow_with_units(
    everything_due, campaign, django_assert_max_num_queries
):
    def add_late_cells(count: int) -> None:
        for _ in range(count):
            unit = UnitFactory(parent=everything_due.sibling_ward)
            study_session(campaign, unit, 40, held_on=date(2024, 4, 20))

    deadline_engine_run(today=date(2024, 6, 1))
    add_late_cells(1)
    # A fixed number: the checkpoint, what changed (one UNION), the flags and the status rows of
    # the units that changed, and the rollups' difference.
    with django_assert_max_num_queries(40) as few:
        small = deadline_engine_run(today=date(2024, 6, 2))
    assert small.opened == 3  # the new cell: late, plan missing, no task

    add_late_cells(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = deadline_engine_run(today=date(2024, 6, 3))
    assert large.opened == 30 * 3


# The command and the task


def test_flag_overdue_command_prints_what_it_opened_and_closed(study_states):
    out = StringIO()
    call_command("flag_overdue", "--today", "2024-04-15", stdout=out)
    # sibling ward overdue, the cell late, the sibling cell's session waiting for review
    assert out.getvalue().strip() == "as of 2024-04-15: 3 flags opened, 0 closed (every unit)"

    waiting = StudySession.objects.get(unit=study_states.sibling_cell)
    change(waiting, date(2024, 4, 16), status=ReviewStatus.ACCEPTED)
    out = StringIO()
    call_command("flag_overdue", "--today", "2024-04-16", stdout=out)
    assert "0 flags opened, 1 closed" in out.getvalue()

    out = StringIO()
    call_command("flag_overdue", "--today", "2024-04-16", stdout=out)
    assert "0 flags opened, 0 closed" in out.getvalue()


@pytest.mark.parametrize("bad", ["15/04/2024", "2024-02-30", "hôm nay"])
def test_flag_overdue_command_refuses_a_bad_date(district, campaign, bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("flag_overdue", "--today", bad, stdout=StringIO())
    assert not DeadlineEngineRun.objects.exists()


def test_flag_overdue_command_without_date_uses_the_local_today(study_states):
    out = StringIO()
    with time_machine.travel(datetime(2024, 4, 14, 20, 0, tzinfo=UTC), tick=False):
        call_command("flag_overdue", stdout=out)
    assert out.getvalue().startswith("as of 2024-04-15:")


def test_local_date_is_already_past_the_study_deadline_at_17_30_utc(study_states):
    # 31/03/2024 17:30 UTC is 01/04/2024 00:30 in Hanoi.
    with time_machine.travel(datetime(2024, 3, 31, 17, 30, tzinfo=UTC), tick=False):
        run = deadline_engine_run()
    assert run.as_of == AFTER_STUDY_DEADLINE
    assert open_flags(FlagKind.STUDY_OVERDUE)


def test_local_date_is_still_the_study_deadline_at_16_59_utc(study_states):
    # 31/03/2024 16:59 UTC is 23:59 the same day in Hanoi.
    with time_machine.travel(datetime(2024, 3, 31, 16, 59, tzinfo=UTC), tick=False):
        run = deadline_engine_run()
    assert run.as_of == ON_STUDY_DEADLINE
    assert not Flag.objects.exclude(kind=FlagKind.REVIEW_OVERDUE).exists()


@pytest.fixture
def result_folder(tmp_path, monkeypatch):
    """Points the embedded (file) result back end at a folder of this test's own, not yet made,
    as on a fresh checkout; with Redis configured nothing changes."""
    app = run_deadline_engine.app
    folder = tmp_path / "celery-results"
    if str(app.conf.result_backend or "").startswith("file://"):
        monkeypatch.setattr(app.conf, "result_backend", f"file://{folder}")
        # Drop the back end Celery built for the configured folder; the next task builds its own.
        monkeypatch.setattr(app, "_backend_cache", None)
        monkeypatch.setattr(app, "_local", threading.local())
    return folder


def test_deadline_engine_task_returns_the_counts(study_states, result_folder):
    result_folder.mkdir()
    with time_machine.travel(datetime(2024, 4, 15, 3, 0, tzinfo=UTC), tick=False):
        result = run_deadline_engine.apply().get()
    run = DeadlineEngineRun.objects.get()
    assert result == {"run": run.pk, "opened": 3, "closed": 0, "full": True, "units": 5}
    assert run.as_of == date(2024, 4, 15)

    with time_machine.travel(datetime(2024, 4, 15, 9, 0, tzinfo=UTC), tick=False):
        again = run_deadline_engine.apply().get()
    assert again["opened"] == again["closed"] == 0
    assert again["run"] != run.pk


def test_a_task_runs_eagerly_on_a_fresh_checkout_without_redis(tmp_path):
    """On a fresh checkout nothing has made the embedded broker's folders yet; configuring the
    Celery app makes them, so a task run in-process stores its result instead of failing."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(VAR_DIR=str(tmp_path / "var"), DEBUG="1")
    code = (
        "import django; django.setup(); from dongda.celery import ping; "
        "print(ping.apply().get(timeout=10))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "dongda.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("pong")
    assert (tmp_path / "var" / "celery" / "results").is_dir()
