"""How much a request may send, and which of its files are kept (dongda.request_limits,
dongda.uploads): a body declared too big is refused before a byte of it is read, a chunked one
is read no further than the limit, and file parts no page reads reach no handler."""

import io
import uuid
from datetime import date

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from campaigns.models import StudySession
from campaigns.registry import report_kinds

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REFUSED_EN = "What was sent is too large"


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


class RecordingInput:
    """A request body as the server hands it over (wsgi.input), `size` bytes long, counting
    what the app reads. Its bytes are made as they are read, so a 300 MB body costs nothing
    until someone reads it."""

    def __init__(self, size: int = 0, data: bytes | None = None):
        self.data = io.BytesIO(data) if data is not None else None
        self.size = len(data) if data is not None else size
        self.read_bytes = 0

    def _take(self, size) -> bytes:
        left = self.size - self.read_bytes
        size = left if size is None or size < 0 else min(size, left)
        self.read_bytes += size
        return self.data.read(size) if self.data is not None else b"0" * size

    def read(self, size=-1) -> bytes:
        return self._take(size)

    def readline(self, size=-1) -> bytes:
        return self._take(size)


#: Every byte of every file part that got past the gate (UploadLimitHandler), by field name.
RECEIVED: dict[str, int] = {}


class RecordingHandler(FileUploadHandler):
    """Sits right after the gate and writes down what it is given, passing it all on."""

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        RECEIVED.setdefault(field_name, 0)

    def receive_data_chunk(self, raw_data, start):
        RECEIVED[self.field_name] += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


@pytest.fixture
def recorded(settings):
    RECEIVED.clear()
    handlers = list(django_settings.FILE_UPLOAD_HANDLERS)
    settings.FILE_UPLOAD_HANDLERS = [
        handlers[0],
        f"{__name__}.RecordingHandler",
        *handlers[1:],
    ]
    yield RECEIVED
    RECEIVED.clear()


def new_session_url(unit, lang="en"):
    url = reverse("reports:new", kwargs={"code": unit.code, "kind": "sessions"})
    return url.replace("/vi/", f"/{lang}/", 1)


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


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def post_declared(client, url, *, length: int, body: RecordingInput, **extra):
    return client.generic(
        "POST",
        url,
        CONTENT_TYPE=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": body},
        **extra,
    )


# --- a body declared too big ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/en/accounts/login/", id="sign-in page, anonymous"),
        pytest.param(None, id="report form, signed in"),
    ],
)
def test_a_body_declared_too_big_is_refused_before_any_of_it_is_read(
    client, district, campaign, cell_secretary, url
):
    if url is None:
        client.force_login(cell_secretary)
        url = new_session_url(district.cell)
    size = 300 * 1024 * 1024
    body = RecordingInput(size)
    response = post_declared(client, url, length=size, body=body)
    assert response.status_code == 413
    assert body.read_bytes == 0
    page = response.content.decode()
    assert REFUSED_EN in page
    assert "10.0\xa0MB" in page  # the file limit, in English figures
    assert StudySession.objects.count() == 0


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_is_not(client, settings):
    settings.REQUEST_MAX_BYTES = 4096
    over = RecordingInput(4097)
    assert post_declared(client, "/en/accounts/login/", length=4097, body=over).status_code == 413
    assert over.read_bytes == 0
    at = RecordingInput(data=b"x" * 4096)
    response = post_declared(client, "/en/accounts/login/", length=4096, body=at)
    assert response.status_code != 413
    assert at.read_bytes == 4096  # read, and found not to be a form: no longer our business


def test_the_refusal_is_in_the_language_of_the_address(client, settings):
    settings.REQUEST_MAX_BYTES = 10
    body = RecordingInput(11)
    vietnamese = post_declared(client, "/vi/accounts/login/", length=11, body=body)
    assert vietnamese.status_code == 413
    assert vietnamese["Content-Language"] == "vi"
    assert '<html lang="vi">' in vietnamese.content.decode()
    english = post_declared(client, "/en/accounts/login/", length=11, body=body)
    assert english["Content-Language"] == "en"
    assert '<html lang="en">' in english.content.decode()
    # Outside the language prefix (the admin pages), the person's language cookie decides.
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    admin = post_declared(client, "/admin/login/", length=11, body=body)
    assert admin.status_code == 413 and REFUSED_EN in admin.content.decode()
    assert body.read_bytes == 0


def test_the_refusal_page_cannot_be_framed_sniffed_or_cached(client, settings):
    settings.REQUEST_MAX_BYTES = 10
    response = post_declared(client, "/en/accounts/login/", length=11, body=RecordingInput(11))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response["Content-Security-Policy"]


# --- the whole body, files and fields together ---------------------------------------------


def test_many_files_each_under_the_file_limit_are_refused_together(
    client, district, campaign, cell_secretary, settings, recorded
):
    """Twenty parts of 9 KB under a 10 KB file limit: each would pass the file limit, and were
    all spooled before; together they are over the request limit and nothing is read."""
    settings.EVIDENCE_MAX_BYTES = 10 * 1024
    settings.REQUEST_MAX_BYTES = 11 * 1024
    client.force_login(cell_secretary)
    parts = {f"minutes{n}": SimpleUploadedFile(f"{n}.pdf", PDF + b"0" * 9000) for n in range(20)}
    response = client.post(new_session_url(district.cell), session_data(**parts))
    assert response.status_code == 413
    assert recorded == {}
    assert StudySession.objects.count() == 0
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == []


def test_a_long_field_with_a_small_file_is_refused_together(
    client, district, campaign, cell_secretary, settings
):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024
    settings.REQUEST_MAX_BYTES = 11 * 1024
    client.force_login(cell_secretary)
    minutes = SimpleUploadedFile("Biên bản.pdf", PDF + b"0" * 8000)
    data = session_data(minutes=minutes, notes_vi="Ghi chú " * 1000)
    response = client.post(new_session_url(district.cell), data)
    assert response.status_code == 413
    assert StudySession.objects.count() == 0


