"""The weekly digest: which week it is in Hanoi, what it says (district and unit digests), how it
reads in each language, the one-click unsubscribe, the `send_digests` command and the staff's
preview page."""

import re
import string
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation

from campaigns.mail.digests import IsoWeek, digest_content, digests_queue_week
from campaigns.mail.messages import build_message, render_digest
from campaigns.mail.outbox import outgoing_mail_send
from campaigns.models import Flag, FlagKind, OutgoingMail
from campaigns.registry import report_kinds
from tests.factories import CampaignFactory, UnitFactory, UserFactory, assign
from tests.smtp import isolated_mail_settings  # noqa: F401 - autouse fixture
from units.tokens import UNSUBSCRIBE_MAX_AGE

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# The week of 01/07 to 07/07/2024, whose digest goes out on Monday 08/07: its window for
# deadlines runs from 08/07 to 21/07 and holds the due date of the Q2 progress reports (30/06 +
# 10 grace days).
WEEK = IsoWeek(2024, 27)
MONDAY = date(2024, 7, 8)
State = OutgoingMail.State


def hanoi(*args) -> datetime:
    return datetime(*args, tzinfo=HANOI)


def flag(campaign, unit, kind, *, subject="", opened_on=date(2024, 5, 1), **fields) -> Flag:
    """A flag as the engine would have left it; opened_at (set on insert) may be given."""
    opened_at = fields.pop("opened_at", None)
    made = Flag.objects.create(
        campaign=campaign, unit=unit, kind=kind, subject=subject, opened_on=opened_on, **fields
    )
    if opened_at is not None:
        Flag.objects.filter(pk=made.pk).update(opened_at=opened_at)
    return made


def closed(opened_on: date, closed_on: date) -> dict:
    return {
        "opened_on": opened_on,
        "closed_on": closed_on,
        "closed_at": hanoi(closed_on.year, closed_on.month, closed_on.day, 6, 0),
    }


@pytest.fixture
def flagged(district, campaign):
    """Open flags by kind, deliberately not in order of their counts:
    study overdue 1 (sibling cell); plan missing 3 (cell, sibling ward, sibling cell); progress
    report overdue 1 (sibling ward); stale incidents 2 (ward, sibling ward). Kim Liên ward's
    subtree holds 2 of the 7. Closed history and another campaign's flag must not count."""
    d = district
    flag(campaign, d.sibling_cell, FlagKind.STUDY_OVERDUE, opened_on=date(2024, 4, 1))
    for unit in (d.cell, d.sibling_ward, d.sibling_cell):
        flag(campaign, unit, FlagKind.PLAN_MISSING)
    flag(
        campaign,
        d.sibling_ward,
        FlagKind.REPORT_OVERDUE,
        subject="task:7/2024-01-01",
        opened_on=date(2024, 4, 11),
    )
    flag(
        campaign, d.ward, FlagKind.STALE_INCIDENT, subject="incident:1", opened_on=date(2024, 6, 2)
    )
    flag(campaign, d.sibling_ward, FlagKind.STALE_INCIDENT, subject="incident:2")
    # History: finished late, and a plan flag that was closed again.
    flag(campaign, d.ward, FlagKind.STUDY_LATE, **closed(date(2024, 4, 5), date(2024, 4, 5)))
    flag(campaign, d.ward, FlagKind.PLAN_MISSING, **closed(date(2024, 5, 1), date(2024, 5, 3)))
    flag(CampaignFactory(code="cd2023", year=2023, is_active=False), d.ward, FlagKind.PLAN_MISSING)
    return district


def summary(content) -> list[tuple[str, int, list[str]]]:
    return [(g.kind, g.count, [f.unit.code for f in g.flags]) for g in content.groups]


# Weeks


def test_iso_week_parses_the_form_date_prints():
    week = IsoWeek.parse("2024-W15")
    assert week == IsoWeek(2024, 15)
    assert week.monday == date(2024, 4, 8)
    assert str(week) == "2024-W15"
    assert IsoWeek.parse("2024-w15") == week
    assert str(IsoWeek.parse("2024-W1")) == "2024-W01"


