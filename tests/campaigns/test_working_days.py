"""Working-day deadlines (issue 11, part 3): with the campaign's setting on, a deadline that
falls on a weekend, a public holiday (Tết included) or a day off the district office added moves
to the next working day; the engine, the reminders, the digests and the pages use the moved day,
and show the day set when it differs. The review time counts working days whatever the setting.

The test CampaignFactory keeps the setting off (the rules' own tests keep their calendar edges);
these tests turn it on."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from campaigns.engine.run import deadline_engine_run
from campaigns.flagtexts import describe_flags
from campaigns.mail.digests import upcoming_deadlines
from campaigns.mail.outbox import outgoing_mail_send
from campaigns.mail.reminders import reminders_queue
from campaigns.models import (
    Campaign,
    DayOff,
    Flag,
    FlagKind,
    OutgoingMail,
    PropagandaActivity,
    ReviewStatus,
    StudySession,
    UnitStatus,
)
from campaigns.periods import (
    Period,
    add_working_days,
    days_off,
    deadline,
    effective_deadline,
    forget_days_off,
    report_deadline,
    review_overdue_from,
)
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    IncidentFactory,
    StudySessionFactory,
    moment,
)

SUNDAY_STUDY_DEADLINE = date(2024, 3, 31)
MONDAY = date(2024, 4, 1)


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A cache of this module's own: a day off saved here and rolled back with the test must not
    reach another test (nor, with Redis in CI, another worker) through the cached days off."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "working-days-tests",
        }
    }
    forget_days_off()
    yield
    forget_days_off()


@pytest.fixture
def on(db) -> Campaign:
    return CampaignFactory(code="cd2024", deadlines_on_working_days=True)


@pytest.fixture
def off(db) -> Campaign:
    return CampaignFactory(code="cd2024", deadlines_on_working_days=False)


def text(campaign: Campaign, day: date, language: str) -> str:
    with translation.override(language):
        return str(deadline(campaign, day))


# The calendar


def test_a_sunday_deadline_moves_to_monday_and_says_why(on):
    assert effective_deadline(on, SUNDAY_STUDY_DEADLINE) == MONDAY
    assert text(on, SUNDAY_STUDY_DEADLINE, "vi") == "01/04/2024 (31/03/2024 là Chủ nhật)"
    assert text(on, SUNDAY_STUDY_DEADLINE, "en") == "01/04/2024 (31/03/2024 is a Sunday)"


def test_a_saturday_deadline_moves_to_monday(on):
    assert effective_deadline(on, date(2024, 4, 6)) == date(2024, 4, 8)
    assert text(on, date(2024, 4, 6), "vi") == "08/04/2024 (06/04/2024 là Thứ Bảy)"


def test_a_working_day_deadline_stays_and_reads_plainly(on):
    assert effective_deadline(on, date(2024, 4, 10)) == date(2024, 4, 10)
    assert text(on, date(2024, 4, 10), "vi") == "10/04/2024"


def test_30_april_and_1_may_move_to_2_may(on):
    assert effective_deadline(on, date(2024, 4, 30)) == date(2024, 5, 2)
    assert effective_deadline(on, date(2024, 5, 1)) == date(2024, 5, 2)
    assert text(on, date(2024, 4, 30), "vi") == "02/05/2024 (30/04/2024 là ngày nghỉ lễ)"
    assert text(on, date(2024, 4, 30), "en") == "02/05/2024 (30/04/2024 is a public holiday)"


def test_tet_2024_is_skipped_whole(on):
    # 08-14/02/2024 per the holidays package; 10-11/02 are also a weekend.
    for day in range(8, 15):
        assert effective_deadline(on, date(2024, 2, day)) == date(2024, 2, 15)
    assert add_working_days(date(2024, 2, 7), 1) == date(2024, 2, 15)


def test_a_day_off_added_by_staff_moves_deadlines_and_removing_it_restores_them(on):
    wednesday = date(2024, 7, 10)
    assert effective_deadline(on, wednesday) == wednesday
    day_off = DayOff.objects.create(date=wednesday, name_vi="Nghỉ bù", name_en="Substitute day")
    assert effective_deadline(on, wednesday) == date(2024, 7, 11)
    assert text(on, wednesday, "vi") == "11/07/2024 (10/07/2024 là ngày nghỉ)"
    assert text(on, wednesday, "en") == "11/07/2024 (10/07/2024 is a day off)"
    day_off.delete()
    assert effective_deadline(on, wednesday) == wednesday


def test_days_off_are_read_once_not_per_deadline(on, django_assert_num_queries):
    DayOff.objects.create(date=date(2024, 7, 10), name_vi="Nghỉ bù")
    days_off()
    with django_assert_num_queries(0):
        for day in range(1, 32):
            effective_deadline(on, date(2024, 7, day))


def test_with_the_setting_off_nothing_moves(off):
    DayOff.objects.create(date=date(2024, 7, 10), name_vi="Nghỉ bù")
    for day in (SUNDAY_STUDY_DEADLINE, date(2024, 4, 30), date(2024, 2, 10), date(2024, 7, 10)):
        assert effective_deadline(off, day) == day
        assert text(off, day, "vi") == day.strftime("%d/%m/%Y")


def test_a_reporting_periods_due_day_moves_too(on):
    on.report_grace_days = 6  # Q1 + 6 days: Saturday 06/04/2024
    q1 = Period(date(2024, 1, 1), date(2024, 3, 31))
    assert report_deadline(on, q1).due_on == date(2024, 4, 8)


# The review time counts working days, whatever the campaign's setting


def test_review_time_skips_the_holidays_and_counts_the_saturday_worked_in_exchange(db):
    # Sent on Thursday 25/04/2024: Fri 26/04 (1); Mon 29/04 is the bridge day off, 30/04 and
    # 01/05 are holidays; Thu 02/05 (2), Fri 03/05 (3), Sat 04/05 worked in exchange (4),
    # Mon 06/05 (5): overdue from Tuesday 07/05.
    assert review_overdue_from(moment(date(2024, 4, 25)), 5) == date(2024, 5, 7)


def test_review_time_skips_a_day_off_added_by_staff(db):
    DayOff.objects.create(date=date(2024, 7, 11), name_vi="Nghỉ bù")
    # Sent Monday 08/07: Tue (1), Wed (2), Thu off, Fri 12/07 (3): overdue from Saturday 13/07.
    assert review_overdue_from(moment(date(2024, 7, 8)), 3) == date(2024, 7, 13)


# The engine judges against the effective deadline


@pytest.fixture
def cell_behind(district, on):
    """The cell's sessions cover 30 of its 40 members by 15/03; every other unit is done."""
    for unit in (district.ward, district.sibling_ward, district.sibling_cell):
        StudySessionFactory(campaign=on, unit=unit)
    StudySessionFactory(campaign=on, unit=district.cell, attendees=30, members_expected=40)
    return district


