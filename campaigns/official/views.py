"""The official report pages: the list, a new draft, the draft's form, its preview and files,
issuing, replacing and discarding.

Every report is fetched by id through the person's scope (`selectors.reports_visible_to`): another
committee's id answers 404, as if it did not exist. Drafts are read by those who may draft for
the committee and by the district's roles (the Standing Committee follows them, read-only);
anyone else in scope gets 404 for a draft. Writing (saving, issuing, replacing, discarding) is
for those who may draft for the committee (`selectors.can_draft_for`): 403 for the others who
see the report. Writes are POST only, behind CSRF, and go through `services`.
"""

import copy
import io
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from units.models import UNIT_ROLES
from units.selectors import user_scope, visible_units

from ..models import OfficialReport
from ..selectors import current_campaign
from . import pdf
from .build import COMMITTEE_KINDS, Built, build_document
from .content import ReportDocument
from .docx import render_docx
from .forms import (
    HEADER_FIELDS,
    DraftForm,
    NewReportForm,
    ReplaceForm,
    VersionForm,
    paragraph_label,
)
from .selectors import can_draft_for, committees_for, reports_visible_to, signers_for
from .services import (
    DraftConflict,
    OfficialReportError,
    discard_draft,
    issue,
    save_draft,
    start_draft,
)

PAGE_SIZE = 25
State = OfficialReport.State

CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


# --- Fetching, through the scope ---------------------------------------------------------------


def _may_read(user, report: OfficialReport) -> bool:
    if report.state != State.DRAFT:
        return True
    return user_scope(user).is_district or can_draft_for(user, report.unit)


def _report(request, pk: int) -> OfficialReport:
    """The report if the person may see it; 404 otherwise, whatever the id (one no database
    column can hold included)."""
    if not 0 < int(pk) < 2**63:
        raise Http404
    report = reports_visible_to(request.user).filter(pk=pk).first()
    if report is None or not _may_read(request.user, report):
        raise Http404
    return report


def _writable(request, pk: int) -> OfficialReport:
    """The report if the person may change it: 404 out of sight, 403 read-only."""
    report = _report(request, pk)
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


def _document(report: OfficialReport) -> ReportDocument:
    """What the report says: an issued one as it was issued, a draft as of now."""
    if report.state != State.DRAFT and report.snapshot:
        return ReportDocument.from_data(report.snapshot["document"])
    return build_document(report).document


def _defaults(report: OfficialReport) -> Built:
    """The draft worked out with none of its edits: the app's own text of every paragraph (what
    an unchanged box is compared with), and the figures, which edits do not touch."""
    bare = copy.copy(report)
    bare.edits = {}
    return build_document(bare)


# --- The list ------------------------------------------------------------------------------------


@require_GET
@login_required
def report_list(request):
    """The reports of the committees in the person's scope, by committee (in the order of the
    tree), drafts first, then the issued and superseded ones, newest first; 25 a page. A fixed
    number of statements whatever the number of reports: the page's rows come with their
    committee and people in one query, without the frozen document and files."""
    scope = user_scope(request.user)
    if not scope.assignments:
        raise PermissionDenied
    reports = reports_visible_to(request.user).defer("snapshot", "docx", "pdf", "edits")
    if not scope.is_district:
        # Drafts are their committee's business: a unit role on it (can_draft_for).
        own = [a.unit_id for a in scope.assignments if a.role in UNIT_ROLES]
        reports = reports.filter(~Q(state=State.DRAFT) | Q(unit_id__in=own))
    committees = list(
        visible_units(request.user)
        .filter(kind__in=COMMITTEE_KINDS)
        .order_by("path")
        .only("pk", "code", "name", "name_vi", "name_en", "path", "depth")
    )
    chosen = request.GET.get("committee", "").strip()
    committee = next((c for c in committees if c.code == chosen), None)
    if committee is not None:
        reports = reports.filter(unit=committee)
    state = request.GET.get("state", "")
    if state in State.values:
        reports = reports.filter(state=state)
    else:
        state = ""
    reports = reports.annotate(
        draft_first=Case(
            When(state=State.DRAFT, then=Value(0)), default=1, output_field=IntegerField()
        )
    ).order_by("unit__path", "draft_first", "-as_of", "-pk")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [labelled(report) for report in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "campaigns/official/list.html",
        {
            "page": page,
            "committees": committees,
            "committee": committee,
            "state": state,
            "states": State.choices,
            "can_start": committees_for(request.user).exists(),
            "query": query.urlencode(),
        },
    )


# --- A new draft ---------------------------------------------------------------------------------


