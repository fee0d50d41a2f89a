"""Fetching a report through the person's scope, and how pages name it."""

import copy

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from units.selectors import user_scope

from ...models import OfficialReport
from ..build import Built, build_document
from ..content import ReportDocument
from ..selectors import can_draft_for, reports_visible_to

PAGE_SIZE = 25
State = OfficialReport.State

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def may_read(user, report: OfficialReport) -> bool:
    if report.state != State.DRAFT:
        return True
    return user_scope(user).is_district or can_draft_for(user, report.unit)


def readable_report(request, pk: int) -> OfficialReport:
    """The report if the person may see it; 404 otherwise, whatever the id (one no database
    column can hold included)."""
    if not 0 < int(pk) < 2**63:
        raise Http404
    report = reports_visible_to(request.user).filter(pk=pk).first()
    if report is None or not may_read(request.user, report):
        raise Http404
    return report


def writable_report(request, pk: int) -> OfficialReport:
    """The report if the person may change it: 404 out of sight, 403 read-only."""
    report = readable_report(request, pk)
    if not can_draft_for(request.user, report.unit):
        raise PermissionDenied
    return report


def labelled(report: OfficialReport | None) -> OfficialReport | None:
    """Gives the report `label`, how lists and links name it: "No. 15-BC/QU, as of 05/04/2024",
    or by its day alone while it has no number."""
    if report is not None:
        day = report.as_of.strftime("%d/%m/%Y")
        if report.state == State.DRAFT:
            report.label = _("Draft as of %(day)s") % {"day": day}
        elif report.number:
            report.label = _("No. %(number)s, as of %(day)s") % {
                "number": report.full_number,
                "day": day,
            }
        else:
            report.label = _("Report as of %(day)s") % {"day": day}
    return report


def detail_url(report: OfficialReport) -> str:
    return reverse("official:detail", kwargs={"pk": report.pk})


def report_document(report: OfficialReport) -> ReportDocument:
    """What the report says: an issued one as it was issued, a draft as of now."""
    if report.state != State.DRAFT and report.snapshot:
        return ReportDocument.from_data(report.snapshot["document"])
    return build_document(report).document


def app_text_of(report: OfficialReport) -> Built:
    """The draft worked out with none of its edits: the app's own text of every paragraph (what
    an unchanged box is compared with), and the figures, which edits do not touch."""
    bare = copy.copy(report)
    bare.edits = {}
    return build_document(bare)
