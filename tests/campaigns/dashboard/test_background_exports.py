"""Exports above EXPORT_BACKGROUND_ROWS are written by a Celery task: the request makes a job and
sends the person to its page; the task writes the same file the direct export would, counts its
rows, and queues one e-mail; only the owner sees the job and its file, for a day."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from campaigns.dashboard.background_exports import export_job_run, export_jobs_sweep
from campaigns.engine.status import refresh_unit_status
from campaigns.mail.export_ready import KIND, export_ready_queue, export_ready_render
from campaigns.models import ExportJob, OutgoingMail
from dongda.celery import app
from tests.conftest import require

pytestmark = pytest.mark.django_db

UNITS = 5  # the district fixture's units


@pytest.fixture
def statuses(district, campaign):
    refresh_unit_status(campaign)
    return campaign


@pytest.fixture
def eager(monkeypatch):
    """The task runs in the request's thread once the job's transaction commits."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _start(client, url: str, django_capture_on_commit_callbacks) -> ExportJob:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url)
    assert response.status_code == 302, response
    job = ExportJob.objects.get()
    assert response["Location"] == f"/{url.split('/')[1]}/dashboard/exports/{job.pk}/"
    return job


def _rows(content: bytes, extension: str) -> list[list]:
    if extension == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8"))))
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _body(response) -> bytes:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_above_the_threshold_the_task_writes_the_file_the_direct_export_would(
    client, settings, statuses, staff, eager, django_capture_on_commit_callbacks, extension, lang
):
    client.force_login(staff)
    url = f"/{lang}/dashboard/export.{extension}?kind=&sort=-flags"
    direct = client.get(url)
    assert direct.status_code == 200
    settings.EXPORT_BACKGROUND_ROWS = UNITS - 1

    job = _start(client, url, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.owner, job.kind, job.format, job.language) == (staff, "units", extension, lang)
    assert job.state == ExportJob.State.DONE
    assert job.rows_done == job.rows_total == UNITS
    assert timedelta(hours=23) < job.expires_at - timezone.now() <= timedelta(days=1)

    page = client.get(f"/{lang}/dashboard/exports/{job.pk}/")
    assert page.status_code == 200
    assert 'data-state="done"' in page.content.decode()
    progress = client.get(f"/{lang}/dashboard/exports/{job.pk}/progress.json").json()
    assert progress["percent"] == 100
    assert progress["rows_done"] == progress["rows_total"] == UNITS
    download = client.get(progress["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == direct["Content-Disposition"]
    body = _body(download)
    assert _rows(body, extension) == _rows(_body(direct), extension)
    if extension == "xlsx":
        sheet = load_workbook(io.BytesIO(body)).active
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:V{UNITS + 1}"


def test_below_the_threshold_the_export_stays_direct(client, settings, statuses, staff):
    settings.EXPORT_BACKGROUND_ROWS = UNITS
    client.force_login(staff)
    assert client.get("/vi/dashboard/export.xlsx").status_code == 200
    assert not ExportJob.objects.exists()


def test_a_head_request_starts_nothing(client, settings, statuses, staff):
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(staff)
    assert client.head("/vi/dashboard/export.xlsx").status_code == 200
    assert not ExportJob.objects.exists()


def test_asking_again_while_it_is_written_opens_the_same_job(
    client, settings, statuses, staff, django_capture_on_commit_callbacks
):
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.get("/vi/dashboard/export.csv?sort=-flags")
        second = client.get("/vi/dashboard/export.csv?sort=-flags")
    assert first["Location"] == second["Location"]
    assert ExportJob.objects.count() == 1 and len(queued) == 1
    page = client.get(first["Location"]).content.decode()
    assert 'data-state="queued"' in page and "export-progress.js" in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>


def test_the_review_queue_export_runs_in_the_background_above_the_threshold(
    client, settings, district, campaign, staff, eager, django_capture_on_commit_callbacks
):
    from campaigns.models import Incident, ReviewStatus

    for number in range(3):
        Incident.objects.create(
            campaign=campaign,
            unit=district.cell,
            title_vi=f"Vụ việc {number}",
            opened_on="2024-03-10",
            owner="Tổ dân phố",
            status=ReviewStatus.SUBMITTED,
            submitted_at="2024-03-11T08:00:00+07:00",
        )
    client.force_login(staff)
    direct = client.get("/vi/dashboard/review/export.xlsx")
    settings.EXPORT_BACKGROUND_ROWS = 2
    job = _start(client, "/vi/dashboard/review/export.xlsx", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.kind, job.state, job.rows_total) == ("review_queue", "done", 3)
    download = client.get(f"/vi/dashboard/exports/{job.pk}/download/")
    assert _rows(_body(download), "xlsx") == _rows(direct.content, "xlsx")


def _done_job(client, settings, user, django_capture_on_commit_callbacks) -> ExportJob:
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(user)
    job = _start(client, "/vi/dashboard/export.xlsx", django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    client.logout()
    return job


@pytest.mark.parametrize("other", ["staff_en", "standing", "ward_secretary"])
def test_only_the_owner_sees_the_job_and_its_file(
    client, settings, statuses, staff, eager, django_capture_on_commit_callbacks, request, other
):
    job = _done_job(client, settings, staff, django_capture_on_commit_callbacks)
    urls = [
        f"/vi/dashboard/exports/{job.pk}/",
        f"/vi/dashboard/exports/{job.pk}/progress.json",
        f"/vi/dashboard/exports/{job.pk}/download/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    client.force_login(request.getfixturevalue(other))
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.force_login(staff)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]


def test_an_expired_export_says_so_and_its_file_is_deleted(
    client, settings, statuses, staff, eager, django_capture_on_commit_callbacks
):
    job = _done_job(client, settings, staff, django_capture_on_commit_callbacks)
    storage = job.file.storage
    assert storage.exists(job.file.name)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(staff)
    for url in (f"/vi/dashboard/exports/{job.pk}/", f"/vi/dashboard/exports/{job.pk}/download/"):
        response = client.get(url)
        assert response.status_code == 410
        assert 'data-testid="export-expired"' in response.content.decode()
    assert export_jobs_sweep() == []
    assert not storage.exists(job.file.name)
    job.refresh_from_db()
    assert job.file.name == ""
    assert export_jobs_sweep() == []  # twice: nothing more to do
    assert client.get(f"/vi/dashboard/exports/{job.pk}/").status_code == 410


def test_the_sweeper_hands_out_a_job_never_started(statuses, staff):
    job = ExportJob.objects.create(
        owner=staff,
        kind="units",
        format="csv",
        campaign=statuses,
        language="vi",
        filename="don-vi.csv",
        expires_at=timezone.now() + timedelta(days=1),
    )
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert export_jobs_sweep() == [job.pk]
    assert export_job_run(job_id=job.pk) == ExportJob.State.DONE
    assert export_jobs_sweep() == []


def test_the_e_mail_is_queued_once_for_the_owner_however_often_the_task_runs(
    client, settings, statuses, staff, eager, django_capture_on_commit_callbacks
):
    job = _done_job(client, settings, staff, django_capture_on_commit_callbacks)
    assert export_job_run(job_id=job.pk) == ""  # a second run (a redelivered message)
    export_ready_queue(job=job)  # a retry after the e-mail was queued
    mail = OutgoingMail.objects.get()
    assert (mail.kind, mail.recipient, mail.params) == (KIND, staff, {"job": job.pk})


def test_a_job_whose_owner_lost_their_role_fails_with_a_message_in_their_language(
    client, settings, statuses, staff_en, django_capture_on_commit_callbacks
):
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(staff_en)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.get("/en/dashboard/export.xlsx?unit=p-kim-lien")
    job = ExportJob.objects.get()
    staff_en.assignments.all().delete()
    assert export_job_run(job_id=job.pk) == ExportJob.State.FAILED
    job.refresh_from_db()
    assert job.failure == ExportJob.Failure.NO_ACCESS
    assert not OutgoingMail.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "You no longer have access to these units." in page


@pytest.mark.parametrize(
    ("language", "expected", "foreign"),
    [
        ("vi", ["sẵn sàng", "Bảng đơn vị", "don-vi-"], ["ready", "Download", "Dear"]),
        ("en", ["is ready", "Unit table", "units-"], ["sẵn sàng", "Tải", "Kính gửi"]),
    ],
)
def test_the_e_mail_is_in_the_owners_language(
    client,
    settings,
    statuses,
    staff,
    eager,
    django_capture_on_commit_callbacks,
    language,
    expected,
    foreign,
):
    staff.language = language
    staff.save(update_fields=["language"])
    settings.EXPORT_BACKGROUND_ROWS = 1
    client.force_login(staff)
    job = _start(client, f"/{language}/dashboard/export.xlsx", django_capture_on_commit_callbacks)
    mail = OutgoingMail.objects.get()
    with translation.override("vi" if language == "en" else "en"):  # whatever is active
        subject, text, html = export_ready_render(mail, language)
    for words in expected:
        assert words in subject + text, words
    for words in foreign:
        assert words not in subject + text + html, words
    assert f"/{language}/dashboard/exports/{job.pk}/" in text
    assert f"/{language}/dashboard/exports/{job.pk}/" in html


def test_the_outbox_sends_the_e_mail_once(
    client, settings, statuses, staff, eager, django_capture_on_commit_callbacks, mailoutbox
):
    """Through the outbox's sender, as the worker sends it (needs the outbox to know the
    export-ready kind: OutgoingMail.Kind.EXPORT_READY and its branch in build_message)."""
    require(
        KIND in OutgoingMail.Kind.values,
        "the outbox's export-ready kind (OutgoingMail.Kind.EXPORT_READY)",
    )
    from campaigns.mail.outbox import outgoing_mail_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff.email = "vanphong@dongda.example"
    staff.save(update_fields=["email"])
    _done_job(client, settings, staff, django_capture_on_commit_callbacks)
    mail = OutgoingMail.objects.get()
    outgoing_mail_send(mail_id=mail.pk)
    outgoing_mail_send(mail_id=mail.pk)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [staff.email]


def measure_export_start(client, settings, django_capture_on_commit_callbacks) -> int:
    """The statements of starting a background export in the district seeded now (compared at 50
    and 2,000 units by test_dashboard_scale.py's one seeding of each size)."""
    threshold = settings.EXPORT_BACKGROUND_ROWS
    settings.EXPORT_BACKGROUND_ROWS = 10
    ExportJob.objects.all().delete()
    with (
        django_capture_on_commit_callbacks(execute=False) as queued,
        CaptureQueriesContext(connection) as queries,
    ):
        response = client.get("/vi/dashboard/export.xlsx?kind=party_cell")
    assert response.status_code == 302 and len(queued) == 1
    settings.EXPORT_BACKGROUND_ROWS = threshold
    return len(queries)
