from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from units.selectors import user_scope, visible_units

from .models import FlagKind
from .selectors import (
    current_campaign,
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
    context = {"campaign": campaign, "last_run": last_engine_run()}
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
