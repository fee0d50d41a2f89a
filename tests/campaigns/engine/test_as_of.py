"""One meaning of "as of a day": each rule's edges, the district's review time, flags that carry
the day their condition began, flags that follow a report at once, and the property that ties
them together: running the engine every day up to D leaves the same open flags, with the same
start days, as one run with --today D on a database that already holds what came after."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from breakthroughs.models import BreakthroughTask, ProgressReport
from campaigns.engine.flags import flags_sync
from campaigns.engine.run import deadline_engine_run
from campaigns.engine.status import refresh_unit_status
from campaigns.flagtexts import describe_flags
from campaigns.models import (
    Flag,
    FlagKind,
    ImplementationPlan,
    PropagandaActivity,
    ReviewStatus,
    StudySession,
    UnitStatus,
)
from campaigns.periods import review_overdue_from
from campaigns.reporting.services import report_review
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ProgressReportFactory,
    change,
    moment,
)

DEADLINE = date(2024, 3, 31)  # a Sunday
AFTER = date(2024, 4, 1)


def open_flags(kind=None, unit=None) -> set[tuple]:
    flags = Flag.objects.filter(closed_at__isnull=True)
    if kind:
        flags = flags.filter(kind=kind)
    if unit:
        flags = flags.filter(unit=unit)
    return set(flags.values_list("unit__code", "kind", "subject", "opened_on"))


def submit_new(model, day, **fields):
    """A report created and sent for review on `day` (09:00), as the services would."""
    when = moment(day)
    campaign = fields.get("campaign") or fields["task"].campaign
    with time_machine.travel(when, tick=False):
        return model.objects.create(
            status=ReviewStatus.SUBMITTED,
            submitted_at=when,
            review_overdue_from=review_overdue_from(when, campaign.review_days),
            **fields,
        )


def session(campaign, unit, day, attendees=None, held_on=None):
    return submit_new(
        StudySession,
        day,
        campaign=campaign,
        unit=unit,
        held_on=held_on or day,
        presenter="Đ/c Bí thư",
        members_expected=unit.member_count,
        attendees=unit.member_count if attendees is None else attendees,
    )


def study_state(campaign, unit, day) -> str:
    refresh_unit_status(campaign, unit_ids=[unit.pk], today=day)
    return UnitStatus.objects.get(campaign=campaign, unit=unit).study_state


# --- R1: the unit and the district judged apart ----------------------------------------------


def test_held_on_the_deadline_and_submitted_the_day_after_is_late(district, campaign):
    cell = district.cell
    item = session(campaign, cell, AFTER, held_on=DEADLINE)
    deadline_engine_run(today=AFTER)
    # Sent on 01/04: as of that evening the unit has done its part and waits for the district.
    assert not open_flags(FlagKind.STUDY_OVERDUE, cell)
    assert study_state(campaign, cell, AFTER) == "awaiting"
    change(item, date(2024, 4, 3), status=ReviewStatus.ACCEPTED)
    deadline_engine_run(today=date(2024, 4, 3))
    assert study_state(campaign, cell, date(2024, 4, 3)) == "late"
    late = Flag.objects.get(unit=cell, kind=FlagKind.STUDY_LATE)
    assert (late.opened_on, late.closed_on) == (AFTER, date(2024, 4, 3))


def test_submitted_before_the_deadline_and_accepted_after_it_is_on_time(district, campaign):
    cell = district.cell
    item = session(campaign, cell, date(2024, 3, 29), held_on=date(2024, 3, 27))
    deadline_engine_run(today=AFTER)
    assert study_state(campaign, cell, AFTER) == "awaiting"
    assert not open_flags(FlagKind.STUDY_OVERDUE, cell)
    change(item, date(2024, 4, 3), status=ReviewStatus.ACCEPTED)
    deadline_engine_run(today=date(2024, 4, 5))
    assert study_state(campaign, cell, date(2024, 4, 5)) == "on_time"
    assert not Flag.objects.filter(unit=cell, kind=FlagKind.STUDY_LATE).exists()
    # The replay of 01/04 still says what was true then.
    assert study_state(campaign, cell, AFTER) == "awaiting"
    assert study_state(campaign, cell, date(2024, 3, 28)) == "not_started"


def test_returned_before_the_deadline_and_resubmitted_after_it_counts_from_the_resubmission(
    district, campaign
):
    cell = district.cell
    item = session(campaign, cell, date(2024, 3, 25), held_on=date(2024, 3, 22))
    change(item, date(2024, 3, 28), status=ReviewStatus.RETURNED, review_comment="Thiếu biên bản")
    deadline_engine_run(today=AFTER)
    assert open_flags(FlagKind.STUDY_OVERDUE, cell) == {
        (cell.code, FlagKind.STUDY_OVERDUE, "", AFTER)
    }
    change(item, date(2024, 4, 2), status=ReviewStatus.SUBMITTED)
    deadline_engine_run(today=date(2024, 4, 2))
    assert not open_flags(FlagKind.STUDY_OVERDUE, cell)
    change(item, date(2024, 4, 4), status=ReviewStatus.ACCEPTED)
    deadline_engine_run(today=date(2024, 4, 4))
    assert study_state(campaign, cell, date(2024, 4, 4)) == "late"
    overdue = Flag.objects.get(unit=cell, kind=FlagKind.STUDY_OVERDUE)
    assert (overdue.opened_on, overdue.closed_on) == (AFTER, date(2024, 4, 2))


def test_an_item_waiting_past_the_review_time_is_the_districts_flag(district, campaign):
    cell = district.cell
    item = session(campaign, cell, date(2024, 3, 29))  # a Friday
    # Five working days: 01/04 to 05/04; overdue from Saturday 06/04.
    deadline_engine_run(today=date(2024, 4, 5))
    assert not open_flags(FlagKind.REVIEW_OVERDUE)
    deadline_engine_run(today=date(2024, 4, 6))
    assert open_flags(FlagKind.REVIEW_OVERDUE) == {
        (cell.code, FlagKind.REVIEW_OVERDUE, f"sessions:{item.pk}", date(2024, 4, 6))
    }
    row = UnitStatus.objects.get(campaign=campaign, unit=cell)
    # The district's delay is not counted among the unit's own flags.
    assert (row.flags_open, row.reviews_overdue) == (0, 1)
    with translation.override("vi"):
        (text,) = describe_flags(Flag.objects.filter(kind=FlagKind.REVIEW_OVERDUE), campaign)
    assert text.actor_label == "văn phòng Quận ủy"
    assert "gửi ngày 29/03/2024" in text.text


def test_the_review_time_is_a_campaign_setting(district):
    campaign = CampaignFactory(code="cd-quick", review_days=1)
    item = session(campaign, district.cell, date(2024, 3, 29))
    deadline_engine_run(today=date(2024, 4, 2))  # Friday 29/03 + 1 working day = Monday 01/04
    assert open_flags(FlagKind.REVIEW_OVERDUE) == {
        (district.cell.code, FlagKind.REVIEW_OVERDUE, f"sessions:{item.pk}", date(2024, 4, 2))
    }


# --- R3: a progress report for each quarter ----------------------------------------------------


def test_a_progress_report_is_owed_for_each_quarter_and_its_flag_names_task_and_quarter(
    district, campaign
):
    cell = district.cell
    task = BreakthroughTaskFactory(campaign=campaign, unit=cell, at=date(2024, 4, 2))
    ProgressReportFactory(
        task=task, period_start=date(2024, 4, 1), status=ReviewStatus.SUBMITTED, at=date(2024, 7, 8)
    )
    deadline_engine_run(today=date(2024, 7, 11))  # Q2 due 10/07: reported in time
    assert not open_flags(FlagKind.REPORT_OVERDUE)
    deadline_engine_run(today=date(2024, 10, 11))  # Q3 due 10/10: nothing sent
    assert open_flags(FlagKind.REPORT_OVERDUE) == {
        (cell.code, FlagKind.REPORT_OVERDUE, f"task:{task.pk}/2024-07-01", date(2024, 10, 11))
    }
    flags = Flag.objects.filter(kind=FlagKind.REPORT_OVERDUE)
    with translation.override("vi"):
        (vi,) = describe_flags(flags, campaign)
    with translation.override("en"):
        (en,) = describe_flags(flags, campaign)
    assert "Quý III/2024" in vi.text and task.title_vi in vi.text
    assert "Q3 2024" in en.text and ", due 10/10/2024." in en.text


# --- R6: propaganda ----------------------------------------------------------------------------


def test_a_propaganda_quarter_short_by_one_is_flagged_from_the_day_after_it_ends(district):
    campaign = CampaignFactory(code="cd-r6", propaganda_per_quarter=2)
    cell = district.cell
    for day in (date(2024, 4, 20), date(2024, 7, 20), date(2024, 8, 1)):
        submit_new(
            PropagandaActivity,
            day,
            campaign=campaign,
            unit=cell,
            held_on=day,
            channel=PropagandaActivity.Channel.LOUDSPEAKER,
            audience=300,
        )
    deadline_engine_run(today=date(2024, 10, 1))
    q2 = (cell.code, FlagKind.PROPAGANDA_SHORT, "quarter:2024-04-01", date(2024, 7, 1))
    q1 = (cell.code, FlagKind.PROPAGANDA_SHORT, "quarter:2024-01-01", date(2024, 4, 1))
    mine = {flag for flag in open_flags(FlagKind.PROPAGANDA_SHORT) if flag[0] == cell.code}
    assert mine == {q1, q2}  # Q3 had its two
    with translation.override("en"):
        texts = describe_flags(Flag.objects.filter(unit=cell, subject__endswith="04-01"), campaign)
    assert texts[0].text.startswith("Q2 2024 ended with fewer propaganda activities")


# --- Flags follow reports at once --------------------------------------------------------------


def test_accepting_a_task_closes_no_breakthrough_at_once_without_an_engine_run(
    district, campaign, staff
):
    cell = district.cell
    with time_machine.travel(moment(date(2024, 5, 2)), tick=False):
        deadline_engine_run()
        assert (cell.code, FlagKind.NO_BREAKTHROUGH, "", date(2024, 5, 1)) in open_flags()
        task = BreakthroughTask.objects.create(
            campaign=campaign,
            unit=cell,
            field="economy",
            title_vi="Chỉnh trang ngõ 12",
            due_on=date(2024, 12, 31),
            status=ReviewStatus.SUBMITTED,
            submitted_at=moment(date(2024, 5, 2)),
        )
        report_review(
            item=task, reviewer=staff, accept=True, comment="", expected_version=task.version
        )
    assert not open_flags(FlagKind.NO_BREAKTHROUGH) & {
        (cell.code, FlagKind.NO_BREAKTHROUGH, "", date(2024, 5, 1))
    }
    row = UnitStatus.objects.get(campaign=campaign, unit=cell)
    assert not row.flag_no_breakthrough


# --- The property ------------------------------------------------------------------------------

START = date(2024, 3, 25)
LAST = date(2024, 4, 20)
DAYS = (LAST - START).days

# One item's story: sent on a day; then perhaps reviewed (accepted or returned) some days on;
# a returned one perhaps sent again and accepted later.
item_story = st.fixed_dictionaries(
    {
        "unit": st.sampled_from(["cell", "sibling_cell"]),
        "kind": st.sampled_from(["session", "plan"]),
        "full": st.booleans(),
        "sent": st.integers(0, DAYS),
        "review": st.one_of(
            st.none(), st.tuples(st.sampled_from(["accept", "return"]), st.integers(0, 6))
        ),
        "again": st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(0, 5))),
    }
)


def _events(stories, district, campaign) -> list[tuple[date, int, object]]:
    """Every step as (day, order, action); applied in order of day, then of the story."""
    events = []
    for n, story in enumerate(stories):
        unit = getattr(district, story["unit"])
        sent = START + timedelta(days=story["sent"])
        made: dict = {}

        def create(story=story, unit=unit, sent=sent, made=made):
            if story["kind"] == "session":
                attendees = unit.member_count if story["full"] else unit.member_count // 2
                made["item"] = session(campaign, unit, sent, attendees=attendees)
            elif not ImplementationPlan.objects.filter(campaign=campaign, unit=unit).exists():
                made["item"] = submit_new(
                    ImplementationPlan,
                    sent,
                    campaign=campaign,
                    unit=unit,
                    number="01-KH",
                    issued_on=sent,
                    programme="CTr 01",
                )

        events.append((sent, n, create))
        if story["review"] is None:
            continue
        decision, after = story["review"]
        reviewed = sent + timedelta(days=after)
        status = ReviewStatus.ACCEPTED if decision == "accept" else ReviewStatus.RETURNED

        def review(made=made, reviewed=reviewed, status=status):
            if "item" in made:
                change(made["item"], reviewed, status=status)

        events.append((reviewed, n, review))
        if decision == "return" and story["again"] is not None:
            resend, accept_after = story["again"]
            resent = reviewed + timedelta(days=resend)
            accepted = resent + timedelta(days=accept_after)

            def resubmit(made=made, resent=resent):
                if "item" in made:
                    change(made["item"], resent, status=ReviewStatus.SUBMITTED)

            def accept(made=made, accepted=accepted):
                if "item" in made:
                    change(made["item"], accepted, status=ReviewStatus.ACCEPTED)

            events += [(resent, n, resubmit), (accepted, n, accept)]
    return sorted(events, key=lambda event: (event[0], event[1]))


@pytest.fixture
def short_campaign(db):
    """A campaign compressed into four weeks, so that a daily replay stays short: study due
    Sunday 31/03, the plan and the task on Friday 05/04, reviews within two working days."""
    return CampaignFactory(
        code="cd-short",
        starts_on=START,
        study_deadline=DEADLINE,
        plan_deadline=date(2024, 4, 5),
        breakthrough_deadline=date(2024, 4, 5),
        review_days=2,
    )


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stories=st.lists(item_story, max_size=6), until=st.integers(4, DAYS))
def test_daily_runs_and_one_replay_leave_the_same_flags(district, short_campaign, stories, until):
    campaign = short_campaign
    # Hypothesis runs its examples in one test transaction: each starts from nothing.
    models = (ProgressReport, BreakthroughTask, StudySession, ImplementationPlan)
    for model in models:
        model.objects.all().delete()
    for model in models:
        model.history.model.objects.all().delete()
    Flag.objects.all().delete()
    events = _events(stories, district, campaign)
    day_d = START + timedelta(days=until)

    # Live: what happened each day, then that day's run.
    pending = list(events)
    day = START
    while day <= day_d:
        while pending and pending[0][0] <= day:
            pending.pop(0)[2]()
        flags_sync(campaign=campaign, today=day)
        day += timedelta(days=1)
    live = open_flags()

    # The rest of the story happens; the flags are forgotten; one run replays D.
    for _day, _n, action in pending:
        action()
    Flag.objects.all().delete()
    flags_sync(campaign=campaign, today=day_d)
    assert open_flags() == live
    assert flags_sync(campaign=campaign, today=day_d) == (0, 0)