@pytest.mark.parametrize("text", ["2024-W54", "2024-W53", "2024-W00", "2023-W53"])
def test_iso_week_refuses_a_week_the_year_does_not_have(text):
    with pytest.raises(ValueError, match="ISO week"):
        IsoWeek.parse(text)


@pytest.mark.parametrize(
    "text", ["", "2024", "2024-15", "W15-2024", "15/2024", "tuần 15", "2024-Wxx", "2024-W15-W16"]
)
def test_iso_week_refuses_junk(text):
    with pytest.raises(ValueError, match="ISO week"):
        IsoWeek.parse(text)


def test_week_53_of_2020_exists_and_holds_the_first_days_of_2021():
    week = IsoWeek.parse("2020-W53")
    assert week.monday == date(2020, 12, 28)
    assert IsoWeek.containing(date(2021, 1, 3)) == week
    assert IsoWeek.containing(date(2021, 1, 4)) == IsoWeek(2021, 1)


def test_30_december_2024_is_in_week_1_of_2025():
    assert IsoWeek.containing(date(2024, 12, 29)) == IsoWeek(2024, 52)
    assert str(IsoWeek.containing(date(2024, 12, 30))) == "2025-W01"
    assert IsoWeek.parse("2025-W01").monday == date(2024, 12, 30)


def test_monday_00_30_in_hanoi_is_already_the_new_week_while_utc_is_still_sunday():
    with time_machine.travel(datetime(2024, 4, 7, 17, 30, tzinfo=UTC), tick=False):
        assert timezone.now().weekday() == 6  # Sunday in UTC
        assert IsoWeek.current() == IsoWeek(2024, 15)


def test_sunday_23_59_in_hanoi_is_still_the_old_week():
    with time_machine.travel(datetime(2024, 4, 7, 16, 59, tzinfo=UTC), tick=False):
        assert IsoWeek.current() == IsoWeek(2024, 14)


def test_new_year_week_starts_in_hanoi_on_the_evening_of_29_december_utc():
    with time_machine.travel(datetime(2024, 12, 29, 17, 30, tzinfo=UTC), tick=False):
        assert IsoWeek.current() == IsoWeek(2025, 1)


# What a digest says


def test_district_digest_counts_open_flags_per_kind_worst_first(flagged, campaign):
    content = digest_content(campaign=campaign, week=WEEK, unit=None)
    assert summary(content) == [
        (FlagKind.STUDY_OVERDUE, 1, ["p-van-mieu-cb01"]),
        (FlagKind.PLAN_MISSING, 3, ["p-kim-lien-cb01", "p-van-mieu", "p-van-mieu-cb01"]),
        (FlagKind.REPORT_OVERDUE, 1, ["p-van-mieu"]),
        (FlagKind.STALE_INCIDENT, 2, ["p-van-mieu", "p-kim-lien"]),
    ]
    assert content.open_total == 7
    assert not content.all_clear


def test_ward_digest_holds_only_the_flags_of_its_subtree(flagged, campaign):
    content = digest_content(campaign=campaign, week=WEEK, unit=flagged.ward)
    assert summary(content) == [
        (FlagKind.PLAN_MISSING, 1, ["p-kim-lien-cb01"]),
        (FlagKind.STALE_INCIDENT, 1, ["p-kim-lien"]),
    ]
    cell = digest_content(campaign=campaign, week=WEEK, unit=flagged.cell)
    assert summary(cell) == [(FlagKind.PLAN_MISSING, 1, ["p-kim-lien-cb01"])]


def test_digest_lists_ten_units_per_kind_oldest_first_but_counts_them_all(district, campaign):
    for day in range(12, 0, -1):
        unit = UnitFactory(parent=district.ward, code=f"p-kim-lien-t{day:02d}")
        flag(campaign, unit, FlagKind.PLAN_MISSING, opened_on=date(2024, 5, day))
    (group,) = digest_content(campaign=campaign, week=WEEK, unit=None).groups
    assert group.count == 12
    assert [f.unit.code for f in group.flags] == [f"p-kim-lien-t{d:02d}" for d in range(1, 11)]


