"""R1 in SQL: study progress as the deadline engine and the unit page read it, and the status rows
that decide the same state in their own upsert."""

from datetime import date

import pytest

from campaigns.engine.study import (
    StudyState,
    study_state_of,
    study_state_q,
    study_summary,
    study_summary_by_kind,
    units_with_study_progress,
)
from campaigns.models import ReviewStatus, StudySession
from tests.factories import CampaignFactory, StudySessionFactory, UnitFactory
from units.models import Unit, UnitKind
from units.selectors import visible_units

BY_DEADLINE = date(2024, 3, 20)
DEADLINE = date(2024, 3, 31)
AFTER_DEADLINE = date(2024, 4, 1)


def everything():
    return Unit.objects.all()


def only(unit: Unit):
    return Unit.objects.filter(pk=unit.pk)


def counts(summary) -> dict[str, int]:
    return {
        "on_time": summary.on_time,
        "late": summary.late,
        "awaiting": summary.awaiting,
        "in_progress": summary.in_progress,
        "not_started": summary.not_started,
    }


def session(campaign, unit, attendees, *, held_on=BY_DEADLINE, **kwargs) -> StudySession:
    kwargs.setdefault("members_expected", max(unit.member_count, attendees, 1))
    return StudySessionFactory(
        campaign=campaign, unit=unit, attendees=attendees, held_on=held_on, **kwargs
    )


@pytest.fixture
def one_unit_per_state(district, campaign):
    """ward: on time; cell: late (reaches 95% with a make-up session in April);
    sibling ward: in progress; sibling cell: its whole session sent, awaiting the district.
    Unaccepted sessions on top."""
    session(campaign, district.ward, 12)
    session(campaign, district.cell, 30)
    session(
        campaign, district.cell, 8, held_on=AFTER_DEADLINE, kind=StudySession.Kind.MAKEUP
    )  # 38 of 40 = 95%
    session(campaign, district.sibling_ward, 5)
    session(campaign, district.sibling_ward, 5, status=ReviewStatus.RETURNED)
    session(campaign, district.sibling_cell, 30, status=ReviewStatus.SUBMITTED)
    session(campaign, district.sibling_cell, 30, status=ReviewStatus.DRAFT)
    return district


# study_summary


def test_study_summary_puts_each_unit_in_its_state(one_unit_per_state, campaign):
    summary = study_summary(campaign=campaign, within=everything())
    assert counts(summary) == {
        "on_time": 1,
        "late": 1,
        "awaiting": 1,
        "in_progress": 1,
        "not_started": 0,
    }
    assert summary.total == 4
    assert summary.done == 2
    assert summary.members == 12 + 40 + 10 + 30


def test_each_unit_is_in_the_state_the_dashboard_counts(one_unit_per_state, campaign):
    district = one_unit_per_state
    states = {
        unit.code: study_state_of(unit)
        for unit in units_with_study_progress(Unit.objects.exclude(pk=district.root.pk), campaign)
    }
    assert states == {
        district.ward.code: StudyState.ON_TIME,
        district.cell.code: StudyState.LATE,
        district.sibling_ward.code: StudyState.IN_PROGRESS,
        district.sibling_cell.code: StudyState.AWAITING,
    }


def test_session_held_on_the_deadline_is_on_time(district, campaign):
    session(campaign, district.cell, 40, held_on=DEADLINE)
    summary = study_summary(campaign=campaign, within=only(district.cell))
    assert counts(summary) == {
        "on_time": 1,
        "late": 0,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 0,
    }


def test_session_held_the_day_after_the_deadline_is_late(district, campaign):
    session(campaign, district.cell, 40, held_on=AFTER_DEADLINE)
    summary = study_summary(campaign=campaign, within=only(district.cell))
    assert counts(summary) == {
        "on_time": 0,
        "late": 1,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 0,
    }


def test_draft_and_returned_sessions_do_not_count(district, campaign):
    for status in (ReviewStatus.DRAFT, ReviewStatus.RETURNED):
        session(campaign, district.cell, 40, status=status)
    summary = study_summary(campaign=campaign, within=only(district.cell))
    assert counts(summary) == {
        "on_time": 0,
        "late": 0,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 1,
    }
    assert summary.members_covered == 0


def test_a_submitted_session_makes_the_unit_wait_for_the_district_without_covering_it(
    district, campaign
):
    session(campaign, district.cell, 40, status=ReviewStatus.SUBMITTED)
    summary = study_summary(campaign=campaign, within=only(district.cell))
    assert summary.awaiting == 1
    assert summary.members_covered == 0


def test_sessions_of_another_campaign_do_not_count(district, campaign):
    other = CampaignFactory(code="cd2025", year=2025)
    session(other, district.cell, 40)
    summary = study_summary(campaign=campaign, within=only(district.cell))
    assert summary.not_started == 1