def test_a_fitting_upload_is_saved(client, district, campaign, cell_secretary, settings):
    settings.EVIDENCE_MAX_BYTES = 10 * 1024
    settings.REQUEST_MAX_BYTES = 11 * 1024
    client.force_login(cell_secretary)
    minutes = SimpleUploadedFile("Biên bản.pdf", PDF + b"0" * 9000)
    response = client.post(new_session_url(district.cell), session_data(minutes=minutes))
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.minutes.read() == PDF + b"0" * 9000


# --- chunked bodies (no Content-Length) ----------------------------------------------------


def post_chunked(client, url, body: RecordingInput, *, terminated: bool = True):
    return client.generic(
        "POST",
        url,
        CONTENT_TYPE=MULTIPART_CONTENT,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": body, "wsgi.input_terminated": terminated},
    )


def test_a_chunked_body_is_read_no_further_than_the_limit(
    client, district, campaign, cell_secretary, settings
):
    settings.REQUEST_MAX_BYTES = 64 * 1024
    client.force_login(cell_secretary)
    body = RecordingInput(300 * 1024 * 1024)
    response = post_chunked(client, new_session_url(district.cell), body)
    assert response.status_code == 413
    assert REFUSED_EN in response.content.decode()
    assert body.read_bytes == 64 * 1024 + 1
    assert StudySession.objects.count() == 0


def test_a_fitting_chunked_upload_is_saved(client, district, campaign, cell_secretary, settings):
    settings.REQUEST_MAX_BYTES = 64 * 1024
    client.force_login(cell_secretary)
    minutes = SimpleUploadedFile("Biên bản.pdf", PDF + b"1" * 20000)
    data = encode_multipart(BOUNDARY, session_data(minutes=minutes))
    response = post_chunked(client, new_session_url(district.cell), RecordingInput(data=data))
    assert response.status_code == 302
    session = StudySession.objects.get()
    assert session.minutes_name == "Biên bản.pdf"
    assert session.minutes.read() == PDF + b"1" * 20000


def test_a_chunked_body_the_server_did_not_unframe_is_not_read(client, settings):
    """runserver hands over the raw chunks (no wsgi.input_terminated): Django reads none of it,
    and neither does the middleware."""
    body = RecordingInput(300 * 1024 * 1024)
    response = post_chunked(client, "/en/accounts/login/", body, terminated=False)
    assert response.status_code != 413
    assert body.read_bytes == 0


# --- which file parts are kept -------------------------------------------------------------


def test_the_sign_in_page_keeps_no_file(client, cell_secretary, settings, recorded):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # a kept part would go to a temporary file
    cell_secretary.set_password("mat-khau-2024")
    cell_secretary.save()
    upload = SimpleUploadedFile("evidence.pdf", PDF + b"0" * 50_000)
    response = client.post(
        "/en/accounts/login/",
        {"username": cell_secretary.username, "password": "mat-khau-2024", "evidence": upload},
    )
    assert response.status_code == 302  # the fields still arrive: signed in
    assert recorded == {}
    assert not response.wsgi_request.FILES


def test_a_report_form_keeps_only_its_own_file_and_only_once(
    client, district, campaign, cell_secretary, settings, recorded
):
    client.force_login(cell_secretary)
    data = encode_multipart(
        BOUNDARY,
        session_data(
            minutes=[
                SimpleUploadedFile("first.pdf", PDF + b"first"),
                SimpleUploadedFile("second.pdf", PDF + b"second"),
            ],
            attachment=SimpleUploadedFile("other.pdf", PDF + b"0" * 50_000),
        ),
    )
    response = client.generic(
        "POST", new_session_url(district.cell), data, content_type=MULTIPART_CONTENT
    )
    assert response.status_code == 302
    assert recorded == {"minutes": len(PDF + b"first")}
    session = StudySession.objects.get()
    assert session.minutes_name == "first.pdf"
    assert session.minutes.read() == PDF + b"first"
    assert len(stored_files(settings.PRIVATE_MEDIA_ROOT)) == 1


@pytest.mark.parametrize("memory_limit", [1024 * 1024, 16], ids=["in memory", "on disk"])
def test_a_skipped_part_leaves_the_file_before_it_readable(
    client, district, campaign, cell_secretary, settings, memory_limit
):
    """Django closes every handler's file when it skips a part; the one already handed over
    must survive that."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = memory_limit
    client.force_login(cell_secretary)
    data = session_data(
        minutes=SimpleUploadedFile("Biên bản.pdf", PDF),
        zzz_after=SimpleUploadedFile("x.pdf", PDF),
    )
    response = client.post(new_session_url(district.cell), data)
    assert response.status_code == 302
    assert StudySession.objects.get().minutes.read() == PDF


def test_every_report_kind_file_field_is_read_by_its_pages():
    """The report pages' entries in UPLOAD_FILE_FIELDS name every kind's file field: a kind
    whose field were missing would lose its files without a word."""
    fields = {kind.file_field for kind in report_kinds().values() if kind.file_field}
    assert fields
    for view_name in ("reports:new", "reports:new_child", "reports:edit"):
        assert fields <= set(django_settings.UPLOAD_FILE_FIELDS[view_name]), view_name


def test_the_unit_import_still_takes_its_sheet(client, staff, recorded):
    client.force_login(staff)
    sheet = SimpleUploadedFile("units.csv", b"code,name_vi\n")
    client.post(reverse("unit_import:preview"), {"file": sheet})
    assert recorded == {"file": len(b"code,name_vi\n")}