def test_the_weeks_movement_counts_flags_opened_and_closed_from_its_monday_to_its_sunday(
    district, campaign
):
    """Week 15 is 08/04 to 14/04/2024. A flag counts by the days it opened and closed on (the
    day its condition began, the day it cleared), whenever the engine wrote it."""
    week = IsoWeek(2024, 15)
    cell, sibling = district.cell, district.sibling_cell

    def opened(day, n, unit=cell):
        flag(campaign, unit, FlagKind.STALE_INCIDENT, subject=f"incident:{n}", opened_on=day)

    opened(date(2024, 4, 7), 1)  # the Sunday before
    opened(date(2024, 4, 8), 2)  # counted
    opened(date(2024, 4, 14), 3)  # counted
    opened(date(2024, 4, 15), 4)  # the next week
    opened(date(2024, 4, 10), 5, unit=district.sibling_ward)  # counted, other ward

    def closed_on(day, n, unit=cell):
        flag(
            campaign,
            unit,
            FlagKind.REPORT_OVERDUE,
            subject=f"task:{n}",
            **closed(date(2024, 3, 1), day),
        )

    closed_on(date(2024, 4, 7), 1)
    closed_on(date(2024, 4, 9), 2, unit=sibling)  # counted
    closed_on(date(2024, 4, 14), 3)  # counted
    closed_on(date(2024, 4, 15), 4)
    # "Study late" is history, written opened and closed at once; it is not movement.
    flag(campaign, sibling, FlagKind.STUDY_LATE, **closed(date(2024, 4, 9), date(2024, 4, 9)))

    district_digest = digest_content(campaign=campaign, week=week, unit=None)
    assert (district_digest.opened_in_week, district_digest.closed_in_week) == (3, 2)
    ward_digest = digest_content(campaign=campaign, week=week, unit=district.ward)
    assert (ward_digest.opened_in_week, ward_digest.closed_in_week) == (2, 1)


def deadlines(content) -> list[tuple[date, str]]:
    return [(d.due_on, d.label) for d in content.deadlines]


def test_deadlines_of_the_next_14_days_include_the_progress_report_due_date(flagged, campaign):
    with translation.override("vi"):
        content = digest_content(campaign=campaign, week=WEEK, unit=None)
    assert deadlines(content) == [(date(2024, 7, 10), "Báo cáo tiến độ Quý II/2024")]
    with translation.override("en"):
        content = digest_content(campaign=campaign, week=IsoWeek(2024, 16), unit=None)
    assert deadlines(content) == [
        (date(2024, 4, 30), "Implementation plan"),
        (date(2024, 4, 30), "Key breakthrough task"),
    ]


def test_deadline_on_the_monday_after_the_week_and_on_the_14th_day_are_listed_the_15th_is_not(
    district,
):
    week = IsoWeek(2024, 14)  # 01/04 to 07/04: the window is 08/04 to 21/04
    campaign = CampaignFactory(
        code="cd-window",
        study_deadline=date(2024, 4, 8),
        plan_deadline=date(2024, 4, 21),
        breakthrough_deadline=date(2024, 4, 22),
        report_grace_days=10,  # the Q1 reports are due 10/04
    )
    with translation.override("en"):
        content = digest_content(campaign=campaign, week=week, unit=None)
    assert deadlines(content) == [
        (date(2024, 4, 8), "Study and dissemination sessions"),
        (date(2024, 4, 10), "Progress reports for Q1 2024"),
        (date(2024, 4, 21), "Implementation plan"),
    ]


