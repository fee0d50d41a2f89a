from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpResponseRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse, translate_url
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campaigns.selectors import (
    child_units_with_study,
    current_campaign,
    last_engine_failure,
    last_engine_run,
    unit_checklist,
    unit_overview,
)

from .models import REPORTING_KINDS
from .selectors import ancestors_for_breadcrumb, get_visible_unit, user_scope
from .services import user_set_language


@require_GET
@login_required
def home(request):
    scope = user_scope(request.user)
    if scope.is_district:
        return redirect("campaigns:dashboard")
    if scope.home_unit is not None:
        return redirect("units:detail", code=scope.home_unit.code)
    return render(request, "units/no_role.html", status=403)


@require_POST
def switch_language(request):
    """Like Django's set_language, but every page lives under a language prefix, so the target is
    the same page under the other prefix; a signed-in person's choice is also saved for e-mails."""
    language = request.POST.get("language", "")
    if not translation.check_for_language(language) or language not in ("vi", "en"):
        language = translation.get_language()
    next_url = request.POST.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    if safe and next_url:
        target = translate_url(next_url, language)
    else:
        with translation.override(language):
            target = reverse("home")
    response = HttpResponseRedirect(target)
    response.set_cookie("dongda_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_GET
@login_required
def unit_detail(request, code: str):
    unit = get_visible_unit(request.user, code)
    campaign = current_campaign()
    scope = user_scope(request.user)
    ancestors = ancestors_for_breadcrumb(request.user, unit)
    context = {
        "unit": unit,
        "campaign": campaign,
        "ancestors": ancestors,
        "can_write": scope.can_report_for(unit),
        "reporting": unit.kind in REPORTING_KINDS,
    }
    if campaign is not None:
        overview = unit_overview(unit=unit, campaign=campaign)
        context.update(
            overview=overview,
            checklist=unit_checklist(
                unit=unit, campaign=campaign, overview=overview, today=timezone.localdate()
            ),
            children=child_units_with_study(unit=unit, campaign=campaign),
        )
    return render(request, "units/unit_detail.html", context)


@never_cache
@require_GET
def healthz(request):
    """For a load balancer or a person: is the database up, is the broker up, and how long ago did
    the deadline engine last finish. 200 when the database and broker answer, 503 otherwise."""
    checks: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is reported, not raised
        checks["database"] = f"error: {exc.__class__.__name__}"
    checks["broker"] = _broker_status()
    run = None
    if checks["database"] == "ok":
        try:
            run = last_engine_run()
        except DatabaseError as exc:  # answers, but not migrated: say so instead of a 500
            checks["database"] = f"error: {exc.__class__.__name__} (not migrated?)"
    checks["deadline_engine"] = {
        "last_finished_at": run.finished_at.isoformat() if run else None,
        "age_seconds": int((timezone.now() - run.finished_at).total_seconds()) if run else None,
        "opened": run.opened if run else None,
        "closed": run.closed if run else None,
    }
    if checks["database"] == "ok":
        failure = last_engine_failure()
        # The kind of error only: this endpoint is public, the message may hold data.
        checks["deadline_engine"]["last_error"] = (
            failure.error.split("(", 1)[0] if failure else None
        )
    healthy = checks["database"] == "ok" and checks["broker"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def _broker_status() -> str:
    from dongda.celery import app, ensure_embedded_broker_folders

    try:
        ensure_embedded_broker_folders()
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # reported in the JSON body
        return f"error: {exc.__class__.__name__}"


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No context processors here: the failure may be the database they would query.
    html = loader.get_template("500.html").render({"LANGUAGE_CODE": translation.get_language()})
    return HttpResponseServerError(html)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)
