"""The digest for the week it is for: weeks written as people say them; a past week read as it
stood at the end of its Sunday (flags, review backlog, the week's movement); the district
digest's "what the office must do this week" (the review backlog by age, the units to call, the
escalations); a unit digest's "what the unit must still submit, and by when"; a committee's
digest with its units' flags raised to it; links under SITE_URL."""

from datetime import date

import pytest
from django.utils import translation

from campaigns.mail.digests import IsoWeek, digest_content, digests_queue_week
from campaigns.mail.messages import build_message, render_digest
from campaigns.models import Campaign, Flag, FlagKind, OutgoingMail, ReviewStatus
from tests.factories import (
    CampaignFactory,
    ImplementationPlanFactory,
    StudySessionFactory,
    UserFactory,
    assign,
    change,
)
from tests.smtp import isolated_mail_settings  # noqa: F401 - autouse fixture
from units.models import Role


def flag(campaign, unit, kind, *, subject="", opened_on, **fields) -> Flag:
    return Flag.objects.create(
        campaign=campaign, unit=unit, kind=kind, subject=subject, opened_on=opened_on, **fields
    )


def close(made: Flag, day: date) -> None:
    Flag.objects.filter(pk=made.pk).update(closed_on=day, closed_at=f"{day}T06:00:00+07:00")


def text_of(campaign, week, unit=None, language="vi") -> tuple[str, str]:
    _content, subject, text, _html = render_digest(
        campaign=campaign, week=week, unit=unit, language=language
    )
    return subject, text


# Weeks as people say them


@pytest.mark.parametrize(
    ("week", "vi", "en"),
    [
        (IsoWeek(2024, 15), "tuần 15, 08/04–14/04/2024", "week 15, 8–14 Apr 2024"),
        (IsoWeek(2024, 5), "tuần 5, 29/01–04/02/2024", "week 5, 29 Jan–4 Feb 2024"),
        (IsoWeek(2025, 1), "tuần 1, 30/12/2024–05/01/2025", "week 1, 30 Dec 2024–5 Jan 2025"),
    ],
    ids=["one-month", "two-months", "two-years"],
)
def test_a_week_is_written_as_people_say_it(week, vi, en):
    with translation.override("vi"):
        assert week.label() == vi
    with translation.override("en"):
        assert week.label() == en


def test_the_monday_job_and_send_digests_default_to_the_week_that_ended_on_sunday(time_machine):
    time_machine.move_to("2024-04-15 07:00:00+07:00", tick=False)  # Monday of week 16
    assert IsoWeek.last_complete() == IsoWeek(2024, 15)
    time_machine.move_to("2024-04-14 23:59:00+07:00", tick=False)  # still Sunday of week 15
    assert IsoWeek.last_complete() == IsoWeek(2024, 14)


# A past week, as it stood


@pytest.fixture
def history(district, campaign):
    """The cell's plan flag opened in week 10 (05/03) and closed in week 12 (20/03); the sibling
    ward's study flag opened in week 14 (01/04) and is still open; a session of the sibling cell
    sent in week 14 (03/04), accepted in week 16 (16/04)."""
    plan = flag(campaign, district.cell, FlagKind.PLAN_MISSING, opened_on=date(2024, 3, 5))
    close(plan, date(2024, 3, 20))
    flag(campaign, district.sibling_ward, FlagKind.STUDY_OVERDUE, opened_on=date(2024, 4, 1))
    session = StudySessionFactory(
        campaign=campaign,
        unit=district.sibling_cell,
        status=ReviewStatus.SUBMITTED,
        at=date(2024, 4, 3),
    )
    change(session, date(2024, 4, 16), status=ReviewStatus.ACCEPTED)
    return district


def state(content) -> tuple:
    return (
        [(g.kind, g.count) for g in content.groups],
        content.opened_in_week,
        content.closed_in_week,
        content.backlog.total,
        (content.reviewed.accepted, content.reviewed.returned),
    )


def test_a_digest_for_a_past_week_shows_that_weeks_state(history, campaign):
    by_week = {
        week: state(digest_content(campaign=campaign, week=IsoWeek(2024, week), unit=None))
        for week in (10, 11, 12, 14, 15, 16)
    }
    assert by_week == {
        10: ([(FlagKind.PLAN_MISSING, 1)], 1, 0, 0, (0, 0)),
        11: ([(FlagKind.PLAN_MISSING, 1)], 0, 0, 0, (0, 0)),
        12: ([], 0, 1, 0, (0, 0)),
        14: ([(FlagKind.STUDY_OVERDUE, 1)], 1, 0, 1, (0, 0)),
        15: ([(FlagKind.STUDY_OVERDUE, 1)], 0, 0, 1, (0, 0)),
        16: ([(FlagKind.STUDY_OVERDUE, 1)], 0, 0, 0, (1, 0)),
    }