def test_digest_with_only_history_and_other_subtrees_flags_is_all_clear(district, campaign):
    flag(campaign, district.ward, FlagKind.STUDY_LATE, **closed(date(2024, 4, 5), date(2024, 4, 5)))
    flag(
        campaign, district.cell, FlagKind.PLAN_MISSING, **closed(date(2024, 5, 1), date(2024, 5, 3))
    )
    flag(campaign, district.sibling_cell, FlagKind.PLAN_MISSING)
    ward = digest_content(campaign=campaign, week=WEEK, unit=district.ward)
    assert ward.all_clear
    assert (ward.groups, ward.open_total) == ([], 0)
    assert not digest_content(campaign=campaign, week=WEEK, unit=None).all_clear


# Per digest, whatever the number of units and flags: one count by kind, one short list per kind
# (five at most), the listed units' committees, the items the flags name (tasks and incidents: one
# query each), the week's movement, and one query per report kind for what was accepted and
# returned during the week.
KINDS = len(report_kinds())
FLAG_LISTS = 1 + 5 + 1 + 2 + 1 + KINDS
# The district's agenda: the review backlog (a query per report kind); the units to call (how
# many, which, their rows, their committees, their secretaries); the flags raised to the Standing
# Committee (how many, which, their committees, the tasks and incidents they name) and how many
# were raised to the committees.
DISTRICT_DIGEST_QUERIES = FLAG_LISTS + KINDS + 5 + 5 + 1
# A unit's: its subtree's ids; what it must still submit (its study figures and a query per kind
# it records); for a committee, its units' flags raised to it (as above).
UNIT_DIGEST_QUERIES = FLAG_LISTS + 1 + 1 + KINDS + 5


def test_digest_query_count_is_pinned_and_does_not_grow_with_flagged_units(
    flagged, campaign, django_assert_max_num_queries
):
    # Every kind present in both digests: the most lists a digest reads; and some flags raised
    # to the ward committee and to the Standing Committee.
    flag(
        campaign, flagged.cell, FlagKind.STUDY_OVERDUE, escalated_to_committee_on=date(2024, 5, 15)
    )
    flag(campaign, flagged.cell, FlagKind.NO_BREAKTHROUGH)
    flag(
        campaign,
        flagged.cell,
        FlagKind.REPORT_OVERDUE,
        subject="task:8/2024-01-01",
        escalated_to_committee_on=date(2024, 5, 15),
        escalated_to_standing_on=date(2024, 5, 31),
    )

    def digests() -> tuple[int, int]:
        with django_assert_max_num_queries(DISTRICT_DIGEST_QUERIES):
            district_digest = digest_content(campaign=campaign, week=WEEK, unit=None)
        with django_assert_max_num_queries(UNIT_DIGEST_QUERIES):
            ward_digest = digest_content(campaign=campaign, week=WEEK, unit=flagged.ward)
        with django_assert_max_num_queries(UNIT_DIGEST_QUERIES):
            render_digest(campaign=campaign, week=WEEK, unit=flagged.ward, language="vi")
        assert district_digest.escalated.count and ward_digest.escalated.count
        return district_digest.open_total, ward_digest.open_total

    assert digests() == (10, 5)
    for n in range(50):
        unit = UnitFactory(parent=flagged.ward)
        for kind in (FlagKind.STUDY_OVERDUE, FlagKind.PLAN_MISSING, FlagKind.NO_BREAKTHROUGH):
            flag(campaign, unit, kind, escalated_to_committee_on=date(2024, 5, 15))
        flag(
            campaign,
            unit,
            FlagKind.STALE_INCIDENT,
            subject=f"incident:{100 + n}",
            escalated_to_committee_on=date(2024, 5, 15),
            escalated_to_standing_on=date(2024, 5, 31),
        )
        assign(UserFactory(phone=f"0912 000 {n:03d}"), unit)
    assert digests() == (10 + 200, 5 + 200)


# The e-mail


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@dongda.test"
        user.save(update_fields=["email"])
    return users


@pytest.fixture
def recipients(flagged, staff, staff_en, ward_secretary, sibling_secretary):
    """Vietnamese staff, English staff, a Vietnamese and an English secretary."""
    sibling_secretary.language = "en"
    sibling_secretary.save()
    return with_email(staff, staff_en, ward_secretary, sibling_secretary)