def test_the_engine_does_not_flag_on_the_set_day_when_the_effective_day_is_later(cell_behind):
    deadline_engine_run(today=MONDAY)  # the day after the set deadline, and the effective one
    assert not Flag.objects.filter(kind=FlagKind.STUDY_OVERDUE).exists()
    deadline_engine_run(today=date(2024, 4, 2))
    flag = Flag.objects.get(kind=FlagKind.STUDY_OVERDUE)
    assert (flag.unit, flag.opened_on) == (cell_behind.cell, date(2024, 4, 2))


def test_with_the_setting_off_the_engine_flags_the_day_after_the_set_day(district, off):
    StudySessionFactory(campaign=off, unit=district.cell, attendees=30, members_expected=40)
    deadline_engine_run(today=MONDAY)
    assert Flag.objects.filter(kind=FlagKind.STUDY_OVERDUE, unit=district.cell).exists()


def test_a_session_held_and_sent_on_the_effective_day_is_on_time(cell_behind, on):
    StudySessionFactory(
        campaign=on,
        unit=cell_behind.cell,
        attendees=8,
        members_expected=8,
        held_on=MONDAY,
        kind=StudySession.Kind.MAKEUP,
    )
    deadline_engine_run(today=date(2024, 4, 10))
    assert not Flag.objects.filter(
        kind__in=(FlagKind.STUDY_OVERDUE, FlagKind.STUDY_LATE), unit=cell_behind.cell
    ).exists()


