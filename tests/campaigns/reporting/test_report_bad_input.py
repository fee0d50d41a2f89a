"""Bad input on the report forms, through the real views: every refusal says what is wrong in the
page's language and leaves the database (and the evidence folder) exactly as it was. Then the
main forms under Hypothesis: numbers, percentages, dates and free text, at the form level."""

import html
import io
import re
import unicodedata
import uuid
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import MaxValueValidator
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from breakthroughs.forms import BreakthroughTaskForm, ProgressReportForm
from breakthroughs.models import BreakthroughTask, Initiative, ProgressReport
from campaigns.models import ImplementationPlan, Incident, ReviewStatus, StudySession
from campaigns.reporting.forms import IncidentForm, StudySessionForm
from dongda.text import BIDI_CONTROLS
from tests.factories import (
    BreakthroughTaskFactory,
    CampaignFactory,
    IncidentFactory,
    ProgressReportFactory,
    StudySessionFactory,
)
from units.models import Unit

pytestmark = pytest.mark.django_db

TODAY = date(2024, 5, 20)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
XSS = "<script>alert(1)</script>"
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"
KIND_MODELS = {
    "sessions": StudySession,
    "plans": ImplementationPlan,
    "tasks": BreakthroughTask,
    "reports": ProgressReport,
    "initiatives": Initiative,
    "incidents": Incident,
}
REPORT_MODELS = tuple(KIND_MODELS.values())

BANNER = {
    "vi": "Hãy sửa các mục được đánh dấu dưới đây. Chưa có gì được lưu.",
    "en": "Please correct the fields marked below. Nothing has been saved yet.",
}
VI = {
    "required": "Trường này là bắt buộc.",
    "whole_number": "Nhập số nguyên, ví dụ 1.250.",
    "at_least_0": "Đảm bảo giá trị này lớn hơn hoặc bằng với 0",
    "at_least_1": "Đảm bảo giá trị này lớn hơn hoặc bằng với 1",
    "at_most": "Đảm bảo giá trị này là nhỏ hơn hoặc bằng với",
    "date_format": "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 15/03/2024.",
    "year": "Ngày phải thuộc năm 2024, năm của chuyên đề.",
    "future": "Ngày không được ở tương lai.",
    "percent": "Tiến độ là tỷ lệ phần trăm từ 0 đến 100.",
    "choice": "Hãy chọn một lựa chọn hợp lệ.",
    "bad_type": "không phải tệp PDF, DOCX, XLSX, JPG hoặc PNG",
    "bad_name": "Tên tệp không được chứa thư mục hoặc ký tự đặc biệt.",
    "before_opened": "Ngày giải quyết xong không được trước ngày phát sinh vụ việc.",
    "say_how": "Hãy nêu kết quả giải quyết vụ việc.",
    "give_date": "Hãy nhập ngày giải quyết xong vụ việc.",
    "accepted": "Báo cáo này đã được chấp nhận và không thể sửa nữa.",
    "waiting": "Báo cáo này đang chờ Quận ủy duyệt nên chưa thể sửa.",
    "already_submitted": "Báo cáo này đã được gửi.",
    "plan_exists": "Kế hoạch của đơn vị đã được ghi nhận; hãy sửa tại đây.",
}
EN = {
    "required": "This field is required.",
    "whole_number": "Enter a whole number",
    "date_format": "Enter a date as dd/mm/yyyy, e.g. 15/03/2024.",
    "year": "The date must fall within 2024, the campaign's year.",
    "future": "The date cannot be in the future.",
    "percent": "Progress is a percentage from 0 to 100.",
    "before_opened": "An incident cannot be resolved before it was opened.",
    "say_how": "Say how the incident was resolved.",
    "give_date": "Give the date the incident was resolved.",
    "accepted": "This report has been accepted and can no longer be changed.",
}


# --- helpers -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


@pytest.fixture(autouse=True)
def big_cell(district):
    """The cell on record with two million members, so that the numbers these tests type (up to
    1.000.000) are bounded by the form's own rules; the bound by the member count has its own
    tests below."""
    Unit.objects.filter(pk=district.cell.pk).update(member_count=2_000_000)
    district.cell.refresh_from_db()


def url(name: str, lang: str = "vi", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs)


def new_url(unit, kind: str, lang: str = "vi") -> str:
    return url("reports:new", lang, code=unit.code, kind=kind)


def progress_url(unit, task, lang: str = "vi") -> str:
    return url(
        "reports:new_child",
        lang,
        code=unit.code,
        parent_kind="tasks",
        parent_pk=task.pk,
        kind="reports",
    )


def item_url(action: str, unit, item, kind: str, lang: str = "vi") -> str:
    return url(f"reports:{action}", lang, code=unit.code, kind=kind, pk=item.pk)


def unit_url(unit, lang: str = "vi") -> str:
    return url("units:detail", lang, code=unit.code)


def text_of(response) -> str:
    """The page as a person reads it (entities decoded), for checking messages."""
    return html.unescape(response.content.decode())


def columns(model) -> list[str]:
    """Every column, naming translated text by its language columns (title_vi, title_en): the
    bare name (title) would follow whichever language happens to be active."""
    names = [field.attname for field in model._meta.concrete_fields]
    translated = {name[:-3] for name in names if name.endswith("_vi")}
    return [name for name in names if name not in translated]


def snapshot() -> dict:
    """Every report row with every column, and how many history rows each kind has."""
    state = {}
    with translation.override("vi"):
        for model in REPORT_MODELS:
            rows = model.objects.order_by("pk").values(*columns(model))
            state[model._meta.label] = list(rows)
            state[f"{model._meta.label} history"] = model.history.count()
    return state