def queued_message(user, week: IsoWeek = WEEK):
    digests_queue_week(week=week, today=week.sunday + timedelta(days=1))
    row = OutgoingMail.objects.select_related("recipient", "campaign", "unit").get(recipient=user)
    return build_message(row)


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def parts(message) -> tuple[str, str, str]:
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return message.subject, message.body, html


ENGLISH_UI = [
    "weekly digest",
    "Open flags",
    "worst first",
    "Study overdue",
    "Implementation plan",
    "Progress report",
    "Stale incident",
    "During the week",
    "What the office",
    "Units to call",
    "Escalated",
    "opened",
    "Deadlines",
    "since",
    "none",
    "Dashboard",
    "Open the",
    "Open your",
    "thematic study",
    "Party Committee",
    "Party Cell",
    "Hanoi",
    "open flag",
    "week ",
]


def test_district_digest_reads_in_vietnamese_for_a_vietnamese_reader(recipients, staff):
    subject, text, html = parts(queued_message(staff))
    assert subject == "[Chuyên đề năm 2024] tuần 27, 01/07–07/07/2024: 7 cảnh báo đang mở"
    for expected in (
        "Thư tổng hợp toàn quận, tuần 27, 01/07–07/07/2024",
        "Cảnh báo đang mở, nghiêm trọng nhất trước:",
        "Quá hạn học tập: 1",
        "Chưa có kế hoạch triển khai: 3",
        "Quá hạn báo cáo tiến độ: 1",
        "Vụ việc tồn đọng: 2",
        "Chi bộ Tổ dân phố số 1 · Đảng bộ phường Kim Liên (từ 01/05/2024)",
        "Đảng bộ phường Văn Miếu",
        "Trong tuần: 0 cảnh báo mới, 0 cảnh báo đã đóng; 0 báo cáo "
        "được duyệt, 0 báo cáo bị trả lại.",
        "10/07/2024: Báo cáo tiến độ Quý II/2024",
    ):
        assert expected in text, expected
        assert expected in visible_text(html), expected
    assert "Trang tổng quan: http://127.0.0.1:8000/vi/dashboard/" in text
    assert "Quận ủy Đống Đa, thành phố Hà Nội" in visible_text(html)
    assert '<html lang="vi">' in html
    for words in ENGLISH_UI:
        for part in (subject, text, visible_text(html)):
            assert words not in part, words
    for part in (subject, text, html):
        assert unicodedata.is_normalized("NFC", part)


def test_unit_digest_reads_in_english_for_an_english_reader(recipients, sibling_secretary):
    subject, text, html = parts(queued_message(sibling_secretary))
    assert (
        subject == "[2024 thematic study] Van Mieu Ward Party Committee · week "
        "27, 1–7 Jul 2024: 5 open flags"
    )
    for expected in (
        "Weekly digest of Van Mieu Ward Party Committee and the "
        "units below it, week 27, 1–7 Jul 2024",
        "Open flags, worst first:",
        "Implementation plan missing: 2",
        "Residential Area No. 2 Party Cell · Van Mieu Ward Party Committee (since 01/05/2024)",
        "During the week: flags opened 0, closed 0; reports accepted 0, returned 0.",
        "10/07/2024: Progress reports for Q2 2024",
    ):
        assert expected in text, expected
        assert expected in visible_text(html), expected
    assert "Your unit's page: http://127.0.0.1:8000/en/units/p-van-mieu/" in text
    assert '<html lang="en">' in html
    assert "Kim Liên" not in text and "Kim Lien" not in text  # the other ward's flags
    for part in (subject, text, visible_text(html)):
        # Nothing Vietnamese but the district's own name in the footer.
        stray = set(part.replace("Đống Đa", "")) - set(string.printable) - set("–·“”")
        assert not stray, (stray, part)


