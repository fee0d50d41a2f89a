"""An evidence file leaves the disk when nothing points to it any more, and not before: replaced
by an edit or left by a deleted report, it goes once the transaction commits; if the change rolls
back, the report keeps its file (and a file stored for a write that failed goes too)."""

import uuid
from datetime import date

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from breakthroughs.models import ProgressReport
from campaigns.models import ImplementationPlan, ReviewStatus, StudySession
from campaigns.reporting import services
from campaigns.reporting.forms import ImplementationPlanForm, StudySessionForm
from campaigns.reporting.services import DuplicateReport, report_create, report_update
from tests.factories import (
    BreakthroughTaskFactory,
    ImplementationPlanFactory,
    ProgressReportFactory,
    StudySessionFactory,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def in_2024():
    with time_machine.travel(date(2024, 5, 20), tick=False):
        yield


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


def pdf(name: str, marker: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + marker, content_type="application/pdf")


def stored_files(root) -> set[str]:
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def draft_with_file(district, campaign, marker=b"old"):
    session = StudySessionFactory(
        campaign=campaign, unit=district.cell, status=ReviewStatus.DRAFT, minutes_name="cu.pdf"
    )
    session.minutes.save("evidence.pdf", ContentFile(PDF + marker))
    return session


def edit_url(session):
    return reverse(
        "reports:edit", kwargs={"code": session.unit.code, "kind": "sessions", "pk": session.pk}
    )


@pytest.mark.django_db
def test_a_replaced_file_goes_once_the_edit_commits(
    client, district, campaign, cell_secretary, settings, django_capture_on_commit_callbacks
):
    session = draft_with_file(district, campaign)
    old = session.minutes.name
    client.force_login(cell_secretary)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            edit_url(session), session_data(version=session.version, minutes=pdf("moi.pdf"))
        )
        assert response.status_code == 302
        session.refresh_from_db()
        new = session.minutes.name
        # Saved, not yet committed: both files are still there.
        assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {old, new}
    for callback in callbacks:
        callback()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {new}
    assert session.minutes_name == "moi.pdf"


@pytest.mark.django_db
def test_an_edit_without_a_new_file_keeps_the_file(
    client, district, campaign, cell_secretary, settings, django_capture_on_commit_callbacks
):
    session = draft_with_file(district, campaign)
    client.force_login(cell_secretary)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(session), session_data(version=session.version, presenter="Người khác")
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.presenter == "Người khác"
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {session.minutes.name}


@pytest.mark.django_db
def test_an_edit_that_rolls_back_keeps_the_old_file_and_drops_the_new_one(
    district, campaign, cell_secretary, settings, monkeypatch, django_capture_on_commit_callbacks
):
    session = draft_with_file(district, campaign)
    old = session.minutes.name

    def fail(item):
        raise RuntimeError("the status rows could not be refreshed")

    monkeypatch.setattr(services, "_refresh_status_of", fail)
    form = StudySessionForm(
        session_data(version=session.version),
        {"minutes": pdf("moi.pdf", b"new")},
        instance=StudySession.objects.get(pk=session.pk),
        campaign=campaign,
        unit=district.cell,
    )
    assert form.is_valid(), form.errors
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        report_update(
            form=form, item=session, user=cell_secretary, expected_version=session.version
        )
    assert callbacks == []
    session.refresh_from_db()
    assert session.minutes.name == old
    assert session.minutes.read() == PDF + b"old"
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {old}


@pytest.mark.django_db
def test_a_second_plan_keeps_no_file(district, campaign, cell_secretary, settings):
    """Two tabs both saving the unit's one plan: the second is refused by the database after
    its file was stored; that file goes with it."""
    plan = ImplementationPlanFactory(campaign=campaign, unit=district.cell)
    form = ImplementationPlanForm(
        {
            "number": "02-KH/CB",
            "issued_on": "20/03/2024",
            "programme": "Chương trình số 02",
            "submission_key": str(uuid.uuid4()),
        },
        {"document": pdf("ke-hoach.pdf")},
        campaign=campaign,
        unit=district.cell,
    )
    assert form.is_valid(), form.errors
    with pytest.raises(DuplicateReport) as refused:
        report_create(form=form, unit=district.cell, campaign=campaign, user=cell_secretary)
    assert refused.value.existing == plan
    assert ImplementationPlan.objects.count() == 1
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == set()


@pytest.mark.django_db
def test_a_report_deleted_in_the_admin_takes_its_file_once_committed(
    admin_client, district, campaign, settings, django_capture_on_commit_callbacks
):
    session = draft_with_file(district, campaign)
    other = draft_with_file(district, campaign, marker=b"other")
    url = reverse("admin:campaigns_studysession_delete", args=[session.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url, {"post": "yes"})
        assert response.status_code == 302
        assert not StudySession.objects.filter(pk=session.pk).exists()
        assert session.minutes.name in stored_files(settings.PRIVATE_MEDIA_ROOT)
    for callback in callbacks:
        callback()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {other.minutes.name}


@pytest.mark.django_db
def test_reports_deleted_together_take_their_files(
    admin_client, district, campaign, settings, django_capture_on_commit_callbacks
):
    """The admin's "delete selected" action, and any queryset delete (a cascade is one), go
    row by row through the same receiver: progress reports (breakthroughs) too."""
    task = BreakthroughTaskFactory(campaign=campaign, unit=district.cell)
    reports = []
    for month in (3, 4):
        report = ProgressReportFactory(
            task=task, unit=district.cell, period_start=date(2024, month, 1)
        )
        report.evidence.save("evidence.pdf", ContentFile(PDF))
        reports.append(report)
    sessions = [draft_with_file(district, campaign, marker=bytes([n])) for n in range(2)]
    assert len(stored_files(settings.PRIVATE_MEDIA_ROOT)) == 4
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:campaigns_studysession_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [s.pk for s in sessions],
                "post": "yes",
            },
        )
        assert response.status_code == 302
    assert StudySession.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        ProgressReport.objects.filter(task=task).delete()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == set()


@pytest.mark.django_db
def test_a_deletion_that_rolls_back_keeps_the_file(
    district, campaign, settings, django_capture_on_commit_callbacks
):
    session = draft_with_file(district, campaign)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        StudySession.objects.get(pk=session.pk).delete()
        raise RuntimeError("something after the deletion failed")
    assert callbacks == []
    assert StudySession.objects.filter(pk=session.pk).exists()
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {session.minutes.name}


@pytest.mark.django_db(transaction=True)
def test_with_real_transactions_a_replaced_file_goes_and_a_failed_edit_keeps_it(
    client, district, campaign, cell_secretary, settings, monkeypatch
):
    """The same without the test's enclosing transaction: commits are real, and so is the
    rollback of a failed edit."""
    session = draft_with_file(district, campaign)
    first = session.minutes.name
    client.force_login(cell_secretary)
    response = client.post(
        edit_url(session), session_data(version=session.version, minutes=pdf("hai.pdf", b"2"))
    )
    assert response.status_code == 302
    session.refresh_from_db()
    second = session.minutes.name
    assert second != first
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {second}

    def fail(item):
        raise RuntimeError("the status rows could not be refreshed")

    monkeypatch.setattr(services, "_refresh_status_of", fail)
    client.raise_request_exception = False
    response = client.post(
        edit_url(session), session_data(version=session.version, minutes=pdf("ba.pdf", b"3"))
    )
    assert response.status_code == 500
    session.refresh_from_db()
    assert session.minutes.name == second
    assert session.minutes.read() == PDF + b"2"
    assert stored_files(settings.PRIVATE_MEDIA_ROOT) == {second}