def stored_files(root) -> list[Path]:
    root = Path(root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_refused(response, *messages: str, lang: str = "vi") -> None:
    assert response.status_code == 400, response.status_code
    page = text_of(response)
    assert BANNER[lang] in page
    for message in messages:
        assert message in page, f"{message!r} not on the page"


def session_data(**overrides) -> dict:
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


def plan_data(**overrides) -> dict:
    data = {
        "number": "05-KH/ĐU",
        "issued_on": "10/04/2024",
        "programme": "Chương trình số 01-CTr/QU",
        "summary_vi": "",
        "summary_en": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def task_data(**overrides) -> dict:
    data = {
        "field": "economy",
        "title_vi": "Chỉnh trang vỉa hè tuyến phố",
        "title_en": "",
        "description_vi": "",
        "description_en": "",
        "goal_vi": "",
        "goal_en": "",
        "indicator_vi": "Số tuyến phố được chỉnh trang",
        "indicator_en": "",
        "target": "12",
        "owner": "Tổ dân phố số 1",
        "due_on": "31/12/2024",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def report_data(**overrides) -> dict:
    data = {
        "period_start": "2024-04-01",
        "percent": "30",
        "narrative_vi": "Đã khảo sát xong",
        "narrative_en": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def initiative_data(**overrides) -> dict:
    data = {
        "name_vi": "Mô hình dân vận khéo",
        "name_en": "",
        "description_vi": "",
        "description_en": "",
        "started_on": "01/04/2024",
        "stage": "running",
        "results_vi": "",
        "results_en": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def incident_data(**overrides) -> dict:
    data = {
        "title_vi": "Lấn chiếm vỉa hè",
        "title_en": "",
        "description_vi": "",
        "description_en": "",
        "opened_on": "02/05/2024",
        "severity": "medium",
        "owner": "Tổ dân phố số 3",
        "resolved_on": "",
        "resolution_vi": "",
        "resolution_en": "",
        "submission_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


def raw_multipart(fields: dict, file_field: str, filename: str, content: bytes):
    """A multipart body written by hand, so the file name reaches Django's parser as sent (the
    test client would take its basename first)."""
    boundary = "dongda-test-boundary-7f3a"
    parts = []
    for key, value in fields.items():
        parts += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            str(value).encode(),
        ]
    parts += [
        f"--{boundary}".encode(),
        f'Content-Disposition: form-data; name="{file_field}"; filename="{filename}"'.encode(),
        b"Content-Type: application/pdf",
        b"",
        content,
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def secretary(client, cell_secretary):
    client.force_login(cell_secretary)
    return client


@pytest.fixture
def existing(district, campaign, cell_secretary):
    """One draft of each kind already in the cell: a bad post must leave them as they are."""
    unit = district.cell
    task = BreakthroughTaskFactory(
        campaign=campaign,
        unit=unit,
        status=ReviewStatus.DRAFT,
        indicator_vi="Số tuyến phố",
        target="12",
    )
    return {
        "sessions": StudySessionFactory(
            campaign=campaign,
            unit=unit,
            status=ReviewStatus.DRAFT,
            notes_vi="Ghi chú cũ",
            notes_en="Old note",
        ),
        "tasks": task,
        "reports": ProgressReportFactory(
            task=task, period_start=date(2024, 1, 1), status=ReviewStatus.DRAFT
        ),
        "incidents": IncidentFactory(campaign=campaign, unit=unit, status=ReviewStatus.DRAFT),
        "initiatives": Initiative.objects.create(
            campaign=campaign, unit=unit, name_vi="Mô hình cũ", started_on=date(2024, 3, 1)
        ),
        "plans": ImplementationPlan.objects.create(
            campaign=campaign,
            unit=unit,
            number="01-KH",
            issued_on=date(2024, 3, 5),
            programme="Chương trình số 01",
        ),
    }


def post_for(client, mode: str, kind: str, existing: dict, unit, data: dict, lang="vi", **kw):
    """Posts `data` as a new item ("new") or as an edit of the existing draft ("edit")."""
    if mode == "edit":
        item = existing[kind]
        data = {**data, "version": item.version}
        return client.post(item_url("edit", unit, item, kind, lang), data, **kw)
    if kind == "reports":
        return client.post(progress_url(unit, existing["tasks"], lang), data, **kw)
    return client.post(new_url(unit, kind, lang), data, **kw)


# --- numbers -----------------------------------------------------------------------------------

BAD_COUNTS = [
    pytest.param(
        {"attendees": "41"},
        "Số người dự (41) không được vượt quá số đảng viên phải tham dự (40).",
        id="attendees-above-expected",
    ),
    pytest.param(
        {"members_expected": "1.250", "attendees": "1.300"},
        "Số người dự (1.300) không được vượt quá số đảng viên phải tham dự (1.250).",
        id="grouped-above-expected",
    ),
    pytest.param({"attendees": "-3"}, VI["at_least_0"], id="negative-attendees"),
    pytest.param({"members_expected": "-3"}, VI["at_least_1"], id="negative-expected"),
    pytest.param({"members_expected": "0", "attendees": "0"}, VI["at_least_1"], id="zero-expected"),
    pytest.param({"attendees": "abc"}, VI["whole_number"], id="letters"),
    pytest.param({"attendees": "1,5"}, VI["whole_number"], id="decimal-comma"),
    pytest.param({"attendees": "1.5"}, VI["whole_number"], id="decimal-point"),
    pytest.param({"attendees": "12.0"}, VI["whole_number"], id="trailing-zero-decimal"),
    pytest.param({"attendees": "1,250"}, VI["whole_number"], id="english-grouping-in-vi"),
    pytest.param({"attendees": "1.25.0"}, VI["whole_number"], id="bad-grouping"),
    pytest.param({"attendees": ""}, VI["required"], id="empty"),
    pytest.param({"members_expected": "9" * 25, "attendees": "1"}, VI["at_most"], id="huge"),
]


@pytest.mark.parametrize("mode", ["new", "edit"])
@pytest.mark.parametrize(("overrides", "message"), BAD_COUNTS)
def test_bad_attendance_numbers_are_refused_in_vietnamese_and_change_nothing(
    secretary, district, existing, settings, mode, overrides, message
):
    before = snapshot()
    response = post_for(
        secretary, mode, "sessions", existing, district.cell, session_data(**overrides)
    )
    assert_refused(response, message)
    assert snapshot() == before
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"attendees": "41"}, "Attendees (41) cannot exceed the members expected (40)."),
        (
            {"members_expected": "1,250", "attendees": "1,300"},
            "Attendees (1,300) cannot exceed the members expected (1,250).",
        ),
        ({"attendees": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"attendees": "abc"}, EN["whole_number"]),
        ({"attendees": "1.5"}, EN["whole_number"]),
    ],
)
def test_bad_attendance_numbers_are_refused_in_english(
    secretary, district, existing, overrides, message
):
    before = snapshot()
    response = secretary.post(new_url(district.cell, "sessions", "en"), session_data(**overrides))
    assert_refused(response, message, lang="en")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lang", "expected", "attendees", "stored"),
    [
        ("vi", "1.250", "1.200", (1250, 1200)),
        ("vi", "1 250", "1\u00a0200", (1250, 1200)),
        ("vi", "1.000.000", "999.999", (1_000_000, 999_999)),
        ("en", "1,250", "1,200", (1250, 1200)),
        ("vi", "40", "0", (40, 0)),
    ],
)
def test_thousands_grouped_the_local_way_are_accepted(
    secretary, district, campaign, lang, expected, attendees, stored
):
    response = secretary.post(
        new_url(district.cell, "sessions", lang),
        session_data(members_expected=expected, attendees=attendees),
    )
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert (session.members_expected, session.attendees) == stored
    assert session.unit == district.cell


def test_the_english_number_hint_gives_an_example_english_pages_accept(
    secretary, district, campaign
):
    response = secretary.post(
        new_url(district.cell, "sessions", "en"), session_data(attendees="abc")
    )
    assert_refused(response, EN["whole_number"], lang="en")
    assert "Enter a whole number, e.g. 1,250." in text_of(response)


# --- dates -------------------------------------------------------------------------------------

BAD_DATES = [
    pytest.param("15/03/2023", VI["year"], id="last-year"),
    pytest.param("31/12/2023", VI["year"], id="new-years-eve-before"),
    pytest.param("02/01/2025", VI["year"], id="next-year"),
    pytest.param("21/05/2024", VI["future"], id="tomorrow"),
    pytest.param("30/11/2024", VI["future"], id="later-this-year"),
    pytest.param("31/02/2024", VI["date_format"], id="no-such-day"),
    pytest.param("15/13/2024", VI["date_format"], id="no-such-month"),
    pytest.param("15/03/24", VI["date_format"], id="two-digit-year"),
    pytest.param("03/15/2024", VI["date_format"], id="month-first"),
    pytest.param("hôm qua", VI["date_format"], id="words"),
    pytest.param("15/03/2024 08:00", VI["date_format"], id="with-time"),
    pytest.param("", VI["required"], id="empty"),
]


@pytest.mark.parametrize("mode", ["new", "edit"])
@pytest.mark.parametrize(("held_on", "message"), BAD_DATES)
def test_bad_session_dates_are_refused(secretary, district, existing, mode, held_on, message):
    before = snapshot()
    response = post_for(
        secretary, mode, "sessions", existing, district.cell, session_data(held_on=held_on)
    )
    assert_refused(response, message)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("tasks", task_data(due_on="01/01/2025"), VI["year"]),
        ("tasks", task_data(due_on="31/12/2023"), VI["year"]),
        ("tasks", task_data(due_on="31/31/2024"), VI["date_format"]),
        ("incidents", incident_data(opened_on="21/05/2024"), VI["future"]),
        ("incidents", incident_data(opened_on="20/12/2023"), VI["year"]),
        ("initiatives", initiative_data(started_on="15/06/2024"), VI["future"]),
        ("initiatives", initiative_data(started_on="01/01/2025"), VI["year"]),
        ("initiatives", initiative_data(started_on="xx/04/2024"), VI["date_format"]),
        ("plans", plan_data(issued_on="15/12/2023"), VI["year"]),
    ],
)
def test_bad_dates_on_the_other_reports_are_refused(
    secretary, district, campaign, kind, data, message
):
    before = snapshot()
    assert_refused(secretary.post(new_url(district.cell, kind), data), message)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        ("15/03/2023", EN["year"]),
        ("21/05/2024", EN["future"]),
        ("03/15/2024", EN["date_format"]),
        ("15.03.2024", EN["date_format"]),  # the dotted form is a Vietnamese habit only
    ],
)
def test_bad_dates_are_explained_in_english(secretary, district, existing, held_on, message):
    before = snapshot()
    response = secretary.post(
        new_url(district.cell, "sessions", "en"), session_data(held_on=held_on)
    )
    assert_refused(response, message, lang="en")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lang", "typed", "stored"),
    [
        ("vi", "15/03/2024", date(2024, 3, 15)),
        ("vi", "5/3/2024", date(2024, 3, 5)),
        ("vi", "01/03/2024", date(2024, 3, 1)),  # the campaign began on 29/02
        ("vi", "20/05/2024", date(2024, 5, 20)),  # today
        ("vi", "15-03-2024", date(2024, 3, 15)),
        ("vi", "15.03.2024", date(2024, 3, 15)),
        ("vi", "2024-03-15", date(2024, 3, 15)),
        ("vi", " 15/03/2024 ", date(2024, 3, 15)),
        ("en", "15/03/2024", date(2024, 3, 15)),
    ],
)
def test_dates_typed_day_first_are_accepted(secretary, district, campaign, lang, typed, stored):
    response = secretary.post(new_url(district.cell, "sessions", lang), session_data(held_on=typed))
    assert response.status_code == 302
    assert StudySession.objects.get().held_on == stored