def test_unit_name_keeps_its_diacritics_in_a_vietnamese_unit_digest(recipients, ward_secretary):
    subject, text, html = parts(queued_message(ward_secretary))
    assert subject == (
        "[Chuyên đề năm 2024] Đảng bộ phường Kim Liên · tuần 27, "
        "01/07–07/07/2024: 2 cảnh báo đang mở"
    )
    assert (
        "Thư tổng hợp tuần 27, 01/07–07/07/2024 của Đảng bộ phường "
        "Kim Liên và các đơn vị trực thuộc" in text
    )
    assert "Chi bộ Tổ dân phố số 1" in visible_text(html)
    assert "Văn Miếu" not in text  # the sibling ward's flags stay out


def test_html_in_a_unit_name_is_escaped_in_the_html_part(recipients, district, ward_secretary):
    district.cell.name_vi = 'Chi bộ <script>alert("x")</script> & <b>Tổ 1</b>'
    district.cell.save()
    _subject, text, html = parts(queued_message(ward_secretary))
    assert "<script>" not in html and "<b>Tổ" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Tổ 1&lt;/b&gt;" in html
    # The plain-text part is not HTML: the name reads as typed.
    assert 'Chi bộ <script>alert("x")</script> & <b>Tổ 1</b> · Đảng bộ phường Kim Liên' in text


def test_digest_keeps_its_message_id_when_built_again(recipients, staff):
    """emails.build_message promises "Stable per row: a copy sent after a crash carries the same
    Message-ID", which is what lets a mail server drop the one duplicate the outbox allows."""
    first = queued_message(staff)
    again = queued_message(staff)
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]


# Unsubscribe


def test_digest_carries_a_one_click_unsubscribe_link_under_site_url(recipients, staff, settings):
    settings.SITE_URL = "https://theodoi.dongda.example.vn/"
    headers = queued_message(staff).extra_headers
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<https://theodoi\.dongda\.example\.vn/vi/accounts/unsubscribe/[^/<>\s]+/>",
        headers["List-Unsubscribe"],
    )


def unsubscribe_path(user) -> str:
    header = queued_message(user).extra_headers["List-Unsubscribe"]
    return header.strip("<>").removeprefix("http://127.0.0.1:8000")


def test_one_click_unsubscribe_post_without_csrf_token_stops_the_digest(recipients, staff):
    path = unsubscribe_path(staff)
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Đồng chí sẽ không nhận thư tổng hợp tuần nữa" in response.text
    staff.refresh_from_db()
    assert staff.receives_digests is False
    digests_queue_week(week=IsoWeek(2024, 29), today=date(2024, 7, 15))
    assert not OutgoingMail.objects.filter(recipient=staff, params__week="2024-W29").exists()


def test_opening_the_unsubscribe_link_only_asks(recipients, staff):
    """Link checkers and previews fetch links; a GET must change nothing (RFC 8058)."""
    response = Client().get(unsubscribe_path(staff))
    assert response.status_code == 200
    assert 'method="post"' in response.text
    staff.refresh_from_db()
    assert staff.receives_digests is True


def test_the_digests_unsubscribe_link_expires(recipients, staff):
    """The link a digest carries is stamped when the digest is written: a one-click POST works
    for UNSUBSCRIBE_MAX_AGE, then gets the page that says what to do instead (410)."""
    written = datetime(2024, 7, 8, 0, 30, tzinfo=UTC)
    with time_machine.travel(written, tick=False):
        path = unsubscribe_path(staff)
    one_click = {"List-Unsubscribe": "One-Click"}
    with time_machine.travel(written + UNSUBSCRIBE_MAX_AGE + timedelta(seconds=1), tick=False):
        response = Client(enforce_csrf_checks=True).post(path, one_click)
    assert response.status_code == 410
    assert 'href="/vi/accounts/profile/"' in response.text
    staff.refresh_from_db()
    assert staff.receives_digests is True
    with time_machine.travel(written + UNSUBSCRIBE_MAX_AGE - timedelta(seconds=1), tick=False):
        response = Client(enforce_csrf_checks=True).post(path, one_click)
    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.receives_digests is False