@pytest.mark.parametrize(
    ("attendees", "state"),
    [(950, "on_time"), (949, "in_progress"), (1000, "on_time"), (1, "in_progress")],
)
def test_exactly_the_required_share_is_complete_and_a_tenth_below_is_not(
    district, campaign, attendees, state
):
    big = UnitFactory(parent=district.root, kind=UnitKind.GRASSROOTS_COMMITTEE, member_count=1000)
    session(campaign, big, attendees)
    summary = study_summary(campaign=campaign, within=only(big))
    assert getattr(summary, state) == 1
    assert summary.total == 1


def test_late_make_up_reaching_exactly_the_share_is_late_not_on_time(district, campaign):
    big = UnitFactory(parent=district.root, kind=UnitKind.GRASSROOTS_COMMITTEE, member_count=1000)
    session(campaign, big, 949)
    session(campaign, big, 1, held_on=AFTER_DEADLINE, kind=StudySession.Kind.MAKEUP)
    summary = study_summary(campaign=campaign, within=only(big))
    assert counts(summary) == {
        "on_time": 0,
        "late": 1,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 0,
    }


def test_required_share_is_read_from_the_campaign(district):
    lenient = CampaignFactory(code="cd-80", required_study_share=80)
    session(lenient, district.sibling_ward, 8)  # 8 of 10 members
    summary = study_summary(campaign=lenient, within=only(district.sibling_ward))
    assert summary.on_time == 1


def test_study_deadline_is_read_from_the_campaign(district):
    later = CampaignFactory(code="cd-q2", study_deadline=date(2024, 6, 30))
    session(later, district.cell, 40, held_on=date(2024, 6, 30))
    summary = study_summary(campaign=later, within=only(district.cell))
    assert summary.on_time == 1


def test_unit_without_members_and_sessions_is_not_started(district, campaign):
    empty = UnitFactory(parent=district.ward, member_count=0)
    summary = study_summary(campaign=campaign, within=only(empty))
    assert counts(summary) == {
        "on_time": 0,
        "late": 0,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 1,
    }
    assert summary.members == 0
    assert summary.members_covered == 0
    assert summary.percent(summary.not_started) == 100


def test_empty_scope_gives_zero_figures(district, campaign):
    summary = study_summary(campaign=campaign, within=Unit.objects.none())
    assert summary.total == 0
    assert summary.members == 0
    assert summary.percent(summary.on_time) == 0


@pytest.mark.parametrize(
    "kind", [UnitKind.DISTRICT, UnitKind.FATHERLAND_FRONT, UnitKind.SOCIO_POLITICAL]
)
def test_units_that_do_not_report_study_are_left_out(district, campaign, kind):
    outside = UnitFactory(parent=district.root, kind=kind, member_count=25)
    session(campaign, outside, 25)
    summary = study_summary(campaign=campaign, within=everything())
    assert summary.total == 4  # the four party units of the fixture
    assert summary.on_time == 0
    assert summary.members == 12 + 40 + 10 + 30
    assert summary.members_covered == 0


def test_inactive_units_are_left_out(district, campaign):
    closed = UnitFactory(parent=district.ward, member_count=20, is_active=False)
    session(campaign, closed, 20)
    summary = study_summary(campaign=campaign, within=everything())
    assert summary.total == 4
    assert summary.on_time == 0
    assert summary.members_covered == 0


def test_ward_secretary_summary_counts_only_their_subtree(
    one_unit_per_state, campaign, ward_secretary
):
    summary = study_summary(campaign=campaign, within=visible_units(ward_secretary))
    assert counts(summary) == {
        "on_time": 1,
        "late": 1,
        "awaiting": 0,
        "in_progress": 0,
        "not_started": 0,
    }
    assert summary.total == 2
    assert summary.members == 12 + 40
    assert summary.members_covered == 12 + 38


def test_members_covered_counts_accepted_attendance_in_scope(one_unit_per_state, campaign):
    summary = study_summary(campaign=campaign, within=everything())
    # ward 12, cell 30 + 8 make-up, sibling ward 5 accepted; the rest is not accepted.
    assert summary.members_covered == 12 + 38 + 5


def test_members_covered_never_counts_a_unit_beyond_its_own_members(district, campaign):
    # The ward held its session twice for the same 12 members; the cell held none.
    session(campaign, district.ward, 12)
    session(campaign, district.ward, 12, held_on=date(2024, 3, 25))
    summary = study_summary(
        campaign=campaign, within=Unit.objects.filter(pk__in=[district.ward.pk, district.cell.pk])
    )
    assert summary.members == 52
    assert summary.members_covered == 12


def test_study_summary_query_count_does_not_grow_with_units(
    district, campaign, django_assert_num_queries
):
    # One statement: the counts and the members covered come from a single aggregate.
    with django_assert_num_queries(1):
        study_summary(campaign=campaign, within=everything())
    for _ in range(20):
        session(campaign, UnitFactory(parent=district.ward), 40)
    with django_assert_num_queries(1):
        summary = study_summary(campaign=campaign, within=everything())
    assert summary.on_time == 20


# study_summary_by_kind