def test_a_task_may_be_due_later_this_year(secretary, district, campaign):
    response = secretary.post(new_url(district.cell, "tasks"), task_data(due_on="31/12/2024"))
    assert response.status_code == 302
    assert BreakthroughTask.objects.get().due_on == date(2024, 12, 31)


def test_today_is_the_date_in_hanoi_not_in_utc(secretary, district, campaign):
    """At 01:00 on 21/05 in Hanoi it is still 20/05 in UTC: the 21st is today, not the future."""
    with time_machine.travel(datetime(2024, 5, 20, 18, 0, tzinfo=UTC), tick=False):
        late = secretary.post(
            new_url(district.cell, "sessions"), session_data(held_on="22/05/2024")
        )
        assert_refused(late, VI["future"])
        ok = secretary.post(new_url(district.cell, "sessions"), session_data(held_on="21/05/2024"))
        assert ok.status_code == 302
    assert StudySession.objects.get().held_on == date(2024, 5, 21)


@pytest.mark.parametrize(("lang", "shown"), [("vi", "1.250"), ("en", "1,250")])
def test_numbers_shown_on_the_edit_page_are_accepted_back(
    secretary, district, campaign, lang, shown
):
    session = StudySessionFactory(
        campaign=campaign,
        unit=district.cell,
        status=ReviewStatus.DRAFT,
        members_expected=1250,
        attendees=1200,
    )
    page = secretary.get(item_url("edit", district.cell, session, "sessions", lang))
    values = dict(
        re.findall(r'name="(members_expected|attendees)" value="([^"]*)"', page.content.decode())
    )
    assert values["members_expected"] == shown
    response = secretary.post(
        item_url("edit", district.cell, session, "sessions", lang),
        session_data(
            members_expected=values["members_expected"],
            attendees=values["attendees"],
            held_on="15/03/2024",
            version=session.version,
        ),
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.members_expected, session.attendees) == (1250, 1200)
    assert session.version == 2


@pytest.mark.parametrize(
    "tampered", [{"version": "abc"}, {"submission_key": "not-a-uuid"}, {"version": "-1"}]
)
def test_tampered_hidden_fields_change_nothing(secretary, district, existing, tampered):
    session = existing["sessions"]
    before = snapshot()
    response = secretary.post(
        item_url("edit", district.cell, session, "sessions"),
        {**session_data(presenter="Sửa trộm", version=session.version), **tampered},
    )
    assert response.status_code in (400, 409)
    assert snapshot() == before


def test_a_used_form_posted_again_with_other_data_creates_nothing(secretary, district, campaign):
    data = session_data()
    assert secretary.post(new_url(district.cell, "sessions"), data).status_code == 302
    before = snapshot()
    again = secretary.post(
        new_url(district.cell, "sessions"), {**data, "presenter": "Người khác", "attendees": "1"}
    )
    assert again.status_code == 302
    assert snapshot() == before
    assert StudySession.objects.get().presenter == "Đồng chí Nguyễn Thị Hoà"


# --- progress reports --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["new", "edit"])
@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("101", VI["percent"]),
        ("-1", VI["percent"]),
        ("1.000", VI["percent"]),
        ("abc", VI["whole_number"]),
        ("50,5", VI["whole_number"]),
        ("50%", VI["whole_number"]),
        ("", VI["required"]),
    ],
)
def test_bad_progress_percentages_are_refused(
    secretary, district, existing, mode, percent, message
):
    before = snapshot()
    data = report_data(percent=percent)
    if mode == "edit":
        data["period_start"] = "2024-01-01"
    response = post_for(secretary, mode, "reports", existing, district.cell, data)
    assert_refused(response, message)
    assert snapshot() == before


def test_bad_percentage_is_explained_in_english(secretary, district, existing):
    before = snapshot()
    response = secretary.post(
        progress_url(district.cell, existing["tasks"], "en"), report_data(percent="150")
    )
    assert_refused(response, EN["percent"], lang="en")
    assert snapshot() == before


@pytest.mark.parametrize("percent", ["0", "100", "55"])
def test_percentages_from_0_to_100_are_accepted(secretary, district, existing, percent):
    response = secretary.post(
        progress_url(district.cell, existing["tasks"]), report_data(percent=percent)
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(period_start=date(2024, 4, 1))
    assert report.percent == int(percent) and report.unit == district.cell


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        (
            "vi",
            "Nhiệm vụ này đã có báo cáo cho Quý I/2024; hãy mở báo cáo đó để sửa.",
        ),
        ("en", "This task already has a report for Q1 2024; open it to change it."),
    ],
)
def test_a_second_report_for_the_same_period_is_refused(
    secretary, district, existing, lang, message
):
    before = snapshot()
    response = secretary.post(
        progress_url(district.cell, existing["tasks"], lang),
        report_data(period_start="2024-01-01", percent="80", narrative_vi="Lần hai"),
    )
    assert_refused(response, message, lang=lang)
    assert snapshot() == before


def test_editing_a_report_onto_a_taken_period_is_refused(secretary, district, existing):
    second = ProgressReportFactory(
        task=existing["tasks"], period_start=date(2024, 4, 1), status=ReviewStatus.DRAFT
    )
    before = snapshot()
    response = secretary.post(
        item_url("edit", district.cell, second, "reports"),
        report_data(period_start="2024-01-01", version=second.version),
    )
    assert_refused(response, "Nhiệm vụ này đã có báo cáo cho Quý I/2024")
    assert snapshot() == before


def test_the_same_period_on_another_task_is_fine(secretary, district, campaign, existing):
    other = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
    response = secretary.post(
        progress_url(district.cell, other), report_data(period_start="2024-01-01")
    )
    assert response.status_code == 302
    assert ProgressReport.objects.filter(period_start=date(2024, 1, 1)).count() == 2


@pytest.mark.parametrize("period", ["2024-07-01", "2023-10-01", "2024-04-02", "01/04/2024", ""])
def test_a_period_the_campaign_does_not_offer_is_refused(secretary, district, existing, period):
    before = snapshot()
    response = secretary.post(
        progress_url(district.cell, existing["tasks"]), report_data(period_start=period)
    )
    assert_refused(response)
    page = text_of(response)
    assert VI["choice"] in page or VI["required"] in page
    assert snapshot() == before