@pytest.mark.parametrize("forge", ["tampered", "other_salt", "junk"])
def test_unsubscribe_with_a_bad_token_is_400_and_changes_nothing(recipients, staff, forge):
    path = unsubscribe_path(staff)
    token = path.rstrip("/").rsplit("/", 1)[1]
    bad = {
        "tampered": token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
        "other_salt": signing.dumps(staff.pk),
        "junk": "khong-hop-le",
    }[forge]
    response = Client(enforce_csrf_checks=True).post(f"/vi/accounts/unsubscribe/{bad}/")
    assert response.status_code == 400
    assert "Đường dẫn hủy nhận thư không hợp lệ" in response.text
    staff.refresh_from_db()
    assert staff.receives_digests is True


# All clear


def test_reader_who_wants_no_all_clear_gets_nothing_when_their_subtree_is_clear(
    district, campaign, staff, ward_secretary, sibling_secretary
):
    flag(campaign, district.sibling_cell, FlagKind.PLAN_MISSING)
    with_email(staff, ward_secretary, sibling_secretary)
    ward_secretary.digest_when_all_clear = False
    ward_secretary.save()
    pending = digests_queue_week(week=WEEK, today=MONDAY)
    states = {
        OutgoingMail.objects.get(pk=pk).recipient.username: outgoing_mail_send(mail_id=pk)
        for pk in pending
    }
    assert states == {"vanphong": "sent", "bt-p-van-mieu": "sent", "bt-p-kim-lien": "skipped"}
    skipped = OutgoingMail.objects.get(recipient=ward_secretary)
    assert skipped.state == State.SKIPPED
    assert sorted(m.to[0] for m in mail.outbox) == [
        "bt-p-van-mieu@dongda.test",
        "vanphong@dongda.test",
    ]


def test_reader_who_wants_no_all_clear_still_gets_a_digest_with_open_flags(
    district, campaign, ward_secretary
):
    flag(campaign, district.cell, FlagKind.PLAN_MISSING)
    with_email(ward_secretary)
    ward_secretary.digest_when_all_clear = False
    ward_secretary.save()
    (pk,) = digests_queue_week(week=WEEK, today=MONDAY)
    assert outgoing_mail_send(mail_id=pk) == State.SENT
    assert [m.to for m in mail.outbox] == [["bt-p-kim-lien@dongda.test"]]


def test_reader_with_nothing_open_gets_a_short_all_clear_by_default(
    district, campaign, ward_secretary
):
    with_email(ward_secretary)
    subject, text, html = parts(queued_message(ward_secretary))
    assert (
        subject == "[Chuyên đề năm 2024] Đảng bộ phường Kim Liên · tuần 27, "
        "01/07–07/07/2024: không có cảnh báo"
    )
    assert "Không có cảnh báo nào: tất cả đơn vị đều đúng tiến độ." in text
    assert "Không có cảnh báo nào" in visible_text(html)


# The command


def test_send_digests_dry_run_prints_both_languages_and_writes_nothing(recipients):
    out = StringIO()
    call_command("send_digests", "--week", "2024-W27", "--dry-run", stdout=out)
    printed = out.getvalue()
    assert "--- vanphong <vanphong@dongda.test> [vi]" in printed
    assert "Subject: [Chuyên đề năm 2024] tuần 27, 01/07–07/07/2024: 7 cảnh báo đang mở" in printed
    assert "Cảnh báo đang mở, nghiêm trọng nhất trước:" in printed
    assert "--- staff-en <staff-en@dongda.test> [en]" in printed
    assert "Subject: [2024 thematic study] week 27, 1–7 Jul 2024: 7 open flags" in printed
    assert "Open flags, worst first:" in printed
    assert printed.rstrip().endswith("4 digests for 2024-W27 (dry run: nothing sent)")
    assert OutgoingMail.objects.count() == 0
    assert mail.outbox == []


