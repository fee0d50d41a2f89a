"""One report's page: a draft's form (with conflicts) or the read-only page."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ...models import OfficialReport
from ..build import Built, build_document
from ..forms import (
    HEADER_FIELDS,
    DraftForm,
    ReplaceForm,
    VersionForm,
    paragraph_label,
)
from ..selectors import can_draft_for, signers_for
from ..services import (
    DraftConflict,
    OfficialReportError,
    save_draft,
)
from .access import (
    State,
    app_text_of,
    detail_url,
    labelled,
    readable_report,
    report_document,
)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def report_detail(request, pk: int):
    """A draft's form for those who draft for its committee; a read-only page for an issued
    report and for the others who may read it."""
    report = readable_report(request, pk)
    may_write = can_draft_for(request.user, report.unit)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if report.state != State.DRAFT:
            messages.error(request, _("This report has been issued and can no longer change."))
            return redirect(detail_url(report))
    if report.state != State.DRAFT or not may_write:
        return render_read_only(request, report, may_write=may_write)
    defaults = app_text_of(report)
    kwargs = {"report": report, "defaults": defaults.document, "signers": signers_for(report.unit)}
    if request.method != "POST":
        return _render_draft(request, report, DraftForm(**kwargs), defaults)
    form = DraftForm(request.POST, **kwargs)
    if not form.is_valid():
        return _render_draft(request, report, form, defaults)
    try:
        saved = save_draft(
            report=report, changes=form.changes(), expected_version=form.cleaned_data["version"]
        )
    except DraftConflict as conflict:
        return _conflict(request, form, conflict.current)
    except OfficialReportError as error:
        messages.error(request, str(error))
        return redirect(detail_url(report))
    if "then_issue" in request.POST:
        return redirect("official:issue", pk=saved.pk)
    messages.success(request, _("The draft is saved."))
    return redirect(detail_url(saved))


def _render_draft(request, report, form, defaults: Built, *, conflict=None):
    labelled(report.supersedes)
    return render(
        request,
        "campaigns/official/draft.html",
        {
            "report": report,
            "form": form,
            "figures": defaults.document.figures,
            "previous": defaults.previous,
            "conflict": conflict,
            "version_form": VersionForm(initial={"version": report.version}),
        },
        status=409 if conflict else (400 if form.errors else 200),
    )


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.username
    return str(value)


def _conflict(request, form: DraftForm, current: OfficialReport):
    """Someone saved the draft since the person opened it: nothing is saved, the person's text
    stays in the form (which now carries the other version's number, so saving again replaces
    it knowingly), and what the other person saved is shown beside it."""
    app_text = _("(the app's text)")
    differences = []
    for name in HEADER_FIELDS:
        theirs, mine = getattr(current, name), form.cleaned_data.get(name)
        if (theirs or None) != (mine or None):
            differences.append((form.fields[name].label, _shown(theirs), _shown(mine)))
    theirs_edits, mine_edits = current.edits or {}, form.edits()
    for key in form.defaults:
        theirs, mine = theirs_edits.get(key), mine_edits.get(key)
        if theirs != mine:
            differences.append(
                (paragraph_label(key), app_text if theirs is None else theirs, mine or app_text)
            )
    defaults = app_text_of(current)
    data = form.data.copy()
    data["version"] = str(current.version)
    fresh = DraftForm(
        data, report=current, defaults=defaults.document, signers=signers_for(current.unit)
    )
    fresh.is_valid()
    return _render_draft(
        request,
        current,
        fresh,
        defaults,
        conflict={"current": current, "differences": differences},
    )


def render_read_only(request, report: OfficialReport, *, may_write: bool, replace_form=None):
    document = report_document(report)
    previous = None
    if report.state == State.DRAFT:
        # Drafts read live; their comparison names the previous issued report's day.
        built = build_document(report)
        document, previous = built.document, built.previous
    replacements = [
        labelled(newer)
        for newer in report.replacements.filter(
            state__in=[State.ISSUED, State.SUPERSEDED]
        ).order_by("-pk")
    ]
    labelled(report.supersedes)
    can_replace = may_write and report.state == State.ISSUED
    if can_replace and replace_form is None:
        replace_form = ReplaceForm(campaign=report.campaign)
    return render(
        request,
        "campaigns/official/issued.html",
        {
            "report": report,
            "document": document,
            "figures": document.figures,
            "previous": previous,
            "replacements": replacements,
            "replace_form": replace_form if can_replace else None,
        },
        status=400 if replace_form is not None and replace_form.errors else 200,
    )
