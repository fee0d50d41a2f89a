"""The report workflow end to end through the views: draft, submit, return with a comment (and
its e-mail), correct, resubmit, accept; conflicts, double submits and downloads."""

import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.dashboard.unit_page import unit_study
from campaigns.engine.study import StudyState
from campaigns.mail.outbox import outgoing_mail_send
from campaigns.models import OutgoingMail, ReviewStatus, StudySession
from tests.smtp import mail_via_smtp_fixture, smtp_server_fixture  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secretaries_have_addresses(cell_secretary):
    cell_secretary.email = "bithu.cb01@kimlien.example"
    cell_secretary.save(update_fields=["email"])


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


def login(client, user):
    client.force_login(user)
    return client


def session_data(**overrides):
    data = {
        "held_on": "15/03/2024",
        "kind": "regular",
        "format": "in_person",
        "presenter": "Đồng chí Nguyễn Thị Hoà",
        "members_expected": "40",
        "attendees": "39",
        "notes_vi": "",
        "notes_en": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def new_session_url(unit):
    return reverse("reports:new", kwargs={"code": unit.code, "kind": "sessions"})


def detail_url(unit, item, kind="sessions"):
    return reverse("reports:detail", kwargs={"code": unit.code, "kind": kind, "pk": item.pk})


def action_url(name, unit, item, kind="sessions"):
    return reverse(f"reports:{name}", kwargs={"code": unit.code, "kind": kind, "pk": item.pk})


# In March 2024: held on 15/03 and sent (again) before the deadline, the study is on time.
@time_machine.travel(datetime(2024, 3, 20, 2, 0, tzinfo=UTC), tick=True)
def test_a_session_goes_from_draft_to_accepted_through_a_return(
    client, district, campaign, cell_secretary, staff, settings
):
    login(client, cell_secretary)
    minutes = SimpleUploadedFile("Biên bản hội nghị.pdf", PDF, content_type="application/pdf")
    response = client.post(new_session_url(district.cell), session_data(minutes=minutes))
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.unit == district.cell and session.campaign == campaign
    assert session.status == ReviewStatus.DRAFT
    assert session.minutes_name == "Biên bản hội nghị.pdf"
    assert "Biên" not in session.minutes.name  # stored under an opaque name

    response = client.post(action_url("submit", district.cell, session), {"version": 1})
    session.refresh_from_db()
    assert session.status == ReviewStatus.SUBMITTED

    client.logout()
    login(client, staff)
    comment = "Thiếu danh sách người dự <b>kèm theo</b>"
    client.post(
        action_url("review", district.cell, session),
        {"decision": "return", "comment": comment, "version": session.version},
    )
    session.refresh_from_db()
    assert session.status == ReviewStatus.RETURNED
    assert session.review_comment == comment
    notice = OutgoingMail.objects.get(kind=OutgoingMail.Kind.RETURNED)
    assert notice.recipient == cell_secretary

    client.logout()
    login(client, cell_secretary)
    page = client.get(detail_url(district.cell, session)).content.decode()
    assert "Thiếu danh sách người dự &lt;b&gt;kèm theo&lt;/b&gt;" in page
    response = client.post(
        action_url("edit", district.cell, session),
        session_data(attendees="40", version=session.version),
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.attendees == 40
    assert session.minutes_name == "Biên bản hội nghị.pdf"  # kept when no new file is chosen
    client.post(action_url("submit", district.cell, session), {"version": session.version})
    session.refresh_from_db()
    assert session.status == ReviewStatus.SUBMITTED

    client.logout()
    login(client, staff)
    client.post(
        action_url("review", district.cell, session),
        {"decision": "accept", "comment": "", "version": session.version},
    )
    session.refresh_from_db()
    assert session.status == ReviewStatus.ACCEPTED
    assert unit_study(unit=district.cell, campaign=campaign)["study_state"] == StudyState.ON_TIME

    history = client.get(detail_url(district.cell, session)).content.decode()
    for action in ("Đã tạo", "Gửi duyệt", "Trả lại để sửa", "Đã chấp nhận"):
        assert action in history


def test_the_returned_notice_is_in_the_secretarys_language_and_escapes_html(
    district, campaign, cell_secretary, staff, mail_via_smtp
):
    from campaigns.reporting.services import report_review, report_submit

    session = StudySession.objects.create(
        campaign=campaign,
        unit=district.cell,
        held_on=date(2024, 3, 10),
        presenter="Bí thư",
        members_expected=40,
        attendees=38,
    )
    session = report_submit(item=session, user=cell_secretary, expected_version=1)
    report_review(
        item=session,
        reviewer=staff,
        accept=False,
        comment="<script>alert(1)</script> Sửa số người dự",
        expected_version=session.version,
    )
    notice = OutgoingMail.objects.get(kind=OutgoingMail.Kind.RETURNED)
    assert outgoing_mail_send(mail_id=notice.pk) == OutgoingMail.State.SENT
    (message,) = mail_via_smtp.messages_to(cell_secretary.email)
    assert "Trả lại để sửa" in message["Subject"]
    html = next(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/html"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Sửa số người dự" in html


def test_a_double_clicked_save_creates_one_session(client, district, campaign, cell_secretary):
    login(client, cell_secretary)
    data = session_data()
    first = client.post(new_session_url(district.cell), data)
    second = client.post(new_session_url(district.cell), data)
    assert StudySession.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_two_people_editing_the_same_session_get_a_conflict_not_a_lost_update(
    client, district, campaign, cell_secretary
):
    login(client, cell_secretary)
    client.post(new_session_url(district.cell), session_data())
    session = StudySession.objects.get()
    edit = action_url("edit", district.cell, session)
    first = client.post(edit, session_data(presenter="Người thứ nhất", version=1))
    assert first.status_code == 302
    second = client.post(edit, session_data(presenter="Người thứ hai", version=1))
    assert second.status_code == 409
    page = second.content.decode()
    assert "Người thứ nhất" in page and "Người thứ hai" in page
    session.refresh_from_db()
    assert session.presenter == "Người thứ nhất"
    assert session.version == 2


def test_an_accepted_report_cannot_be_edited_or_submitted(
    client, district, campaign, cell_secretary
):
    session = StudySession.objects.create(
        campaign=campaign,
        unit=district.cell,
        held_on=date(2024, 3, 10),
        presenter="Bí thư",
        members_expected=40,
        attendees=38,
        status=ReviewStatus.ACCEPTED,
    )
    login(client, cell_secretary)
    client.post(action_url("edit", district.cell, session), session_data(version=1))
    client.post(action_url("submit", district.cell, session), {"version": 1})
    session.refresh_from_db()
    assert session.status == ReviewStatus.ACCEPTED
    assert session.presenter == "Bí thư" and session.version == 1


def test_the_evidence_downloads_under_its_vietnamese_name(
    client, district, campaign, cell_secretary, ward_secretary, sibling_secretary
):
    login(client, cell_secretary)
    minutes = SimpleUploadedFile("Biên bản số 1.pdf", PDF, content_type="application/pdf")
    client.post(new_session_url(district.cell), session_data(minutes=minutes))
    session = StudySession.objects.get()
    url = action_url("file", district.cell, session)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        "filename*=utf-8''Bi%C3%AAn%20b%E1%BA%A3n%20s%E1%BB%91%201.pdf"
        in (response["Content-Disposition"])
    )
    assert b"".join(response.streaming_content) == PDF
    client.logout()
    login(client, ward_secretary)  # the committee above may read it
    assert client.get(url).status_code == 200
    client.logout()
    login(client, sibling_secretary)
    assert client.get(url).status_code == 404


def test_unit_page_query_count_does_not_grow_with_reports(
    client, district, campaign, cell_secretary, django_assert_max_num_queries
):
    from tests.factories import BreakthroughTaskFactory, ProgressReportFactory, StudySessionFactory

    login(client, cell_secretary)
    url = reverse("units:detail", kwargs={"code": district.cell.code})

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for day in range(1, 20):
        StudySessionFactory(campaign=campaign, unit=district.cell, held_on=date(2024, 3, day))
    for _ in range(5):
        task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
        for month in (4, 7):
            ProgressReportFactory(task=task, period_start=date(2024, month, 1))
    many = count()
    assert many == few
    with django_assert_max_num_queries(few):
        client.get(url)


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_task_page_and_review_queue_query_counts_do_not_grow(
    client, district, campaign, cell_secretary, staff
):
    from breakthroughs.models import ProgressReport
    from tests.factories import BreakthroughTaskFactory, ProgressReportFactory, StudySessionFactory

    task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
    task_url = detail_url(district.cell, task, kind="tasks")
    queue_url = reverse("campaigns:review_queue")
    login(client, staff)
    StudySessionFactory(campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED)
    few_task, few_queue = _queries(client, task_url), _queries(client, queue_url)

    for month in (4, 7, 10):
        ProgressReportFactory(task=task, period_start=date(2024, month, 1))
    for day in range(1, 15):
        StudySessionFactory(
            campaign=campaign,
            unit=district.cell,
            held_on=date(2024, 3, day),
            status=ReviewStatus.SUBMITTED,
        )
    # History grows with every save of the task.
    for n in range(5):
        task.owner = f"Người phụ trách {n}"
        task.save()
    assert ProgressReport.objects.count() == 3
    assert _queries(client, task_url) == few_task
    assert _queries(client, queue_url) == few_queue


def test_session_page_and_forms_have_a_fixed_query_count(
    client, district, campaign, cell_secretary, django_assert_max_num_queries
):
    login(client, cell_secretary)
    client.post(new_session_url(district.cell), session_data())
    session = StudySession.objects.get()
    for n in range(6):
        client.post(
            action_url("edit", district.cell, session),
            session_data(presenter=f"Báo cáo viên {n}", version=session.version + n),
        )
    session.refresh_from_db()
    assert session.version == 7
    # Session, auth and scope (3), the unit, its committee's name, the item, its history:
    # whatever the history holds.
    with django_assert_max_num_queries(8):
        client.get(detail_url(district.cell, session))
    with django_assert_max_num_queries(6):
        client.get(action_url("edit", district.cell, session))
    # A new session also reads the member count the campaign judges the unit on (the default,
    # and the bound, of members expected).
    with django_assert_max_num_queries(7):
        client.get(new_session_url(district.cell))


def test_an_oversized_upload_is_refused_before_it_is_stored(
    client, district, campaign, cell_secretary, settings
):
    settings.EVIDENCE_MAX_BYTES = 64 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # so Django would otherwise spool it to disk
    login(client, cell_secretary)
    big = SimpleUploadedFile("Biên bản.pdf", PDF + b"0" * (200 * 1024), "application/pdf")
    response = client.post(new_session_url(district.cell), session_data(minutes=big))
    assert response.status_code == 400
    page = response.content.decode()
    assert "“Biên bản.pdf” vượt quá dung lượng tối đa 64,0 KB" in page
    assert StudySession.objects.count() == 0
    root = settings.PRIVATE_MEDIA_ROOT
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]