def test_an_incident_limit_ending_on_a_sunday_runs_to_monday(district, on):
    # Opened 01/03/2024 with the 30-day limit: the limit's last day is Sunday 31/03.
    IncidentFactory(campaign=on, unit=district.cell, opened_on=date(2024, 3, 1))
    deadline_engine_run(today=MONDAY)
    assert not Flag.objects.filter(kind=FlagKind.STALE_INCIDENT).exists()
    deadline_engine_run(today=date(2024, 4, 2))
    flag = Flag.objects.get(kind=FlagKind.STALE_INCIDENT)
    assert flag.opened_on == date(2024, 4, 2)
    # The status row agrees with the flag.
    assert UnitStatus.objects.get(campaign=on, unit=district.cell).incidents_stale == 1


def test_an_incident_limit_ending_on_a_working_day_does_not_move(district, on):
    # Opened 02/03/2024: the limit's last day is Monday 01/04; stale from 02/04 too.
    IncidentFactory(campaign=on, unit=district.cell, opened_on=date(2024, 3, 2))
    deadline_engine_run(today=MONDAY)
    assert not Flag.objects.filter(kind=FlagKind.STALE_INCIDENT).exists()
    deadline_engine_run(today=date(2024, 4, 2))
    assert Flag.objects.get(kind=FlagKind.STALE_INCIDENT).opened_on == date(2024, 4, 2)


def test_an_incident_limit_replayed_later_keeps_the_day_it_became_stale(district, on):
    # Limit's last day Tuesday 30/04 (holiday) → effective Thursday 02/05 → stale from 03/05,
    # whichever day the engine first sees it.
    IncidentFactory(campaign=on, unit=district.cell, opened_on=date(2024, 3, 31))
    deadline_engine_run(today=date(2024, 5, 20))
    assert Flag.objects.get(kind=FlagKind.STALE_INCIDENT).opened_on == date(2024, 5, 3)


def test_a_quarter_ending_on_a_sunday_is_judged_after_monday(district, on):
    on.propaganda_per_quarter = 1
    on.save()
    for unit in (district.ward, district.sibling_ward, district.sibling_cell):
        sent_on = moment(date(2024, 3, 11))
        with time_machine.travel(sent_on, tick=False):
            PropagandaActivity.objects.create(
                campaign=on,
                unit=unit,
                held_on=date(2024, 3, 10),
                channel=PropagandaActivity.Channel.LOUDSPEAKER,
                audience=300,
                status=ReviewStatus.SUBMITTED,
                submitted_at=sent_on,
                review_overdue_from=review_overdue_from(sent_on, on.review_days),
            )
    deadline_engine_run(today=MONDAY)
    assert not Flag.objects.filter(kind=FlagKind.PROPAGANDA_SHORT).exists()
    deadline_engine_run(today=date(2024, 4, 2))
    flag = Flag.objects.get(kind=FlagKind.PROPAGANDA_SHORT)
    assert (flag.unit, flag.opened_on) == (district.cell, date(2024, 4, 2))


def test_the_flag_sentence_names_both_days(cell_behind, on):
    deadline_engine_run(today=date(2024, 4, 2))
    flags = Flag.objects.filter(kind=FlagKind.STUDY_OVERDUE)
    with translation.override("vi"):
        (sentence,) = describe_flags(flags, on)
    assert "01/04/2024 (31/03/2024 là Chủ nhật)" in sentence.text