def test_the_digests_of_weeks_10_and_15_differ_in_what_they_say(history, campaign):
    subject_10, text_10 = text_of(campaign, IsoWeek(2024, 10))
    subject_15, text_15 = text_of(campaign, IsoWeek(2024, 15))
    assert subject_10 == "[Chuyên đề năm 2024] tuần 10, 04/03–10/03/2024: 1 cảnh báo đang mở"
    assert subject_15 == "[Chuyên đề năm 2024] tuần 15, 08/04–14/04/2024: 1 cảnh báo đang mở"
    assert "Tình hình đến hết ngày 10/03/2024." in text_10
    assert "Chưa có kế hoạch triển khai: 1" in text_10
    assert "Quá hạn học tập" not in text_10
    assert "Tình hình đến hết ngày 14/04/2024." in text_15
    assert "Quá hạn học tập: 1" in text_15
    assert "Báo cáo chờ Quận ủy duyệt: 1" in text_15
    assert "Báo cáo chờ Quận ủy duyệt: 0" in text_10


def test_a_week_under_way_is_described_as_of_today(history, campaign):
    content = digest_content(
        campaign=campaign, week=IsoWeek(2024, 16), unit=None, today=date(2024, 4, 16)
    )
    assert content.as_of == date(2024, 4, 16)
    assert content.reviewed.accepted == 1


# What the office must do this week


@pytest.fixture
def backlog(district, campaign):
    """Sessions waiting for review at the end of Sunday 14/04/2024, review time 5 working days
    (as the review flag counts them: after the day sent): sent Friday 12/04 (within its time),
    Friday 05/04 (its 5 days ended on Friday 12/04), Tuesday 02/04 (8 days), Thursday 28/03
    (more than 10); one sent 08/04 and accepted 10/04; one sent 15/04, after the week."""
    made = {}
    for day in (date(2024, 4, 12), date(2024, 4, 5), date(2024, 4, 2), date(2024, 3, 28)):
        made[day] = StudySessionFactory(
            campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED, at=day
        )
    accepted = StudySessionFactory(
        campaign=campaign,
        unit=district.sibling_cell,
        status=ReviewStatus.SUBMITTED,
        at=date(2024, 4, 8),
    )
    change(accepted, date(2024, 4, 10), status=ReviewStatus.ACCEPTED)
    StudySessionFactory(
        campaign=campaign, unit=district.ward, status=ReviewStatus.SUBMITTED, at=date(2024, 4, 15)
    )
    return made


def bands(content) -> list[int]:
    return [band.count for band in content.backlog.bands]


def test_district_digest_lists_the_review_backlog_by_age(backlog, campaign):
    content = digest_content(campaign=campaign, week=IsoWeek(2024, 15), unit=None)
    assert bands(content) == [1, 2, 1]
    assert content.reviewed.accepted == 1
    _subject, text = text_of(campaign, IsoWeek(2024, 15))
    assert "== Việc Văn phòng Quận ủy cần làm trong tuần ==" in text
    assert "Báo cáo chờ Quận ủy duyệt: 4" in text
    assert "chờ đến 5 ngày làm việc: 1" in text
    assert "chờ từ 6 đến 10 ngày làm việc: 2" in text
    assert "chờ trên 10 ngày làm việc: 1" in text
    assert "Danh sách chờ duyệt: http://127.0.0.1:8000/vi/dashboard/review/" in text
    # The office's to-do comes first, before the list of open flags.
    assert text.index("Việc Văn phòng Quận ủy") < text.index("Trong tuần:")
    with translation.override("en"):
        _subject, text = text_of(campaign, IsoWeek(2024, 15), language="en")
    assert "Reports waiting for the district's review: 4" in text
    assert "waiting 6 to 10 working days: 2" in text


def test_with_two_level_review_the_district_backlog_leaves_out_what_waits_for_a_committee(
    backlog, campaign, district
):
    """The cell's four sessions wait for Kim Liên ward's committee; the ward's own session (sent
    15/04) goes straight to the district. As of 14/04 the district has nothing; the ward has 4."""
    Campaign.objects.filter(pk=campaign.pk).update(two_level_review=True)
    campaign.refresh_from_db()
    week = IsoWeek(2024, 15)
    assert bands(digest_content(campaign=campaign, week=week, unit=None)) == [0, 0, 0]
    ward = digest_content(campaign=campaign, week=week, unit=district.ward)
    assert bands(ward) == [1, 2, 1]
    sibling = digest_content(campaign=campaign, week=week, unit=district.sibling_ward)
    assert bands(sibling) == [0, 0, 0]
    _subject, text = text_of(campaign, week, district.ward)
    assert "Báo cáo chờ cấp ủy duyệt: 4" in text