def test_study_summary_by_kind_splits_the_counts(one_unit_per_state, campaign):
    district = one_unit_per_state
    grassroots = UnitFactory(
        parent=district.root, kind=UnitKind.GRASSROOTS_COMMITTEE, member_count=50
    )
    session(campaign, grassroots, 48)
    UnitFactory(parent=district.root, kind=UnitKind.FATHERLAND_FRONT)
    rows = {
        row["kind"]: row for row in study_summary_by_kind(campaign=campaign, within=everything())
    }
    assert set(rows) == {
        UnitKind.WARD_COMMITTEE,
        UnitKind.GRASSROOTS_COMMITTEE,
        UnitKind.PARTY_CELL,
    }
    figures = ("total", "on_time", "late", "awaiting", "in_progress", "not_started")
    assert [rows[UnitKind.WARD_COMMITTEE][k] for k in figures] == [2, 1, 0, 0, 1, 0]
    assert [rows[UnitKind.PARTY_CELL][k] for k in figures] == [2, 0, 1, 1, 0, 0]
    assert [rows[UnitKind.GRASSROOTS_COMMITTEE][k] for k in figures] == [1, 1, 0, 0, 0, 0]
    assert rows[UnitKind.PARTY_CELL]["label"] == UnitKind.PARTY_CELL.label


def test_study_summary_by_kind_agrees_with_the_total(one_unit_per_state, campaign):
    rows = study_summary_by_kind(campaign=campaign, within=everything())
    summary = study_summary(campaign=campaign, within=everything())
    for figure in ("total", "on_time", "late", "in_progress", "not_started"):
        assert sum(row[figure] for row in rows) == getattr(summary, figure)


def test_study_summary_by_kind_respects_scope(one_unit_per_state, campaign, cell_secretary):
    rows = study_summary_by_kind(campaign=campaign, within=visible_units(cell_secretary))
    assert [(row["kind"], row["total"], row["late"]) for row in rows] == [
        (UnitKind.PARTY_CELL, 1, 1)
    ]


# The unit page's state and the dashboard's counts must agree


def test_unit_state_in_python_agrees_with_the_sql_counts(district, campaign):
    session(campaign, district.ward, 12)
    session(campaign, district.cell, 40, held_on=AFTER_DEADLINE)
    session(campaign, district.sibling_ward, 3)
    # A unit with no members yet whose only session came after the deadline.
    no_members_late = UnitFactory(parent=district.ward, code="p-kim-lien-moi", member_count=0)
    session(campaign, no_members_late, 1, held_on=AFTER_DEADLINE)
    annotated = units_with_study_progress(Unit.objects.exclude(kind=UnitKind.DISTRICT), campaign)
    for state in (
        StudyState.ON_TIME,
        StudyState.LATE,
        StudyState.IN_PROGRESS,
        StudyState.NOT_STARTED,
    ):
        in_sql = set(annotated.filter(study_state_q(state)).values_list("code", flat=True))
        in_python = {unit.code for unit in annotated if study_state_of(unit) == state}
        assert in_python == in_sql, state


# The status rows the dashboard reads decide study state in their own SQL; they must agree with
# the rule above (units_with_study_progress / study_state_of) on every edge.


@pytest.mark.parametrize(
    ("members", "sessions", "expected"),
    [
        (40, [(38, BY_DEADLINE)], "on_time"),  # exactly 95 %
        (40, [(38, DEADLINE)], "on_time"),  # on the deadline day
        (40, [(38, AFTER_DEADLINE)], "late"),
        (40, [(30, BY_DEADLINE), (8, AFTER_DEADLINE)], "late"),  # a late make-up completes it
        (40, [(37, BY_DEADLINE)], "in_progress"),  # a tenth below
        (40, [], "not_started"),
        (0, [], "not_started"),  # no members and no session is never "complete"
        (1000, [(950, BY_DEADLINE)], "on_time"),
        (1000, [(949, BY_DEADLINE), (1, AFTER_DEADLINE)], "late"),
    ],
)
def test_status_rows_decide_study_state_as_the_rule_does(
    district, campaign, members, sessions, expected
):
    from campaigns.engine.status import refresh_unit_status
    from campaigns.engine.study import study_state_of, units_with_study_progress
    from campaigns.models import UnitStatus

    unit = UnitFactory(parent=district.ward, code="cb-kiem-tra", member_count=members)
    for attendees, held_on in sessions:
        session(campaign, unit, attendees, held_on=held_on)
    StudySessionFactory(  # never counted: not accepted
        campaign=campaign, unit=unit, attendees=1, members_expected=1, status=ReviewStatus.DRAFT
    )
    refresh_unit_status(campaign, unit_ids=[unit.pk])
    reference = study_state_of(units_with_study_progress(only(unit), campaign).get())
    status = UnitStatus.objects.get(campaign=campaign, unit=unit)
    assert reference == expected
    assert status.study_state == expected
    completed = [day for _n, day in sessions]
    if expected in ("on_time", "late"):
        assert status.study_completed_on == max(completed)
        assert (status.study_completed_on <= campaign.study_deadline) == (expected == "on_time")
    else:
        assert status.study_completed_on is None
