"""The list of reports and a new draft."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from units.selectors import user_scope, visible_units

from ...models import OfficialReport
from ...selectors import current_campaign
from ..build import COMMITTEE_KINDS
from ..forms import (
    NewReportForm,
)
from ..selectors import committees_for, reports_visible_to
from ..services import (
    OfficialReportError,
    start_draft,
)
from .access import (
    PAGE_SIZE,
    State,
    detail_url,
    labelled,
    writable_report,
)


@require_safe
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
        # (the same rule as `access.may_read`: committees_for is can_draft_for as a query).
        reports = reports.filter(
            ~Q(state=State.DRAFT) | Q(unit__in=committees_for(request.user).values("pk"))
        )
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


def _replaced(request) -> OfficialReport | None:
    """`?replaces=<id>`: an issued report the person may see (else 404) and draft for (else
    403)."""
    value = request.GET.get("replaces", "").strip()
    if not value:
        return None
    # A number no id can be (int() refuses past 4,300 digits) names no report either.
    if not value.isdecimal() or not value.isascii() or len(value) > 19:
        raise Http404
    return writable_report(request, int(value))


@require_http_methods(["GET", "HEAD", "POST"])
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
    if code and ("\x00" in code or len(code) > 64):
        raise Http404  # no unit has such a code, and PostgreSQL refuses a NUL in a query
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