def test_units_to_call_longest_behind_first_with_committee_and_secretarys_phone(
    district, campaign, staff
):
    flag(campaign, district.sibling_ward, FlagKind.PLAN_MISSING, opened_on=date(2024, 5, 1))
    flag(campaign, district.cell, FlagKind.STUDY_OVERDUE, opened_on=date(2024, 4, 1))
    flag(campaign, district.cell, FlagKind.PLAN_MISSING, opened_on=date(2024, 5, 1))
    # The district office's own delay is not the unit's: no call for it.
    flag(
        campaign,
        district.sibling_cell,
        FlagKind.REVIEW_OVERDUE,
        subject="sessions:1",
        opened_on=date(2024, 3, 1),
    )
    secretary = UserFactory(first_name="Hà", last_name="Nguyễn Thu", phone="0912 345 678")
    assign(secretary, district.cell)
    content = digest_content(campaign=campaign, week=IsoWeek(2024, 20), unit=None)
    assert content.units_behind == 2
    assert [(e.unit.code, e.since, e.flags) for e in content.units_to_call] == [
        ("p-kim-lien-cb01", date(2024, 4, 1), 2),
        ("p-van-mieu", date(2024, 5, 1), 1),
    ]
    _subject, text = text_of(campaign, IsoWeek(2024, 20))
    assert (
        "Đơn vị cần gọi điện, chậm lâu nhất trước (2 đơn vị chậm tiến độ):\n"
        "  - Chi bộ Tổ dân phố số 1 · Đảng bộ phường Kim Liên (chậm từ 01/04/2024, 2 cảnh báo "
        "đang mở) http://127.0.0.1:8000/vi/units/p-kim-lien-cb01/\n"
        "    Bí thư Nguyễn Thu Hà, điện thoại 0912 345 678\n"
        "  - Đảng bộ phường Văn Miếu (chậm từ 01/05/2024, 1 cảnh báo đang mở)"
    ) in text
    assert "Chưa có thông tin bí thư." in text


# A unit's digest


def test_a_cells_digest_says_nothing_of_units_below_it_a_wards_does(
    district, campaign, ward_secretary, cell_secretary
):
    week = IsoWeek(2024, 20)
    _subject, cell = text_of(campaign, week, district.cell)
    _subject, ward = text_of(campaign, week, district.ward)
    assert cell.startswith("Thư tổng hợp tuần 20, 13/05–19/05/2024 của Chi bộ Tổ dân phố số 1\n")
    assert "trực thuộc" not in cell
    assert ward.startswith(
        "Thư tổng hợp tuần 20, 13/05–19/05/2024 của Đảng bộ phường Kim Liên và các đơn vị trực "
        "thuộc\n"
    )
    with translation.override("en"):
        _subject, cell_en = text_of(campaign, week, district.cell, language="en")
    assert "units below" not in cell_en


def test_a_unit_digest_opens_with_what_it_must_still_submit_and_by_when(district):
    """Deadlines on working days: the study deadline 31/03/2024 (a Sunday) falls on 01/04."""
    campaign = CampaignFactory(code="cd2024", deadlines_on_working_days=True)
    ImplementationPlanFactory(campaign=campaign, unit=district.cell, at=date(2024, 3, 10))
    week = IsoWeek(2024, 12)  # 18/03 to 24/03
    content = digest_content(campaign=campaign, week=week, unit=district.cell)
    assert [(line.rule, line.state) for line in content.todo] == [
        ("R1", "pending"),
        ("R3", "pending"),
    ]
    _subject, text = text_of(campaign, week, district.cell)
    assert text.index("== Những việc đơn vị còn phải báo cáo ==") < text.index("Trong tuần:")
    assert (
        "  - Hội nghị học tập, quán triệt: hạn 01/04/2024 (31/03/2024 là Chủ nhật) (chưa thực hiện)"
    ) in text
    assert "Kế hoạch triển khai thực hiện: hạn" not in text  # sent and accepted: done
    # After the deadline the study is overdue and comes first.
    later = digest_content(campaign=campaign, week=IsoWeek(2024, 16), unit=district.cell)
    assert (later.todo[0].rule, later.todo[0].state) == ("R1", "overdue")


# Escalations in the digests


@pytest.fixture
def escalated(district, campaign):
    """The cell's plan flag, opened 01/05, raised to Kim Liên ward on 15/05 (week 20) and to the
    Standing Committee on 31/05 (week 22); the ward's own flag raised on 31/05 to the Standing
    Committee only; a flag of the sibling ward's cell raised to that ward."""
    flag(
        campaign,
        district.cell,
        FlagKind.PLAN_MISSING,
        opened_on=date(2024, 5, 1),
        escalated_to_committee_on=date(2024, 5, 15),
        escalated_to_standing_on=date(2024, 5, 31),
    )
    flag(
        campaign,
        district.ward,
        FlagKind.PLAN_MISSING,
        opened_on=date(2024, 5, 1),
        escalated_to_standing_on=date(2024, 5, 31),
    )
    flag(
        campaign,
        district.sibling_cell,
        FlagKind.NO_BREAKTHROUGH,
        opened_on=date(2024, 5, 1),
        escalated_to_committee_on=date(2024, 5, 15),
    )
    return district