# --- required Vietnamese titles ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "builder"),
    [
        ("tasks", "title_vi", task_data),
        ("tasks", "indicator_vi", task_data),
        ("incidents", "title_vi", incident_data),
        ("initiatives", "name_vi", initiative_data),
        ("reports", "narrative_vi", report_data),
    ],
)
@pytest.mark.parametrize("blank", ["", " \u00a0\t\n "])
@pytest.mark.parametrize("mode", ["new", "edit"])
def test_an_empty_vietnamese_title_is_refused(
    secretary, district, existing, kind, field, builder, blank, mode
):
    data = builder(**{field: blank, field[:-3] + "_en": "An English title only"})
    if kind == "reports" and mode == "edit":
        data["period_start"] = "2024-01-01"
    before = snapshot()
    response = post_for(secretary, mode, kind, existing, district.cell, data)
    assert_refused(response, VI["required"])
    assert snapshot() == before


def test_an_empty_vietnamese_title_is_explained_in_english(secretary, district, existing):
    before = snapshot()
    response = secretary.post(
        new_url(district.cell, "incidents", "en"), incident_data(title_vi="", title_en="Noise")
    )
    assert_refused(response, EN["required"], lang="en")
    assert snapshot() == before


# --- evidence files ----------------------------------------------------------------------------

WRONG_FILES = [
    pytest.param("bien-ban.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64, id="exe"),
    pytest.param("bien-ban.pdf", b"<html><script>alert(1)</script></html>", id="html"),
    pytest.param("bien-ban.pdf", b"   %PDF-1.4 late header", id="pdf-not-at-start"),
    pytest.param("bien-ban.docx", zip_bytes("hello.txt"), id="plain-zip-as-docx"),
    pytest.param("bang.xlsx", zip_bytes("[Content_Types].xml", "ppt/slide1.xml"), id="pptx"),
    pytest.param("bien-ban.docx", b"PK\x03\x04 not really a zip", id="broken-zip"),
    pytest.param("anh.png", b"GIF89a\x01\x00\x01\x00", id="gif-as-png"),
    pytest.param("bien-ban.pdf", b"\x00", id="one-byte"),
]


def file_post(kind: str, existing, unit, upload, lang="vi"):
    if kind == "sessions":
        return new_url(unit, kind, lang), session_data(minutes=upload)
    if kind == "plans":
        return new_url(unit, kind, lang), plan_data(document=upload)
    return progress_url(unit, existing["tasks"], lang), report_data(evidence=upload)


@pytest.mark.parametrize("kind", ["sessions", "plans", "reports"])
@pytest.mark.parametrize(("name", "content"), WRONG_FILES)
def test_a_file_of_the_wrong_type_under_a_good_name_is_refused(
    secretary, district, campaign, cell_secretary, settings, kind, name, content
):
    # No plan exists yet here (a plan's "new" page redirects when one does).
    task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
    before = snapshot()
    target, data = file_post(
        kind,
        {"tasks": task},
        district.cell,
        SimpleUploadedFile(name, content, content_type="application/pdf"),
    )
    response = secretary.post(target, data)
    assert_refused(response, f"“{name}” {VI['bad_type']}")
    assert "Trình duyệt không giữ tệp đã chọn" in text_of(response)
    assert snapshot() == before
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_a_wrong_file_is_explained_in_english(secretary, district, campaign, settings):
    before = snapshot()
    upload = SimpleUploadedFile("minutes.pdf", b"<html></html>", content_type="application/pdf")
    response = secretary.post(
        new_url(district.cell, "sessions", "en"), session_data(minutes=upload)
    )
    assert_refused(
        response,
        "“minutes.pdf” is not a PDF, DOCX, XLSX, JPG or PNG file (its content was checked, not "
        "its name).",
        lang="en",
    )
    assert snapshot() == before
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize(
    ("name", "content", "suffix"),
    [
        ("Biên bản.pdf", PDF, ".pdf"),
        ("bien-ban.docx", zip_bytes("[Content_Types].xml", "word/document.xml"), ".docx"),
        ("so-lieu.xlsx", zip_bytes("[Content_Types].xml", "xl/workbook.xml"), ".xlsx"),
        ("anh.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, ".jpg"),
        ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, ".png"),
        ("khong-duoi", PDF, ".pdf"),
        ("bien-ban.exe", PDF, ".pdf"),  # stored under what it is, not what it was called
    ],
)
def test_good_files_are_kept_under_an_opaque_name_with_their_real_type(
    secretary, district, campaign, settings, name, content, suffix
):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = secretary.post(new_url(district.cell, "sessions"), session_data(minutes=upload))
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.minutes_name == name
    assert re.fullmatch(
        rf"campaigns/studysession/{district.cell.pk}/[0-9a-f]{{32}}{re.escape(suffix)}",
        session.minutes.name,
    )


def field_errors(response, field: str) -> list[str]:
    """The error lines shown under one field of a form page."""
    page = response.content.decode()
    block = page.split(f'data-field="{field}"', 1)[1].split('data-field="', 1)[0]
    return [html.unescape(e) for e in re.findall(r'invalid-feedback d-block">([^<]*)<', block)]


def post_oversized(client, unit, lang):
    content = PDF + b"0" * (200 - len(PDF))
    upload = SimpleUploadedFile("Biên bản.pdf", content, content_type="application/pdf")
    return client.post(new_url(unit, "sessions", lang), session_data(minutes=upload))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_oversized_file_is_refused_before_anything_is_stored(
    secretary, district, campaign, settings, lang
):
    settings.EVIDENCE_MAX_BYTES = 64
    before = snapshot()
    response = post_oversized(secretary, district.cell, lang)
    assert_refused(response, lang=lang)
    with translation.override(lang):
        limit = filesizeformat(64)
    (error,) = field_errors(response, "minutes")
    assert "“Biên bản.pdf”" in error and limit in error
    assert snapshot() == before
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_the_oversized_file_message_is_vietnamese_on_vietnamese_pages(
    secretary, district, campaign, settings
):
    settings.EVIDENCE_MAX_BYTES = 64
    vi_error = field_errors(post_oversized(secretary, district.cell, "vi"), "minutes")
    en_error = field_errors(post_oversized(secretary, district.cell, "en"), "minutes")
    assert vi_error and en_error
    assert vi_error != en_error
    with translation.override("vi"):
        limit = filesizeformat(64)
    assert vi_error == [f"“Biên bản.pdf” vượt quá dung lượng tối đa {limit}."]


def test_a_file_exactly_at_the_limit_is_accepted(secretary, district, campaign, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF)
    upload = SimpleUploadedFile("bb.pdf", PDF, content_type="application/pdf")
    response = secretary.post(new_url(district.cell, "sessions"), session_data(minutes=upload))
    assert response.status_code == 302
    assert len(stored_files(settings.PRIVATE_MEDIA_ROOT)) == 1


@pytest.mark.parametrize(
    "sent_name",
    [
        "../../evil.pdf",
        "..\\..\\evil.pdf",
        "/etc/cron.d/evil.pdf",
        "C:\\Windows\\evil.pdf",
        "bien-ban/../../../evil.pdf",
        "..%2F..%2Fevil.pdf",
        "&#x2F;..&#x2F;evil.pdf",
    ],
)
def test_a_file_name_with_folders_never_reaches_the_file_system(
    secretary, district, campaign, settings, tmp_path, sent_name
):
    """Django's parser keeps only the last part of a sent name; whatever is left is a display
    name only, and the file itself lands under an opaque name inside PRIVATE_MEDIA_ROOT."""
    body, content_type = raw_multipart(session_data(), "minutes", sent_name, PDF)
    response = secretary.post(new_url(district.cell, "sessions"), body, content_type=content_type)
    root = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert "/" not in session.minutes_name and "\\" not in session.minutes_name
    assert session.minutes_name.endswith("evil.pdf")
    assert re.fullmatch(
        rf"campaigns/studysession/{district.cell.pk}/[0-9a-f]{{32}}\.pdf", session.minutes.name
    )
    stored = (root / session.minutes.name).resolve()
    assert stored.is_relative_to(root) and stored.read_bytes() == PDF
    everything = [p.resolve() for p in tmp_path.parent.rglob("*") if p.is_file()]
    assert not [p for p in everything if "evil" in p.name]
    assert all(p.is_relative_to(root) for p in everything if p.is_relative_to(tmp_path))


def test_a_backslashed_name_through_the_test_client_is_cut_to_its_last_part(
    secretary, district, campaign
):
    upload = SimpleUploadedFile("..\\..\\bien-ban.pdf", PDF, content_type="application/pdf")
    assert (
        secretary.post(new_url(district.cell, "sessions"), session_data(minutes=upload)).status_code
        == 302
    )
    assert StudySession.objects.get().minutes_name == "bien-ban.pdf"


def bound_session_form(district, campaign, **files):
    with translation.override("vi"):
        form = StudySessionForm(
            session_data(), files, campaign=campaign, unit=district.cell, today=TODAY
        )
        form.is_valid()
    return form


@pytest.mark.parametrize(
    "name", ["..\\..\\x.pdf", "a\\b.pdf", "bien\x07ban.pdf", "bien\u202eban.pdf", "x\x00.pdf"]
)
def test_the_form_itself_refuses_names_that_could_be_paths(district, campaign, name):
    upload = SimpleUploadedFile("placeholder.pdf", PDF, content_type="application/pdf")
    upload._name = name  # past Django's own basename, as a name from any other source would be
    form = bound_session_form(district, campaign, minutes=upload)
    assert form.errors["minutes"] == [VI["bad_name"]]


def test_django_drops_the_folders_of_a_slashed_name_before_the_form_sees_it(district, campaign):
    form = bound_session_form(district, campaign, minutes=SimpleUploadedFile("../../x.pdf", PDF))
    assert form.is_valid(), form.errors
    uploaded = form.cleaned_data["minutes"]
    assert uploaded.display_name == "x.pdf" and uploaded.name == "evidence.pdf"


def test_forced_slashed_name_is_refused_by_the_form(district, campaign):
    upload = SimpleUploadedFile("x.pdf", PDF)
    upload._name = "../../x.pdf"
    form = bound_session_form(district, campaign, minutes=upload)
    assert form.errors["minutes"] == [VI["bad_name"]]


def test_a_decomposed_file_name_is_stored_composed(district, campaign):
    nfd = unicodedata.normalize("NFD", "Biên bản hội nghị.pdf")
    form = bound_session_form(district, campaign, minutes=SimpleUploadedFile(nfd, PDF))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["minutes"].display_name == "Biên bản hội nghị.pdf"
    assert unicodedata.is_normalized("NFC", form.cleaned_data["minutes"].display_name)


# --- HTML in text fields -----------------------------------------------------------------------

XSS_FIELDS = {
    "sessions": (session_data, ["presenter", "notes_vi", "notes_en"], {}),
    "plans": (plan_data, ["number", "programme", "summary_vi", "summary_en"], {}),
    "tasks": (
        task_data,
        [
            "title_vi",
            "title_en",
            "description_vi",
            "description_en",
            "goal_vi",
            "goal_en",
            "indicator_vi",
            "indicator_en",
            "target",
            "owner",
        ],
        {},
    ),
    "reports": (report_data, ["narrative_vi", "narrative_en"], {}),
    "initiatives": (
        initiative_data,
        ["name_vi", "name_en", "description_vi", "description_en", "results_vi", "results_en"],
        {},
    ),
    "incidents": (
        incident_data,
        [
            "title_vi",
            "title_en",
            "description_vi",
            "description_en",
            "owner",
            "resolution_vi",
            "resolution_en",
        ],
        {"resolved_on": "10/05/2024"},
    ),
}


def payload(field: str) -> str:
    return f"{XSS}{field}"


@pytest.mark.parametrize("kind", list(XSS_FIELDS))
def test_html_in_every_text_field_is_saved_as_text_and_shown_escaped(
    secretary, district, campaign, kind
):
    builder, fields, extra = XSS_FIELDS[kind]
    task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell, title_vi=f"{XSS}task")
    data = builder(**extra, **{field: payload(field) for field in fields})
    if kind == "reports":
        target = progress_url(district.cell, task)
    else:
        target = new_url(district.cell, kind)
    response = secretary.post(target, data)
    assert response.status_code == 302, text_of(response)

    item = KIND_MODELS[kind].objects.exclude(submission_key=None).get()
    for field in fields:
        assert getattr(item, field) == payload(field)  # kept as typed, not stripped of tags

    for lang in ("vi", "en"):
        page = secretary.get(item_url("detail", district.cell, item, kind, lang))
        assert page.status_code == 200
        content = page.content.decode()
        assert "<script>alert(1)" not in content
        shown = [f for f in fields if f.endswith(f"_{lang}") or f[-3:] not in ("_vi", "_en")]
        for field in shown:
            assert f"{ESCAPED_XSS}{field}" in content, (lang, field)

        unit_page = secretary.get(unit_url(district.cell, lang)).content.decode()
        assert "<script>alert(1)" not in unit_page
    unit_page = secretary.get(unit_url(district.cell)).content.decode()
    headline = {
        "sessions": "presenter",
        "tasks": "title_vi",
        "initiatives": "name_vi",
        "incidents": "title_vi",
        "plans": "number",
    }.get(kind)
    if headline:
        assert f"{ESCAPED_XSS}{headline}" in unit_page


