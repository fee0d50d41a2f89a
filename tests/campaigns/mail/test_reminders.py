"""Reminders before a deadline (Campaign.reminder_days, 7 and 1 by default) to the secretaries
and clerks of the units that have not met it yet, each in the reader's language."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail

from campaigns.mail.outbox import outgoing_mail_send
from campaigns.mail.reminders import reminders_queue
from campaigns.models import OutgoingMail, ReviewStatus
from campaigns.tasks import queue_reminders
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    ImplementationPlanFactory,
    StudySessionFactory,
    UserFactory,
    assign,
)
from units.models import Role

State = OutgoingMail.State
STUDY_DUE = date(2024, 3, 31)
PLAN_DUE = date(2024, 4, 30)  # also the breakthrough-task deadline


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@dongda.test"
        user.save(update_fields=["email"])
    return users


@pytest.fixture
def cast(district, campaign, staff, standing, ward_secretary, cell_secretary, sibling_secretary):
    """Who is behind on what:
    study: ward and sibling cell complete; cell 30 of 40; sibling ward nothing.
    plan: accepted for ward and sibling cell; the cell's is only submitted.
    breakthrough task: chosen by ward and cell (submitted counts); none by the siblings.
    The cell also has a clerk; the sibling ward's secretary reads English."""
    d = district
    StudySessionFactory(campaign=campaign, unit=d.ward, attendees=12)
    StudySessionFactory(campaign=campaign, unit=d.cell, attendees=30)
    StudySessionFactory(campaign=campaign, unit=d.sibling_cell, attendees=30)
    for unit, status in (
        (d.ward, ReviewStatus.ACCEPTED),
        (d.sibling_cell, ReviewStatus.ACCEPTED),
        (d.cell, ReviewStatus.SUBMITTED),
    ):
        ImplementationPlanFactory(campaign=campaign, unit=unit, status=status)
    BreakthroughTaskFactory(campaign=campaign, unit=d.ward)
    BreakthroughTaskFactory(campaign=campaign, unit=d.cell, status=ReviewStatus.SUBMITTED)
    clerk = assign(UserFactory(username="vt-p-kim-lien-cb01"), d.cell, Role.CLERK)
    sibling_cell_secretary = assign(UserFactory(username="bt-p-van-mieu-cb01"), d.sibling_cell)
    sibling_secretary.language = "en"
    sibling_secretary.save()
    with_email(
        staff,
        standing,
        ward_secretary,
        cell_secretary,
        sibling_secretary,
        clerk,
        sibling_cell_secretary,
    )
    return district


@pytest.fixture(autouse=True)
def site_url(settings):
    # Links in e-mails start with SITE_URL; a deployment's environment must not leak in here.
    settings.SITE_URL = "http://127.0.0.1:8000"


def reminders() -> Counter:
    """(deadline, unit, recipient) of every reminder row, counted."""
    return Counter(
        OutgoingMail.objects.filter(kind=OutgoingMail.Kind.REMINDER).values_list(
            "params__deadline", "unit__code", "recipient__username"
        )
    )


STUDY_REMINDERS = {
    ("study_deadline", "p-kim-lien-cb01", "bt-p-kim-lien-cb01"): 1,
    ("study_deadline", "p-kim-lien-cb01", "vt-p-kim-lien-cb01"): 1,
    ("study_deadline", "p-van-mieu", "bt-p-van-mieu"): 1,
}


@pytest.mark.parametrize("today", [date(2024, 3, 24), date(2024, 3, 30)], ids=["7-days", "1-day"])
def test_study_reminder_goes_to_each_secretary_and_clerk_of_units_behind(cast, today):
    pending = reminders_queue(today=today)
    assert reminders() == STUDY_REMINDERS
    assert sorted(pending) == sorted(OutgoingMail.objects.values_list("pk", flat=True))
    row = OutgoingMail.objects.get(recipient__username="bt-p-van-mieu")
    assert row.params == {
        "deadline": "study_deadline",
        "due_on": "2024-03-31",
        "set_on": "2024-03-31",
    }
    assert row.state == State.QUEUED


@pytest.mark.parametrize("today", [date(2024, 4, 23), date(2024, 4, 29)], ids=["7-days", "1-day"])
def test_plan_and_breakthrough_reminders_go_to_the_units_behind_on_each(cast, today):
    reminders_queue(today=today)
    # The cell sent its plan: it waits for the district, and is not reminded.
    assert reminders() == {
        ("plan_deadline", "p-van-mieu", "bt-p-van-mieu"): 1,
        ("breakthrough_deadline", "p-van-mieu", "bt-p-van-mieu"): 1,
        ("breakthrough_deadline", "p-van-mieu-cb01", "bt-p-van-mieu-cb01"): 1,
    }


def test_no_reminder_for_units_that_met_the_deadline_nor_for_district_roles(cast):
    reminders_queue(today=date(2024, 3, 24))
    reminders_queue(today=date(2024, 4, 23))
    recipients = {name for _deadline, _unit, name in reminders()}
    assert "bt-p-kim-lien" not in recipients  # the ward met all three
    assert not recipients & {"vanphong", "thuongtruc"}
    assert ("study_deadline", "p-van-mieu-cb01", "bt-p-van-mieu-cb01") not in reminders()


@pytest.mark.parametrize(
    "today",
    [
        date(2024, 3, 23),
        date(2024, 3, 31),  # the deadline itself
        date(2024, 4, 1),
        date(2024, 4, 22),
        date(2024, 4, 30),
        date(2024, 5, 1),
    ],
)
def test_no_reminders_on_other_days(cast, today):
    assert reminders_queue(today=today) == []
    assert not OutgoingMail.objects.exists()