def test_a_committees_digest_announces_its_units_escalated_flag_as_new_in_one_week_only(
    escalated, campaign
):
    news = {}
    for number in range(19, 24):
        content = digest_content(campaign=campaign, week=IsoWeek(2024, number), unit=escalated.ward)
        news[number] = (
            content.escalated.count,
            content.escalated.new_this_week,
            [(f.unit.code, f.is_new) for f in content.escalated.flags],
        )
    assert news == {
        19: (0, 0, []),
        20: (1, 1, [("p-kim-lien-cb01", True)]),
        21: (1, 0, [("p-kim-lien-cb01", False)]),
        22: (1, 0, [("p-kim-lien-cb01", False)]),
        23: (1, 0, [("p-kim-lien-cb01", False)]),
    }
    _subject, text = text_of(campaign, IsoWeek(2024, 20), escalated.ward)
    assert (
        "== Đã báo cáo lên cấp ủy: cảnh báo của các đơn vị trực thuộc mở quá 14 ngày: 1, trong "
        "đó 1 mới trong tuần =="
    ) in text
    assert "(từ 01/05/2024; báo cáo lên ngày 15/05/2024, mới trong tuần)" in text
    # The cell itself is not its own committee; nor is a cell under another ward.
    assert (
        digest_content(campaign=campaign, week=IsoWeek(2024, 20), unit=escalated.cell).escalated
        is None
    )
    sibling = digest_content(campaign=campaign, week=IsoWeek(2024, 20), unit=escalated.sibling_ward)
    assert [f.unit.code for f in sibling.escalated.flags] == ["p-van-mieu-cb01"]


def test_the_district_digest_tells_the_standing_committee_once_a_flag_is_30_days_old(
    escalated, campaign, staff, standing
):
    week_21 = digest_content(campaign=campaign, week=IsoWeek(2024, 21), unit=None)
    assert (week_21.escalated.count, week_21.escalated_to_committees) == (0, 2)
    week_22 = digest_content(campaign=campaign, week=IsoWeek(2024, 22), unit=None)
    assert (week_22.escalated.count, week_22.escalated.new_this_week) == (2, 2)
    week_23 = digest_content(campaign=campaign, week=IsoWeek(2024, 23), unit=None)
    assert (week_23.escalated.count, week_23.escalated.new_this_week) == (2, 0)
    # The Standing Committee's members read it in the district digest.
    for person in (staff, standing):
        person.email = f"{person.username}@dongda.test"
        person.save()
    digests_queue_week(week=IsoWeek(2024, 22), today=date(2024, 6, 3))
    row = OutgoingMail.objects.select_related("recipient", "campaign").get(recipient=standing)
    body = build_message(row).body
    assert "Đã báo cáo lên Thường trực Quận ủy (mở quá 30 ngày): 2, trong đó 2 mới trong tuần" in (
        body
    )
    assert "Đã báo cáo lên cấp ủy cấp trên của đơn vị (mở quá 14 ngày): 2." in body


# Links


def test_links_start_with_site_url(district, campaign, staff, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    flag(campaign, district.cell, FlagKind.PLAN_MISSING, opened_on=date(2024, 5, 1))
    _subject, text = text_of(campaign, IsoWeek(2024, 20))
    links = [word for word in text.split() if word.startswith("http")]
    assert links and all(link.startswith("http://127.0.0.1:8123/vi/") for link in links)


def test_rundemo_points_links_at_its_own_address():
    from campaigns.management.commands.rundemo import Command

    assert Command._own_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert Command._own_url("0.0.0.0", 8001) == "http://127.0.0.1:8001"  # noqa: S104
    assert Command._own_url("::1", 8001) == "http://[::1]:8001"


def test_a_clerk_is_not_listed_as_the_secretary_to_call(district):
    clerk = assign(UserFactory(phone="0900 000 000"), district.cell, Role.CLERK)
    campaign = CampaignFactory(code="cd2024")
    flag(campaign, district.cell, FlagKind.PLAN_MISSING, opened_on=date(2024, 5, 1))
    content = digest_content(campaign=campaign, week=IsoWeek(2024, 20), unit=None)
    assert content.units_to_call[0].secretaries == []
    assert clerk.phone not in text_of(campaign, IsoWeek(2024, 20))[1]