def test_html_in_an_edit_and_its_history_is_escaped(secretary, district, existing):
    session = existing["sessions"]
    response = secretary.post(
        item_url("edit", district.cell, session, "sessions"),
        session_data(presenter=payload("presenter"), version=session.version),
    )
    assert response.status_code == 302
    page = secretary.get(item_url("detail", district.cell, session, "sessions")).content.decode()
    assert "<script>alert(1)" not in page
    assert page.count(f"{ESCAPED_XSS}presenter") >= 2  # the details and the history's change


def test_html_in_a_refused_form_is_echoed_escaped(secretary, district, campaign):
    response = secretary.post(
        new_url(district.cell, "sessions"),
        session_data(presenter=payload("presenter"), notes_vi=payload("notes"), attendees="x"),
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "<script>alert(1)" not in content
    assert f"{ESCAPED_XSS}presenter" in content and f"{ESCAPED_XSS}notes" in content
    assert StudySession.objects.count() == 0


def test_html_on_the_conflict_page_is_escaped(secretary, district, existing):
    session = existing["sessions"]
    edit = item_url("edit", district.cell, session, "sessions")
    first = secretary.post(edit, session_data(presenter=payload("first"), version=1))
    assert first.status_code == 302
    second = secretary.post(edit, session_data(presenter=payload("second"), version=1))
    assert second.status_code == 409
    content = second.content.decode()
    assert "<script>alert(1)" not in content
    assert f"{ESCAPED_XSS}first" in content and f"{ESCAPED_XSS}second" in content


def test_html_in_a_file_name_is_shown_escaped(secretary, district, campaign):
    name = "<img src=x onerror=alert(1)>.pdf"
    upload = SimpleUploadedFile(name, PDF, content_type="application/pdf")
    assert (
        secretary.post(new_url(district.cell, "sessions"), session_data(minutes=upload)).status_code
        == 302
    )
    session = StudySession.objects.get()
    assert session.minutes_name == name
    page = secretary.get(item_url("detail", district.cell, session, "sessions")).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page


def test_html_in_a_review_comment_is_shown_escaped(
    client, district, campaign, cell_secretary, staff
):
    session = StudySessionFactory(
        campaign=campaign, unit=district.cell, status=ReviewStatus.SUBMITTED
    )
    client.force_login(staff)
    response = client.post(
        item_url("review", district.cell, session, "sessions"),
        {"decision": "return", "comment": payload("comment"), "version": session.version},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == ReviewStatus.RETURNED and session.review_comment == payload("comment")
    client.force_login(cell_secretary)
    for page_url in (
        item_url("detail", district.cell, session, "sessions"),
        unit_url(district.cell),
        unit_url(district.cell, "en"),
    ):
        content = client.get(page_url).content.decode()
        assert "<script>alert(1)" not in content
        assert f"{ESCAPED_XSS}comment" in content, page_url


# --- someone else's unit -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sessions", "tasks", "initiatives", "incidents", "plans"])
def test_posting_to_a_unit_outside_ones_scope_is_404(secretary, district, existing, kind):
    builders = {
        "sessions": session_data,
        "tasks": task_data,
        "initiatives": initiative_data,
        "incidents": incident_data,
        "plans": plan_data,
    }
    before = snapshot()
    for unit in (district.sibling_cell, district.sibling_ward, district.root):
        assert secretary.post(new_url(unit, kind), builders[kind]()).status_code == 404
    assert snapshot() == before


def test_the_committee_above_sees_but_cannot_write_for_a_cell(
    client, district, existing, ward_secretary
):
    client.force_login(ward_secretary)
    before = snapshot()
    assert client.post(new_url(district.cell, "sessions"), session_data()).status_code == 403
    assert (
        client.post(progress_url(district.cell, existing["tasks"]), report_data()).status_code
        == 403
    )
    session = existing["sessions"]
    assert (
        client.post(
            item_url("edit", district.cell, session, "sessions"), session_data(version=1)
        ).status_code
        == 403
    )
    assert snapshot() == before


def test_another_units_task_cannot_take_a_progress_report(secretary, district, campaign, existing):
    sibling_task = BreakthroughTaskFactory(campaign=campaign, unit=district.sibling_cell)
    before = snapshot()
    assert (
        secretary.post(progress_url(district.cell, sibling_task), report_data()).status_code == 404
    )
    assert (
        secretary.post(progress_url(district.sibling_cell, sibling_task), report_data()).status_code
        == 404
    )
    assert snapshot() == before


def test_another_units_item_cannot_be_edited_or_submitted_through_ones_own_code(
    secretary, district, campaign, existing
):
    theirs = StudySessionFactory(
        campaign=campaign, unit=district.sibling_cell, status=ReviewStatus.DRAFT
    )
    before = snapshot()
    for action, data in (("edit", session_data(version=1)), ("submit", {"version": 1})):
        assert (
            secretary.post(item_url(action, district.cell, theirs, "sessions"), data).status_code
            == 404
        )
    assert snapshot() == before


def test_unit_and_state_fields_smuggled_into_the_form_are_ignored(
    secretary, district, campaign, cell_secretary, staff
):
    other_campaign = CampaignFactory(code="cd-khac", is_active=False)
    data = session_data(
        unit=district.sibling_cell.pk,
        unit_id=district.sibling_cell.pk,
        campaign=other_campaign.pk,
        status=ReviewStatus.ACCEPTED,
        review_comment="tự duyệt",
        created_by=staff.pk,
        reviewed_by=staff.pk,
        version="99",
    )
    response = secretary.post(new_url(district.cell, "sessions"), data)
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.unit == district.cell and session.campaign == campaign
    assert session.status == ReviewStatus.DRAFT and session.version == 1
    assert session.created_by == cell_secretary and session.reviewed_by is None
    assert session.review_comment == ""


def test_a_progress_report_lands_on_the_urls_task_and_unit(secretary, district, campaign, existing):
    sibling_task = BreakthroughTaskFactory(campaign=campaign, unit=district.sibling_cell)
    response = secretary.post(
        progress_url(district.cell, existing["tasks"]),
        report_data(task=sibling_task.pk, unit=district.sibling_cell.pk),
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get(period_start=date(2024, 4, 1))
    assert report.task == existing["tasks"] and report.unit == district.cell


def test_a_second_plan_goes_to_the_existing_one(secretary, district, existing):
    before = snapshot()
    response = secretary.post(
        new_url(district.cell, "plans"), plan_data(number="99-KH"), follow=True
    )
    assert VI["plan_exists"] in text_of(response)
    assert response.redirect_chain[-1][0] == item_url(
        "detail", district.cell, existing["plans"], "plans"
    )
    assert snapshot() == before


# --- accepted and submitted items --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sessions", "incidents", "reports"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_accepted_item_cannot_be_submitted_or_edited(secretary, district, existing, kind, lang):
    item = existing[kind]
    type(item).objects.filter(pk=item.pk).update(status=ReviewStatus.ACCEPTED)
    item.refresh_from_db()
    before = snapshot()
    message = VI["accepted"] if lang == "vi" else EN["accepted"]

    response = secretary.post(
        item_url("submit", district.cell, item, kind, lang),
        {"version": item.version},
        follow=True,
    )
    assert message in text_of(response)

    response = secretary.get(item_url("edit", district.cell, item, kind, lang), follow=True)
    assert message in text_of(response)
    assert response.redirect_chain[-1][0] == item_url("detail", district.cell, item, kind, lang)

    builder = {"sessions": session_data, "incidents": incident_data, "reports": report_data}[kind]
    data = builder(version=item.version)
    if kind == "reports":
        data["period_start"] = "2024-01-01"
    response = secretary.post(item_url("edit", district.cell, item, kind, lang), data, follow=True)
    assert message in text_of(response)
    assert snapshot() == before


def test_a_submitted_item_waits_and_a_second_submit_says_so(secretary, district, existing):
    session = existing["sessions"]
    response = secretary.post(
        item_url("submit", district.cell, session, "sessions"),
        {"version": session.version},
        follow=True,
    )
    assert "Đã gửi. Văn phòng Quận ủy sẽ duyệt." in text_of(response)
    session.refresh_from_db()
    assert session.status == ReviewStatus.SUBMITTED
    before = snapshot()
    response = secretary.post(
        item_url("submit", district.cell, session, "sessions"),
        {"version": session.version},
        follow=True,
    )
    assert VI["already_submitted"] in text_of(response)
    response = secretary.post(
        item_url("edit", district.cell, session, "sessions"),
        session_data(presenter="Đổi khi đang chờ", version=session.version),
        follow=True,
    )
    assert VI["waiting"] in text_of(response)
    assert snapshot() == before


def test_a_submit_without_a_version_is_refused(secretary, district, existing):
    session = existing["sessions"]
    before = snapshot()
    for data in ({}, {"version": "abc"}):
        response = secretary.post(item_url("submit", district.cell, session, "sessions"), data)
        assert response.status_code == 403
    assert snapshot() == before


# --- incidents: resolving ----------------------------------------------------------------------

RESOLVE_RULES = [
    pytest.param(
        {"opened_on": "10/05/2024", "resolved_on": "09/05/2024", "resolution_vi": "Đã xử lý"},
        VI["before_opened"],
        id="before-opened",
    ),
    pytest.param(
        {"opened_on": "10/05/2024", "resolved_on": "31/12/2023", "resolution_vi": "Đã xử lý"},
        VI["before_opened"],
        id="last-year",
    ),
    pytest.param(
        {"resolved_on": "", "resolution_vi": "Đã xử lý"},
        VI["give_date"],
        id="resolution-without-date",
    ),
    pytest.param(
        {"resolved_on": "12/05/2024", "resolution_vi": ""},
        VI["say_how"],
        id="date-without-resolution",
    ),
    pytest.param(
        {"resolved_on": "12/05/2024", "resolution_vi": "  \n "},
        VI["say_how"],
        id="date-with-blank-resolution",
    ),
    pytest.param(
        {"resolved_on": "12/05/2024", "resolution_vi": "", "resolution_en": "Settled"},
        VI["say_how"],
        id="only-english-resolution",
    ),
    pytest.param(
        {"resolved_on": "21/05/2024", "resolution_vi": "Đã xử lý"},
        VI["future"],
        id="resolved-tomorrow",
    ),
    pytest.param(
        {"resolved_on": "05/01/2025", "resolution_vi": "Đã xử lý"},
        VI["future"],
        id="resolved-next-year",
    ),
    pytest.param(
        {"resolved_on": "hôm nay", "resolution_vi": "Đã xử lý"},
        VI["date_format"],
        id="garbage-date",
    ),
]


@pytest.mark.parametrize("mode", ["new", "edit"])
@pytest.mark.parametrize(("overrides", "message"), RESOLVE_RULES)
def test_incident_resolution_rules(secretary, district, existing, mode, overrides, message):
    before = snapshot()
    response = post_for(
        secretary, mode, "incidents", existing, district.cell, incident_data(**overrides)
    )
    assert_refused(response, message)
    assert snapshot() == before


def test_a_garbage_resolution_date_gives_one_message_not_two(secretary, district, existing):
    response = secretary.post(
        new_url(district.cell, "incidents"),
        incident_data(resolved_on="hôm nay", resolution_vi="Đã xử lý"),
    )
    page = text_of(response)
    assert VI["date_format"] in page and VI["give_date"] not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"opened_on": "10/05/2024", "resolved_on": "09/05/2024", "resolution_vi": "x"},
            EN["before_opened"],
        ),
        ({"resolved_on": "", "resolution_vi": "Done"}, EN["give_date"]),
        ({"resolved_on": "12/05/2024", "resolution_vi": ""}, EN["say_how"]),
    ],
)
def test_incident_resolution_rules_in_english(secretary, district, existing, overrides, message):
    before = snapshot()
    response = secretary.post(new_url(district.cell, "incidents", "en"), incident_data(**overrides))
    assert_refused(response, message, lang="en")
    assert snapshot() == before