def test_a_progress_report_due_on_a_saturday_is_owed_from_monday(district, on):
    on.report_grace_days = 13  # Q2 ends 30/06; + 13 days: Saturday 13/07/2024
    on.save()
    BreakthroughTaskFactory(campaign=on, unit=district.cell)  # chosen 01/04: owes Q2 on
    deadline_engine_run(today=date(2024, 7, 15))
    assert not Flag.objects.filter(kind=FlagKind.REPORT_OVERDUE).exists()
    deadline_engine_run(today=date(2024, 7, 16))
    flags = Flag.objects.filter(kind=FlagKind.REPORT_OVERDUE)
    assert [f.opened_on for f in flags] == [date(2024, 7, 16)]
    with translation.override("vi"):
        (sentence,) = describe_flags(flags, on)
    assert sentence.text.endswith("Quý II/2024, hạn 15/07/2024 (13/07/2024 là Thứ Bảy).")


# Reminders and digests count from the effective deadline


@pytest.fixture
def cell_without_plan(district, on, cell_secretary):
    cell_secretary.email = "bt-p-kim-lien-cb01@dongda.test"
    cell_secretary.save()
    for unit in (district.ward, district.sibling_ward, district.sibling_cell):
        ImplementationPlanFactory(campaign=on, unit=unit)
    return district


def plan_reminders():
    return OutgoingMail.objects.filter(
        kind=OutgoingMail.Kind.REMINDER, params__deadline="plan_deadline"
    )


def test_reminders_count_from_the_effective_deadline(cell_without_plan, on):
    # The plan deadline is set on 30/04 (a holiday) and falls on 02/05: the 7-day reminder goes
    # out from 25/04, not from 23/04.
    reminders_queue(today=date(2024, 4, 24))
    assert not plan_reminders().exists()
    reminders_queue(today=date(2024, 4, 25))
    row = plan_reminders().get()
    assert row.params == {
        "deadline": "plan_deadline",
        "due_on": "2024-05-02",
        "set_on": "2024-04-30",
    }
    outgoing_mail_send(mail_id=row.pk)
    (message,) = [m for m in mail.outbox if "Kế hoạch triển khai thực hiện" in m.body]
    assert "02/05/2024 (30/04/2024 là ngày nghỉ lễ)" in message.body
    assert "02/05/2024" in message.subject


def test_the_digest_lists_the_effective_deadlines(on):
    with translation.override("vi"):
        deadlines = upcoming_deadlines(on, start=date(2024, 3, 30))
        assert [(d.due_on, d.text) for d in deadlines] == [
            (MONDAY, "01/04/2024 (31/03/2024 là Chủ nhật)"),
            # Q1's progress reports: 31/03 + 10 grace days, a Wednesday.
            (date(2024, 4, 10), "10/04/2024"),
        ]


# Pages


def test_the_unit_page_shows_the_effective_deadline_and_the_day_set(
    client, cell_secretary, district, on
):
    with time_machine.travel(datetime(2024, 3, 20, 2, tzinfo=UTC), tick=False):
        client.force_login(cell_secretary)
        vi = client.get(f"/vi/units/{district.cell.code}/")
        en = client.get(f"/en/units/{district.cell.code}/")
    assert "hạn 01/04/2024 (31/03/2024 là Chủ nhật)" in vi.text
    assert "due 01/04/2024 (31/03/2024 is a Sunday)" in en.text
    # The plan and the task deadline: 30/04, a holiday, falls on 02/05.
    assert "02/05/2024 (30/04/2024 là ngày nghỉ lễ)" in vi.text


def test_the_dashboard_shows_the_effective_study_deadline(client, staff, district, on):
    client.force_login(staff)
    response = client.get("/vi/dashboard/")
    assert response.status_code == 200
    assert "01/04/2024 (31/03/2024 là Chủ nhật)" in response.text


def test_the_2024_demo_campaign_shows_its_effective_deadlines(client, db):
    from campaigns.demo import seed_demo
    from units.models import User

    seed_demo(units=50, reset=True, replay=False)
    campaign = Campaign.objects.get()
    assert campaign.deadlines_on_working_days
    client.force_login(User.objects.get(username="vanphong"))
    assert "01/04/2024 (31/03/2024 là Chủ nhật)" in client.get("/vi/dashboard/").text
    assert "01/04/2024 (31/03/2024 is a Sunday)" in client.get("/en/dashboard/").text
