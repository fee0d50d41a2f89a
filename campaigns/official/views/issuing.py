"""Issuing a draft, starting a replacement, discarding a draft."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..build import build_document
from ..forms import ReplaceForm, VersionForm, paragraph_label
from ..services import (
    DraftConflict,
    OfficialReportError,
    discard_draft,
    issue,
    start_draft,
)
from .access import (
    State,
    detail_url,
    labelled,
    writable_report,
)
from .drafts import render_read_only


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def report_issue(request, pk: int):
    """GET: what issuing will do, and the button; POST: issue the draft of the version the
    confirmation showed. Issuing cannot be undone (a later report may replace it)."""
    report = writable_report(request, pk)
    if request.method in ("GET", "HEAD"):
        if report.state != State.DRAFT:
            if request.method == "GET":  # a HEAD must leave no message for the next page
                messages.info(request, _("This report has already been issued."))
            return redirect(detail_url(report))
        built = build_document(report)
        labelled(report.supersedes)
        return render(
            request,
            "campaigns/official/confirm_issue.html",
            {
                "report": report,
                "document": built.document,
                "figures": built.document.figures,
                "previous": built.previous,
                # Rewritten paragraphs keep the figures they were written with: say which.
                "edited": [
                    paragraph_label(key)
                    for key, paragraph in built.document.paragraphs().items()
                    if paragraph.edited
                ],
                "form": VersionForm(initial={"version": report.version}),
            },
        )
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This page is out of date. Check the draft and issue it again."))
        return redirect(detail_url(report))
    try:
        issued = issue(
            report_id=report.pk, user=request.user, expected_version=form.cleaned_data["version"]
        )
    except DraftConflict:
        messages.error(
            request,
            _(
                "Someone saved this draft after you opened it. Check what it says now, then "
                "issue it again."
            ),
        )
        return redirect(detail_url(report))
    except OfficialReportError as error:
        messages.error(request, str(error))
        return redirect(detail_url(report))
    messages.success(
        request,
        _("The report is issued. Its Word file and PDF are kept as they are now."),
    )
    return redirect(detail_url(issued))


@require_POST
@login_required
def report_replace(request, pk: int):
    """Starts a draft that will replace an issued report once issued."""
    report = writable_report(request, pk)
    if report.state != State.ISSUED:
        messages.error(request, _("Only an issued report can be replaced."))
        return redirect(detail_url(report))
    form = ReplaceForm(request.POST, campaign=report.campaign)
    if not form.is_valid():
        return render_read_only(request, report, may_write=True, replace_form=form)
    try:
        draft = start_draft(
            user=request.user,
            campaign=report.campaign,
            committee=report.unit,
            as_of=form.cleaned_data["as_of"],
            language=report.language,
            supersedes=report,
        )
    except OfficialReportError as error:
        messages.error(request, str(error))
        return redirect(detail_url(report))
    messages.success(
        request, _("A draft replacing this report is ready. Issuing it marks the old one replaced.")
    )
    return redirect(detail_url(draft))


@require_POST
@login_required
def report_discard(request, pk: int):
    report = writable_report(request, pk)
    form = VersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This page is out of date. Check the draft and try again."))
        return redirect(detail_url(report))
    try:
        discard_draft(report=report, expected_version=form.cleaned_data["version"])
    except DraftConflict:
        messages.error(
            request,
            _("Someone saved this draft after you opened it; it was not deleted. Check it first."),
        )
        return redirect(detail_url(report))
    except OfficialReportError as error:
        messages.error(request, str(error))
        return redirect(detail_url(report))
    messages.success(request, _("The draft is deleted."))
    return redirect("official:list")