@pytest.mark.parametrize("resolved_on", ["02/05/2024", "20/05/2024"])
def test_an_incident_resolved_between_opening_and_today_is_accepted(
    secretary, district, campaign, resolved_on
):
    response = secretary.post(
        new_url(district.cell, "incidents"),
        incident_data(resolved_on=resolved_on, resolution_vi="Đã giải tỏa"),
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.resolved_on is not None and incident.resolution == "Đã giải tỏa"


# --- Unicode normalisation ---------------------------------------------------------------------


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_decomposed_session_text_is_stored_composed(secretary, district, campaign):
    name = "Nguyễn Thị Hoà"
    assert nfd(name) != name
    upload = SimpleUploadedFile(nfd("Biên bản hội nghị.pdf"), PDF, content_type="application/pdf")
    response = secretary.post(
        new_url(district.cell, "sessions"),
        session_data(
            presenter=nfd(f"  Đồng chí {name}  "),
            notes_vi=nfd("Học bù cho đồng chí vắng mặt"),
            notes_en=nfd("Make-up for Hoà"),
            minutes=upload,
        ),
    )
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.presenter == f"Đồng chí {name}"
    assert session.notes_vi == "Học bù cho đồng chí vắng mặt"
    assert session.notes_en == "Make-up for Hoà"
    assert session.minutes_name == "Biên bản hội nghị.pdf"
    page = secretary.get(unit_url(district.cell)).content.decode()
    assert f"Đồng chí {name}" in page


@pytest.mark.parametrize(
    ("kind", "builder", "fields"),
    [
        (
            "tasks",
            task_data,
            ["title_vi", "description_vi", "goal_vi", "indicator_vi", "target", "owner"],
        ),
        ("incidents", incident_data, ["title_vi", "description_vi", "owner"]),
        ("initiatives", initiative_data, ["name_vi", "description_vi", "results_vi"]),
        ("plans", plan_data, ["number", "programme", "summary_vi"]),
    ],
)
def test_decomposed_text_is_stored_composed_on_every_report(
    secretary, district, campaign, kind, builder, fields
):
    text = "Đường Xã Đàn – phường Nam Đồng, Hoà"
    response = secretary.post(
        new_url(district.cell, kind), builder(**{f: nfd(f"{text} {f}") for f in fields})
    )
    assert response.status_code == 302
    item = KIND_MODELS[kind].objects.get()
    for field in fields:
        assert getattr(item, field) == f"{text} {field}"


def test_a_decomposed_edit_is_stored_composed(secretary, district, existing):
    report = existing["reports"]
    response = secretary.post(
        item_url("edit", district.cell, report, "reports"),
        report_data(
            period_start="2024-01-01",
            narrative_vi=nfd("Đã hoàn thành khảo sát hè phố"),
            version=report.version,
        ),
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.narrative_vi == "Đã hoàn thành khảo sát hè phố"


def test_a_null_character_is_refused_in_vietnamese(secretary, district, campaign):
    response = secretary.post(
        new_url(district.cell, "sessions"), session_data(presenter="Nguyễn\x00Văn An")
    )
    assert response.status_code == 400
    assert StudySession.objects.count() == 0
    assert "Null characters are not allowed." not in text_of(response)
    assert "Không được chứa ký tự rỗng (NUL)." in text_of(response)


# --- Hypothesis: the forms themselves ----------------------------------------------------------

HYPOTHESIS = hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
INT_LIMIT = max(
    v.limit_value
    for v in StudySession._meta.get_field("members_expected").validators
    if isinstance(v, MaxValueValidator)
)
counts = st.one_of(
    st.integers(min_value=-5, max_value=60),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=INT_LIMIT - 2, max_value=INT_LIMIT + 2),
    st.integers(min_value=-(10**25), max_value=10**25),
)


def vi_grouped(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def form_data(builder, **overrides) -> dict:
    data = builder(**overrides)
    data.pop("submission_key")
    return data


@pytest.fixture
def cell(district):
    return district.cell


@pytest.fixture
def free_task(district, campaign):
    return BreakthroughTaskFactory(campaign=campaign, unit=district.cell)


@HYPOTHESIS
@given(expected=counts, attendees=counts, grouped=st.booleans())
def test_session_counts_are_valid_exactly_when_they_make_sense(
    cell, campaign, expected, attendees, grouped
):
    show = vi_grouped if grouped else str
    with translation.override("vi"):
        form = StudySessionForm(
            form_data(session_data, members_expected=show(expected), attendees=show(attendees)),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        valid = form.is_valid()
        limit = min(INT_LIMIT, cell.member_count)
        assert valid == (1 <= expected <= limit and 0 <= attendees <= expected), form.errors
    if valid:
        assert form.cleaned_data["members_expected"] == expected
        assert form.cleaned_data["attendees"] == attendees


@HYPOTHESIS
@given(number=st.integers(min_value=0, max_value=10**15))
def test_grouped_thousands_parse_to_the_same_number(cell, campaign, number):
    with translation.override("vi"):
        field = StudySessionForm(campaign=campaign, unit=cell, today=TODAY).fields["attendees"]
        assert field.clean(vi_grouped(number)) == number
        assert field.clean(str(number)) == number
        assert field.clean(f" {vi_grouped(number)} ") == number
    with translation.override("en"):
        assert field.clean(f"{number:,}") == number


@HYPOTHESIS
@given(percent=st.one_of(st.integers(-300, 300), st.integers(-(10**20), 10**20)))
def test_a_percentage_is_valid_exactly_from_0_to_100(cell, campaign, free_task, percent):
    with translation.override("vi"):
        form = ProgressReportForm(
            form_data(report_data, percent=str(percent)),
            campaign=campaign,
            unit=cell,
            task=free_task,
            today=TODAY,
        )
        valid = form.is_valid()
        assert valid == (0 <= percent <= 100), form.errors
        if not valid:
            assert form.errors["percent"] == [VI["percent"]]


dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 12, 31))
date_styles = st.sampled_from(
    [
        "{d:02d}/{m:02d}/{y}",
        "{d}/{m}/{y}",
        "{d:02d}-{m:02d}-{y}",
        "{d:02d}.{m:02d}.{y}",
        "{y}-{m:02d}-{d:02d}",
    ]
)


def typed(day: date, style: str) -> str:
    return style.format(d=day.day, m=day.month, y=day.year)


@HYPOTHESIS
@given(day=dates, style=date_styles)
def test_a_past_date_is_valid_exactly_within_the_year_up_to_today(cell, campaign, day, style):
    # A session counts from the campaign's first day; an incident may predate it.
    ok = campaign.starts_on <= day <= TODAY
    incident_ok = date(2024, 1, 1) <= day <= TODAY
    with translation.override("vi"):
        session = StudySessionForm(
            form_data(session_data, held_on=typed(day, style)),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        incident = IncidentForm(
            form_data(incident_data, opened_on=typed(day, style)),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        assert session.is_valid() == ok, session.errors
        assert incident.is_valid() == incident_ok, incident.errors
        if incident_ok:
            assert incident.cleaned_data["opened_on"] == day
        else:
            expected = VI["year"] if day.year != 2024 else VI["future"]
            assert incident.errors["opened_on"] == [expected]
        if ok:
            assert session.cleaned_data["held_on"] == day
        elif incident_ok:
            assert session.errors["held_on"] == [
                "Chuyên đề bắt đầu từ ngày 29/02/2024; ngày trước đó không được tính."
            ]


@HYPOTHESIS
@given(day=dates)
def test_a_due_date_is_valid_exactly_within_the_year(cell, campaign, day):
    with translation.override("vi"):
        form = BreakthroughTaskForm(
            form_data(task_data, due_on=typed(day, "{d:02d}/{m:02d}/{y}")),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        assert form.is_valid() == (day.year == 2024), form.errors


@HYPOTHESIS
@given(opened=dates, resolved=dates, resolution=st.sampled_from(["", "Đã xử lý"]))
def test_incident_resolution_is_valid_exactly_when_it_is_consistent(
    cell, campaign, opened, resolved, resolution
):
    with translation.override("vi"):
        form = IncidentForm(
            form_data(
                incident_data,
                opened_on=typed(opened, "{d:02d}/{m:02d}/{y}"),
                resolved_on=typed(resolved, "{d:02d}/{m:02d}/{y}"),
                resolution_vi=resolution,
            ),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        valid = form.is_valid()
        opened_ok = date(2024, 1, 1) <= opened <= TODAY
        consistent = opened_ok and opened <= resolved <= TODAY and bool(resolution)
        assert valid == consistent, form.errors


def expected_text(text: str, max_length: int | None, required: bool):
    """What a text field keeps, or None when the form must refuse it."""
    stripped = text.strip()
    kept = unicodedata.normalize("NFC", stripped)
    # Control characters (bar line ends and the tab) and bidi controls are refused with a
    # message (dongda.text); NUL among them.
    refused = any(
        (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r") or ch in BIDI_CONTROLS
        for ch in stripped
    )
    if refused or (required and not stripped):
        return None
    if max_length is not None and max(len(stripped), len(kept)) > max_length:
        return None
    return kept


# Vietnamese as a decomposing keyboard sends it (base letters, then combining marks), mixed
# with whatever else Unicode holds.
VIETNAMESE_NFD = (
    unicodedata.normalize(
        "NFD",
        "aăâeêioôơuưyđAĂÂEÊIOÔƠUƯYĐàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ",
    )
    + " \t\n\u00a0.,-<>&\"'"
)
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=VIETNAMESE_NFD, max_size=300),
)


@HYPOTHESIS
@given(presenter=texts, notes=texts)
def test_session_text_round_trips_normalised_and_stripped(cell, campaign, presenter, notes):
    with translation.override("vi"):
        form = StudySessionForm(
            form_data(session_data, presenter=presenter, notes_vi=notes),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        valid = form.is_valid()
    want_presenter = expected_text(presenter, 255, required=True)
    want_notes = expected_text(notes, None, required=False)
    assert valid == (want_presenter is not None and want_notes is not None), form.errors
    if valid:
        item = form.save(commit=False)
        assert item.presenter == want_presenter and item.notes_vi == want_notes
        assert unicodedata.is_normalized("NFC", item.presenter)
        assert item.presenter == item.presenter.strip()


@HYPOTHESIS
@given(title=texts, description=texts, owner=texts)
def test_incident_text_round_trips_normalised_and_stripped(
    cell, campaign, title, description, owner
):
    with translation.override("vi"):
        form = IncidentForm(
            form_data(incident_data, title_vi=title, description_vi=description, owner=owner),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        valid = form.is_valid()
    wants = [
        expected_text(title, 255, True),
        expected_text(description, None, False),
        expected_text(owner, 255, True),
    ]
    assert valid == all(w is not None for w in wants), form.errors
    if valid:
        item = form.save(commit=False)
        assert [item.title_vi, item.description_vi, item.owner] == wants


@HYPOTHESIS
@given(title=texts, indicator=texts, target=texts)
def test_task_text_round_trips_normalised_and_stripped(cell, campaign, title, indicator, target):
    with translation.override("vi"):
        form = BreakthroughTaskForm(
            form_data(task_data, title_vi=title, indicator_vi=indicator, target=target),
            campaign=campaign,
            unit=cell,
            today=TODAY,
        )
        valid = form.is_valid()
    wants = [
        expected_text(title, 255, True),
        expected_text(indicator, 255, True),
        expected_text(target, 120, True),
    ]
    assert valid == all(w is not None for w in wants), form.errors
    if valid:
        item = form.save(commit=False)
        assert [item.title_vi, item.indicator_vi, item.target] == wants


FORMS = {
    "sessions": (StudySessionForm, session_data),
    "tasks": (BreakthroughTaskForm, task_data),
    "reports": (ProgressReportForm, report_data),
    "incidents": (IncidentForm, incident_data),
}


@HYPOTHESIS
@given(
    kind=st.sampled_from(list(FORMS)),
    junk=st.dictionaries(
        st.sampled_from(
            [
                "held_on",
                "members_expected",
                "attendees",
                "kind",
                "format",
                "due_on",
                "field",
                "period_start",
                "percent",
                "opened_on",
                "resolved_on",
                "severity",
                "presenter",
                "title_vi",
                "narrative_vi",
                "resolution_vi",
                "version",
                "submission_key",
            ]
        ),
        st.text(max_size=40),
        max_size=8,
    ),
)
def test_any_text_in_any_field_never_crashes_a_form(cell, campaign, free_task, kind, junk):
    form_class, builder = FORMS[kind]
    data = {**form_data(builder), **junk}
    extra = {"task": free_task} if kind == "reports" else {}
    with translation.override("vi"):
        form = form_class(data, campaign=campaign, unit=cell, today=TODAY, **extra)
        if form.is_valid():
            for value in form.cleaned_data.values():
                if isinstance(value, str):
                    assert unicodedata.is_normalized("NFC", value)
                    assert value == value.strip()
        else:
            assert form.errors


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        (
            "vi",
            "Đơn vị có 40 đảng viên theo hồ sơ; số đảng viên phải tham dự không được lớn hơn. "
            "Nếu đơn vị đã có thêm đảng viên, đề nghị văn phòng Quận ủy sửa số đảng viên.",
        ),
        (
            "en",
            "The unit has 40 members on record; members expected cannot be more. If the unit "
            "has grown, ask the district office to correct its member count.",
        ),
    ],
)
def test_members_expected_above_the_units_member_count_is_refused_naming_it(
    secretary, district, existing, lang, message
):
    Unit.objects.filter(pk=district.cell.pk).update(member_count=40)
    before = snapshot()
    response = secretary.post(
        new_url(district.cell, "sessions", lang),
        session_data(members_expected="1.200" if lang == "vi" else "1,200", attendees="30"),
    )
    assert_refused(response, message, lang=lang)
    assert snapshot() == before


def test_a_session_before_the_campaign_began_is_refused(secretary, district, existing):
    before = snapshot()
    response = secretary.post(
        new_url(district.cell, "sessions"), session_data(held_on="28/02/2024")
    )
    assert_refused(response, "Chuyên đề bắt đầu từ ngày 29/02/2024; ngày trước đó không được tính.")
    assert snapshot() == before