def test_a_missed_reminder_day_is_caught_up_once(cast):
    """The daily job did not run on 24/03 (7 days before 31/03): the next run sends the "7 days"
    reminder late, and the days after send nothing more until the "1 day" reminder."""
    first = reminders_queue(today=date(2024, 3, 25))
    assert first
    count = OutgoingMail.objects.count()
    for day in (26, 27, 28, 29):
        reminders_queue(today=date(2024, 3, day))
    assert OutgoingMail.objects.count() == count
    reminders_queue(today=date(2024, 3, 30))
    assert OutgoingMail.objects.count() == 2 * count


def test_reminder_days_are_read_from_the_campaign(cast, campaign):
    campaign.reminder_days = [3]
    campaign.save()
    assert reminders_queue(today=date(2024, 3, 24)) == []
    reminders_queue(today=date(2024, 3, 28))
    assert reminders() == STUDY_REMINDERS


def test_queueing_reminders_twice_on_the_same_day_writes_no_duplicates(cast):
    first = reminders_queue(today=date(2024, 3, 24))
    before = list(OutgoingMail.objects.order_by("pk").values())
    second = reminders_queue(today=date(2024, 3, 24))
    assert sorted(second) == sorted(first)
    assert list(OutgoingMail.objects.order_by("pk").values()) == before


def test_seven_day_and_one_day_reminders_are_separate_e_mails(cast):
    reminders_queue(today=date(2024, 3, 24))
    reminders_queue(today=date(2024, 3, 30))
    assert reminders() == {key: 2 for key in STUDY_REMINDERS}


def test_each_reminder_is_sent_once_however_often_it_is_queued(cast):
    for pk in reminders_queue(today=date(2024, 3, 24)):
        assert outgoing_mail_send(mail_id=pk) == State.SENT
    assert reminders_queue(today=date(2024, 3, 24)) == []
    assert Counter(m.to[0] for m in mail.outbox) == {
        "bt-p-kim-lien-cb01@dongda.test": 1,
        "vt-p-kim-lien-cb01@dongda.test": 1,
        "bt-p-van-mieu@dongda.test": 1,
    }


def test_reminder_task_queues_and_sends_on_the_hanoi_day(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    app = queue_reminders.app
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)
    # 23/03 23:30 UTC is already 24/03, seven days before the study deadline, in Hanoi.
    with (
        time_machine.travel(datetime(2024, 3, 23, 23, 30, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert queue_reminders.apply().get() == 3
    assert len(mail.outbox) == 3
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}


def sent_reminder(username: str):
    reminders_queue(today=date(2024, 3, 24))
    row = OutgoingMail.objects.get(recipient__username=username)
    assert outgoing_mail_send(mail_id=row.pk) == State.SENT
    (message,) = mail.outbox
    (html, _mimetype), *_ = message.alternatives
    return message, html


def test_reminder_reads_in_vietnamese_with_the_due_date_as_dd_mm_yyyy(cast):
    message, html = sent_reminder("bt-p-kim-lien-cb01")
    assert message.subject == (
        "[Chuyên đề năm 2024] Nhắc hạn cho Chi bộ Tổ dân phố số 1: "
        "Hội nghị học tập, quán triệt, hạn 31/03/2024"
    )
    assert "Kính gửi đồng chí Bí thư Chi bộ Tổ dân phố số 1," in message.body
    assert 'Hạn hoàn thành nội dung "Hội nghị học tập, quán triệt"' in message.body
    assert "ngày 31/03/2024" in message.body
    assert "http://127.0.0.1:8000/vi/units/p-kim-lien-cb01/" in message.body
    assert '<html lang="vi">' in html and "31/03/2024" in html
    for english in ("Reminder", "deadline", "Study and dissemination", "secretary", "2024-03-31"):
        assert english not in message.subject + message.body + html
    assert message.to == ["bt-p-kim-lien-cb01@dongda.test"]


def test_reminder_reads_in_english_for_an_english_reader(cast):
    message, html = sent_reminder("bt-p-van-mieu")
    assert message.subject == (
        "[2024 thematic study] Reminder for Van Mieu Ward Party Committee: "
        "Study and dissemination sessions due 31/03/2024"
    )
    assert "To the secretary of Van Mieu Ward Party Committee," in message.body
    assert (
        'The deadline for "Study and dissemination sessions" of 2024 thematic study is '
        "31/03/2024, and your unit has not met it yet."
    ) in message.body
    assert "http://127.0.0.1:8000/en/units/p-van-mieu/" in message.body
    assert '<html lang="en">' in html
    for vietnamese in ("Nhắc hạn", "Kính gửi", "Hội nghị", "hạn", "Chuyên đề"):
        assert vietnamese not in message.subject + message.body + html


def test_inactive_or_addressless_secretary_gets_no_reminder(cast, cell_secretary):
    cell_secretary.is_active = False
    cell_secretary.save()
    clerk = cast.cell.assignments.get(role=Role.CLERK).user
    clerk.email = ""
    clerk.save()
    reminders_queue(today=date(2024, 3, 24))
    assert reminders() == {("study_deadline", "p-van-mieu", "bt-p-van-mieu"): 1}


def test_inactive_campaign_sends_no_reminders(cast, campaign):
    campaign.is_active = False
    campaign.save()
    CampaignFactory(code="cd-old", is_active=False)
    assert reminders_queue(today=date(2024, 3, 24)) == []
