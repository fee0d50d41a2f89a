"""The official report pages through the views: staff draft the district's report as of a day,
rewrite a paragraph, issue it (frozen: the same bytes whatever arrives later), replace it; a ward
secretary drafts and issues the ward's and never reaches the district's; the Standing Committee
reads and writes nothing; what people type is checked and stays text."""

import hashlib
import html
import io
import unicodedata
from datetime import date

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from docx import Document

from campaigns.engine.status import refresh_unit_status
from campaigns.models import OfficialReport
from campaigns.official import services
from campaigns.official.build import build_document
from tests.factories import StudySessionFactory, UserFactory, assign, moment
from units.models import Role

pytestmark = pytest.mark.django_db

State = OfficialReport.State
TODAY = date(2024, 5, 20)
MARKUP = 'Ý kiến <script>alert(1)</script> và { DATE \\@ "dd/MM/yyyy" } giữ nguyên <b>đậm</b>.'


@pytest.fixture(autouse=True)
def in_2024():
    """The campaign under way: today is 20/05/2024, 10:00 in Hanoi."""
    with time_machine.travel(moment(TODAY, 10), tick=False):
        yield


@pytest.fixture
def sessions(district, campaign):
    """The cell studied (accepted 15/03); the ward too, on 02/04."""
    StudySessionFactory(campaign=campaign, unit=district.cell)
    StudySessionFactory(campaign=campaign, unit=district.ward, held_on=date(2024, 4, 2))
    refresh_unit_status(campaign)


def url(name: str, report=None, **kwargs) -> str:
    if report is not None:
        kwargs["pk"] = report.pk
    return reverse(f"official:{name}", kwargs=kwargs)


def file_url(report, extension: str) -> str:
    return url("file", report, extension=extension)


def draft(user, committee, campaign, day=date(2024, 4, 5), language="vi", **fields):
    report = services.start_draft(
        user=user, campaign=campaign, committee=committee, as_of=day, language=language
    )
    if fields:
        OfficialReport.objects.filter(pk=report.pk).update(**fields)
        report.refresh_from_db()
    return report


def issued(user, committee, campaign, **kwargs):
    report = draft(user, committee, campaign, **kwargs)
    return services.issue(report_id=report.pk, user=user, expected_version=report.version)


def form_data(client, report) -> dict:
    """What the draft's form sends back untouched, read from the page's form."""
    response = client.get(url("detail", report))
    assert response.status_code == 200
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if name.startswith("reset_"):
            continue
        if isinstance(value, date):
            value = value.strftime("%d/%m/%Y")
        data[name] = "" if value is None else value
    return data


def vietnamese(message: str) -> str:
    """What the Vietnamese pages say for `message` (the msgid itself until it is translated)."""
    with translation.override("vi"):
        return gettext(message)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Drafting -------------------------------------------------------------------------------------


def test_staff_start_the_districts_draft_as_of_a_day(client, district, campaign, staff):
    client.force_login(staff)
    page = client.get(url("new"))
    assert page.status_code == 200
    form = page.context["form"]
    assert form["committee"].value() == district.root.pk  # the highest first
    assert form["as_of"].value() == TODAY
    assert form["language"].value() == "vi"
    assert [c.code for c in form.fields["committee"].queryset] == [
        "dongda",
        "p-kim-lien",
        "p-van-mieu",
    ]

    response = client.post(
        url("new"), {"committee": district.root.pk, "as_of": "05/04/2024", "language": "vi"}
    )
    report = OfficialReport.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", report)
    assert (report.unit, report.campaign, report.as_of) == (
        district.root,
        campaign,
        date(2024, 4, 5),
    )
    assert report.state == State.DRAFT and report.created_by == staff
    assert report.number_suffix == "BC/QU"

    page = client.get(url("detail", report))
    assert page.status_code == 200
    assert page.templates[0].name == "campaigns/official/draft.html"
    body = page.content.decode()
    assert 'data-testid="figures-panel"' in body
    assert body.count('data-testid="app-note"') == len(build_document(report).document.paragraphs())


