from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from units.selectors import user_scope, visible_units

from .selectors import current_campaign, last_engine_run, open_flag_counts, study_summary, study_summary_by_kind


@require_GET
@login_required
def dashboard(request):
    scope = user_scope(request.user)
    if not scope.assignments:
        raise PermissionDenied
    campaign = current_campaign()
    context = {"campaign": campaign, "last_run": last_engine_run()}
    if campaign is not None:
        within = visible_units(request.user)
        context.update(
            summary=study_summary(campaign=campaign, within=within),
            by_kind=study_summary_by_kind(campaign=campaign, within=within),
            flag_counts=open_flag_counts(campaign=campaign, within=within),
        )
    return render(request, "campaigns/dashboard.html", context)