def _replaced(request) -> OfficialReport | None:
    """`?replaces=<id>`: an issued report the person may see (else 404) and draft for (else
    403)."""
    value = request.GET.get("replaces", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return _writable(request, int(value))


@require_http_methods(["GET", "POST"])
@login_required
def report_new(request):
    replaces = _replaced(request)
    if replaces is not None and replaces.state != State.ISSUED:
        messages.error(request, _("Only an issued report can be replaced."))
        return redirect(detail_url(replaces))
    committees = committees_for(request.user)
    if replaces is None and not committees.exists():
        raise PermissionDenied
    campaign = replaces.campaign if replaces is not None else current_campaign()
    if campaign is None:
        raise Http404
    initial = {}
    code = request.GET.get("committee", "").strip()
    if code and replaces is None:
        # A link for one committee (from its page) must name one the person drafts for.
        chosen = committees.filter(code=code).first()
        if chosen is None:
            raise Http404
        initial["committee"] = chosen.pk
    else:
        first = committees.first()
        initial["committee"] = first.pk if first else None
    as_of = request.GET.get("as_of", "").strip()
    if as_of:
        initial["as_of"] = as_of
    kwargs = {
        "committees": committees,
        "campaign": campaign,
        "language": get_language(),
        "replaces": replaces,
        "initial": initial,
    }
    if request.method == "POST":
        form = NewReportForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = start_draft(
                    user=request.user,
                    campaign=campaign,
                    committee=replaces.unit if replaces else data["committee"],
                    as_of=data["as_of"],
                    language=replaces.language if replaces else data["language"],
                    supersedes=replaces,
                )
            except OfficialReportError as error:
                # The services check the day and the report replaced once more.
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The draft is ready. Check its text, then issue it."))
                return redirect(detail_url(report))
    else:
        form = NewReportForm(**kwargs)
    return render(
        request,
        "campaigns/official/new.html",
        {"form": form, "campaign": campaign, "replaces": labelled(replaces)},
        status=400 if form.errors else 200,
    )


# --- One report ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def report_detail(request, pk: int):
    """A draft's form for those who draft for its committee; a read-only page for an issued
    report and for the others who may read it."""
    report = _report(request, pk)
    may_write = can_draft_for(request.user, report.unit)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if report.state != State.DRAFT:
            messages.error(request, _("This report has been issued and can no longer change."))
            return redirect(detail_url(report))
    if report.state != State.DRAFT or not may_write:
        return _render_read_only(request, report, may_write=may_write)
    defaults = _defaults(report)
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
    defaults = _defaults(current)
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


def _render_read_only(request, report: OfficialReport, *, may_write: bool, replace_form=None):
    document = _document(report)
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


# --- The document --------------------------------------------------------------------------------


def _preview_fonts(html: str) -> str:
    """The renderer names its fonts by their files (file://), which a browser does not load
    from a web page; the preview takes the same files from the static folder."""
    for face, uri in pdf.font_urls().items():
        name = pdf.FONT_FILES[face]
        html = html.replace(uri, static(f"fonts/liberation-serif/{name}"))
    return html


@require_GET
@login_required
@csp_override(
    {
        "default-src": [CSP.NONE],
        "style-src": [CSP.UNSAFE_INLINE],
        "font-src": [CSP.SELF],
        "frame-ancestors": [CSP.NONE],
    }
)
def report_preview(request, pk: int):
    """The document as the PDF draws it, as one HTML page: its styles are inline, so this
    response allows inline styles and nothing else (no scripts, no images)."""
    report = _report(request, pk)
    return HttpResponse(_preview_fonts(pdf.render_html(_document(report))))


def file_name(report: OfficialReport, extension: str) -> str:
    stem = "bao-cao" if report.language == "vi" else "report"
    name = f"{stem}-{report.unit.code}-{report.as_of.isoformat()}"
    if report.state == State.DRAFT:
        name += "-du-thao" if report.language == "vi" else "-draft"
    return f"{name}.{extension}"


@require_GET
@login_required
def report_file(request, pk: int, extension: str):
    """The Word file or the PDF: a draft drawn from today's data, an issued report exactly the
    bytes drawn when it was issued."""
    report = _report(request, pk)
    if report.state == State.DRAFT:
        document = build_document(report).document
        data = render_docx(document) if extension == "docx" else pdf.render_pdf(document)
    else:
        stored = report.docx if extension == "docx" else report.pdf
        if stored is None:
            raise Http404
        data = bytes(stored)
    response = FileResponse(
        io.BytesIO(data),
        as_attachment=True,
        filename=file_name(report, extension),
        content_type=CONTENT_TYPES[extension],
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Issuing, replacing, discarding --------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def report_issue(request, pk: int):
    """GET: what issuing will do, and the button; POST: issue the draft of the version the
    confirmation showed. Issuing cannot be undone (a later report may replace it)."""
    report = _writable(request, pk)
    if request.method == "GET":
        if report.state != State.DRAFT:
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
    report = _writable(request, pk)
    if report.state != State.ISSUED:
        messages.error(request, _("Only an issued report can be replaced."))
        return redirect(detail_url(report))
    form = ReplaceForm(request.POST, campaign=report.campaign)
    if not form.is_valid():
        return _render_read_only(request, report, may_write=True, replace_form=form)
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
    report = _writable(request, pk)
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