def test_the_default_day_is_the_campaigns_last_once_it_has_ended(client, district, campaign, staff):
    with time_machine.travel(moment(date(2025, 2, 3)), tick=False):
        client.force_login(staff)
        form = client.get(url("new")).context["form"]
    assert form["as_of"].value() == date(2024, 12, 31)


def test_a_rewritten_paragraph_is_kept_and_an_untouched_one_follows_the_figures(
    client, district, campaign, staff, sessions
):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    defaults = {p.key: p.text for p in build_document(report).document.paragraphs().values()}
    assert data["paragraph_plans"] == defaults["plans"]
    data["paragraph_study"] = "Toàn Đảng bộ đã học tập nghiêm túc."
    data["number"] = "15"
    response = client.post(url("detail", report), data)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.edits == {"study": "Toàn Đảng bộ đã học tập nghiêm túc."}
    assert report.number == "15" and report.version == 2

    # The page says which paragraph is a person's; moving the day changes the app's text only.
    data = form_data(client, report)
    data["as_of"] = data["dated"] = "20/05/2024"
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.as_of == TODAY and list(report.edits) == ["study"]
    page = client.get(url("detail", report)).content.decode()
    assert page.count('data-testid="edited-note"') == 1
    assert 'data-paragraph="study" data-edited="true"' in page

    # Typing the app's own text back, or ticking "go back", makes it follow the figures again.
    data = form_data(client, report)
    data["reset_study"] = "on"
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.edits == {}


