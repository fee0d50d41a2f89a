"""The digest preview for district office staff: this week's digest as a person would get it."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from units.selectors import get_visible_unit, user_scope

from ..selectors import current_campaign
from .digests import IsoWeek, digest_day
from .messages import render_digest
from .outbox import failed_mail


def _staff_scope(request):
    scope = user_scope(request.user)
    if not scope.is_staff_reviewer:
        raise PermissionDenied
    return scope


def _preview(request):
    try:
        week = (
            IsoWeek.parse(request.GET["week"])
            if request.GET.get("week")
            else IsoWeek.last_complete()
        )
    except ValueError:
        week = IsoWeek.last_complete()
    # The campaign the week's digest is about, as the Monday job picks it.
    campaign = current_campaign(digest_day(week))
    if campaign is None:
        raise Http404
    code = request.GET.get("unit", "").strip()
    unit = get_visible_unit(request.user, code) if code else None
    language = translation.get_language()
    _content, subject, text, html = render_digest(
        campaign=campaign, week=week, unit=unit, language=language
    )
    return campaign, unit, week, subject, text, html


@require_safe
@login_required
def digest_preview(request):
    """District office staff see the digest a person gets for a week (by default the week that
    ended last Sunday, which went out this Monday), in the page's language, and the e-mails that
    could not be delivered."""
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


@require_safe
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