def test_send_digests_twice_sends_each_recipient_exactly_once(recipients):
    first, second = StringIO(), StringIO()
    call_command("send_digests", "--week", "2024-W27", stdout=first)
    call_command("send_digests", "--week", "2024-W27", stdout=second)
    assert first.getvalue().strip() == "digests for 2024-W27: 4 sent"
    assert second.getvalue().strip() == "digests for 2024-W27: nothing to send"
    assert Counter(m.to[0] for m in mail.outbox) == {u.email: 1 for u in recipients}
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}


def test_send_digests_without_week_sends_the_current_hanoi_week(recipients):
    with time_machine.travel(datetime(2024, 7, 7, 17, 30, tzinfo=UTC), tick=False):
        call_command("send_digests", stdout=StringIO())
    assert set(OutgoingMail.objects.values_list("params__week", flat=True)) == {"2024-W27"}
    assert len(mail.outbox) == 4


@pytest.mark.parametrize("week", ["2024-W54", "2024-15", "tuần sau"])
def test_send_digests_refuses_a_bad_week(recipients, week):
    with pytest.raises(CommandError, match="--week"):
        call_command("send_digests", "--week", week, stdout=StringIO())
    assert not OutgoingMail.objects.exists()


# The staff's preview page

PREVIEW = "/{lang}/dashboard/digest/"
PREVIEW_HTML = "/{lang}/dashboard/digest/email.html"


def test_staff_preview_shows_the_district_digest_in_the_page_language(client, flagged, staff):
    client.force_login(staff)
    vi = client.get(PREVIEW.format(lang="vi"), {"week": "2024-W27"})
    assert vi.status_code == 200
    assert "[Chuyên đề năm 2024] tuần 27, 01/07–07/07/2024: 7 cảnh báo đang mở" in vi.text
    assert "Cảnh báo đang mở, nghiêm trọng nhất trước:" in vi.text
    en = client.get(PREVIEW.format(lang="en"), {"week": "2024-W27"})
    assert en.status_code == 200
    assert "[2024 thematic study] week 27, 1–7 Jul 2024: 7 open flags" in en.text


def test_staff_preview_of_a_unit_digest(client, flagged, staff):
    client.force_login(staff)
    response = client.get(PREVIEW.format(lang="vi"), {"week": "2024-W27", "unit": "p-kim-lien"})
    assert response.status_code == 200
    assert (
        "[Chuyên đề năm 2024] Đảng bộ phường Kim Liên · tuần 27, "
        "01/07–07/07/2024: 2 cảnh báo đang mở" in (response.text)
    )


def test_staff_preview_frame_is_the_html_part_with_no_scripts_allowed(client, flagged, staff):
    client.force_login(staff)
    response = client.get(PREVIEW_HTML.format(lang="vi"), {"week": "2024-W27"})
    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert "Thư tổng hợp toàn quận, tuần 27, 01/07–07/07/2024" in response.text
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("url", [PREVIEW, PREVIEW_HTML])
def test_staff_preview_of_an_unknown_unit_is_404(client, flagged, staff, url):
    client.force_login(staff)
    response = client.get(url.format(lang="vi"), {"unit": "khong-co"})
    assert response.status_code == 404


@pytest.mark.parametrize("url", [PREVIEW, PREVIEW_HTML])
@pytest.mark.parametrize("who", ["ward_secretary", "standing"])
def test_preview_is_for_district_office_staff_only(client, flagged, request, url, who):
    client.force_login(request.getfixturevalue(who))
    for query in ({}, {"unit": "p-kim-lien"}):
        response = client.get(url.format(lang="vi"), query)
        assert response.status_code == 403


@pytest.mark.parametrize("url", [PREVIEW, PREVIEW_HTML])
def test_preview_sends_anonymous_visitors_to_login(client, flagged, url):
    response = client.get(url.format(lang="vi"))
    assert response.status_code == 302
    assert response["Location"].startswith("/vi/accounts/login/")


@pytest.mark.parametrize("url", [PREVIEW, PREVIEW_HTML])
def test_preview_refuses_post(client, flagged, staff, url):
    client.force_login(staff)
    assert client.post(url.format(lang="vi")).status_code == 405
