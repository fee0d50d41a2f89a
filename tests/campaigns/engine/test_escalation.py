"""Escalation: a unit's flag left open is raised to the unit's committee after the campaign's
`escalate_to_committee_days`, then to the Standing Committee after `escalate_to_standing_days`;
each step is written once (dated the day the flag reached its age), never again, not by a second
run nor by a replay; the district office's own flags and history never escalate."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from campaigns.engine.flags import flags_escalate, flags_sync
from campaigns.engine.run import deadline_engine_run
from campaigns.models import Campaign, Flag, FlagKind, ReviewStatus, StudySession
from campaigns.setup import campaign_copy
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    StudySessionFactory,
)

# Plans were due on 30/04/2024: a unit without one is flagged from 01/05.
PLAN_FLAG_OPENS = date(2024, 5, 1)
TO_COMMITTEE = PLAN_FLAG_OPENS + timedelta(days=14)  # 15/05
TO_STANDING = PLAN_FLAG_OPENS + timedelta(days=30)  # 31/05


@pytest.fixture
def behind(district, campaign):
    """Every unit has studied and chosen its task (no other flags); the cell (under Kim Liên
    ward) and the ward itself have no plan; the sibling ward and its cell have theirs."""
    for unit in (district.ward, district.cell, district.sibling_ward, district.sibling_cell):
        StudySessionFactory(campaign=campaign, unit=unit)
        BreakthroughTaskFactory(campaign=campaign, unit=unit)
    for unit in (district.sibling_ward, district.sibling_cell):
        ImplementationPlanFactory(campaign=campaign, unit=unit)
    return district


def plan_flag(unit) -> tuple:
    flag = Flag.objects.get(kind=FlagKind.PLAN_MISSING, unit=unit)
    return flag.opened_on, flag.escalated_to_committee_on, flag.escalated_to_standing_on


def test_a_cells_flag_is_raised_to_its_committee_on_its_14th_day_and_not_before(behind):
    deadline_engine_run(today=TO_COMMITTEE - timedelta(days=1))
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, None, None)
    deadline_engine_run(today=TO_COMMITTEE)
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, TO_COMMITTEE, None)


def test_then_to_the_standing_committee_on_its_30th_day(behind):
    deadline_engine_run(today=TO_STANDING - timedelta(days=1))
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, TO_COMMITTEE, None)
    deadline_engine_run(today=TO_STANDING)
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, TO_COMMITTEE, TO_STANDING)


def test_a_committees_own_flag_has_no_committee_step_and_goes_to_the_standing_committee(behind):
    deadline_engine_run(today=TO_STANDING - timedelta(days=1))
    assert plan_flag(behind.ward) == (PLAN_FLAG_OPENS, None, None)
    deadline_engine_run(today=TO_STANDING)
    assert plan_flag(behind.ward) == (PLAN_FLAG_OPENS, None, TO_STANDING)


def escalations() -> list[tuple]:
    return sorted(
        Flag.objects.values_list(
            "unit__code", "kind", "subject", "escalated_to_committee_on", "escalated_to_standing_on"
        )
    )


def test_each_step_is_written_once_a_second_run_and_a_replay_change_nothing(behind):
    first = deadline_engine_run(today=date(2024, 6, 10))
    written = escalations()
    assert (behind.cell.code, FlagKind.PLAN_MISSING, "", TO_COMMITTEE, TO_STANDING) in written
    deadline_engine_run(today=date(2024, 6, 10))
    assert escalations() == written
    # A replay of a day before either step, and a later day: nothing rewritten or undone.
    call_command("flag_overdue", "--today", "2024-05-20", stdout=StringIO())
    call_command("flag_overdue", "--today", "2024-07-01", stdout=StringIO())
    assert escalations() == written
    assert first.error == ""


def test_the_same_history_from_a_daily_run_and_from_one_late_run(behind, campaign):
    for offset in range(0, 45):
        deadline_engine_run(today=PLAN_FLAG_OPENS + timedelta(days=offset))
    daily = escalations()
    Flag.objects.all().delete()
    deadline_engine_run(today=PLAN_FLAG_OPENS + timedelta(days=44))
    assert escalations() == daily


def test_flags_escalate_is_two_statements_and_returns_what_it_raised(
    behind, campaign, django_assert_num_queries
):
    deadline_engine_run(today=date(2024, 5, 2))
    with django_assert_num_queries(2):
        assert flags_escalate(campaign=campaign, today=TO_STANDING) == (1, 2)
    with django_assert_num_queries(2):
        assert flags_escalate(campaign=campaign, today=TO_STANDING) == (0, 0)


def test_a_flag_closed_before_its_14th_day_never_escalates(behind, campaign):
    deadline_engine_run(today=date(2024, 5, 10))
    ImplementationPlanFactory(campaign=campaign, unit=behind.cell, at=date(2024, 5, 12))
    deadline_engine_run(today=date(2024, 5, 12))
    deadline_engine_run(today=date(2024, 6, 30))
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, None, None)


def test_a_flag_open_on_its_14th_day_escalates_even_if_the_engine_first_sees_it_closed(
    behind, campaign
):
    """The daily engine was down from 10/05 to 20/05: the flag was open on 15/05 and closed on
    18/05, when the cell sent its plan (the report service re-judges the unit at once). Its
    history says what a daily run would have written."""
    deadline_engine_run(today=date(2024, 5, 10))
    ImplementationPlanFactory(campaign=campaign, unit=behind.cell, at=date(2024, 5, 18))
    flags_sync(campaign=campaign, today=date(2024, 5, 18), unit_ids=[behind.cell.pk])
    deadline_engine_run(today=date(2024, 5, 20))
    flag = Flag.objects.get(kind=FlagKind.PLAN_MISSING, unit=behind.cell)
    assert flag.closed_on is not None
    assert (flag.escalated_to_committee_on, flag.escalated_to_standing_on) == (TO_COMMITTEE, None)


def test_the_district_offices_review_flag_and_history_never_escalate(district, campaign):
    waiting = StudySessionFactory(
        campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED, at=date(2024, 3, 1)
    )
    assert StudySession.objects.get(pk=waiting.pk).status == ReviewStatus.SUBMITTED
    StudySessionFactory(campaign=campaign, unit=district.sibling_cell, at=date(2024, 4, 10))
    deadline_engine_run(today=date(2024, 8, 1))
    review = Flag.objects.get(kind=FlagKind.REVIEW_OVERDUE)
    late = Flag.objects.get(kind=FlagKind.STUDY_LATE)
    for flag in (review, late):
        assert (flag.escalated_to_committee_on, flag.escalated_to_standing_on) == (None, None)
    # The units' own flags did escalate (the cell's study waits for review: not its delay).
    assert Flag.objects.filter(
        kind=FlagKind.PLAN_MISSING, escalated_to_standing_on__isnull=False
    ).exists()


def test_the_thresholds_are_the_campaigns(behind, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        escalate_to_committee_days=3, escalate_to_standing_days=5
    )
    deadline_engine_run(today=date(2024, 5, 6))
    assert plan_flag(behind.cell) == (PLAN_FLAG_OPENS, date(2024, 5, 4), date(2024, 5, 6))


def test_the_standing_committee_cannot_be_told_before_the_committee(campaign):
    campaign.escalate_to_committee_days, campaign.escalate_to_standing_days = 30, 30
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean()
    assert "escalate_to_standing_days" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(escalate_to_standing_days=10)


def test_a_copied_campaign_keeps_its_escalation_settings(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        escalate_to_committee_days=10, escalate_to_standing_days=21
    )
    campaign.refresh_from_db()
    copy = campaign_copy(
        source=campaign,
        code="cd2025",
        year=2025,
        title_vi="Chuyên đề năm 2025",
        short_title_vi="Chuyên đề năm 2025",
        by=None,
    )
    assert (copy.escalate_to_committee_days, copy.escalate_to_standing_days) == (10, 21)


def test_defaults_are_14_and_30_days():
    fields = {f.name: f.default for f in Campaign._meta.concrete_fields}
    assert (fields["escalate_to_committee_days"], fields["escalate_to_standing_days"]) == (14, 30)
    assert CampaignFactory.build().escalate_to_committee_days == 14