def test_an_emptied_paragraph_is_left_out(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["paragraph_propaganda"] = "   "
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.edits == {"propaganda": ""}
    document = build_document(report).document
    assert document.paragraphs()["propaganda"].text == ""


def test_typed_markup_and_field_codes_stay_text_on_the_page_and_in_the_files(
    client, district, campaign, staff
):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["paragraph_study"] = MARKUP
    data["title"] = "Kết quả <i>học tập</i>"
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.edits["study"] == MARKUP

    body = client.get(url("detail", report)).content.decode()
    assert "<script>alert(1)" not in body and "<b>đậm" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    preview = client.get(url("preview", report)).content.decode()
    assert "<script>alert(1)" not in preview and "&lt;script&gt;alert(1)" in preview

    text = docx_text(b"".join(client.get(file_url(report, "docx")).streaming_content))
    assert MARKUP in text
    assert "Kết quả <i>học tập</i>" in text

    issued_report = services.issue(report_id=report.pk, user=staff, expected_version=report.version)
    body = client.get(url("detail", issued_report)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert MARKUP in docx_text(bytes(issued_report.docx))


def test_a_stale_version_is_a_conflict_that_loses_nothing(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    colleague = assign(UserFactory(username="vanphong-2"), district.root, Role.DISTRICT_STAFF)
    client.force_login(staff)
    mine = form_data(client, report)  # opened at version 1

    other = type(client)()
    other.force_login(colleague)
    theirs = form_data(other, report)
    theirs["paragraph_study"] = "Văn bản của đồng chí khác."
    theirs["number"] = "20"
    assert other.post(url("detail", report), theirs).status_code == 302

    mine["paragraph_study"] = "Văn bản của tôi <em>không mất</em>."
    mine["place"] = "Đống Đa"
    response = client.post(url("detail", report), mine)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="edit-conflict"' in body
    assert "Văn bản của tôi &lt;em&gt;không mất&lt;/em&gt;." in body  # mine, still in the form
    assert "Văn bản của đồng chí khác." in body  # theirs, shown beside
    report.refresh_from_db()
    assert report.edits == {"study": "Văn bản của đồng chí khác."}
    assert report.number == "20" and report.place != "Đống Đa"
    form = response.context["form"]
    assert form["version"].value() == str(report.version)

    # Saving again, knowingly, from the conflict's form.
    again = {name: form[name].value() for name in form.fields if not name.startswith("reset_")}
    again = {k: ("" if v is None else v) for k, v in again.items()}
    assert client.post(url("detail", report), again).status_code == 302
    report.refresh_from_db()
    assert report.edits == {"study": "Văn bản của tôi <em>không mất</em>."}
    assert report.place == "Đống Đa"


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("as_of", "28/02/2024", "29/02/2024"),
        ("as_of", "21/05/2024", "A report cannot be as of a day in the future."),
        ("as_of", "05-04", "invalid"),
        ("dated", "04/04/2024", "dated_before_as_of"),
        ("dated", "05/04/2026", "dated_too_late"),
        ("number", "15/QU", "number"),
        ("number", "1" * 21, "max_length"),
        ("paragraph_study", "x" * 5001, "max_length"),
        ("paragraph_study", "Chuông\x07 reo", "U+0007"),
        ("place", "Hà\nNội", "U+000A"),
        ("title", "Báo cáo \u202eđảo chiều", "U+202E"),
        ("superior_body", "", "required"),
        ("number_suffix", "BC\x00QU", "U+0000"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    client, district, campaign, staff, field, value, message
):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data[field] = value
    response = client.post(url("detail", report), data)
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data().get(field, [])
    said = " ".join(str(m) for error in errors for m in error.messages)
    codes = [error.code for error in errors]
    assert vietnamese(message) in said or message in codes, said
    report.refresh_from_db()
    assert report.version == 1


def test_errors_speak_the_pages_language(client, district, campaign, staff):
    """The Vietnamese page's message is the catalogue's, not the English msgid (when the
    catalogue has it yet: translations come after the code)."""
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["as_of"] = "05/04"
    response = client.post(url("detail", report), data)
    assert response.status_code == 400
    assert "dd/mm/yyyy" in response.context["form"].errors["as_of"][0]
    english = client.post(url("detail", report).replace("/vi/", "/en/", 1), data)
    assert english.context["form"].errors["as_of"] == [
        "Enter a date as dd/mm/yyyy, e.g. 15/03/2024."
    ]


def test_text_is_stored_nfc_with_plain_line_ends(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    decomposed = unicodedata.normalize("NFD", "Đồng chí Hoà đã học\r\nĐoạn hai\tcó tab")
    data["paragraph_study"] = decomposed
    data["recipients"] = "- Thành ủy Hà Nội,\r\n- Lưu VPQU."
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.edits["study"] == "Đồng chí Hoà đã học\nĐoạn hai\tcó tab"
    assert unicodedata.is_normalized("NFC", report.edits["study"])
    assert report.recipients == "- Thành ủy Hà Nội,\n- Lưu VPQU."


def test_the_signer_must_hold_a_role_on_the_committee(
    client, district, campaign, staff, standing, ward_secretary
):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["signer"] = ward_secretary.pk
    response = client.post(url("detail", report), data)
    assert response.status_code == 400
    assert response.context["form"].errors["signer"] == [
        vietnamese(
            "Choose someone who signs for this committee: its secretary, or for the district "
            "a member of the Standing Committee."
        )
    ]
    data["signer"] = staff.pk  # office staff draft; they do not sign
    assert client.post(url("detail", report), data).status_code == 400
    data["signer"] = standing.pk
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    assert report.signer == standing


def test_the_new_form_refuses_a_day_outside_the_campaign(client, district, campaign, staff):
    client.force_login(staff)
    for day in ("28/02/2024", "21/05/2024", "31/02/2024"):
        response = client.post(
            url("new"), {"committee": district.root.pk, "as_of": day, "language": "vi"}
        )
        assert response.status_code == 400, day
        assert "as_of" in response.context["form"].errors
    assert not OfficialReport.objects.exists()


def test_a_number_another_issued_report_has_is_refused(client, district, campaign, staff):
    issued(staff, district.root, campaign, number="15")
    second = draft(staff, district.root, campaign, day=date(2024, 5, 10))
    client.force_login(staff)
    data = form_data(client, second)
    data["number"] = "15"
    response = client.post(url("detail", second), data)
    assert response.status_code == 400
    assert "15-BC/QU" in response.context["form"].errors["number"][0]

    # Two drafts may share a number; the second to be issued is refused and stays a draft.
    OfficialReport.objects.filter(pk=second.pk).update(number="15")
    response = client.post(url("issue", second), {"version": second.version}, follow=True)
    assert any("15-BC/QU" in m for m in messages_of(response))
    second.refresh_from_db()
    assert second.state == State.DRAFT and second.docx is None

    # The same number in another committee is another number.
    other = draft(staff, district.ward, campaign)
    data = form_data(client, other)
    data["number"] = "15"
    assert client.post(url("detail", other), data).status_code == 302


# --- Issuing --------------------------------------------------------------------------------------


def test_issuing_freezes_the_report_and_later_reports_do_not_change_its_files(
    client, district, campaign, staff, sessions
):
    report = draft(staff, district.root, campaign, day=TODAY, number="15")
    client.force_login(staff)
    confirm = client.get(url("issue", report))
    assert confirm.status_code == 200
    assert confirm.templates[0].name == "campaigns/official/confirm_issue.html"
    assert OfficialReport.objects.get().state == State.DRAFT  # looking changes nothing

    response = client.post(url("issue", report), {"version": report.version})
    assert response.status_code == 302 and response["Location"] == url("detail", report)
    report.refresh_from_db()
    assert report.state == State.ISSUED and report.issued_by == staff
    assert report.issued_at is not None
    assert report.snapshot["document"]["as_of"] == "2024-05-20"
    assert bytes(report.docx)[:2] == b"PK" and bytes(report.pdf)[:5] == b"%PDF-"
    docx_before = b"".join(client.get(file_url(report, "docx")).streaming_content)
    pdf_before = b"".join(client.get(file_url(report, "pdf")).streaming_content)
    assert docx_before == bytes(report.docx) and pdf_before == bytes(report.pdf)
    study_then = report.snapshot["figures"]["done"]

    # Later the same day the sibling ward's cell sends its session and staff accept it: the
    # figures as of 20/05 move, the issued report does not.
    StudySessionFactory(
        campaign=campaign, unit=district.sibling_cell, at=moment(TODAY, 15), held_on=TODAY
    )
    refresh_unit_status(campaign)
    live = build_document(draft(staff, district.root, campaign, day=TODAY))
    assert live.figures["done"] > study_then
    frozen_study = next(
        p["text"]
        for section in report.snapshot["document"]["sections"]
        for p in section["paragraphs"]
        if p["key"] == "study"
    )
    assert live.document.paragraphs()["study"].text != frozen_study
    preview = client.get(url("preview", report)).content.decode()
    assert html.escape(frozen_study, quote=False) in preview
    docx_after = b"".join(client.get(file_url(report, "docx")).streaming_content)
    pdf_after = b"".join(client.get(file_url(report, "pdf")).streaming_content)
    assert sha256(docx_after) == sha256(docx_before)
    assert sha256(pdf_after) == sha256(pdf_before)
    page = client.get(url("detail", report))
    assert page.templates[0].name == "campaigns/official/issued.html"
    shown = page.context["figures"]
    assert [f.display for f in shown] == [
        f["display"] for f in report.snapshot["document"]["figures"]
    ]


def test_issuing_twice_issues_once(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    client.post(url("issue", report), {"version": report.version})
    report.refresh_from_db()
    first = (report.issued_at, report.version, sha256(bytes(report.pdf)))
    response = client.post(url("issue", report), {"version": 1}, follow=True)
    assert messages_of(response)[-1] == vietnamese("This report has already been issued.")
    report.refresh_from_db()
    assert (report.issued_at, report.version, sha256(bytes(report.pdf))) == first
    assert OfficialReport.objects.count() == 1
    # Saving an issued report is refused too, and changes nothing.
    response = client.post(url("detail", report), {"version": report.version, "number": "99"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.number == ""


def test_issuing_a_draft_saved_since_is_refused(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["number"] = "7"
    client.post(url("detail", report), data)  # version 2 now
    response = client.post(url("issue", report), {"version": 1}, follow=True)
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.state == State.DRAFT
    assert messages_of(response)


def test_save_and_issue_goes_to_the_confirmation(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    data = form_data(client, report)
    data["then_issue"] = "1"
    response = client.post(url("detail", report), data)
    assert response.status_code == 302 and response["Location"] == url("issue", report)
    report.refresh_from_db()
    assert report.state == State.DRAFT


# --- Files ----------------------------------------------------------------------------------------


def test_file_names_and_the_preview(client, district, campaign, staff, staff_en):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    response = client.get(file_url(report, "docx"))
    assert response["Content-Disposition"].startswith("attachment")
    assert 'filename="bao-cao-dongda-2024-04-05-du-thao.docx"' in response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.get(file_url(report, "pdf"))
    assert 'filename="bao-cao-dongda-2024-04-05-du-thao.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"

    preview = client.get(url("preview", report))
    assert preview.status_code == 200 and preview["Content-Type"].startswith("text/html")
    assert "'unsafe-inline'" in preview["Content-Security-Policy"]
    assert "script-src" not in preview["Content-Security-Policy"]
    assert "file://" not in preview.content.decode()

    services.issue(report_id=report.pk, user=staff, expected_version=report.version)
    response = client.get(file_url(report, "docx"))
    assert 'filename="bao-cao-dongda-2024-04-05.docx"' in response["Content-Disposition"]

    english = draft(staff_en, district.ward, campaign, language="en")
    client.force_login(staff_en)
    response = client.get(file_url(english, "pdf").replace("/vi/", "/en/", 1))
    assert 'filename="report-p-kim-lien-2024-04-05-draft.pdf"' in response["Content-Disposition"]


def test_an_english_report_has_english_headings(client, district, campaign, staff_en):
    client.force_login(staff_en)
    response = client.post(
        url("new").replace("/vi/", "/en/", 1),
        {"committee": district.root.pk, "as_of": "05/04/2024", "language": "en"},
    )
    report = OfficialReport.objects.get()
    assert response.status_code == 302 and report.language == "en"
    page = client.get(url("detail", report).replace("/vi/", "/en/", 1)).content.decode()
    assert "I. HOW THE CAMPAIGN WAS SET IN MOTION" in page
    assert 'lang="en"' in page
    text = docx_text(b"".join(client.get(file_url(report, "docx")).streaming_content))
    assert "REPORT" in text
    assert "II. RESULTS" in text


# --- Replacing and discarding ---------------------------------------------------------------------


def test_a_replacement_compares_with_the_old_report_and_supersedes_it_when_issued(
    client, district, campaign, staff, sessions
):
    old = issued(staff, district.root, campaign, number="15")
    old_done = next(f for f in old.snapshot["document"]["figures"] if f["key"] == "study_done")
    # The sibling ward's cell studies on 10/05: the study figure moves after 05/04.
    StudySessionFactory(campaign=campaign, unit=district.sibling_cell, held_on=date(2024, 5, 10))
    StudySessionFactory(campaign=campaign, unit=district.sibling_ward, held_on=date(2024, 5, 10))
    refresh_unit_status(campaign)
    client.force_login(staff)
    assert 'data-testid="replace-box"' in client.get(url("detail", old)).content.decode()

    response = client.post(url("replace", old), {"as_of": "20/05/2024"})
    new = OfficialReport.objects.get(state=State.DRAFT)
    assert response.status_code == 302 and response["Location"] == url("detail", new)
    assert new.supersedes == old and new.as_of == TODAY and new.number == ""
    assert new.recipients == old.recipients

    page = client.get(url("detail", new))
    figures = {f.key: f for f in page.context["figures"]}
    assert figures["study_done"].previous_display == old_done["display"]
    assert figures["study_done"].display != old_done["display"]
    body = page.content.decode()
    assert 'data-testid="previous-study_done"' in body and "05/04/2024" in body

    data = form_data(client, new)
    data["number"] = "21"
    client.post(url("detail", new), data)
    new.refresh_from_db()
    client.post(url("issue", new), {"version": new.version})
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (State.SUPERSEDED, State.ISSUED)
    assert 'data-testid="superseded-note"' in client.get(url("detail", old)).content.decode()
    # A superseded report is replaced once.
    response = client.post(url("replace", old), {"as_of": "20/05/2024"}, follow=True)
    assert OfficialReport.objects.filter(state=State.DRAFT).count() == 0
    assert messages_of(response)


def test_a_replacement_can_be_started_from_the_new_page(client, district, campaign, staff):
    old = issued(staff, district.root, campaign)
    client.force_login(staff)
    page = client.get(url("new") + f"?replaces={old.pk}")
    assert page.status_code == 200 and "committee" not in page.context["form"].fields
    response = client.post(url("new") + f"?replaces={old.pk}", {"as_of": "10/05/2024"})
    new = OfficialReport.objects.get(state=State.DRAFT)
    assert response["Location"] == url("detail", new)
    assert new.supersedes == old and new.unit == district.root
    assert client.get(url("new") + "?replaces=999999").status_code == 404
    assert client.get(url("new") + "?replaces=abc").status_code == 404
    assert client.get(url("new") + "?replaces=" + "9" * 30).status_code == 404
    assert client.get(f"{url('list')}{'9' * 30}/").status_code == 404
    assert client.get(f"{url('list')}{'9' * 30}/report.pdf").status_code == 404
    # A draft is not replaced: it is edited.
    response = client.get(url("new") + f"?replaces={new.pk}")
    assert response.status_code == 302


def test_a_draft_is_discarded_with_its_version(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    client.force_login(staff)
    assert client.get(url("discard", report)).status_code == 405
    client.post(url("discard", report), {"version": 5})
    assert OfficialReport.objects.filter(pk=report.pk).exists()
    response = client.post(url("discard", report), {"version": report.version})
    assert response.status_code == 302 and response["Location"] == url("list")
    assert not OfficialReport.objects.exists()
    assert client.get(url("detail", report)).status_code == 404


# --- Who may do what ------------------------------------------------------------------------------


def every_url(report) -> list[tuple[str, str, dict]]:
    return [
        ("get", url("detail", report), {}),
        ("post", url("detail", report), {"version": report.version}),
        ("get", url("preview", report), {}),
        ("get", file_url(report, "docx"), {}),
        ("get", file_url(report, "pdf"), {}),
        ("get", url("issue", report), {}),
        ("post", url("issue", report), {"version": report.version}),
        ("post", url("replace", report), {"as_of": "20/05/2024"}),
        ("post", url("discard", report), {"version": report.version}),
        ("get", url("new") + f"?replaces={report.pk}", {}),
    ]


def test_a_ward_secretary_drafts_and_issues_the_wards_report(
    client, district, campaign, ward_secretary
):
    client.force_login(ward_secretary)
    page = client.get(url("new"))
    assert list(page.context["form"].fields["committee"].queryset) == [district.ward]
    response = client.post(
        url("new"), {"committee": district.ward.pk, "as_of": "05/04/2024", "language": "vi"}
    )
    report = OfficialReport.objects.get()
    assert response["Location"] == url("detail", report)
    assert report.unit == district.ward and report.number_suffix == "BC/ĐU"
    data = form_data(client, report)
    data["signer"] = ward_secretary.pk
    data["number"] = "3"
    assert client.post(url("detail", report), data).status_code == 302
    report.refresh_from_db()
    client.post(url("issue", report), {"version": report.version})
    report.refresh_from_db()
    assert report.state == State.ISSUED and report.issued_by == ward_secretary


def test_a_ward_secretary_never_reaches_the_districts_reports(
    client, district, campaign, staff, ward_secretary
):
    district_draft = draft(staff, district.root, campaign)
    district_issued = issued(staff, district.root, campaign, number="1")
    sibling = draft(staff, district.sibling_ward, campaign)
    before = list(OfficialReport.objects.order_by("pk").values_list("pk", "state", "version"))
    client.force_login(ward_secretary)
    for report in (district_draft, district_issued, sibling):
        for method, address, data in every_url(report):
            response = getattr(client, method)(address, data)
            assert response.status_code == 404, (method, address, response.status_code)
    after = list(OfficialReport.objects.order_by("pk").values_list("pk", "state", "version"))
    assert after == before

    listing = client.get(url("list")).content.decode()
    assert f'data-report="{district_issued.pk}"' not in listing
    assert f'data-report="{district_draft.pk}"' not in listing

    # The committee field offers the ward only: the district or another ward is refused.
    for committee in (district.root, district.sibling_ward, district.cell):
        response = client.post(
            url("new"), {"committee": committee.pk, "as_of": "05/04/2024", "language": "vi"}
        )
        assert response.status_code == 400
        assert "committee" in response.context["form"].errors
    assert client.get(url("new") + "?committee=p-van-mieu").status_code == 404
    assert client.get(url("new") + "?committee=dongda").status_code == 404
    assert client.get(url("new") + "?committee=p-kim-lien").status_code == 200
    assert OfficialReport.objects.count() == 3


def test_a_cell_secretary_sees_no_committees_report(
    client, district, campaign, staff, cell_secretary
):
    ward_report = issued(staff, district.ward, campaign)
    client.force_login(cell_secretary)
    for method, address, data in every_url(ward_report):
        assert getattr(client, method)(address, data).status_code == 404, address
    assert client.get(url("new")).status_code == 403
    listing = client.get(url("list"))
    assert listing.status_code == 200 and 'data-testid="no-reports"' in listing.content.decode()
    assert 'data-testid="new-report"' not in listing.content.decode()


def test_the_standing_committee_reads_but_writes_nothing(
    client, district, campaign, staff, standing
):
    report = draft(staff, district.root, campaign)
    done = issued(staff, district.ward, campaign)
    before = list(OfficialReport.objects.order_by("pk").values_list("pk", "state", "version"))
    client.force_login(standing)
    listing = client.get(url("list")).content.decode()
    assert f'data-report="{report.pk}"' in listing and f'data-report="{done.pk}"' in listing
    assert 'data-testid="new-report"' not in listing
    page = client.get(url("detail", report))
    assert page.status_code == 200 and "form" not in page.context
    assert 'data-testid="read-only-note"' in page.content.decode()
    assert 'data-testid="replace-box"' not in client.get(url("detail", done)).content.decode()
    for target in (report, done):
        assert client.get(url("preview", target)).status_code == 200
        assert client.get(file_url(target, "pdf")).status_code == 200
        assert client.post(url("detail", target), {"version": target.version}).status_code == 403
        assert client.get(url("issue", target)).status_code == 403
        assert client.post(url("issue", target), {"version": target.version}).status_code == 403
        assert client.post(url("replace", target), {"as_of": "20/05/2024"}).status_code == 403
        assert client.post(url("discard", target), {"version": target.version}).status_code == 403
    assert client.get(url("new")).status_code == 403
    after = list(OfficialReport.objects.order_by("pk").values_list("pk", "state", "version"))
    assert after == before


def test_anonymous_visitors_are_sent_to_sign_in(client, district, campaign, staff):
    report = draft(staff, district.root, campaign)
    pages = [("get", url("list"), {}), ("get", url("new"), {}), *every_url(report)]
    for method, address, data in pages:
        response = getattr(client, method)(address, data)
        assert response.status_code == 302, address
        assert "/accounts/login/" in response["Location"]
    assert OfficialReport.objects.get().version == 1


def test_writes_take_post_only(client, district, campaign, staff):
    report = issued(staff, district.root, campaign)
    client.force_login(staff)
    assert client.get(url("replace", report)).status_code == 405
    assert client.get(url("discard", report)).status_code == 405
    assert client.put(url("issue", report)).status_code == 405


def test_posts_need_the_csrf_token(district, campaign, staff):
    from django.test import Client

    report = draft(staff, district.root, campaign)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff)
    assert strict.post(url("issue", report), {"version": report.version}).status_code == 403
    assert strict.post(url("discard", report), {"version": report.version}).status_code == 403
    assert OfficialReport.objects.get().state == State.DRAFT


# --- The list -------------------------------------------------------------------------------------


def test_the_list_groups_by_committee_and_pages_by_25(client, district, campaign, staff):
    for day in range(1, 28):
        issued(staff, district.ward, campaign, day=date(2024, 4, day), number=str(day))
    draft(staff, district.root, campaign)
    client.force_login(staff)
    page = client.get(url("list"))
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert len(rows) == 25
    assert rows[0].unit == district.root and rows[0].state == State.DRAFT  # the tree's order
    assert [r.as_of.day for r in rows[1:4]] == [27, 26, 25]  # newest first
    second = client.get(url("list") + "?page=2")
    assert len(second.context["page"].object_list) == 3
    only_ward = client.get(url("list") + "?committee=p-kim-lien&state=issued")
    assert only_ward.context["page"].paginator.count == 27
    assert "?committee=p-kim-lien&amp;state=issued&amp;page=2" in only_ward.content.decode()
    # A report issued without a number is named by its day.
    issued(staff, district.sibling_ward, campaign)
    listing = client.get(url("list") + "?committee=p-van-mieu").content.decode()
    assert vietnamese("Report as of %(day)s") % {"day": "05/04/2024"} in listing


def test_the_lists_statements_do_not_grow_with_the_reports(
    client, district, campaign, staff, ward_secretary, django_assert_max_num_queries
):
    issued(staff, district.ward, campaign, number="1")
    draft(staff, district.root, campaign)
    client.force_login(staff)

    def statements() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("list")).status_code == 200
        return len(queries)

    few = statements()
    for day in range(1, 20):
        draft(staff, district.root if day % 2 else district.sibling_ward, campaign)
        OfficialReport.objects.create(
            campaign=campaign,
            unit=district.ward,
            as_of=date(2024, 4, day),
            dated=date(2024, 4, day),
            number=f"{day + 1}",
            state=State.ISSUED,
            issued_by=ward_secretary,
            superior_body="x",
            issuing_body="y",
            number_suffix="BC/ĐU",
            place="Hà Nội",
            title="t",
            created_by=ward_secretary,
        )
    assert statements() == few
    with django_assert_max_num_queries(7):
        client.get(url("list"))


def test_the_menu_offers_the_list_to_those_who_see_it(
    client, district, campaign, staff, standing, ward_secretary, cell_secretary
):
    link = f'href="{url("list")}"'
    for user, shown in ((staff, True), (standing, True), (ward_secretary, True)):
        client.force_login(user)
        assert (link in client.get(reverse("campaigns:dashboard")).content.decode()) is shown
    client.force_login(cell_secretary)
    assert link not in client.get(reverse("campaigns:dashboard")).content.decode()
    client.force_login(ward_secretary)
    assert client.get(reverse("campaigns:dashboard")).content.decode().count(link) == 1
