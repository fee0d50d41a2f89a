from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET

from units.selectors import get_visible_unit, user_scope, visible_units

from .digests import IsoWeek
from .emails import render_digest
from .models import FlagKind
from .report_selectors import review_queue as queue_for
from .reports import REPORT_KINDS
from .selectors import (
    current_campaign,
    failed_mail,
    last_engine_failure,
    last_engine_run,
    open_flag_counts,
    study_summary,
    study_summary_by_kind,
)


@require_GET
@login_required
def dashboard(request):
    """The campaign overview of everything in the person's scope (the whole district for district
    roles, their own subtree for a secretary)."""
    scope = user_scope(request.user)
    if not scope.assignments:
        raise PermissionDenied
    campaign = current_campaign()
    context = {
        "campaign": campaign,
        "last_run": last_engine_run(),
        "engine_failure": last_engine_failure() if scope.is_district else None,
    }
    if campaign is not None:
        within = visible_units(request.user)
        summary = study_summary(campaign=campaign, within=within)
        flag_counts = open_flag_counts(campaign=campaign, within=within)
        context.update(
            summary=summary,
            by_kind=study_summary_by_kind(campaign=campaign, within=within),
            # "Study late" is history (written closed), so it never counts among open flags; the
            # study cards above show how many units finished late.
            flag_rows=[
                (kind, label, flag_counts.get(kind, 0))
                for kind, label in FlagKind.choices
                if kind != FlagKind.STUDY_LATE
            ],
            chart_data={
                "labels": [_("On time"), _("Late"), _("In progress"), _("Not started")],
                "values": [summary.on_time, summary.late, summary.in_progress, summary.not_started],
                "colors": ["#198754", "#fd7e14", "#0d6efd", "#dc3545"],
            },
        )
    return render(request, "campaigns/dashboard.html", context)


def _staff_scope(request):
    scope = user_scope(request.user)
    if not scope.is_staff_reviewer:
        raise PermissionDenied
    return scope


def _preview(request):
    campaign = current_campaign()
    if campaign is None:
        raise Http404
    code = request.GET.get("unit", "").strip()
    unit = get_visible_unit(request.user, code) if code else None
    try:
        week = IsoWeek.parse(request.GET["week"]) if request.GET.get("week") else IsoWeek.current()
    except ValueError:
        week = IsoWeek.current()
    language = translation.get_language()
    _content, subject, text, html = render_digest(
        campaign=campaign, week=week, unit=unit, language=language
    )
    return campaign, unit, week, subject, text, html


@require_GET
@login_required
def digest_preview(request):
    """District office staff see the digest a person would get this week, in the page's language,
    and the e-mails that could not be delivered."""
    _staff_scope(request)
    campaign, unit, week, subject, text, _html = _preview(request)
    return render(
        request,
        "campaigns/digest_preview.html",
        {
            "campaign": campaign,
            "unit": unit,
            "week": week,
            "subject": subject,
            "text": text,
            "query": request.GET.urlencode(),
            "failed_mail": failed_mail(limit=50),
        },
    )


@require_GET
@login_required
@xframe_options_sameorigin
@csp_override(
    {"default-src": [CSP.NONE], "style-src": [CSP.UNSAFE_INLINE], "frame-ancestors": [CSP.SELF]}
)
def digest_preview_html(request):
    """The HTML part alone, framed by the preview page. E-mail HTML needs inline styles, so this
    one response allows them and nothing else (no scripts, no images from anywhere)."""
    _staff_scope(request)
    *_rest, html = _preview(request)
    return HttpResponse(html)


@require_GET
@login_required
def review_queue(request):
    """Everything units have submitted and the district has not yet reviewed, oldest first."""
    scope = user_scope(request.user)
    if not scope.is_staff_reviewer:
        raise PermissionDenied
    campaign = current_campaign()
    entries, counts = (
        ([], {}) if campaign is None else queue_for(user=request.user, campaign=campaign)
    )
    return render(
        request,
        "campaigns/review_queue.html",
        {
            "campaign": campaign,
            "entries": entries,
            "count_rows": [(kind, counts.get(slug, 0)) for slug, kind in REPORT_KINDS.items()],
            "total": sum(counts.values()),
        },
    )
